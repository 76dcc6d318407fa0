"""The shared engine: validation helpers, mirrorlist handling, connection and login."""

import pytest

from ansible_collections.kojiforge.koji.plugins.module_utils import koji_engine as engine
from ansible_collections.kojiforge.koji.plugins.module_utils import koji_mirrorlist as ml


def test_validator_collects_every_problem():
    v = engine.Validator()
    v.arches('tag t', ['x86_64', 'x86-64', 'i686;'])
    v.url('repo r', 'http://ok.example.org/$arch/')
    v.url('repo s', 'gopher://x/')
    v.unique('tag t', [1, 2, 1], 'priority')
    assert len(v.errors) == 4
    with pytest.raises(engine.KojiModuleError) as exc:
        v.check()
    assert '4 problems' in exc.value.msg
    assert exc.value.extra['errors'] == v.errors


def test_split_and_compare_arches():
    assert engine.split_arches('x86_64, aarch64 ppc64le') == ['x86_64', 'aarch64', 'ppc64le']
    assert engine.split_arches(['x86_64 aarch64', 's390x']) == ['x86_64', 'aarch64', 's390x']
    assert engine.same_arches('x86_64 aarch64', ['aarch64', 'x86_64'])
    assert not engine.same_arches('x86_64', ['aarch64', 'x86_64'])
    assert engine.same_arches(None, [])


def test_normalize_url():
    assert engine.normalize_url('http://x/a') == 'http://x/a/'
    assert engine.normalize_url('http://x/a/') == 'http://x/a/'


def test_parse_mirrorlist_plain_and_metalink():
    text = '# comment\n\nhttp://a/x86_64/os/\nftp://b/x86_64/os/\nnot-a-url\nhttp://a/x86_64/os/\n'
    assert ml.parse_mirrorlist(text) == ['http://a/x86_64/os/', 'ftp://b/x86_64/os/']
    metalink = ('<?xml version="1.0"?><metalink><url protocol="https">'
                'https://m/epel/9/x86_64/repodata/repomd.xml</url>'
                '<url protocol="rsync">rsync://m/epel/9/x86_64/repodata/repomd.xml</url>'
                '</metalink>')
    assert ml.parse_mirrorlist(metalink) == ['https://m/epel/9/x86_64/']


def test_to_koji_url_replaces_arch_segments_only():
    assert ml.to_koji_url('https://x86_64.example.org/alma/9/BaseOS/x86_64/os', 'x86_64') == \
        'https://x86_64.example.org/alma/9/BaseOS/$arch/os/'
    assert ml.expand_arch('http://m/list?arch=$basearch&a=$arch', 'aarch64') == \
        'http://m/list?arch=aarch64&a=aarch64'


def test_choose_url_keeps_current_while_listed():
    mirrors = ['http://b/x86_64/', 'http://a/x86_64/']
    assert ml.choose_url(mirrors, 'x86_64', 'http://a/$arch') == ('http://a/$arch/', True)
    assert ml.choose_url(mirrors, 'x86_64', 'http://gone/$arch/') == ('http://b/$arch/', False)
    assert ml.choose_url(mirrors, 'x86_64') == ('http://b/$arch/', False)
    assert ml.choose_url([], 'x86_64', 'http://a/') == (None, False)


def test_connection_needs_a_server(monkeypatch, tmp_path):
    monkeypatch.setenv('HOME', str(tmp_path))
    monkeypatch.delenv('KOJI_PROFILE', raising=False)
    with pytest.raises(engine.KojiModuleError):
        engine.KojiConnection({'koji': 'no-such-profile-anywhere'})


def test_profile_is_read_and_explicit_options_win(monkeypatch, tmp_path, hub):
    confdir = tmp_path / '.koji'
    confdir.mkdir()
    (confdir / 'config').write_text(
        '[kojitest]\nserver = %s\nauthtype = password\n'
        '[other]\nserver = http://elsewhere.invalid/kojihub\n' % hub.hub.url)
    monkeypatch.setenv('HOME', str(tmp_path))
    overridden = engine.KojiConnection({'koji': 'other', 'server': hub.hub.url})
    assert overridden.config['server'] == hub.hub.url
    conn = engine.KojiConnection({'koji': 'kojitest', 'user': 'admin',
                                  'password': hub.hub.admin_password})
    assert conn.config['server'] == hub.hub.url
    assert conn.config['authtype'] == 'password'
    assert conn.session.getAPIVersion() == 1
    conn.ensure_logged_in()
    assert conn.session.getLoggedInUser()['name'] == 'admin'
    assert conn.requests == 3  # getAPIVersion, login, getLoggedInUser
    conn.logout()


def test_plan_runs_phases_in_order_and_resolves_late_arguments(hub):
    conn = engine.KojiConnection({'server': hub.hub.url, 'user': 'admin',
                                  'password': hub.hub.admin_password, 'batch_size': 2})
    plan = engine.Plan()
    ids = {}
    # added out of order: phases decide the order, lambdas are resolved when sent
    plan.add(20, 'tag', 'child', 'link', 'setInheritanceData', 'child',
             lambda: [{'parent_id': ids['parent'], 'priority': 0, 'maxdepth': None,
                       'intransitive': False, 'noconfig': False, 'pkg_filter': ''}])
    plan.add(10, 'tag', 'parent', 'create', 'createTag', 'parent',
             _on_result=lambda value: ids.__setitem__('parent', value))
    plan.add(10, 'tag', 'child', 'create', 'createTag', 'child')
    plan.execute(conn)
    assert [l['name'] for l in hub.anon.getInheritanceData('child')] == ['parent']
    assert plan.changes()[0]['name'] == 'child'


