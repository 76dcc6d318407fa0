"""koji_export against the fake hub: what it declares, what it reports, that it only reads,
and that its declarations applied with the modules reproduce the hub (same hub: no change and
no event; a new hub: the same export)."""

import time

from fakehub import FakeHub
from fakehub import runner

APPLY_ORDER = (('koji_external_repo', 'external_repos', 'repos'), ('koji_channel', 'channels', 'channels'),
               ('koji_user', 'users', 'users'), ('koji_host', 'hosts', 'hosts'),
               ('koji_tag', 'tags', 'tags'), ('koji_target', 'targets', 'targets'))


def seed_site(session, state):
    """A small site with every option the modules can declare, made with the hub's calls."""
    state.add_user('releng', perms=['tag', 'target'])
    state.add_user('packager', krb_principal='packager@EXAMPLE.COM')
    state.add_user('former', status=1)
    session.createExternalRepo('os', 'https://mirror.example.org/os/$arch')
    session.createExternalRepo('extras', 'https://mirror.example.org/extras/$arch/')
    session.addChannel('heavy', description='big builders')
    session.editChannel('heavy', comment='64 GiB')
    session.disableChannel('livemedia')
    session.addHost('b1.example.com', ['x86_64', 'aarch64'])
    session.editHost('b1.example.com', capacity=8.0, description='a builder', comment='rack 4')
    session.addHostToChannel('b1.example.com', 'heavy')
    session.removeHostFromChannel('b1.example.com', 'default')
    session.addHost('b2.example.com', ['x86_64'])
    session.disableHost('b2.example.com')
    session.createTag('base', arches='x86_64 aarch64', perm='admin',
                      extra={'mock.package_manager': 'dnf', 'rpm.macro.dist': '.el9'})
    session.createTag('locked', locked=True)
    session.createTag('build', arches='x86_64')
    session.createTag('candidate')
    ids = dict((name, session.getTag(name)['id']) for name in ('base', 'locked', 'build'))
    session.setInheritanceData('build', [
        {'parent_id': ids['base'], 'priority': 0, 'maxdepth': 2, 'intransitive': True,
         'noconfig': False, 'pkg_filter': '^[a-z]'},
        {'parent_id': ids['locked'], 'priority': 10, 'maxdepth': None, 'intransitive': False,
         'noconfig': True, 'pkg_filter': ''}])
    session.setInheritanceData('candidate', [
        {'parent_id': ids['base'], 'priority': 5, 'maxdepth': None, 'intransitive': False,
         'noconfig': False, 'pkg_filter': ''}])
    session.addExternalRepoToTag('build', 'os', 10)
    session.addExternalRepoToTag('build', 'extras', 20, merge_mode='bare', arches='x86_64')
    for package in ('bash', 'rpm', 'gcc'):
        session.packageListAdd('base', package, owner='releng')
    session.packageListAdd('base', 'kernel', owner='packager')
    session.packageListBlock('candidate', 'gcc')
    session.packageListAdd('build', 'make', owner='packager')
    session.groupListAdd('base', 'build')
    session.groupPackageListAdd('base', 'build', 'bash')
    session.groupPackageListAdd('base', 'build', 'rpm-build')
    session.groupListAdd('base', 'srpm-build')
    session.groupPackageListAdd('build', 'build', 'gcc')
    session.groupListAdd('build', 'custom')
    session.createBuildTarget('el9', 'build', 'candidate')


def warnings(result, capfd):
    """The warnings' texts: in the result, or, once ansible's controller code is loaded in this
    process (the action plugin tests load it), printed by its display instead."""
    texts = capfd.readouterr().err.replace('\n', ' ').split('[WARNING]: ')[1:]
    for warning in result.get('warnings', []):
        if isinstance(warning, dict):  # ansible-core 2.19: a WarningSummary with its event
            warning = warning.get('event', warning).get('msg', warning)
        texts.append(str(warning))
    return texts


def export(hub, **args):
    params = dict(hub.conn)
    params.update(args)
    return runner.run('koji_export', params)


