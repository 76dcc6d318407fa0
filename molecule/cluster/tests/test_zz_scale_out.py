"""Scale-out, last: builder3 joins the inventory as a createrepo builder and builders.yml runs
with --limit builder3,hub. It must come up registered, enabled and ready, in the createrepo
channel, in the hub's exports; a following run over every host must change nothing."""

import pathlib

from conftest import BUILDER1, BUILDER2, BUILDER3, HUB, READY_TIMEOUT, hub_call, recap, record_timing, run_playbook, wait_for

HERE = pathlib.Path(__file__).resolve().parent
SCALE_OUT_INVENTORY = HERE / "scale_out_inventory.yml"


def test_scale_out_one_builder(hub, builder3):
    assert not builder3.file("/etc/kojid/kojid.conf").exists
    assert BUILDER3 not in {h["name"] for h in hub_call(hub, "listHosts")}

    rc, out, seconds = run_playbook("kojiforge.koji.builders", "--limit", "%s,%s" % (BUILDER3, HUB),
                                    inventories=[SCALE_OUT_INVENTORY])
    assert rc == 0, out[-4000:]
    record_timing("scale-out of one builder (builders.yml --limit builder3,hub)", seconds)
    counts = recap(out)
    assert set(counts) == {BUILDER3, HUB}, counts
    # The hub's only change is its exports (the new createrepo builder).
    assert counts[HUB]["changed"] == 1, out[-4000:]

    def ready():
        host = {h["name"]: h for h in hub_call(hub, "listHosts")}.get(BUILDER3)
        return host if host and host["enabled"] and host["ready"] else None
    host = wait_for("builder3 enabled and ready", ready, timeout=READY_TIMEOUT)
    channels = sorted(c["name"] for c in hub_call(hub, "listChannels", hostID=host["id"]))
    assert channels == ["createrepo"]
    exports = hub.file("/etc/exports.d/kojiforge-koji.exports").content_string
    assert "/mnt/koji %s(ro," % BUILDER3 in exports
    assert builder3.service("kojid").is_running


def test_everything_else_unchanged(hub):
    rc, out, seconds = run_playbook("kojiforge.koji.builders", inventories=[SCALE_OUT_INVENTORY])
    assert rc == 0, out[-4000:]
    record_timing("builders.yml over all hosts after the scale-out", seconds)
    counts = recap(out)
    assert set(counts) == {HUB, BUILDER1, BUILDER2, BUILDER3}, counts
    assert {name: c["changed"] for name, c in counts.items()} == {name: 0 for name in counts}, out[-4000:]
