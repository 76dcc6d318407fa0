"""playbooks/export.yml against fake hubs over HTTPS: it writes the files playbooks/config.yml
reads; config.yml (hosts.yml included, as koji_hosts_src) applies them to a new hub, whose export
is the same files, byte for byte; applied to the hub they came from they change nothing and
create no hub event. The round trip of the declarations on the real hub is in
tests/integration/modules/test_export_integration.py."""

import json
import os
import subprocess
import sys

import pytest
import yaml

TESTS_DIR = os.path.dirname(os.path.abspath(os.path.dirname(__file__)))
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from fakehub import FakeHub  # noqa: E402
from fakehub.runner import collection_path  # noqa: E402
from playbook_runner import ANSIBLE_PLAYBOOK, REPO_ROOT  # noqa: E402

EXPORT = os.path.join(REPO_ROOT, 'playbooks', 'export.yml')
CONFIG = os.path.join(REPO_ROOT, 'playbooks', 'config.yml')
KINDS = ('external_repos', 'channels', 'users', 'hosts', 'tags', 'targets')


def seed(hub):
    """Objects of every kind, with options, made with the hub's own calls."""
    state, session = hub.state, hub.session()
    state.add_user('releng', perms=['tag', 'target'])
    session.createExternalRepo('el9-os', 'https://mirror.example.org/el9/os/$arch/')
    session.addChannel('heavy', description='big builders')
    session.addHost('b1.example.com', ['x86_64'])
    session.editHost('b1.example.com', capacity=6.0)
    session.addHostToChannel('b1.example.com', 'heavy')
    session.createTag('el9-base', arches='x86_64 aarch64', extra={'mock.package_manager': 'dnf',
                                                                  'note': '{{ not templated }}: yes'})
    session.createTag('el9-build', arches='x86_64 aarch64')
    session.setInheritanceData('el9-build', [{'parent_id': session.getTag('el9-base')['id'],
                                              'priority': 0, 'maxdepth': None, 'intransitive': False,
                                              'noconfig': False, 'pkg_filter': ''}])
    session.addExternalRepoToTag('el9-build', 'el9-os', 10, merge_mode='bare')
    for package in ('bash', 'rpm', 'gcc'):
        session.packageListAdd('el9-base', package, owner='releng')
    session.packageListBlock('el9-build', 'gcc')
    session.groupListAdd('el9-build', 'build')
    for package in ('bash', 'rpm-build'):
        session.groupPackageListAdd('el9-build', 'build', package)
    session.createBuildTarget('el9-candidate', 'el9-build', 'el9-base')
    session.logout()


def run(playbook, hub, tmp_path, variables, *extra):
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text(yaml.safe_dump({'koji_hub': {'hosts': {'hub.export.test': {
        'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}}}}))
    settings = {'koji_hub_url': hub.url, '__koji_config_cert': hub.certs['admin_pem'],
                '__koji_config_serverca': hub.certs['ca'], '__koji_export_serverca': hub.certs['ca']}
    settings.update(variables)
    vars_file = tmp_path / ('vars-%s.json' % os.path.basename(playbook))
    vars_file.write_text(json.dumps(settings))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collection_path(), ANSIBLE_FORCE_COLOR='false',
               ANSIBLE_LOCALHOST_WARNING='false')
    proc = subprocess.run([ANSIBLE_PLAYBOOK, '-i', str(inventory), '-e', '@%s' % vars_file, playbook]
                          + list(extra), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    assert proc.returncode == 0, proc.stdout[-5000:]
    return proc.stdout[proc.stdout.rfind('PLAY RECAP'):]


def export(hub, tmp_path, folder):
    out = tmp_path / folder
    run(EXPORT, hub, tmp_path, {'koji_export_dir': str(out)})
    return dict((path.name, path.read_text()) for path in sorted(out.iterdir()))


def apply(hub, tmp_path, folder):
    out = tmp_path / folder
    variables = dict(('koji_%s_src' % kind, str(out / ('%s.yml' % kind))) for kind in KINDS)
    return run(CONFIG, hub, tmp_path, variables)


@pytest.fixture(name='hubs')
def fixture_hubs():
    source, target = FakeHub(tls=True).start(), FakeHub(tls=True).start()
    yield source, target
    source.stop()
    target.stop()


def test_export_files_round_trip(hubs, tmp_path):
    source, target = hubs
    seed(source)
    files = export(source, tmp_path, 'first')
    assert sorted(files) == sorted(['%s.yml' % kind for kind in KINDS] + ['unsupported.yml'])
    tags = yaml.safe_load(files['tags.yml'])['koji_tags']
    assert [tag['name'] for tag in tags] == ['el9-base', 'el9-build']
    assert list(tags[1]) == ['name', 'arches', 'inheritance', 'external_repos', 'blocked_packages',
                             'groups']
    assert files['tags.yml'].startswith('# Exported from Koji')
    assert tags[0]['extra']['note'] == '{{ not templated }}: yes'
    assert yaml.safe_load(files['unsupported.yml']) == {'koji_export_unsupported': []}

    # the same hub: nothing changes, no event
    anon = source.session(login=False)
    event = anon.getLastEvent()['id']
    writes = len(source.write_log)
    recap = apply(source, tmp_path, 'first')
    assert 'changed=0' in recap and 'failed=0' in recap, recap
    assert anon.getLastEvent()['id'] == event
    assert len(source.write_log) == writes

    # a new hub: the same files
    apply(target, tmp_path, 'first')
    assert export(target, tmp_path, 'second') == files


def test_export_in_check_mode_writes_nothing(hubs, tmp_path):
    source, _target = hubs
    seed(source)
    run(EXPORT, source, tmp_path, {'koji_export_dir': str(tmp_path / 'checked')}, '--check')
    assert not (tmp_path / 'checked').exists()
