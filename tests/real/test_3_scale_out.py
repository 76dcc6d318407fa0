"""Scale-out: one more builder joins the inventory (testbed/demo.sh add-builder writes it into a
second inventory source) and builders.yml --limit NEW,hub makes it a ready builder. A second
machine with that builder's name is then refused before anything is written."""

import subprocess

import pytest
import yaml

from deployed_koji import ROOT, get_host, hub_call, recap, run_playbook, wait_ready
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


# A second machine that calls itself builder3 (a cloned VM, a reused hostname): its own container,
# named otherwise, with builder3's hostname.
CLONE = "builder3-clone.koji.test"
IMAGE = "localhost/kojiforge/debian12-systemd:latest"
NETWORK = "kojiforge-local"


@pytest.fixture
def clone(tmp_path):
    subprocess.run(["podman", "rm", "-f", CLONE], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    subprocess.run(["podman", "run", "-d", "--name", CLONE, "--hostname", NEW_BUILDER, "--network", NETWORK,
                    "--systemd=always", "--privileged", IMAGE, "/sbin/init"],
                   stdout=subprocess.DEVNULL, check=True)
    inventory = tmp_path / "clone.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {"koji_builders": {"children": {
        "koji_builders_rpm": {"hosts": {CLONE: None}}}}}}}))
    try:
        host = get_host(CLONE)
        assert host.run("hostname -f").stdout.strip() == NEW_BUILDER
        yield host, inventory
    finally:
        subprocess.run(["podman", "rm", "-f", CLONE], stdout=subprocess.DEVNULL, check=False)


def _issued(hub):
    return sorted(hub.run("ls /etc/pki/koji/ca/issued/").stdout.split())


@pytest.mark.parametrize("with_the_original", [True, False], ids=["inventory", "hub-and-ca"])
def test_a_second_machine_with_the_name_is_refused_before_anything_is_written(
        local_cluster, hub, clone, with_the_original):
    """With builder3 in the inventory, the inventory check refuses the clone; without it (the
    clone managed from another inventory, or builder3 dropped from this one), the CA's record and
    the hub's registration do. Either way: no certificate, no hub event, builder3 untouched."""
    clone_host, clone_inventory = clone
    registered = hub_call(hub, "getHost", NEW_BUILDER)
    assert registered, "test_one_more_builder registers %s first" % NEW_BUILDER
    event, issued = hub_call(hub, "getLastEvent")["id"], _issued(hub)
    inventories = [ROOT / "inventories" / "local", clone_inventory]
    if with_the_original:
        inventories.insert(1, local_cluster.EXTRA_INVENTORY)

    rc, out, seconds = run_playbook("playbooks/builders.yml", "--limit", "%s,%s" % (CLONE, local_cluster.HUB),
                                    "-e", "koji_source=%s" % local_cluster.source, inventories=inventories)
    checks = "inventory" if with_the_original else "hub and CA"
    TIMINGS.record("scale-out: a clone of %s refused (%s)" % (NEW_BUILDER, checks), seconds)
    assert rc != 0, out[-4000:]
    text = " ".join(out.split())
    if with_the_original:
        assert ("%s would be registered as %s, which is already the inventory name of host %s"
                % (CLONE, NEW_BUILDER, NEW_BUILDER)) in text, out[-4000:]
    else:
        assert "%s would be registered as %s, but another machine holds that name" % (CLONE, NEW_BUILDER) in text
        assert "the hub has host %s (id %d," % (NEW_BUILDER, registered["id"]) in text, out[-4000:]
        assert "this machine does not hold its key (it has no key /etc/pki/koji/kojid.pem)" in text, out[-4000:]
    # The first play stopped the run: no other play started, on any host.
    assert set(recap(out)) == {CLONE}, recap(out)
    assert hub_call(hub, "getLastEvent")["id"] == event
    assert _issued(hub) == issued
    assert not clone_host.file("/etc/pki/koji").exists
    # builder3's registration is as it was (its check-ins move update_ts, ready and task_load).
    kept = ("id", "user_id", "name", "arches", "capacity", "description", "comment", "enabled")
    assert {k: hub_call(hub, "getHost", NEW_BUILDER)[k] for k in kept} == {k: registered[k] for k in kept}
