"""koji_tag against the fake hub, through the real koji client library."""

import koji
import pytest


def base_site(hub):
    hub.state.add_user('releng')
    hub.state.add_external_repo('alma9-baseos', 'https://mirror.example.org/alma/9/BaseOS/$arch/os')
    hub.state.add_external_repo('alma9-appstream', 'https://mirror.example.org/alma/9/AppStream/$arch/os/')
    return [
        {'name': 'el9-base', 'arches': ['x86_64', 'aarch64'],
         'packages': {'releng': ['bash', 'rpm', 'legacy']}},
        {'name': 'el9-build', 'arches': ['x86_64 aarch64'], 'extra': {'mock.package_manager': 'dnf'},
         'inheritance': [{'parent': 'el9-base', 'priority': 0}],
         'external_repos': [{'repo': 'alma9-baseos', 'priority': 10},
                            {'repo': 'alma9-appstream', 'priority': 20, 'merge_mode': 'bare'}],
         'groups': {'build': ['bash', 'rpm-build'], 'srpm-build': ['rpm-build']},
         'blocked_packages': ['legacy']},
    ]


def test_create_then_noop(hub):
    tags = base_site(hub)
    result = hub.run('koji_tag', tags=tags)
    assert not result.get('failed'), result
    assert result['changed'] is True
    assert [c['name'] for c in result['changes']] == ['el9-base', 'el9-build']
    assert [c['action'] for c in result['changes']] == ['create', 'create']

    s = hub.anon
    build = s.getTag('el9-build')
    assert set(build['arches'].split()) == {'x86_64', 'aarch64'}
    assert build['extra'] == {'mock.package_manager': 'dnf'}
    inh = s.getInheritanceData('el9-build')
    assert [(link['name'], link['priority']) for link in inh] == [('el9-base', 0)]
    repos = s.getTagExternalRepos('el9-build')
    assert [(r['external_repo_name'], r['priority'], r['merge_mode']) for r in repos] == [
        ('alma9-baseos', 10, 'koji'), ('alma9-appstream', 20, 'bare')]
    base_pkgs = dict((p['package_name'], p['owner_name'])
                     for p in s.listPackages(tagID='el9-base'))
    assert base_pkgs == {'bash': 'releng', 'rpm': 'releng', 'legacy': 'releng'}
    build_pkgs = dict((p['package_name'], p['blocked'])
                      for p in s.listPackages(tagID='el9-build', inherited=True))
    assert build_pkgs == {'bash': False, 'rpm': False, 'legacy': True}
    groups = dict((g['name'], sorted(p['package'] for p in g['packagelist']))
                  for g in s.getTagGroups('el9-build'))
    assert groups == {'build': ['bash', 'rpm-build'], 'srpm-build': ['rpm-build']}

    mark = hub.mark()
    again = hub.run('koji_tag', tags=tags)
    assert again['changed'] is False, again['changes']
    assert again['changes'] == []
    hub.assert_unchanged(mark)


def test_noop_reads_in_few_requests(hub):
    tags = base_site(hub)
    # many tags, each with parents and packages
    for i in range(60):
        tags.append({'name': 'side-%02d' % i, 'arches': ['x86_64'],
                     'inheritance': [{'parent': 'el9-build', 'priority': 0}],
                     'packages': {'releng': ['pkg-%02d' % i]}})
    assert not hub.run('koji_tag', tags=tags).get('failed')
    users = sum(len(hub.anon.listUsers(userType=t)) for t in (0, 1, 2))
    assert users * 4 <= 62
    hub.hub.reset_counters()
    result = hub.run('koji_tag', tags=tags, batch_size=50)
    assert result['changed'] is False
    # 62 tags, and the hub holds not many more: a count and one listTags instead of 62
    # getTag; 2 getExternalRepo + 1 getUser + the users (3 listUsers) -> 1 batch; every
    # inheritance link in one queryHistory, the listings by owner (a listPackages per user
    # of the hub, far fewer than the tags), 1 getTagExternalRepos, 1 getTagGroups -> 1 batch:
    # reads scale with objects / batch size
    assert result['requests'] == 4
    assert hub.hub.requests == 4
    assert hub.hub.calls['getTag'] == 1  # only for the tag that declares extra
    assert hub.hub.calls['listTags'] == 2
    assert hub.hub.calls['queryHistory'] == 1
    assert hub.hub.calls['listUsers'] == 3
    assert hub.hub.calls['listPackages'] == users
    assert 'getInheritanceData' not in hub.hub.calls


