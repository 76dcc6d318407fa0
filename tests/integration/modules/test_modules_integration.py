"""End-to-end tests of the kojiforge.koji object modules through ansible-playbook.

Every test runs against each hub of the ``target`` fixture:

- ``fake``: a fake hub started in this process, over HTTPS with certificate login (the way
  playbooks/config.yml talks to the real hub); the modules run on this machine;
- ``real``: a real Koji hub, with ``--real-koji`` only (``make test`` passes it; CI runs it on
  every submission). By default that is the local cluster's hub (tests/conftest.py deploys it
  with testbed/demo.sh); the modules run on the hub host with its podman connection and the
  admin's koji profile there, as playbooks/config.yml runs them in production, and the tests'
  own anonymous reads go through ``podman exec -i`` on that host. Another real hub is named by
  the environment instead:
  - KOJI_TEST_PROFILE=<koji profile>, or KOJI_TEST_SERVER=<hub URL> with KOJI_TEST_CERT=<client
    PEM> and KOJI_TEST_SERVERCA=<CA> (or KOJI_TEST_USER / KOJI_TEST_PASSWORD);
  - KOJI_TEST_HOST=<host> with KOJI_TEST_INVENTORY=<inventory>: run the modules on that Ansible
    host (the profile or certificate paths are then that host's), with KOJI_TEST_READ_VIA, a
    command prefix that runs a program on the hub host with stdin attached.
  ``make integration-real`` runs the real half against an already running demo cluster.

Where the fake and the real hub disagree, the real hub is right and the fake is fixed.

The account must hold the admin permission. Every object name carries a per-run prefix;
tags, targets and external repos are deleted at the end, while channels, hosts and users,
which Koji cannot delete, stay behind with that prefix (disabled where possible).

For each module: check mode reports the change and creates no hub event; the apply
makes it; the re-apply changes nothing and creates no hub event; bad input fails with a
clear message and creates no hub event.
"""

import os
import sys
import uuid

import pytest
import yaml

INTEGRATION_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, INTEGRATION_DIR)
sys.path.insert(0, os.path.dirname(INTEGRATION_DIR))

from fakehub import FakeHub  # noqa: E402
from fakehub import runner  # noqa: E402
from playbook_runner import HubReader, PlaybookRunner, events_touching  # noqa: E402


class Target(object):
    """The hub under test, how the modules connect to it and where they run. With neither
    ``profile`` nor ``server``: a fake hub of this process."""

    def __init__(self, host=None, inventory=None, profile=None, server=None, cert=None,
                 serverca=None, user=None, password=None, read_via=None):
        import koji
        self.fake = None
        self.reader = None
        self.runner = PlaybookRunner(host=host, inventory=inventory)
        if host and not read_via:
            raise RuntimeError('a hub host needs read_via (how to run the anonymous reader on '
                               'the hub host, e.g. "podman exec -i %s")' % host)
        if profile:
            self.conn = {'koji': profile}
            if read_via:
                self.anon = self.reader = HubReader(read_via, profile=profile)
            else:
                config = koji.read_config(profile)
                self.anon = koji.ClientSession(config['server'],
                                               koji.grab_session_options(config))
        elif server:
            self.conn = {'server': server}
            for key, value in (('cert', cert), ('serverca', serverca), ('user', user),
                               ('password', password)):
                if value:
                    self.conn[key] = value
            if read_via:
                self.anon = self.reader = HubReader(read_via, server=server, serverca=serverca)
            else:
                self.anon = koji.ClientSession(server, {'serverca': serverca} if serverca else {})
        else:
            if host:
                raise RuntimeError('a hub host needs a real hub: a profile or a server')
            self.fake = FakeHub(tls=True).start()
            self.conn = {'server': self.fake.url, 'cert': self.fake.certs['admin_pem'],
                         'serverca': self.fake.certs['ca']}
            self.anon = koji.ClientSession(self.fake.url, {'serverca': self.fake.certs['ca']})
        self.prefix = 'kfit-%s-' % uuid.uuid4().hex[:6]

    def event(self):
        return self.anon.getLastEvent()['id']

    def assert_no_event(self, start, what):
        """No hub event since ``start`` touched this run's objects (on a shared hub other
        writers may make events of their own meanwhile)."""
        hits = events_touching(self.anon, start, self.prefix)
        assert not hits, '%s created hub events: %s' % (what, hits[:5])

    def stop(self):
        if self.fake:
            self.fake.stop()
        if self.reader:
            self.reader.close()