def apply(fixture, declarations, check_mode=False):
    results = []
    for module, kind, list_key in APPLY_ORDER:
        if declarations.get(kind):
            result = fixture.run(module, check_mode=check_mode, **{list_key: declarations[kind]})
            assert not result.get('failed'), (module, result.get('msg'), result.get('errors'))
            results.append(result)
    return results


def test_declarations_hold_only_what_differs_from_the_defaults(hub):
    seed_site(hub.hub.session(), hub.state)
    mark = hub.mark()
    result = export(hub)
    hub.assert_unchanged(mark)
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is False and result['changes'] == []
    assert result['unsupported'] == []
    found = result['declarations']
    assert list(found) == ['external_repos', 'channels', 'users', 'hosts', 'tags', 'targets']
    assert found['external_repos'] == [
        {'name': 'extras', 'url': 'https://mirror.example.org/extras/$arch/'},
        {'name': 'os', 'url': 'https://mirror.example.org/os/$arch/'}]
    channels = dict((channel['name'], channel) for channel in found['channels'])
    assert channels['heavy'] == {'name': 'heavy', 'description': 'big builders', 'comment': '64 GiB'}
    assert channels['livemedia'] == {'name': 'livemedia', 'enabled': False}
    assert channels['default'] == {'name': 'default'}
    assert found['users'] == [{'name': 'admin', 'permissions': ['admin']},
                              {'name': 'former', 'state': 'disabled'},
                              {'name': 'packager', 'krb_principal': 'packager@EXAMPLE.COM'},
                              {'name': 'releng', 'permissions': ['tag', 'target']}]
    assert found['hosts'] == [
        {'name': 'b1.example.com', 'arches': ['x86_64', 'aarch64'], 'capacity': 8.0,
         'description': 'a builder', 'comment': 'rack 4', 'channels': ['heavy']},
        {'name': 'b2.example.com', 'arches': ['x86_64'], 'enabled': False}]
    tags = dict((tag['name'], tag) for tag in found['tags'])
    assert [tag['name'] for tag in found['tags']] == ['base', 'build', 'candidate', 'locked']
    assert tags['base'] == {
        'name': 'base', 'arches': ['x86_64', 'aarch64'], 'perm': 'admin',
        'extra': {'mock.package_manager': 'dnf', 'rpm.macro.dist': '.el9'},
        'packages': {'packager': ['kernel'], 'releng': ['bash', 'gcc', 'rpm']},
        'groups': {'build': ['bash', 'rpm-build'], 'srpm-build': []}}
    assert tags['build'] == {
        'name': 'build', 'arches': ['x86_64'],
        'inheritance': [{'parent': 'base', 'priority': 0, 'maxdepth': 2, 'intransitive': True,
                         'pkg_filter': '^[a-z]'},
                        {'parent': 'locked', 'priority': 10, 'noconfig': True}],
        'external_repos': [{'repo': 'os', 'priority': 10},
                           {'repo': 'extras', 'priority': 20, 'merge_mode': 'bare',
                            'arches': ['x86_64']}],
        'packages': {'packager': ['make']},
        'groups': {'build': ['gcc'], 'custom': []}}
    assert tags['candidate'] == {'name': 'candidate',
                                 'inheritance': [{'parent': 'base', 'priority': 5}],
                                 'blocked_packages': ['gcc']}
    assert tags['locked'] == {'name': 'locked', 'locked': True}
    assert found['targets'] == [{'name': 'el9', 'build_tag': 'build', 'dest_tag': 'candidate'}]
    assert result['counts'] == dict((kind, len(items)) for kind, items in found.items())
    assert result['event']['start'] == result['event']['end'] == mark[0]


def test_export_applied_to_the_same_hub_changes_nothing(hub):
    seed_site(hub.hub.session(), hub.state)
    declarations = export(hub)['declarations']
    mark = hub.mark()
    for result in apply(hub, declarations) + apply(hub, declarations, check_mode=True):
        assert result['changed'] is False, result['changes']
    hub.assert_unchanged(mark)


