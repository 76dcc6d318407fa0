"""The fake hub's queryHistory answers the exporter's calls as the hub's query_history does.

The exporter counts a tag's builds with ``queryHistory(tables=['tag_listing'], tag=<id>,
active=True, queryOpts={'countOnly': True})``. In the hub (kojihub.query_history, the same in
Koji 1.34 and 1.35) ``tag`` goes through get_tag_id(strict=True): an id, a name or a dict with
either, an unknown tag raising "No such entry in table tag"; in tag_inheritance it matches the
child or the parent. ``queryOpts`` goes to each table's QueryProcessor: countOnly makes each
table's value an int, counted after offset/limit.
"""

import koji
import pytest

from fakehub.api_tasks import add_build


def _tagged_count(session, tag, **opts):
    return session.queryHistory(tables=["tag_listing"], tag=tag, active=True,
                                queryOpts=dict(opts, countOnly=True))


def test_tag_filter_by_id_name_or_dict(hub):
    session = hub.session()
    f40 = hub.state.find_tag("f40")["id"]
    by_id = session.queryHistory(tables=["tag_listing"], tag=f40)["tag_listing"]
    assert sorted(row["build_id"] for row in by_id) == [1, 2, 4]
    assert set(row["tag_id"] for row in by_id) == {f40}
    assert session.queryHistory(tables=["tag_listing"], tag="f40")["tag_listing"] == by_id
    assert session.queryHistory(tables=["tag_listing"], tag={"name": "f40"})["tag_listing"] == by_id
    assert session.queryHistory(tables=["tag_listing"], tag={"id": f40})["tag_listing"] == by_id


def test_count_only_gives_an_int_per_table(hub):
    session = hub.session()
    counts = session.queryHistory(tables=["tag_listing", "tag_packages"], tag="f40", active=True,
                                  queryOpts={"countOnly": True})
    # f40: bash's builds 1 and 2, zsh's 4 (whatever f40 blocks); bash and a blocked zsh listed
    assert counts == {"tag_listing": 3, "tag_packages": 2}
    assert _tagged_count(session, "f40-build") == {"tag_listing": 1}
    # counted after limit, as the hub wraps the limited query in a count
    assert _tagged_count(session, "f40", limit=2) == {"tag_listing": 2}


def test_count_follows_tag_and_untag(hub):
    session = hub.session()
    build = add_build(hub.state, "bash")
    session.tagBuildBypass("f40-build", build)
    assert _tagged_count(session, "f40-build") == {"tag_listing": 2}
    assert _tagged_count(session, "f40") == {"tag_listing": 3}
    session.untagBuildBypass("f40-build", build)
    assert _tagged_count(session, "f40-build") == {"tag_listing": 1}
    # the revoked row is still history: without active it is there, active None
    rows = session.queryHistory(tables=["tag_listing"], tag="f40-build")["tag_listing"]
    assert sorted((row["build_id"], row["active"]) for row in rows) == [(1, True), (build, None)]


def test_tag_filter_in_tag_inheritance_matches_child_or_parent(hub):
    state = hub.state
    state.add_tag("f40-updates", parents=[("f40", 0)])
    state.add_tag("f40-updates-testing", parents=[("f40-updates", 0)])
    session = hub.session()
    rows = session.queryHistory(tables=["tag_inheritance"], tag="f40-updates")["tag_inheritance"]
    assert sorted((row["tag.name"], row["parent.name"]) for row in rows) == [
        ("f40-updates", "f40"), ("f40-updates-testing", "f40-updates")]
    assert session.queryHistory(tables=["tag_inheritance"], tag="f40",
                                queryOpts={"countOnly": True}) == {"tag_inheritance": 1}


def test_unknown_tag_raises_as_the_hub(hub):
    session = hub.session()
    with pytest.raises(koji.GenericError, match="No such entry in table tag: no-such-tag"):
        _tagged_count(session, "no-such-tag")
    with pytest.raises(koji.GenericError, match="No such entry in table tag: 999"):
        _tagged_count(session, 999)
    # in a multicall the fault is that call's alone
    with session.multicall(strict=False) as multi:
        bad = multi.queryHistory(tables=["tag_listing"], tag=999, queryOpts={"countOnly": True})
        good = multi.queryHistory(tables=["tag_listing"], tag="f40", active=True, queryOpts={"countOnly": True})
    with pytest.raises(koji.GenericError):
        bad.result  # pylint: disable=pointless-statement
    assert good.result == {"tag_listing": 3}
    # the hub looks the tag up per table: with no table nothing is looked up
    assert session.queryHistory(tables=[], tag="no-such-tag") == {}


def test_filters_the_fake_lacks_are_refused(hub):
    with pytest.raises(koji.GenericError, match="does not filter history by build"):
        hub.session().queryHistory(tables=["tag_listing"], build=1)