def test_listings_read_by_owner_see_every_owner(hub):
    """With far fewer users than tags, the listings are read per user of the hub: one whose
    owner the declaration does not name is seen as well as with a read per tag."""
    hub.state.add_user('releng')
    tags = [{'name': 'l-%02d' % i, 'packages': {'releng': ['p%02d' % i, 'common']}}
            for i in range(60)]
    assert not hub.run('koji_tag', tags=tags).get('failed')
    hub.state.add_user('mallory')
    s = hub.hub.session()
    s.packageListSetOwner('l-05', 'common', 'mallory')
    s.packageListAdd('l-07', 'stray', 'mallory')
    s.packageListBlock('l-09', 'p09')
    expected = {'l-05': ['set owner of common to releng'],
                'l-07': ['remove package stray'],
                'l-09': ['unblock package p09']}

    def changes():
        hub.hub.reset_counters()
        mark = hub.mark()
        result = hub.run('koji_tag', check_mode=True, tags=tags)
        hub.assert_unchanged(mark)
        return dict((c['name'], c['changes']) for c in result['changes'])

    assert changes() == expected
    users = sum(len(hub.anon.listUsers(userType=t)) for t in (0, 1, 2))
    # a read per user, and l-09's inherited listing (its declared p09 is blocked there)
    assert hub.hub.calls['listPackages'] == users + 1 < 60
    # a hub with many users: one read per tag, the same answer
    for i in range(300):
        hub.state.add_user('user-%03d' % i)
    assert changes() == expected
    assert hub.hub.calls['listPackages'] == 60 + 1


def test_few_tags_on_a_big_hub_are_read_one_by_one(hub):
    """The listing is used only when the request names a good share of the hub's tags."""
    tags = base_site(hub)
    for i in range(60):
        tags.append({'name': 'side-%02d' % i, 'arches': ['x86_64']})
    assert not hub.run('koji_tag', tags=tags).get('failed')
    for i in range(300):
        hub.hub.state.add_tag('other-%03d' % i)
    hub.hub.reset_counters()
    result = hub.run('koji_tag', tags=tags)
    assert result['changed'] is False, result['changes']
    assert hub.hub.calls['getTag'] == 62
    assert hub.hub.calls['listTags'] == 1  # the count only


def test_check_mode_reports_and_writes_nothing(hub):
    tags = base_site(hub)
    mark = hub.mark()
    result = hub.run('koji_tag', check_mode=True, tags=tags)
    assert result['changed'] is True
    assert len(result['changes']) == 2
    hub.assert_unchanged(mark)
    assert hub.anon.getTag('el9-base') is None
    assert 'login' not in hub.hub.calls  # decided from anonymous reads only


def test_diff_mode(hub):
    hub.state.add_tag('t1', arches='x86_64', extra={'a': 1, 'b': 2})
    result = hub.run('koji_tag', diff=True, name='t1', arches=['x86_64', 'aarch64'],
                     extra={'a': 1}, locked=True)
    assert result['changed']
    diff = result['diff']
    assert len(diff) == 1
    assert diff[0]['before']['arches'] == ['x86_64']
    assert diff[0]['after']['arches'] == ['aarch64', 'x86_64']
    assert diff[0]['before']['extra'] == {'a': 1, 'b': 2}
    assert diff[0]['after']['extra'] == {'a': 1}
    assert diff[0]['after']['locked'] is True
    tag = hub.anon.getTag('t1')
    assert tag['extra'] == {'a': 1} and tag['locked'] is True
    no_diff = hub.run('koji_tag', name='t1')
    assert 'diff' not in no_diff