def test_export_applied_to_a_new_hub_exports_the_same():
    with FakeHub() as source, FakeHub() as target:
        seed_site(source.session(), source.state)
        # the users the tags name as owners exist before the tags are applied: a new hub has
        # the same admin (the one the modules log in as)
        first = runner.run('koji_export', {'server': source.url})
        assert first['unsupported'] == []

        class Target(object):
            conn = {'server': target.url, 'user': target.admin_user,
                    'password': target.admin_password}

            def run(self, module, check_mode=False, **args):
                params = dict(self.conn)
                params.update(args)
                return runner.run(module, params, check_mode=check_mode)

        applied = apply(Target(), first['declarations'])
        assert all(result['changed'] for result in applied)
        second = runner.run('koji_export', {'server': target.url})
        assert second['declarations'] == first['declarations']
        assert second['unsupported'] == []


def test_objects_and_names_select_what_is_exported(hub):
    seed_site(hub.hub.session(), hub.state)
    result = export(hub, objects=['tags', 'targets'], names=['b*', 'el9'])
    assert list(result['declarations']) == ['tags', 'targets']
    assert [tag['name'] for tag in result['declarations']['tags']] == ['base', 'build']
    assert [target['name'] for target in result['declarations']['targets']] == ['el9']
    # parents outside the selection are still named
    assert result['declarations']['tags'][1]['inheritance'][1]['parent'] == 'locked'
    bad = export(hub, objects=['tags', 'nothing'])
    assert bad.get('failed') is True and 'nothing' in bad['msg']


def test_what_the_declarations_cannot_express_is_reported(hub, capfd):
    session = hub.hub.session()
    state = hub.state
    seed_site(session, state)
    gid = state.ensure_perm('custom-perm')
    state.user_perms[state.find_user('releng')['id']].add(gid)
    state.add_user('team', usertype=2)
    state.users[state.find_user('packager')['id']]['krb_principals'].append('pk@OTHER.ORG')
    session.createTag('child', arches='x86_64 x86-64')
    session.setInheritanceData('child', [{'parent_id': session.getTag('base')['id'], 'priority': 0,
                                          'maxdepth': None, 'intransitive': False,
                                          'noconfig': False, 'pkg_filter': ''}])
    session.packageListAdd('child', 'rpm', owner='packager', extra_arches='noarch')  # extra arches
    session.packageListAdd('base', 'zsh', owner='releng')
    session.packageListBlock('base', 'zsh')
    session.packageListAdd('child', 'kernel', owner='packager', force=True, block=True)
    hub.state.add_package('child', 'zsh', owner='releng', blocked=True)  # blocked above already
    session.groupListAdd('child', 'build', display_name='Build', force=True)
    session.groupPackageListAdd('child', 'build', 'bash', type='optional', force=True)
    session.groupListBlock('child', 'srpm-build')
    session.groupReqListAdd('base', 'build', 'srpm-build')
    state.add_external_repo('broken', 'mirror.example.org/path')
    mark = hub.mark()
    result = export(hub)
    hub.assert_unchanged(mark)
    problems = [(item['type'], item['name'], item['problem']) for item in result['unsupported']]
    text = '\n'.join('%s %s: %s' % problem for problem in problems)
    for expected in (
            "external_repo broken: the modules refuse it: url: malformed URL",
            "user packager: Kerberos principals pk@OTHER.ORG are not declared",
            "user releng: permission custom-perm is not one of the permissions Koji creates",
            "user team: a user group",
            "tag child: the modules refuse it: tag child: unknown arch 'x86-64'",
            "tag child: package rpm has extra arches noarch",
            "tag child: package zsh is blocked here and in base above",
            "tag child: comps group build has options the modules cannot declare (display_name='Build')",
            "tag child: package bash of comps group build has options the modules cannot declare "
            "(type='optional')",
            "tag child: package bash of comps group build is listed in base above",
            "tag child: comps group srpm-build is blocked",
            "tag base: comps group build requires group srpm-build: the modules cannot declare"):
        assert expected in text, text
    # kernel is blocked in child and listed (unblocked) in base: a plain block, not reported
    assert 'package kernel' not in text
    child = [tag for tag in result['declarations']['tags'] if tag['name'] == 'child'][0]
    # still declared where leaving them out would make the modules change the hub
    assert child['packages'] == {'packager': ['rpm']}
    assert child['blocked_packages'] == ['kernel', 'zsh']
    assert child['groups'] == {'build': ['bash']}
    assert child['arches'] == ['x86_64', 'x86-64']
    texts = warnings(result, capfd)
    assert texts[0].startswith(
        "external repo broken: the modules refuse it: url: malformed URL 'mirror.example.org/path/'")
    assert len(texts) == len(problems)


