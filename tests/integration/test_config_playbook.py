"""playbooks/config.yml itself, against the fake hub over HTTPS with certificate login: the
inventory's lists (inline, and from files through koji_<list>_src), applied in order; a
second run and a check-mode run change nothing and create no hub event; a bad list fails
before its task writes anything."""

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

PLAYBOOK = os.path.join(REPO_ROOT, 'playbooks', 'config.yml')


@pytest.fixture(scope='module')
def hub():
    fake = FakeHub(tls=True).start()
    yield fake
    fake.stop()


def run_config(hub, tmp_path, variables, *extra):
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text(yaml.safe_dump({'koji_hub': {'hosts': {'hub.config.test': {
        'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}}}}))
    vars_file = tmp_path / 'vars.json'
    settings = {'koji_hub_url': hub.url,
                '__koji_config_cert': hub.certs['admin_pem'],
                '__koji_config_serverca': hub.certs['ca']}
    settings.update(variables)
    vars_file.write_text(json.dumps(settings))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collection_path(), ANSIBLE_FORCE_COLOR='false',
               ANSIBLE_LOCALHOST_WARNING='false')
    proc = subprocess.run([ANSIBLE_PLAYBOOK, '-i', str(inventory), '-e', '@%s' % vars_file, PLAYBOOK]
                          + list(extra), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    recap = proc.stdout[proc.stdout.rfind('PLAY RECAP'):]
    return proc.returncode, proc.stdout, recap


def test_config_applies_inline_and_file_lists_then_changes_nothing(hub, tmp_path):
    tags_file = tmp_path / 'koji_tags.yml'
    tags_file.write_text(yaml.safe_dump({'koji_tags': [
        {'name': 'cfg-base', 'arches': ['x86_64'], 'packages': {'cfg-owner': ['bash']}},
        {'name': 'cfg-build', 'arches': ['x86_64'],
         'inheritance': [{'parent': 'cfg-base', 'priority': 0}],
         'external_repos': [{'repo': 'cfg-os', 'priority': 10}]},
    ]}))
    variables = {
        'koji_external_repos': [{'name': 'cfg-os', 'url': 'https://mirror.example.org/os/$arch/'}],
        'koji_users': [{'name': 'cfg-owner'}],
        'koji_tags_src': str(tags_file),
        'koji_targets': [{'name': 'cfg-target', 'build_tag': 'cfg-build', 'dest_tag': 'cfg-base'}],
    }
    anon = hub.session(login=False)
    rc, out, recap = run_config(hub, tmp_path, variables)
    assert rc == 0, out[-4000:]
    assert 'failed=0' in recap, recap
    assert anon.getBuildTarget('cfg-target')['build_tag_name'] == 'cfg-build'
    assert [r['external_repo_name'] for r in anon.getTagExternalRepos('cfg-build')] == ['cfg-os']
    assert [p['package_name'] for p in anon.listPackages(tagID=anon.getTag('cfg-base')['id'])] == ['bash']

    event = anon.getLastEvent()['id']
    for extra in ([], ['--check']):
        rc, out, recap = run_config(hub, tmp_path, variables, *extra)
        assert rc == 0, out[-4000:]
        assert 'changed=0' in recap and 'failed=0' in recap, recap
    assert anon.getLastEvent()['id'] == event


@pytest.mark.parametrize('tags, message', [
    ([{'name': 'cfg-bad-child', 'inheritance': [{'parent': 'cfg-no-such-parent', 'priority': 0}]}],
     'cfg-no-such-parent'),
    ([{'name': 'cfg-bad-child', 'arches': ['x86-64']}], "unknown arch 'x86-64'"),
])
def test_config_refuses_a_bad_list_before_writing_it(hub, tmp_path, tags, message):
    anon = hub.session(login=False)
    event = anon.getLastEvent()['id']
    rc, out, _recap = run_config(hub, tmp_path, {'koji_tags': tags})
    assert rc != 0
    assert message in out and 'nothing was changed' in out, out[-4000:]
    assert anon.getLastEvent()['id'] == event
    assert anon.getTag('cfg-bad-child') is None