def test_arches_order_is_not_a_change(hub):
    hub.state.add_tag('t1', arches='x86_64 aarch64')
    mark = hub.mark()
    result = hub.run('koji_tag', name='t1', arches='aarch64,x86_64')
    assert result['changed'] is False
    hub.assert_unchanged(mark)


def test_change_inheritance_swap_priorities_and_remove(hub):
    for name in ('p1', 'p2', 'p3'):
        hub.state.add_tag(name)
    hub.state.add_tag('child', parents=[('p1', 10), ('p2', 20), ('p3', 30)])
    rules = [{'parent': 'p1', 'priority': 20},
             {'parent': 'p2', 'priority': 10, 'maxdepth': 1, 'pkg_filter': '^foo'}]
    result = hub.run('koji_tag', name='child', inheritance=rules)
    assert not result.get('failed'), result
    inh = hub.anon.getInheritanceData('child')
    assert [(l['name'], l['priority'], l['maxdepth'], l['pkg_filter']) for l in inh] == [
        ('p2', 10, 1, '^foo'), ('p1', 20, None, '')]
    assert hub.run('koji_tag', name='child', inheritance=rules)['changed'] is False
    # an empty list removes every parent
    assert hub.run('koji_tag', name='child', inheritance=[])['changed'] is True
    assert hub.anon.getInheritanceData('child') == []


def test_external_repo_priority_swap_and_removal(hub):
    base_site(hub)
    hub.state.add_external_repo('epel9', 'https://mirror.example.org/epel/9/$arch/')
    hub.run('koji_tag', name='t', external_repos=[
        {'repo': 'alma9-baseos', 'priority': 10}, {'repo': 'alma9-appstream', 'priority': 20},
        {'repo': 'epel9', 'priority': 30}])
    result = hub.run('koji_tag', name='t', external_repos=[
        {'repo': 'alma9-baseos', 'priority': 20},
        {'repo': 'alma9-appstream', 'priority': 10, 'arches': ['x86_64']}])
    assert not result.get('failed'), result
    repos = hub.anon.getTagExternalRepos('t')
    assert [(r['external_repo_name'], r['priority'], r['arches']) for r in repos] == [
        ('alma9-appstream', 10, 'x86_64'), ('alma9-baseos', 20, None)]
    assert hub.run('koji_tag', name='t', external_repos=[
        {'repo': 'alma9-baseos', 'priority': 20},
        {'repo': 'alma9-appstream', 'priority': 10, 'arches': ['x86_64']}])['changed'] is False


def test_packages_owner_change_unblock_and_removal(hub):
    hub.state.add_user('alice')
    hub.state.add_user('bob')
    hub.state.add_tag('parent')
    hub.state.add_tag('t', parents=[('parent', 0)])
    hub.state.add_package('parent', 'inherited', 'alice')
    hub.state.add_package('parent', 'parent-blocked', 'alice', blocked=True)
    hub.state.add_package('t', 'owned', 'alice')
    hub.state.add_package('t', 'stale', 'alice')
    hub.state.add_package('t', 'was-blocked', 'alice', blocked=True)
    result = hub.run('koji_tag', name='t', packages={
        'bob': ['owned', 'inherited', 'new', 'was-blocked', 'parent-blocked']})
    assert not result.get('failed'), result
    rows = dict((p['package_name'], (p['owner_name'], p['blocked'], p['tag_name']))
                for p in hub.anon.listPackages(tagID='t', inherited=True))
    assert rows == {
        'owned': ('bob', False, 't'),
        'inherited': ('alice', False, 'parent'),  # inherited: already available
        'new': ('bob', False, 't'),
        'was-blocked': ('bob', False, 't'),
        'parent-blocked': ('bob', False, 't'),
    }
    mark = hub.mark()
    assert hub.run('koji_tag', name='t', packages={
        'bob': ['owned', 'inherited', 'new', 'was-blocked', 'parent-blocked']})['changed'] is False
    hub.assert_unchanged(mark)