def test_parallel_reads_keep_call_order_and_count_every_request(hub):
    for i in range(25):
        hub.state.add_tag('p%02d' % i)
    conn = engine.KojiConnection({'server': hub.hub.url, 'batch_size': 3})
    hub.hub.reset_counters()
    names = ['p%02d' % i for i in range(25)] + ['missing']
    values = engine.read_values(conn, [('getTag', [name], {}) for name in names])
    assert [v['name'] if v else None for v in values] == names[:25] + [None]
    assert conn.requests == hub.hub.requests == 9  # 26 calls in batches of 3
    assert len(conn.read_sessions) == engine.READ_WORKERS


def test_a_refused_parallel_read_fails_the_whole_read(hub):
    conn = engine.KojiConnection({'server': hub.hub.url, 'batch_size': 1})
    with pytest.raises(engine.KojiModuleError) as exc:
        engine.read_values(conn, [('getTag', ['x'], {}), ('noSuchMethod', [], {}),
                                  ('getTag', ['y'], {})])
    assert 'noSuchMethod' in exc.value.msg


def test_lookup_by_name_lists_only_when_the_names_are_a_good_share(hub):
    for i in range(60):
        hub.state.add_tag('t%02d' % i)
    conn = engine.KojiConnection({'server': hub.hub.url})
    names = ['t%02d' % i for i in range(60)] + ['nope']
    hub.hub.reset_counters()
    found = engine.lookup_by_name(conn, names, 'getTag', 'listTags')
    assert sorted(n for n, info in found.items() if info) == names[:60]
    assert found['nope'] is None
    assert hub.hub.calls == {'listTags': 2}  # the count, then the listing
    for i in range(300):
        hub.state.add_tag('other%03d' % i)
    hub.hub.reset_counters()
    found = engine.lookup_by_name(conn, names, 'getTag', 'listTags')
    assert found['t05']['name'] == 't05' and found['nope'] is None
    assert hub.hub.calls == {'listTags': 1, 'getTag': 61}


def _write(phase, name, method, *args):
    return engine.Write(phase, 'tag', name, '%s %r' % (method, args), method, list(args), {})


def _names(lane):
    return [(w.obj_name, w.method, tuple(w.args[1:])) for w in lane]


def test_schedule_serial_phases_and_single_worker_keep_plan_order():
    writes = [_write(20, 'b', 'packageListAdd', 'b', 'p', 'o'),
              _write(10, 'a', 'createTag', 'a'),
              _write(90, 'a', 'deleteTag', 'a'),
              _write(90, 'b', 'deleteTag', 'b')]
    # one worker: one round per phase, one lane, plan order within the phase
    rounds = engine.schedule_writes(writes, 1)
    assert [[_names(lane) for lane in r] for r in rounds] == [
        [[('a', 'createTag', ())]],
        [[('b', 'packageListAdd', ('p', 'o'))]],
        [[('a', 'deleteTag', ()), ('b', 'deleteTag', ())]]]
    # deleteTag is not a parallel call: its phase stays one lane with several workers
    rounds = engine.schedule_writes(writes, 3)
    assert [len(r) for r in rounds] == [1, 1, 1]
    assert _names(rounds[2][0]) == [('a', 'deleteTag', ()), ('b', 'deleteTag', ())]


def test_schedule_runs_each_new_name_once_before_the_rest_and_keeps_objects_together():
    writes = []
    for tag in ('t1', 't2', 't3', 't4'):
        writes.append(_write(40, tag, 'packageListAdd', tag, 'common', 'o'))
        writes.append(_write(40, tag, 'packageListAdd', tag, 'own-' + tag, 'o'))
        writes.append(_write(50, tag, 'groupListAdd', tag, 'build'))
        writes.append(_write(50, tag, 'groupPackageListAdd', tag, 'build', 'bash'))
    rounds = engine.schedule_writes(writes, 2)
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
    conn = engine.KojiConnection({'server': hub.hub.url, 'user': 'admin',
                                  'password': hub.hub.admin_password, 'batch_size': 2,
                                  'write_sessions': 3})
    plan = engine.Plan()
    for i in range(9):
        plan.add(10, 'tag', 'w%d' % i, 'create', 'createTag', 'w%d' % i)
        plan.add(20, 'tag', 'w%d' % i, 'add package', 'packageListAdd', 'w%d' % i,
                 'pkg-%d' % (i % 3), 'admin')
    hub.hub.reset_counters()
    plan.execute(conn)
    assert hub.hub.calls['login'] == 3
    assert conn.requests == hub.hub.requests
    assert sorted(t['name'] for t in hub.anon.listTags()) == ['w%d' % i for i in range(9)]
    for i in range(9):
        assert [p['package_name'] for p in hub.anon.listPackages(tagID='w%d' % i)] == \
            ['pkg-%d' % (i % 3)]
    conn.logout()
    assert not any(s.logged_in for s in conn.write_sessions)


def test_write_sessions_must_be_positive():
    with pytest.raises(engine.KojiModuleError) as exc:
        engine.KojiConnection({'server': 'http://hub.invalid/kojihub', 'write_sessions': 0})
    assert 'write_sessions' in exc.value.msg
