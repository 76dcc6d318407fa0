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
from playbook_runner import ANSIBLE_PLAYBOOK, CALLBACK_DIR, REPO_ROOT  # noqa: E402

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
               ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_CALLBACK_PLUGINS=CALLBACK_DIR,
               ANSIBLE_CALLBACKS_ENABLED='kojiforge_record',
               KOJIFORGE_RECORD_FILE=str(tmp_path / 'record.jsonl'))
    if os.path.exists(env['KOJIFORGE_RECORD_FILE']):
        os.remove(env['KOJIFORGE_RECORD_FILE'])
    proc = subprocess.run([ANSIBLE_PLAYBOOK, '-i', str(inventory), '-e', '@%s' % vars_file, PLAYBOOK]
                          + list(extra), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    recap = proc.stdout[proc.stdout.rfind('PLAY RECAP'):]
    return proc.returncode, proc.stdout, recap


def recorded(tmp_path):
    """The task results of the last run_config (callback_plugins/kojiforge_record.py)."""
    with open(str(tmp_path / 'record.jsonl')) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def module_args(tmp_path, task):
    """The arguments the module of ``task`` ran with (its result's invocation)."""
    entries = [e for e in recorded(tmp_path) if e['task'] == task]
    assert entries, [e['task'] for e in recorded(tmp_path)]
    return entries[0]['result']['invocation']['module_args']


CONNECTION_KEYS = ('server', 'cert', 'serverca', 'authtype', 'principal', 'keytab', 'ccache')


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


def test_config_logs_in_with_the_certificate_by_default(hub, tmp_path):
    # -vvv: the recorded results keep their invocation
    rc, out, _recap = run_config(hub, tmp_path, {'koji_users': [{'name': 'cfg-cert-user'}]},
                                 '--check', '-vvv')
    assert rc == 0, out[-4000:]
    args = module_args(tmp_path, 'Declare the users and their permissions')
    assert dict((key, args.get(key)) for key in CONNECTION_KEYS) == {
        'server': hub.url, 'cert': hub.certs['admin_pem'], 'serverca': hub.certs['ca'],
        'authtype': None, 'principal': None, 'keytab': None, 'ccache': None}


def test_config_passes_the_kerberos_variables_to_the_modules(hub, tmp_path):
    keytab = tmp_path / 'admin.keytab'  # not there: the module says so when it logs in
    variables = {'koji_config_authentication': 'kerberos',
                 'koji_config_kerberos_principal': 'koji-admin@EXAMPLE.COM',
                 'koji_config_kerberos_keytab': str(keytab),
                 'koji_config_kerberos_ccache': 'FILE:%s' % (tmp_path / 'krb5cc_config'),
                 'koji_users': [{'name': 'cfg-krb-user'}],
                 'koji_channels': [{'name': 'cfg-krb-channel'}]}
    rc, out, _recap = run_config(hub, tmp_path, variables, '--check', '-vvv')
    assert rc == 0, out[-4000:]
    for task in ('Declare the channels', 'Declare the users and their permissions'):
        args = module_args(tmp_path, task)
        assert dict((key, args.get(key)) for key in CONNECTION_KEYS) == {
            'server': hub.url, 'cert': None, 'serverca': hub.certs['ca'],
            'authtype': 'kerberos', 'principal': 'koji-admin@EXAMPLE.COM',
            'keytab': str(keytab), 'ccache': 'FILE:%s' % (tmp_path / 'krb5cc_config')}
    # the real run logs in with the keytab, which is missing: refused before any write
    anon = hub.session(login=False)
    event = anon.getLastEvent()['id']
    rc, out, _recap = run_config(hub, tmp_path, variables)
    assert rc != 0
    assert 'keytab %s does not exist' % keytab in out, out[-4000:]
    assert anon.getChannel('cfg-krb-channel') is None
    assert anon.getLastEvent()['id'] == event
    # a ticket cache alone is enough
    only_cache = dict(variables, koji_config_kerberos_keytab='',
                      koji_config_kerberos_principal='')
    rc, out, _recap = run_config(hub, tmp_path, only_cache, '--check', '-vvv')
    assert rc == 0, out[-4000:]
    args = module_args(tmp_path, 'Declare the channels')
    assert (args['keytab'], args['principal'], args['ccache'], args['cert']) == (
        None, None, 'FILE:%s' % (tmp_path / 'krb5cc_config'), None)


@pytest.mark.parametrize('variables', [
    {'koji_config_authentication': 'kerberos'},
    {'koji_config_authentication': 'kerberos', 'koji_config_kerberos_keytab': '/etc/k.keytab'},
    {'koji_config_authentication': 'gssapi', 'koji_config_kerberos_ccache': 'FILE:/tmp/cc'},
])
def test_config_refuses_incomplete_kerberos_settings_first(hub, tmp_path, variables):
    rc, out, _recap = run_config(hub, tmp_path, dict(variables,
                                                     koji_channels=[{'name': 'cfg-never'}]))
    assert rc != 0
    assert 'it must be certificate (the default) or kerberos' in out, out[-4000:]
    assert [e['task'] for e in recorded(tmp_path) if e['task'].startswith('Declare')] == []
    assert hub.session(login=False).getChannel('cfg-never') is None
