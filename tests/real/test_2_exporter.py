"""The metrics exporter against the real hub: koji-web's /metrics serves every builder with
koji_hosts_ready 1, and 0 once its kojid is stopped; Prometheus on the hub scrapes it."""

import re

import pytest

from deployed_koji import hub_call, metrics_page, prometheus, wait_for, wait_ready

pytestmark = pytest.mark.real_koji


def hosts_ready(page):
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r'^koji_hosts_ready\{host="([^"]+)"\} (\S+)$', page, re.M)}


def test_builders_enabled_and_ready(local_cluster, hub):
    builders = (local_cluster.CREATEREPO_BUILDER, local_cluster.RPM_BUILDER)
    hosts = wait_ready(hub, builders)
    channels = {name: sorted(c["name"] for c in hub_call(hub, "listChannels", hostID=hosts[name]["id"]))
                for name in builders}
    assert channels == {local_cluster.CREATEREPO_BUILDER: ["createrepo"],
                        local_cluster.RPM_BUILDER: ["default"]}


def test_metrics_serve_every_builder_ready(local_cluster, hub):
    builders = {local_cluster.CREATEREPO_BUILDER, local_cluster.RPM_BUILDER}

    def every_builder_ready():
        page = metrics_page(hub, local_cluster.HUB)
        ready = hosts_ready(page)
        return page if all(ready.get(b) == 1.0 for b in builders) else None
    page = wait_for("koji_hosts_ready 1 for every builder on /metrics", every_builder_ready, timeout=300)
    assert re.search(r"^koji_up 1(\.0)?$", page, re.M), page[:2000]


def test_prometheus_scrapes_the_metrics(hub):
    def koji_up():
        result = prometheus(hub, "/api/v1/query", query='up{job="koji"}')["result"]
        return result if result and all(float(r["value"][1]) == 1.0 for r in result) else None
    result = wait_for('up{job="koji"} 1 in Prometheus', koji_up, timeout=180)
    assert len(result) == 1, result


def test_stopped_kojid_reads_not_ready(local_cluster, hub, rpm_builder):
    name = local_cluster.RPM_BUILDER
    stopped = rpm_builder.run("systemctl stop kojid")
    assert stopped.rc == 0, stopped.stderr
    try:
        # kojid tells the hub it is not ready as it shuts down; where that update is lost, the
        # hub's scheduler marks the silent host not ready after ReadyTimeout (180 s).
        wait_for("koji_hosts_ready 0 on /metrics for the stopped %s" % name,
                 lambda: hosts_ready(metrics_page(hub, local_cluster.HUB)).get(name) == 0.0, timeout=300)
    finally:
        started = rpm_builder.run("systemctl start kojid")
        assert started.rc == 0, started.stderr
    wait_ready(hub, [name])
