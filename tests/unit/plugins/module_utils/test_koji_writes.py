"""Writing a plan: phases in order, late arguments, the parallel-write schedule."""

from ansible_collections.kojiforge.koji.plugins.module_utils.koji_connection import KojiConnection
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_plan import Plan, Write
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_writes import schedule_writes, write_plan


def test_plan_runs_phases_in_order_and_resolves_late_arguments(hub):
    conn = KojiConnection({'server': hub.hub.url, 'user': 'admin',
                           'password': hub.hub.admin_password, 'batch_size': 2})
    plan = Plan()
    ids = {}
    # added out of order: phases decide the order, lambdas are resolved when sent
    plan.add(20, 'tag', 'child', 'link', 'setInheritanceData', 'child',
             lambda: [{'parent_id': ids['parent'], 'priority': 0, 'maxdepth': None,
                       'intransitive': False, 'noconfig': False, 'pkg_filter': ''}])
    plan.add(10, 'tag', 'parent', 'create', 'createTag', 'parent',
             _on_result=lambda value: ids.__setitem__('parent', value))
    plan.add(10, 'tag', 'child', 'create', 'createTag', 'child')
    write_plan(conn, plan)
    assert [l['name'] for l in hub.anon.getInheritanceData('child')] == ['parent']
    assert plan.changes()[0]['name'] == 'child'


def _write(phase, name, method, *args):
    return Write(phase, 'tag', name, '%s %r' % (method, args), method, list(args), {})


def _names(lane):
    return [(w.obj_name, w.method, tuple(w.args[1:])) for w in lane]


def test_schedule_serial_phases_and_single_worker_keep_plan_order():
    writes = [_write(20, 'b', 'packageListAdd', 'b', 'p', 'o'),
              _write(10, 'a', 'createTag', 'a'),
              _write(90, 'a', 'deleteTag', 'a'),
              _write(90, 'b', 'deleteTag', 'b')]
    # one worker: one round per phase, one lane, plan order within the phase
    rounds = schedule_writes(writes, 1)
    assert [[_names(lane) for lane in r] for r in rounds] == [
        [[('a', 'createTag', ())]],
        [[('b', 'packageListAdd', ('p', 'o'))]],
        [[('a', 'deleteTag', ()), ('b', 'deleteTag', ())]]]
    # deleteTag is not a parallel call: its phase stays one lane with several workers
    rounds = schedule_writes(writes, 3)
    assert [len(r) for r in rounds] == [1, 1, 1]
    assert _names(rounds[2][0]) == [('a', 'deleteTag', ()), ('b', 'deleteTag', ())]


def test_schedule_runs_each_new_name_once_before_the_rest_and_keeps_objects_together():
    writes = []
    for tag in ('t1', 't2', 't3', 't4'):
        writes.append(_write(40, tag, 'packageListAdd', tag, 'common', 'o'))
        writes.append(_write(40, tag, 'packageListAdd', tag, 'own-' + tag, 'o'))
        writes.append(_write(50, tag, 'groupListAdd', tag, 'build'))
        writes.append(_write(50, tag, 'groupPackageListAdd', tag, 'build', 'bash'))
    rounds = schedule_writes(writes, 2)
    # packages: first uses (common once, each own-*), then the other uses of common;
    # groups: the first groupListAdd of "build", then the rest
    assert len(rounds) == 4
    first_pkgs = [w for lane in rounds[0] for w in lane]
    assert sorted(w.args[1] for w in first_pkgs) == [
        'common', 'own-t1', 'own-t2', 'own-t3', 'own-t4']
    assert sorted(w.obj_name for lane in rounds[1] for w in lane) == ['t2', 't3', 't4']
    for r in rounds:
        assert len(r) <= 2
        for lane in r:
            assert lane
        # every object's writes are in one lane of the round, in plan order
        owner = {}
        for index, lane in enumerate(r):
            for w in lane:
                assert owner.setdefault(w.obj_name, index) == index
    assert [_names(lane) for lane in rounds[2]] == [[('t1', 'groupListAdd', ('build',))]]
    later = [w for lane in rounds[3] for w in lane]
    assert [w.method for w in later if w.obj_name == 't1'] == ['groupPackageListAdd']
    assert [w.method for w in later if w.obj_name == 't2'] == [
        'groupListAdd', 'groupPackageListAdd']
    assert sorted(id(w) for r in rounds for lane in r for w in lane) == \
        sorted(id(w) for w in writes)


def test_parallel_writes_use_several_logged_in_sessions(hub):
    conn = KojiConnection({'server': hub.hub.url, 'user': 'admin',
                           'password': hub.hub.admin_password, 'batch_size': 2,
                           'write_sessions': 3})
    plan = Plan()
    for i in range(9):
        plan.add(10, 'tag', 'w%d' % i, 'create', 'createTag', 'w%d' % i)
        plan.add(20, 'tag', 'w%d' % i, 'add package', 'packageListAdd', 'w%d' % i,
                 'pkg-%d' % (i % 3), 'admin')
    hub.hub.reset_counters()
    write_plan(conn, plan)
    assert hub.hub.calls['login'] == 3
    assert conn.requests == hub.hub.requests
    assert sorted(t['name'] for t in hub.anon.listTags()) == ['w%d' % i for i in range(9)]
    for i in range(9):
        assert [p['package_name'] for p in hub.anon.listPackages(tagID='w%d' % i)] == \
            ['pkg-%d' % (i % 3)]
    conn.logout()
    assert not any(s.logged_in for s in conn.write_sessions)