def test_child_lists_what_its_new_parent_blocks(hub):
    """All new in one run: base lists a package, mid blocks it, leaf lists it again. Blocks
    are written after the listings, so leaf's own listing is in place before mid's block
    (the hub refuses to list a package a tag already inherits blocked)."""
    hub.state.add_user('releng')
    tags = [{'name': 'base', 'packages': {'releng': ['x', 'y']}},
            {'name': 'mid', 'inheritance': [{'parent': 'base', 'priority': 0}],
             'blocked_packages': ['x']},
            {'name': 'leaf', 'inheritance': [{'parent': 'mid', 'priority': 0}],
             'packages': {'releng': ['x']}}]
    for write_sessions in (1, 3):
        for tag in tags:
            hub.run('koji_tag', name=tag['name'], state='absent')
        result = hub.run('koji_tag', tags=tags, write_sessions=write_sessions)
        assert not result.get('failed'), result
        rows = dict((t, dict((p['package_name'], (p['blocked'], p['tag_name']))
                             for p in hub.anon.listPackages(tagID=t, inherited=True)))
                    for t in ('mid', 'leaf'))
        assert rows['mid'] == {'x': (True, 'mid'), 'y': (False, 'base')}
        assert rows['leaf'] == {'x': (False, 'leaf'), 'y': (False, 'base')}
        mark = hub.mark()
        assert hub.run('koji_tag', tags=tags)['changed'] is False
        hub.assert_unchanged(mark)
    # a new tag under the existing block
    tags.append({'name': 'leaf2', 'inheritance': [{'parent': 'mid', 'priority': 0}],
                 'packages': {'releng': ['x']}})
    assert not hub.run('koji_tag', tags=tags).get('failed')
    # a tag that had the package by inheritance, when its parent starts blocking it
    tags.append({'name': 'mid2', 'inheritance': [{'parent': 'base', 'priority': 0}]})
    tags.append({'name': 'leaf3', 'inheritance': [{'parent': 'mid2', 'priority': 0}],
                 'packages': {'releng': ['x']}})
    assert not hub.run('koji_tag', tags=tags).get('failed')
    assert [p['tag_name'] for p in hub.anon.listPackages(tagID='leaf3', inherited=True)
            if p['package_name'] == 'x'] == ['base']
    tags[-2]['blocked_packages'] = ['x']
    result = hub.run('koji_tag', tags=tags)
    assert [c['changes'] for c in result['changes'] if c['name'] == 'leaf3'] == [
        ['list package x (owner releng) over the block in mid2']]
    for name in ('leaf2', 'leaf3'):
        rows = dict((p['package_name'], (p['blocked'], p['tag_name']))
                    for p in hub.anon.listPackages(tagID=name, inherited=True))
        assert rows['x'] == (False, name), name
    mark = hub.mark()
    assert hub.run('koji_tag', tags=tags)['changed'] is False
    hub.assert_unchanged(mark)


def test_blocked_packages_managed_alone(hub):
    hub.state.add_user('alice')
    hub.state.add_tag('parent')
    hub.state.add_tag('t', parents=[('parent', 0)])
    hub.state.add_package('parent', 'a', 'alice')
    hub.state.add_package('parent', 'b', 'alice')
    hub.state.add_package('t', 'c', 'alice', blocked=True)
    result = hub.run('koji_tag', name='t', blocked_packages=['a'])
    assert not result.get('failed'), result
    rows = dict((p['package_name'], p['blocked'])
                for p in hub.anon.listPackages(tagID='t', inherited=True))
    assert rows == {'a': True, 'b': False, 'c': False}
    assert hub.run('koji_tag', name='t', blocked_packages=['a'])['changed'] is False