def test_a_listing_that_repeats_an_inherited_one_is_reported(hub):
    session = hub.hub.session()
    seed_site(session, hub.state)
    hub.state.add_package('candidate', 'bash', owner='packager')  # as if added before base's
    result = export(hub, objects=['tags'])
    assert [(item['name'], item['problem'][:39]) for item in result['unsupported']] == [
        ('candidate', 'package bash is listed here and inherit')]
    candidate = [tag for tag in result['declarations']['tags'] if tag['name'] == 'candidate'][0]
    assert candidate['packages'] == {'packager': ['bash']}


def test_a_hub_that_changes_during_the_export_is_warned_about(hub, capfd):
    seed_site(hub.hub.session(), hub.state)

    def write_during_reads(method, _args, _kwargs):
        if method == 'listPackages' and not hub.hub.state.extra.get('written'):
            hub.hub.state.extra['written'] = True
            hub.hub.state.versioned_write(None)
        return None

    hub.hub.fault_hook = write_during_reads
    result = export(hub)
    assert result['event']['end'] == result['event']['start'] + 1
    assert any('the hub changed during the export' in warning for warning in warnings(result, capfd))


def test_reads_are_anonymous_and_few(hub):
    seed_site(hub.hub.session(), hub.state)
    hub.hub.reset_counters()
    start = time.time()
    result = export(hub)
    assert time.time() - start < 30
    assert 'login' not in hub.hub.calls and 'sslLogin' not in hub.hub.calls
    # two rounds of reads, then the last event
    assert result['requests'] == hub.hub.requests == 3


def test_files_output_reads_back_as_the_declarations(hub):
    import yaml
    seed_site(hub.hub.session(), hub.state)
    data = export(hub)
    files = export(hub, output='files')
    assert 'declarations' not in files
    assert sorted(files['files']) == sorted(['%s.yml' % kind for kind in data['declarations']]
                                            + ['unsupported.yml'])
    for kind, items in data['declarations'].items():
        text = files['files']['%s.yml' % kind]
        assert text.startswith('# Exported from Koji')
        assert yaml.safe_load(text) == {'koji_%s' % kind: items}
    assert yaml.safe_load(files['files']['unsupported.yml']) == {'koji_export_unsupported': []}


def test_listings_read_by_tag_or_by_owner_give_the_same_declarations(hub):
    session = hub.hub.session()
    seed_site(session, hub.state)
    users = sum(len(session.listUsers(userType=usertype)) for usertype in (0, 1, 2))
    hub.hub.reset_counters()
    by_tag = export(hub, objects=['tags'])
    assert hub.hub.calls['listPackages'] == 4 < users  # one per tag: fewer tags than users
    for i in range(users):
        session.createTag('empty-%02d' % i)
    hub.hub.reset_counters()
    by_owner = export(hub, objects=['tags'])
    assert hub.hub.calls['listPackages'] == users  # one per user: fewer users than tags
    assert [tag for tag in by_owner['declarations']['tags'] if not tag['name'].startswith('empty-')] \
        == by_tag['declarations']['tags']
    assert by_owner['unsupported'] == by_tag['unsupported'] == []