def real_hub_settings(request):
    """Target() arguments for the real hub: the environment's when it names one, else the local
    cluster's (deployed by the local_cluster fixture)."""
    env = os.environ.get
    if env('KOJI_TEST_PROFILE') or env('KOJI_TEST_SERVER'):
        return {'host': env('KOJI_TEST_HOST'), 'inventory': env('KOJI_TEST_INVENTORY'),
                'profile': env('KOJI_TEST_PROFILE'), 'server': env('KOJI_TEST_SERVER'),
                'cert': env('KOJI_TEST_CERT'), 'serverca': env('KOJI_TEST_SERVERCA'),
                'user': env('KOJI_TEST_USER'), 'password': env('KOJI_TEST_PASSWORD'),
                'read_via': env('KOJI_TEST_READ_VIA')}
    return request.getfixturevalue('local_cluster').module_test_settings()


# 'real' is deselected without --real-koji (tests/conftest.py).
@pytest.fixture(scope='module', params=['fake', pytest.param('real', marks=pytest.mark.real_koji)])
def target(request):
    hub = Target(**real_hub_settings(request)) if request.param == 'real' else Target()
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
        run_module(hub, 'koji_tag', {'tags': [{'name': n, 'state': 'absent', 'force_delete': True}
                                              for n in tags]})
    if repos:
        run_module(hub, 'koji_external_repo', {'repos': [{'name': n, 'state': 'absent'}
                                                         for n in repos]})


def run_module(hub, module, args, check_mode=False):
    """Run one module task with ansible-playbook; returns its registered result."""
    params = dict(hub.conn)
    params.update(args)
    return hub.runner.run_one(module, params, check_mode=check_mode)


def check_apply_reapply(hub, module, args, verify):
    """The common cycle: check mode, apply, re-apply."""
    start = hub.event()
    check = run_module(hub, module, args, check_mode=True)
    assert not check.get('failed'), check.get('msg')
    assert check['changed'] is True
    hub.assert_no_event(start, 'check mode')
    applied = run_module(hub, module, args)
    assert not applied.get('failed'), applied.get('msg')
    assert applied['changed'] is True
    verify()
    after = hub.event()
    again = run_module(hub, module, args)
    assert not again.get('failed'), again.get('msg')
    assert again['changed'] is False, again['changes']
    hub.assert_no_event(after, 'the re-apply')
    return applied


def assert_fails_cleanly(hub, module, args, message):
    start = hub.event()
    result = run_module(hub, module, args)
    assert result.get('failed') is True
    assert message in result['msg'], result['msg']
    hub.assert_no_event(start, 'a failed request')


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


def test_kerberos_principals_are_mapped_to_existing_users_and_hosts(target):
    """krb_principal on a user and a host that exist already: added with editUser, the
    principals they had are kept, and a second run changes nothing. (Users and hosts cannot
    be deleted: they stay behind with the run's prefix, as in the other tests.)"""
    p = target.prefix
    user, host = p + 'krbuser', p + 'krbhost.example.com'
    first = p + 'first@KFIT.TEST'
    created = run_module(target, 'koji_user', {'name': user, 'krb_principal': first})
    assert not created.get('failed'), created.get('msg')
    created = run_module(target, 'koji_host', {'name': host, 'arches': ['x86_64']})
    assert not created.get('failed'), created.get('msg')
    host_user_id = target.anon.getHost(host)['user_id']
    host_principals = list(target.anon.getUser(host_user_id)['krb_principals'])

    def verify_user():
        assert sorted(target.anon.getUser(user)['krb_principals']) == sorted(
            [first, p + 'krbuser@KFIT.TEST'])

    check_apply_reapply(target, 'koji_user',
                        {'name': user, 'krb_principal': p + 'krbuser@KFIT.TEST'}, verify_user)
    principal = 'compile/%s@KFIT.TEST' % host

    def verify_host():
        assert sorted(target.anon.getUser(host_user_id)['krb_principals']) == sorted(
            host_principals + [principal])

    check_apply_reapply(target, 'koji_host', {'name': host, 'krb_principal': principal},
                        verify_host)
    assert_fails_cleanly(target, 'koji_host', {'name': host, 'krb_principal': first},
                         'belongs to user %s already' % user)
    assert_fails_cleanly(target, 'koji_user', {'name': user, 'krb_principal': p + 'no-realm'},
                         'malformed Kerberos principal')


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