def test_groups_remove_direct_keep_inherited(hub):
    hub.state.add_tag('parent')
    hub.state.add_tag('t', parents=[('parent', 0)])
    s = hub.hub.session()
    s.groupListAdd('parent', 'build')
    s.groupPackageListAdd('parent', 'build', 'bash')
    s.groupListAdd('t', 'old-group')
    result = hub.run('koji_tag', name='t', groups={'build': ['bash', 'make'],
                                                   'srpm-build': ['rpm-build']})
    assert not result.get('failed'), result
    groups = dict((g['name'], sorted((p['package'], p['tag_id'] == g['tag_id'])
                                     for p in g['packagelist']))
                  for g in hub.anon.getTagGroups('t'))
    assert sorted(groups) == ['build', 'srpm-build']
    build = [g for g in hub.anon.getTagGroups('t') if g['name'] == 'build'][0]
    assert sorted(p['package'] for p in build['packagelist']) == ['bash', 'make']
    assert hub.run('koji_tag', name='t', groups={'build': ['bash', 'make'],
                                                 'srpm-build': ['rpm-build']})['changed'] is False


def build_tag_forest(hub, count=60):
    """A base tag owning the comps groups and ``count`` build tags below it in a tree (three
    children each), each declaring the groups it needs: most repeat what they inherit."""
    hub.state.add_tag('base')
    s = hub.hub.session()
    s.groupListAdd('base', 'build')
    for pkg in ('bash', 'rpm-build', 'gcc'):
        s.groupPackageListAdd('base', 'build', pkg)
    tags = []
    for i in range(count):
        parent = 'base' if i < 3 else 'b-%02d' % ((i - 3) // 3)
        tags.append({'name': 'b-%02d' % i, 'inheritance': [{'parent': parent, 'priority': 0}],
                     'groups': {'build': ['bash', 'rpm-build']}})
    return tags


def test_groups_seen_through_inheritance_are_read_in_bulk(hub):
    tags = build_tag_forest(hub)
    # a child adding a package to the group it inherits: a row of its own without a group
    tags[7]['groups'] = {'build': ['bash', 'rpm-build', 'make']}
    result = hub.run('koji_tag', tags=tags)
    assert not result.get('failed'), result
    groups = dict((g['name'], sorted(p['package'] for p in g['packagelist']))
                  for g in hub.anon.getTagGroups('b-30'))
    assert groups == {'build': ['bash', 'gcc', 'rpm-build']}
    assert hub.anon.getTagGroups('b-30', inherit=False) == []  # inherited, not repeated
    b07 = [g for g in hub.anon.getTagGroups('b-07') if g['name'] == 'build'][0]
    assert sorted(p['package'] for p in b07['packagelist']) == ['bash', 'gcc', 'make', 'rpm-build']

    hub.hub.reset_counters()
    mark = hub.mark()
    again = hub.run('koji_tag', tags=tags)
    assert again['changed'] is False, again['changes']
    hub.assert_unchanged(mark)
    # the groups every tag sees follow from one read of the group tables
    assert 'getTagGroups' not in hub.hub.calls
    assert hub.hub.calls['queryHistory'] == 2


def test_groups_blocked_on_the_way_are_added_back(hub):
    """A package an intermediate tag blocks in the inherited group, or a group it blocks,
    is missing below it: the tags that declare them get their own entries."""
    tags = build_tag_forest(hub)
    assert not hub.run('koji_tag', tags=tags).get('failed')
    s = hub.hub.session()
    s.groupPackageListBlock('b-02', 'build', 'rpm-build')   # above b-09, b-10, b-30...
    s.groupListBlock('b-01', 'build')                       # above b-06, b-08, b-21...
    mark = hub.mark()
    check = hub.run('koji_tag', check_mode=True, tags=tags)
    hub.assert_unchanged(mark)
    changed = set(c['name'] for c in check['changes'])
    assert {'b-02', 'b-09', 'b-10', 'b-30', 'b-01', 'b-06', 'b-08', 'b-21'} <= changed
    assert not changed & {'b-00', 'b-03', 'b-13'}
    result = hub.run('koji_tag', tags=tags)
    assert not result.get('failed'), result
    for name in ('b-02', 'b-09', 'b-30', 'b-01', 'b-06', 'b-21', 'b-00'):
        groups = dict((g['name'], set(p['package'] for p in g['packagelist']))
                      for g in hub.anon.getTagGroups(name))
        assert {'bash', 'rpm-build'} <= groups.get('build', set()), name
    mark = hub.mark()
    assert hub.run('koji_tag', tags=tags)['changed'] is False
    hub.assert_unchanged(mark)


def test_delete_tag(hub):
    hub.state.add_tag('gone')
    mark = hub.mark()
    result = hub.run('koji_tag', check_mode=True, name='gone', state='absent')
    assert result['changed'] is True
    hub.assert_unchanged(mark)
    result = hub.run('koji_tag', name='gone', state='absent')
    assert result['changes'][0]['action'] == 'delete'
    assert hub.anon.getTag('gone') is None
    assert hub.run('koji_tag', name='gone', state='absent')['changed'] is False


@pytest.mark.parametrize('tags, message', [
    ([{'name': 't', 'inheritance': [{'parent': 'nope', 'priority': 0}]}],
     'unknown parent tag nope'),
    ([{'name': 't', 'arches': ['x86-64']}], "unknown arch 'x86-64'"),
    ([{'name': 't', 'arches': ['x86_64;rm']}], 'characters other than'),
    ([{'name': 'p1'}, {'name': 'p2'},
      {'name': 't', 'inheritance': [{'parent': 'p1', 'priority': 0},
                                    {'parent': 'p2', 'priority': 0}]}],
     'priority 0 is given more than once'),
    ([{'name': 't', 'external_repos': [{'repo': 'r1', 'priority': 5},
                                       {'repo': 'r2', 'priority': 5}]}],
     'priority 5 is given more than once'),
    ([{'name': 'a', 'inheritance': [{'parent': 'b', 'priority': 0}]},
      {'name': 'b', 'inheritance': [{'parent': 'c', 'priority': 0}]},
      {'name': 'c', 'inheritance': [{'parent': 'a', 'priority': 0}]}],
     'inheritance cycle: a -> b -> c -> a'),
    ([{'name': 't', 'external_repos': [{'repo': 'no-such-repo', 'priority': 5}]}],
     'unknown external repo no-such-repo'),
    ([{'name': 't', 'perm': 'no-such-perm'}], 'unknown permission no-such-perm'),
    ([{'name': 't', 'packages': {'nobody': ['bash']}}], 'unknown user nobody'),
    ([{'name': 't', 'packages': {'admin': ['bash']}, 'blocked_packages': ['bash']}],
     'both listed and blocked'),
    ([{'name': 't', 'blocked_packages': ['never-listed']}], 'cannot block package never-listed'),
    ([{'name': 't'}, {'name': 't'}], 'tag t is given more than once'),
    ([{'name': 'gone', 'state': 'absent'},
      {'name': 't', 'inheritance': [{'parent': 'gone', 'priority': 0}]}],
     'declared absent'),
])
def test_bad_input_fails_and_writes_nothing(hub, tags, message):
    hub.state.add_external_repo('r1', 'http://example.org/r1/')
    hub.state.add_external_repo('r2', 'http://example.org/r2/')
    # a valid tag in the same request must not be created either
    tags = tags + [{'name': 'innocent-bystander'}]
    mark = hub.mark()
    result = hub.run('koji_tag', tags=tags)
    assert result.get('failed') is True
    assert message in result['msg']
    assert 'nothing was changed' in result['msg']
    hub.assert_unchanged(mark)
    assert hub.anon.getTag('innocent-bystander') is None


def test_cycle_through_existing_undeclared_tags(hub):
    hub.state.add_tag('t')
    hub.state.add_tag('x', parents=[('t', 0)])
    hub.state.add_tag('y', parents=[('x', 0)])
    mark = hub.mark()
    result = hub.run('koji_tag', name='t', inheritance=[{'parent': 'y', 'priority': 0}])
    assert result.get('failed')
    assert 'inheritance cycle: t -> y -> x -> t' in result['msg']
    hub.assert_unchanged(mark)


def test_missing_required_option(hub):
    mark = hub.mark()
    result = hub.run('koji_tag', tags=[{'name': 't', 'inheritance': [{'parent': 'x'}]}])
    assert result.get('failed')
    assert 'priority' in result['msg']
    result = hub.run('koji_tag', arches=['x86_64'])
    assert result.get('failed')
    assert 'name' in result['msg'] and 'tags' in result['msg']
    hub.assert_unchanged(mark)


def test_mid_batch_refusal_reports_applied_and_rerun_converges(hub):
    tags = [{'name': 'bt-%02d' % i, 'arches': ['x86_64']} for i in range(10)]
    refused = {'count': 0}

    def refuse_one(method, args, kwargs):
        if method == 'createTag' and args[0] == 'bt-04' and refused['count'] == 0:
            refused['count'] += 1
            return koji.GenericError('simulated refusal for bt-04')
        return None

    hub.hub.fault_hook = refuse_one
    result = hub.run('koji_tag', tags=tags, batch_size=3, write_sessions=1)
    assert result.get('failed') is True
    assert 'simulated refusal for bt-04' in result['msg']
    assert result['changed'] is True
    applied = sorted(a['name'] for a in result['applied'])
    # batches of 3: bt-00..02 then bt-03..05 (bt-04 refused); the plan stops there
    assert applied == ['bt-00', 'bt-01', 'bt-02', 'bt-03', 'bt-05']
    assert [f['name'] for f in result['refused']] == ['bt-04']
    assert sorted(n['name'] for n in result['not_applied']) == [
        'bt-06', 'bt-07', 'bt-08', 'bt-09']
    existing = sorted(t['name'] for t in hub.anon.listTags())
    assert existing == applied
    rerun = hub.run('koji_tag', tags=tags, batch_size=3, write_sessions=1)
    assert not rerun.get('failed'), rerun
    assert sorted(c['name'] for c in rerun['changes']) == [
        'bt-04', 'bt-06', 'bt-07', 'bt-08', 'bt-09']
    mark = hub.mark()
    assert hub.run('koji_tag', tags=tags, batch_size=3)['changed'] is False
    hub.assert_unchanged(mark)


def test_anonymous_hub_refusal_of_login_is_reported(hub):
    result = hub.run('koji_tag', name='t', password='wrong')
    assert result.get('failed')
    assert 'cannot log in' in result['msg']
    assert hub.anon.getTag('t') is None


def test_perm_set_and_removed(hub):
    hub.state.add_tag('t1')
    assert hub.run('koji_tag', name='t1', perm='')['changed'] is False
    assert hub.run('koji_tag', name='t1', perm='admin')['changed'] is True
    assert hub.anon.getTag('t1')['perm'] == 'admin'
    assert hub.run('koji_tag', name='t1', perm='admin')['changed'] is False
    assert hub.run('koji_tag', name='t1', perm='')['changed'] is True
    assert hub.anon.getTag('t1')['perm'] is None


def test_result_does_not_echo_a_long_list_back(hub):
    tags = [{'name': 'echo-%02d' % i, 'arches': ['x86_64']} for i in range(25)]
    result = hub.run('koji_tag', tags=tags)
    assert result['changed'] is True
    args = result['invocation']['module_args']
    assert args['tags'] == '(25 items, not echoed)'
    # short lists and the other parameters are echoed as AnsibleModule does
    assert args['server'] == hub.conn['server']
    short = hub.run('koji_tag', tags=tags[:2])
    assert [t['name'] for t in short['invocation']['module_args']['tags']] == ['echo-00', 'echo-01']


def test_failed_result_does_not_echo_secrets_or_long_lists(hub):
    tags = [{'name': 'echo-%02d' % i, 'inheritance': [{'parent': 'nowhere', 'priority': 1}]}
            for i in range(25)]
    result = hub.run('koji_tag', tags=tags)
    assert result.get('failed')
    args = result['invocation']['module_args']
    assert args['tags'] == '(25 items, not echoed)'
    assert hub.conn['password'] not in repr(result)


def test_refusal_with_parallel_writes_reports_every_call_once_and_rerun_converges(hub):
    tags = [{'name': 'pt-%02d' % i, 'arches': ['x86_64']} for i in range(10)]
    names = [t['name'] for t in tags]

    def refuse_one(method, args, kwargs):
        if method == 'createTag' and args[0] == 'pt-04':
            return koji.GenericError('simulated refusal for pt-04')
        return None

    hub.hub.fault_hook = refuse_one
    try:
        result = hub.run('koji_tag', tags=tags, batch_size=2, write_sessions=3)
    finally:
        hub.hub.fault_hook = None
    assert result.get('failed') is True
    assert 'simulated refusal for pt-04' in result['msg']
    applied = sorted(a['name'] for a in result['applied'])
    not_applied = sorted(n['name'] for n in result['not_applied'])
    assert [f['name'] for f in result['refused']] == ['pt-04']
    # every call is in exactly one list, and the hub holds exactly the applied ones
    assert sorted(applied + not_applied + ['pt-04']) == names
    assert sorted(t['name'] for t in hub.anon.listTags()) == applied
    rerun = hub.run('koji_tag', tags=tags, batch_size=2, write_sessions=3)
    assert not rerun.get('failed'), rerun
    assert sorted(c['name'] for c in rerun['changes']) == sorted(not_applied + ['pt-04'])
    mark = hub.mark()
    assert hub.run('koji_tag', tags=tags, batch_size=2, write_sessions=3)['changed'] is False
    hub.assert_unchanged(mark)


def test_invalid_pkg_filter_fails_before_any_write(hub):
    """The hub stores any pkg_filter and then fails every inherited package read through
    the link: the pattern is compiled first."""
    hub.state.add_tag('parent')
    mark = hub.mark()
    result = hub.run('koji_tag', tags=[
        {'name': 'first'},
        {'name': 'child', 'inheritance': [{'parent': 'parent', 'priority': 0,
                                           'pkg_filter': 'foo('}]}])
    assert result.get('failed'), result
    assert "tag child: pkg_filter of the link to parent parent: 'foo(' is not a valid " \
        "regular expression" in result['msg']
    hub.assert_unchanged(mark)
    assert hub.anon.getTag('first') is None


def dependents_site(hub):
    hub.state.add_tag('base')
    hub.state.add_tag('child', parents=[('base', 0)])
    hub.state.add_tag('other')
    hub.hub.session().createBuildTarget('base-target', 'base', 'other')


def test_delete_refused_while_tags_inherit_or_targets_use_it(hub):
    dependents_site(hub)
    mark = hub.mark()
    for check_mode in (True, False):
        result = hub.run('koji_tag', check_mode=check_mode, tags=[
            {'name': 'obsolete'}, {'name': 'base', 'state': 'absent'}])
        assert result.get('failed'), result
        assert 'tag base: not deleted, other objects depend on it (tags inheriting from ' \
            'it: child; build targets using it: base-target)' in result['msg']
        assert 'force_delete' in result['msg']
    hub.assert_unchanged(mark)
    assert hub.anon.getTag('base') and hub.anon.getTag('obsolete') is None


def test_force_delete_says_what_went_with_the_tag(hub):
    dependents_site(hub)
    result = hub.run('koji_tag', name='base', state='absent', force_delete=True)
    assert not result.get('failed'), result
    assert result['changes'] == [{
        'type': 'tag', 'name': 'base', 'action': 'delete',
        'changes': ['delete tag', 'removes the inheritance link of tag child (priority 0)',
                    'deletes build target base-target']}]
    assert hub.anon.getTag('base') is None
    assert hub.anon.getInheritanceData('child') == []
    assert hub.anon.getBuildTarget('base-target') is None
    mark = hub.mark()
    assert hub.run('koji_tag', name='base', state='absent', force_delete=True)['changed'] is False
    hub.assert_unchanged(mark)


def test_children_deleted_or_detached_in_the_same_request_do_not_block(hub):
    dependents_site(hub)
    hub.state.add_tag('child2', parents=[('base', 0)])
    hub.hub.session().deleteBuildTarget('base-target')
    result = hub.run('koji_tag', tags=[{'name': 'base', 'state': 'absent'},
                                       {'name': 'child', 'state': 'absent'},
                                       {'name': 'child2', 'inheritance': []}])
    assert not result.get('failed'), result
    assert hub.anon.getTag('base') is None and hub.anon.getTag('child') is None
    assert hub.anon.getInheritanceData('child2') == []
