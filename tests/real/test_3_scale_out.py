"""Scale-out: one more builder joins the inventory (testbed/demo.sh add-builder writes it into a
second inventory source) and builders.yml --limit NEW,hub makes it a ready builder."""

import pytest

from deployed_koji import get_host, hub_call, recap, wait_ready
from local_cluster import TIMINGS

pytestmark = pytest.mark.real_koji

NEW_BUILDER = "builder3.koji.test"


def test_one_more_builder(local_cluster, hub):
    assert NEW_BUILDER not in {h["name"] for h in hub_call(hub, "listHosts")}
    rc, out, seconds = local_cluster.demo("add-builder", NEW_BUILDER, "rpm", log_name="scale-out.log")
    TIMINGS.record("scale-out: one more builder (builders.yml --limit %s,hub)" % NEW_BUILDER, seconds)
    assert rc == 0, out[-4000:]
    counts = recap(out)
    assert set(counts) == {NEW_BUILDER, local_cluster.HUB}, counts
    assert counts[NEW_BUILDER]["failed"] == 0 and counts[NEW_BUILDER]["changed"] > 0, counts

    host = wait_ready(hub, [NEW_BUILDER])[NEW_BUILDER]
    assert sorted(c["name"] for c in hub_call(hub, "listChannels", hostID=host["id"])) == ["default"]
    assert get_host(NEW_BUILDER).service("kojid").is_running