def test_hosts_keep_what_was_set_by_hand(target):
    """A host declared without enabled and with purge_channels=false (what the koji_builder role
    sends by default) keeps the channel and the disabled state an administrator gave it."""
    p = target.prefix
    name = p + 'handled.example.com'
    for channel in ('declared', 'by-hand'):
        assert not run_module(target, 'koji_channel', {'name': p + channel}).get('failed')
    created = run_module(target, 'koji_host', {'name': name, 'arches': ['x86_64'],
                                               'channels': ['createrepo']})
    assert not created.get('failed'), created.get('msg')
    # An administrator's hand: another channel, and the host disabled.
    assert run_module(target, 'koji_channel', {'name': p + 'by-hand', 'hosts': [name]})['changed']
    assert run_module(target, 'koji_host', {'name': name, 'enabled': False})['changed']
    args = {'name': name, 'arches': ['x86_64'], 'capacity': 3.0,
            'channels': ['createrepo', p + 'declared'], 'purge_channels': False}

    def verify():
        host = target.anon.getHost(name)
        assert (host['capacity'], host['enabled']) == (3.0, False)
        assert sorted(c['name'] for c in target.anon.listChannels(hostID=host['id'])) == \
            sorted(['createrepo', p + 'declared', p + 'by-hand'])

    check_apply_reapply(target, 'koji_host', args, verify)


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
    assert_fails_cleanly(target, 'koji_tag', {'name': p + 'base', 'arches': ['x86_64', 'amd-64']},
                         "unknown arch 'amd-64'")
    assert_fails_cleanly(target, 'koji_tag', {'name': p + 'filtered', 'inheritance': [
        {'parent': p + 'base', 'priority': 0, 'pkg_filter': 'foo('}]},
        "pkg_filter of the link to parent %sbase: 'foo(' is not a valid regular expression" % p)
    assert target.anon.getTag(p + 'orphan') is None
    assert target.anon.getTag(p + 'filtered') is None


def test_tag_lists_a_package_its_parent_blocks(target):
    """base lists a package, mid (new in the same run) blocks it, leaf lists it again: leaf's
    own listing must end up on the hub, whichever order the hub sees the calls in."""
    p = target.prefix
    run_module(target, 'koji_user', {'name': p + 'owner'})
    args = {'tags': [
        {'name': p + 'pb-base', 'packages': {p + 'owner': ['x', 'y']}},
        {'name': p + 'pb-mid', 'inheritance': [{'parent': p + 'pb-base', 'priority': 0}],
         'blocked_packages': ['x']},
        {'name': p + 'pb-leaf', 'inheritance': [{'parent': p + 'pb-mid', 'priority': 0}],
         'packages': {p + 'owner': ['x']}},
    ]}

    def verify():
        rows = dict((row['package_name'], (row['blocked'], row['tag_name'])) for row in
                    target.anon.listPackages(tagID=p + 'pb-leaf', inherited=True))
        assert rows == {'x': (False, p + 'pb-leaf'), 'y': (False, p + 'pb-base')}
        mid = dict((row['package_name'], row['blocked']) for row in
                   target.anon.listPackages(tagID=p + 'pb-mid', inherited=True))
        assert mid == {'x': True, 'y': False}

    check_apply_reapply(target, 'koji_tag', args, verify)


