"""End-to-end tests of the kojiforge.koji object modules through ansible-playbook.

The hub is chosen by the environment:

- nothing set: a fake hub is started in this process, over HTTPS with certificate login
  (the way playbooks/config.yml talks to the real hub);
- KOJI_TEST_PROFILE=<koji profile>: a real hub from a koji client profile;
- KOJI_TEST_SERVER=<hub URL> with KOJI_TEST_CERT=<client PEM> and KOJI_TEST_SERVERCA=<CA>
  (or KOJI_TEST_USER / KOJI_TEST_PASSWORD): a real hub given explicitly.

The account must hold the admin permission. Every object name carries a per-run prefix;
tags, targets and external repos are deleted at the end, while channels, hosts and users,
which Koji cannot delete, stay behind with that prefix (disabled where possible).

For each module: check mode reports the change and creates no hub event; the apply
makes it; the re-apply changes nothing and creates no hub event; bad input fails with a
clear message and creates no hub event.
"""

import json
import os
import subprocess
import sys
import uuid

import pytest
import yaml

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, TESTS_DIR)

from fakehub import FakeHub  # noqa: E402
from fakehub.runner import collection_path  # noqa: E402

ANSIBLE_PLAYBOOK = os.environ.get(
    'ANSIBLE_PLAYBOOK', os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'))


class Target(object):
    """The hub under test and how the modules connect to it."""

    def __init__(self):
        import koji
        self.fake = None
        if os.environ.get('KOJI_TEST_PROFILE'):
            self.conn = {'koji': os.environ['KOJI_TEST_PROFILE']}
            config = koji.read_config(os.environ['KOJI_TEST_PROFILE'])
            self.anon = koji.ClientSession(config['server'],
                                           koji.grab_session_options(config))
        elif os.environ.get('KOJI_TEST_SERVER'):
            self.conn = {'server': os.environ['KOJI_TEST_SERVER']}
            for env, key in (('KOJI_TEST_CERT', 'cert'), ('KOJI_TEST_SERVERCA', 'serverca'),
                             ('KOJI_TEST_USER', 'user'), ('KOJI_TEST_PASSWORD', 'password')):
                if os.environ.get(env):
                    self.conn[key] = os.environ[env]
            opts = {'serverca': self.conn['serverca']} if 'serverca' in self.conn else {}
            self.anon = koji.ClientSession(self.conn['server'], opts)
        else:
            self.fake = FakeHub(tls=True).start()
            self.conn = {'server': self.fake.url, 'cert': self.fake.certs['admin_pem'],
                         'serverca': self.fake.certs['ca']}
            self.anon = koji.ClientSession(self.fake.url, {'serverca': self.fake.certs['ca']})
        self.prefix = 'kfit-%s-' % uuid.uuid4().hex[:6]

    def event(self):
        return self.anon.getLastEvent()['id']

    def stop(self):
        if self.fake:
            self.fake.stop()


@pytest.fixture(scope='module')
def target():
    hub = Target()
    yield hub
    try:
        cleanup(hub)
    finally:
        hub.stop()


def cleanup(hub):
    p = hub.prefix
    targets = [t['name'] for t in hub.anon.getBuildTargets() if t['name'].startswith(p)]
    tags = [t['name'] for t in hub.anon.listTags() if t['name'].startswith(p)]
    repos = [r['name'] for r in hub.anon.listExternalRepos() if r['name'].startswith(p)]
    if targets:
        run_module(hub, 'koji_target', {'targets': [{'name': n, 'state': 'absent'}
                                                    for n in targets]})
    if tags:
        run_module(hub, 'koji_tag', {'tags': [{'name': n, 'state': 'absent'} for n in tags]})
    if repos:
        run_module(hub, 'koji_external_repo', {'repos': [{'name': n, 'state': 'absent'}
                                                         for n in repos]})


def run_module(hub, module, args, check_mode=False, tmp_path_factory=None):
    """Run one module task with ansible-playbook; returns its registered result."""
    workdir = os.path.join(os.environ.get('TMPDIR', '/tmp'), 'kfit-%s' % uuid.uuid4().hex[:8])
    os.makedirs(workdir)
    result_file = os.path.join(workdir, 'result.json')
    params = dict(hub.conn)
    params.update(args)
    play = [{
        'name': 'run %s' % module,
        'hosts': 'localhost',
        'gather_facts': False,
        'tasks': [
            {'name': 'the module under test',
             'kojiforge.koji.%s' % module: params,
             'check_mode': check_mode,
             'register': 'result',
             'ignore_errors': True},
            {'name': 'save the result',
             'ansible.builtin.copy': {'content': '{{ result | to_json }}',
                                      'dest': result_file}},
        ],
    }]
    playbook = os.path.join(workdir, 'play.yml')
    with open(playbook, 'w') as handle:
        yaml.safe_dump(play, handle)
    env = dict(os.environ)
    env['ANSIBLE_COLLECTIONS_PATH'] = collection_path()
    env['ANSIBLE_PYTHON_INTERPRETER'] = sys.executable
    env['ANSIBLE_LOCALHOST_WARNING'] = 'false'
    env['ANSIBLE_INVENTORY_UNPARSED_WARNING'] = 'false'
    proc = subprocess.run([ANSIBLE_PLAYBOOK, '-i', 'localhost,', '-c', 'local', playbook],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=600, check=False)
    if not os.path.exists(result_file):
        raise AssertionError('ansible-playbook did not run the task:\n%s' % proc.stdout)
    with open(result_file) as handle:
        return json.load(handle)


def check_apply_reapply(hub, module, args, verify):
    """The common cycle: check mode, apply, re-apply."""
    start = hub.event()
    check = run_module(hub, module, args, check_mode=True)
    assert not check.get('failed'), check.get('msg')
    assert check['changed'] is True
    assert hub.event() == start, 'check mode created a hub event'
    applied = run_module(hub, module, args)
    assert not applied.get('failed'), applied.get('msg')
    assert applied['changed'] is True
    verify()
    after = hub.event()
    again = run_module(hub, module, args)
    assert not again.get('failed'), again.get('msg')
    assert again['changed'] is False, again['changes']
    assert hub.event() == after, 're-apply created a hub event'
    return applied


def assert_fails_cleanly(hub, module, args, message):
    start = hub.event()
    result = run_module(hub, module, args)
    assert result.get('failed') is True
    assert message in result['msg'], result['msg']
    assert hub.event() == start, 'a failed request created a hub event'


def test_users(target):
    p = target.prefix
    args = {'users': [{'name': p + 'releng', 'permissions': ['tag', 'target']},
                      {'name': p + 'owner'}]}

    def verify():
        assert sorted(target.anon.getUserPerms(p + 'releng')) == ['tag', 'target']
        assert target.anon.getUser(p + 'owner')['status'] == 0

    check_apply_reapply(target, 'koji_user', args, verify)
    assert_fails_cleanly(target, 'koji_user', {'name': p + 'x', 'permissions': ['no-such-perm']},
                         'unknown permission no-such-perm')


def test_external_repos(target):
    p = target.prefix
    args = {'repos': [{'name': p + 'baseos',
                       'url': 'https://mirror.example.org/alma/9/BaseOS/$arch/os'},
                      {'name': p + 'appstream',
                       'url': 'https://mirror.example.org/alma/9/AppStream/$arch/os/'}]}

    def verify():
        assert target.anon.getExternalRepo(p + 'baseos')['url'] == \
            'https://mirror.example.org/alma/9/BaseOS/$arch/os/'

    check_apply_reapply(target, 'koji_external_repo', args, verify)
    assert_fails_cleanly(target, 'koji_external_repo', {'name': p + 'bad', 'url': 'mirror/x'},
                         'malformed URL')


def test_channels(target):
    p = target.prefix
    args = {'channels': [{'name': p + 'image', 'description': 'image builders'}]}

    def verify():
        assert target.anon.getChannel(p + 'image')['description'] == 'image builders'

    check_apply_reapply(target, 'koji_channel', args, verify)
    assert_fails_cleanly(target, 'koji_channel',
                         {'name': p + 'image', 'hosts': [p + 'ghost.example.com']},
                         'unknown host')


def test_hosts(target):
    p = target.prefix
    name = p + 'builder.example.com'
    args = {'name': name, 'arches': ['x86_64'], 'capacity': 4.0, 'channels': ['createrepo'],
            'enabled': False, 'comment': 'integration test host'}

    def verify():
        host = target.anon.getHost(name)
        assert (host['arches'], host['capacity'], host['enabled']) == ('x86_64', 4.0, False)
        assert [c['name'] for c in target.anon.listChannels(hostID=host['id'])] == ['createrepo']

    check_apply_reapply(target, 'koji_host', args, verify)
    assert_fails_cleanly(target, 'koji_host', {'name': name, 'channels': [p + 'no-channel']},
                         'unknown channel')
    assert_fails_cleanly(target, 'koji_host', {'name': p + 'b2.example.com',
                                               'arches': ['x86-64']}, 'unknown arch')


def test_tags(target):
    p = target.prefix
    run_module(target, 'koji_user', {'name': p + 'owner'})
    run_module(target, 'koji_external_repo', {'name': p + 'baseos',
                                              'url': 'https://mirror.example.org/b/$arch/'})
    args = {'tags': [
        {'name': p + 'base', 'arches': ['x86_64', 'aarch64'],
         'packages': {p + 'owner': ['bash', 'rpm']}},
        {'name': p + 'build', 'arches': 'x86_64 aarch64',
         'inheritance': [{'parent': p + 'base', 'priority': 0}],
         'external_repos': [{'repo': p + 'baseos', 'priority': 10}],
         'groups': {'build': ['bash', 'rpm-build'], 'srpm-build': ['rpm-build']}},
        {'name': p + 'candidate', 'inheritance': [{'parent': p + 'base', 'priority': 0}]},
    ]}

    def verify():
        inh = target.anon.getInheritanceData(p + 'build')
        assert [link['name'] for link in inh] == [p + 'base']
        repos = target.anon.getTagExternalRepos(p + 'build')
        assert [r['external_repo_name'] for r in repos] == [p + 'baseos']
        groups = sorted(g['name'] for g in target.anon.getTagGroups(p + 'build'))
        assert groups == ['build', 'srpm-build']

    check_apply_reapply(target, 'koji_tag', args, verify)
    assert_fails_cleanly(target, 'koji_tag', {'tags': [
        {'name': p + 'orphan', 'inheritance': [{'parent': p + 'missing', 'priority': 0}]}]},
        'unknown parent tag')
    assert_fails_cleanly(target, 'koji_tag', {'tags': [
        {'name': p + 'base', 'inheritance': [{'parent': p + 'build', 'priority': 0}]}]},
        'inheritance cycle')
    assert_fails_cleanly(target, 'koji_tag', {'name': p + 'dup', 'inheritance': [
        {'parent': p + 'base', 'priority': 5}, {'parent': p + 'candidate', 'priority': 5}]},
        'priority 5 is given more than once')
    assert target.anon.getTag(p + 'orphan') is None


def test_targets(target):
    p = target.prefix
    run_module(target, 'koji_tag', {'tags': [{'name': p + 't-build'}, {'name': p + 't-dest'}]})
    args = {'targets': [{'name': p + 'target', 'build_tag': p + 't-build',
                         'dest_tag': p + 't-dest'}]}

    def verify():
        info = target.anon.getBuildTarget(p + 'target')
        assert (info['build_tag_name'], info['dest_tag_name']) == (p + 't-build', p + 't-dest')

    check_apply_reapply(target, 'koji_target', args, verify)
    assert_fails_cleanly(target, 'koji_target', {'name': p + 'target2', 'build_tag': p + 'nope',
                                                 'dest_tag': p + 't-dest'}, 'unknown build tag')
