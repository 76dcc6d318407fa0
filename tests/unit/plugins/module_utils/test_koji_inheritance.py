"""The inheritance walk and the comps groups a tag sees, computed from bulk-read rows.

The same computation is compared with the real hub's getFullInheritance and getTagGroups
in tests/integration/modules (test_groups_seen_through_inheritance); these cases add what
the modules cannot set up there: blocked groups and blocked packages."""

from ansible_collections.kojiforge.koji.plugins.module_utils.koji_inheritance import (
    full_inheritance, group_rows_by_tag, links_by_tag, tag_groups,
)


def link(parent, priority, maxdepth=None, intransitive=False, noconfig=False, pkg_filter=''):
    return {'name': parent, 'parent_id': 0, 'priority': priority, 'maxdepth': maxdepth,
            'intransitive': intransitive, 'noconfig': noconfig, 'pkg_filter': pkg_filter}


def test_an_ancestor_reached_deeper_later_is_walked_again():
    # A -(maxdepth 1)-> B -> R, and A -> C -> B: B is first met with one level left (so R
    # is listed but not walked), then met again with no limit: the hub lists B and R again
    links = {'A': [link('B', 10, maxdepth=1), link('C', 20)],
             'B': [link('R', 10)], 'C': [link('B', 10)]}
    assert full_inheritance('A', links) == ['B', 'R', 'C', 'B', 'R']
    # met again with no deeper reach: not listed again
    links['A'][0]['maxdepth'] = None
    assert full_inheritance('A', links) == ['B', 'R', 'C']


def test_intransitive_links_count_at_the_tag_only_and_loops_are_pruned():
    links = {'A': [link('B', 10), link('X', 20, intransitive=True)],
             'B': [link('C', 10, intransitive=True), link('A', 20)],
             'X': [link('Y', 10)]}
    assert full_inheritance('A', links) == ['B', 'X', 'Y']
    # from B: its own intransitive link counts, A's does not
    assert full_inheritance('B', links) == ['C', 'A']


def test_an_ancestor_met_through_noconfig_is_listed_again_without():
    links = {'A': [link('C', 10), link('D', 20)], 'C': [link('B', 10, noconfig=True)],
             'D': [link('B', 10)]}
    assert full_inheritance('A', links) == ['C', 'B', 'D', 'B']
    # and, as in the hub, a noconfig link makes the tag's later links noconfig too
    links = {'A': [link('B', 10, noconfig=True), link('C', 20)], 'C': [link('B', 10)]}
    assert full_inheritance('A', links) == ['B', 'C']


def test_maxdepth_zero_lists_the_parent_only():
    links = {'A': [link('B', 10, maxdepth=0)], 'B': [link('C', 10)]}
    assert full_inheritance('A', links) == ['B']


def seed_blocks(hub):
    s = hub.hub.session()
    hub.state.add_tag('base')
    hub.state.add_tag('mid', parents=[('base', 0)])
    hub.state.add_tag('leaf', parents=[('mid', 0)])
    s.groupListAdd('base', 'build')
    s.groupListAdd('base', 'srpm-build')
    for pkg in ('bash', 'gcc'):
        s.groupPackageListAdd('base', 'build', pkg)
    s.groupPackageListAdd('base', 'srpm-build', 'rpm-build')
    s.groupPackageListBlock('mid', 'build', 'gcc')
    s.groupPackageListAdd('leaf', 'build', 'make')        # no group row of its own
    s.groupPackageListAdd('leaf', 'srpm-build', 'sed')    # before the group gets blocked
    s.groupListBlock('mid', 'srpm-build')
    return s


def computed(hub, name):
    history = hub.anon.queryHistory(tables=['tag_inheritance', 'group_config',
                                            'group_package_listing'], active=True)
    links = links_by_tag(history['tag_inheritance'])
    configs, packages = group_rows_by_tag(history)
    return tag_groups(name, full_inheritance(name, links), configs, packages)


def view(groups):
    return dict((g['name'], (g['blocked'], sorted((p['package'], p['blocked'])
                                                  for p in g['packagelist'])))
                for g in groups)


def test_blocked_groups_and_packages_as_the_hub_sees_them(hub):
    seed_blocks(hub)
    leaf = view(computed(hub, 'leaf'))
    assert leaf == {'build': (False, [('bash', False), ('gcc', True), ('make', False)]),
                    'srpm-build': (True, [])}
    for name in ('base', 'mid', 'leaf'):
        assert view(computed(hub, name)) == view(hub.anon.getTagGroups(
            name, incl_reqs=False, incl_blocked=True)), name
    # which tag provides each entry
    build = [g for g in computed(hub, 'leaf') if g['name'] == 'build'][0]
    ids = dict((t, hub.anon.getTag(t)['id']) for t in ('base', 'mid', 'leaf'))
    assert build['tag_id'] == ids['base']
    assert dict((p['package'], p['tag_id']) for p in build['packagelist']) == {
        'bash': ids['base'], 'gcc': ids['mid'], 'make': ids['leaf']}