def inheritance_forest(p, count=56):
    """Two roots owning comps groups and ``count`` tags below them: links with maxdepth
    (0, 1, 2), intransitive, noconfig and package filters, second parents (diamonds), and
    each tag declaring groups: most repeat what they inherit, some add packages, some add a
    group of their own."""
    tags = [{'name': p + 'root0', 'groups': {'build': ['bash', 'gcc', 'make'],
                                             'srpm-build': ['rpm-build']}},
            {'name': p + 'root1', 'groups': {'build': ['bash', 'coreutils'], 'custom': ['vim']}}]
    options = [{}, {'maxdepth': 1}, {'intransitive': True}, {'noconfig': True},
               {'pkg_filter': '^b'}, {'maxdepth': 2}, {'maxdepth': 0}]
    for i in range(count):
        primary = p + ('root%d' % (i % 2) if i < 4 else 't%02d' % ((i - 4) // 2))
        links = [dict({'parent': primary, 'priority': 10}, **options[i % 7])]
        if i >= 4 and i % 3 == 0:
            second = p + ('root%d' % ((i + 1) % 2) if i % 2 else 't%02d' % (i // 5))
            if second != primary:
                links.append(dict({'parent': second, 'priority': 20}, **options[(i + 3) % 7]))
        if i % 5 == 0:
            groups = {'build': ['bash', 'extra-%d' % i]}
        elif i % 5 == 1:
            groups = {'own-%d' % i: ['vim']}
        else:
            groups = {'build': ['bash']}
        tags.append({'name': p + 't%02d' % i, 'inheritance': links, 'groups': groups})
    return tags


def group_view(groups):
    return dict((g['name'], (bool(g['blocked']), g['tag_id'], sorted(
        (pkg['package'], pkg['tag_id'], bool(pkg['blocked'])) for pkg in g['packagelist'])))
        for g in groups)


def test_groups_seen_through_inheritance(target):
    """koji_tag reads a large request's groups and links in bulk and computes, as the hub
    does, the groups each tag sees through its inheritance: on this hub the computation
    must give what getFullInheritance and getTagGroups give, for every tag."""
    runner.collection_path()
    from ansible_collections.kojiforge.koji.plugins.module_utils.koji_inheritance import (
        full_inheritance, group_rows_by_tag, links_by_tag, tag_groups)
    p = target.prefix
    args = {'tags': inheritance_forest(p)}

    def verify():
        history = target.anon.queryHistory(tables=['tag_inheritance'], active=True)
        links = links_by_tag(history['tag_inheritance'])
        configs, packages = group_rows_by_tag(target.anon.queryHistory(
            tables=['group_config', 'group_package_listing'], active=True))
        for tag in args['tags']:
            name = tag['name']
            ancestors = full_inheritance(name, links)
            assert ancestors == [link['name'] for link in target.anon.getFullInheritance(name)], name
            computed = group_view(tag_groups(name, ancestors, configs, packages))
            hub = group_view(target.anon.getTagGroups(name, incl_reqs=False, incl_blocked=True))
            assert computed == hub, name
            for group, pkgs in tag['groups'].items():
                assert set(pkgs) <= set(pkg for pkg, _tag, blocked in hub[group][2]
                                        if not blocked), (name, group)

    check_apply_reapply(target, 'koji_tag', args, verify)
    verify()


def test_tags_from_a_src_file(target, tmp_path):
    """src: the action plugin reads the list from a file on the controller, as data."""
    p = target.prefix
    path = tmp_path / 'koji_tags.yml'
    path.write_text(yaml.safe_dump({'koji_tags': [
        {'name': p + 'src-base', 'arches': ['x86_64']},
        {'name': p + 'src-child', 'arches': ['x86_64', 'aarch64'],
         'extra': {'note': '{{ not templated }}'},
         'inheritance': [{'parent': p + 'src-base', 'priority': 10}]},
    ]}))

    def verify():
        child = target.anon.getTag(p + 'src-child')
        assert child['extra'] == {'note': '{{ not templated }}'}
        assert [link['name'] for link in target.anon.getInheritanceData(p + 'src-child')] == \
            [p + 'src-base']

    applied = check_apply_reapply(target, 'koji_tag', {'src': str(path)}, verify)
    assert sorted(c['name'] for c in applied['changes']) == [p + 'src-base', p + 'src-child']
    assert_fails_cleanly(target, 'koji_tag', {'src': str(path), 'tags': [{'name': p + 'x'}]},
                         'mutually exclusive')
    assert_fails_cleanly(target, 'koji_tag', {'src': str(tmp_path / 'nowhere.yml')}, 'src:')


def test_missing_variable(target):
    """A declaration naming an undefined variable fails before the module runs."""
    p = target.prefix
    assert_fails_cleanly(target, 'koji_tag', {'tags': [
        {'name': p + 'never', 'arches': '{{ kfit_undefined_arches }}'}]},
        'kfit_undefined_arches')
    assert target.anon.getTag(p + 'never') is None


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


def test_bad_names_fail_before_any_write(target):
    """A name the hub's default RegexNameInternal refuses, in the middle of a request, fails
    the whole request: the objects before it are not created."""
    p = target.prefix
    assert_fails_cleanly(target, 'koji_tag', {'tags': [
        {'name': p + 'named-1'}, {'name': p + 'bad tag'}, {'name': p + 'named-2'}]},
        "tag '%sbad tag': the name '%sbad tag' does not match" % (p, p))
    assert target.anon.getTag(p + 'named-1') is None
    assert_fails_cleanly(target, 'koji_channel', {'channels': [
        {'name': p + 'chan-1'}, {'name': p + 'chan 2'}]}, 'does not match')
    assert target.anon.getChannel(p + 'chan-1') is None


def test_deleting_a_tag_others_depend_on(target):
    """A tag that another tag inherits from and a target uses is deleted only with
    force_delete, and the result names what went with it."""
    p = target.prefix
    run_module(target, 'koji_tag', {'tags': [
        {'name': p + 'dep-base'}, {'name': p + 'dep-dest'},
        {'name': p + 'dep-child', 'inheritance': [{'parent': p + 'dep-base', 'priority': 0}]}]})
    run_module(target, 'koji_target', {'name': p + 'dep-target', 'build_tag': p + 'dep-base',
                                       'dest_tag': p + 'dep-dest'})
    assert_fails_cleanly(target, 'koji_tag', {'name': p + 'dep-base', 'state': 'absent'},
                         'tag %sdep-base: not deleted, other objects depend on it (tags '
                         'inheriting from it: %sdep-child; build targets using it: '
                         '%sdep-target)' % (p, p, p))
    assert target.anon.getTag(p + 'dep-base') is not None
    result = run_module(target, 'koji_tag', {'name': p + 'dep-base', 'state': 'absent',
                                             'force_delete': True})
    assert not result.get('failed'), result.get('msg')
    assert result['changes'][0]['changes'] == [
        'delete tag', 'removes the inheritance link of tag %sdep-child (priority 0)' % p,
        'deletes build target %sdep-target' % p]
    assert target.anon.getTag(p + 'dep-base') is None
    assert target.anon.getInheritanceData(p + 'dep-child') == []
    assert target.anon.getBuildTarget(p + 'dep-target') is None


def test_the_logged_in_administrator_is_not_locked_out(target):
    """koji_user refuses to revoke admin from, or disable, the user it is logged in as.
    That user is the fake hub's admin certificate's, or KOJI_TEST_ADMIN on a real hub
    (default kojiadmin, koji_ca_admin_user's default)."""
    admin = 'admin' if target.fake else os.environ.get('KOJI_TEST_ADMIN', 'kojiadmin')
    info = target.anon.getUser(admin)
    if not info or 'admin' not in target.anon.getUserPerms(admin):
        pytest.skip('%s is not an administrator of this hub: set KOJI_TEST_ADMIN to the '
                    'user the modules log in as' % admin)
    kept = [perm for perm in target.anon.getUserPerms(admin) if perm != 'admin']
    for change, message in (({'permissions': kept}, 'revoke admin from'),
                            ({'state': 'disabled'}, 'disable')):
        args = {'users': [dict(change, name=admin)]}
        start = target.event()
        result = run_module(target, 'koji_user', args)
        if not result.get('failed'):  # not the logged-in user after all: undo
            run_module(target, 'koji_user', {'name': admin, 'permissions': kept + ['admin'],
                                             'state': 'enabled'})
        assert result.get('failed') is True, 'the administrator was locked out'
        assert 'user %s: refusing to %s the user this module is logged in as' % (
            admin, message) in result['msg'], result['msg']
        hits = events_touching(target.anon, start, admin)  # the user is not prefixed
        assert not hits, 'a refused lock-out created hub events: %s' % hits[:5]
    assert 'admin' in target.anon.getUserPerms(admin)
    assert target.anon.getUser(admin)['status'] == 0
