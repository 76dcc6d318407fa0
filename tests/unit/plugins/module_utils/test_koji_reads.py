"""Reads: parallel multicall batches in call order, bulk lookups by name."""

import pytest

from ansible_collections.kojiforge.koji.plugins.module_utils.koji_connection import KojiConnection
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_errors import KojiModuleError
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_reads import READ_WORKERS, lookup_by_name, read_values


def test_parallel_reads_keep_call_order_and_count_every_request(hub):
    for i in range(25):
        hub.state.add_tag('p%02d' % i)
    conn = KojiConnection({'server': hub.hub.url, 'batch_size': 3})
    hub.hub.reset_counters()
    names = ['p%02d' % i for i in range(25)] + ['missing']
    values = read_values(conn, [('getTag', [name], {}) for name in names])
    assert [v['name'] if v else None for v in values] == names[:25] + [None]
    assert conn.requests == hub.hub.requests == 9  # 26 calls in batches of 3
    assert len(conn.read_sessions) == READ_WORKERS


def test_a_refused_parallel_read_fails_the_whole_read(hub):
    conn = KojiConnection({'server': hub.hub.url, 'batch_size': 1})
    with pytest.raises(KojiModuleError) as exc:
        read_values(conn, [('getTag', ['x'], {}), ('noSuchMethod', [], {}),
                           ('getTag', ['y'], {})])
    assert 'noSuchMethod' in exc.value.msg


def test_lookup_by_name_lists_only_when_the_names_are_a_good_share(hub):
    for i in range(60):
        hub.state.add_tag('t%02d' % i)
    conn = KojiConnection({'server': hub.hub.url})
    names = ['t%02d' % i for i in range(60)] + ['nope']
    hub.hub.reset_counters()
    found = lookup_by_name(conn, names, 'getTag', 'listTags')
    assert sorted(n for n, info in found.items() if info) == names[:60]
    assert found['nope'] is None
    assert hub.hub.calls == {'listTags': 2}  # the count, then the listing
    for i in range(300):
        hub.state.add_tag('other%03d' % i)
    hub.hub.reset_counters()
    found = lookup_by_name(conn, names, 'getTag', 'listTags')
    assert found['t05']['name'] == 't05' and found['nope'] is None
    assert hub.hub.calls == {'listTags': 1, 'getTag': 61}
