"""The local cluster deployed by playbooks/site.yml, then the same run again changes nothing."""

import pytest

from local_cluster import LANE_DIR, TIMINGS
from deployed_koji import changed_tasks, recap, run_playbook

pytestmark = pytest.mark.real_koji


def test_site_deploys_every_host(local_cluster):
    counts = recap(local_cluster.deploy_output)
    assert set(counts) == {local_cluster.HUB, local_cluster.CREATEREPO_BUILDER,
                           local_cluster.RPM_BUILDER}, counts
    assert all(c["failed"] == 0 and c["unreachable"] == 0 for c in counts.values()), counts


def test_second_site_run_changes_nothing(local_cluster):
    rc, out, seconds = run_playbook("playbooks/site.yml", "-e", "koji_source=%s" % local_cluster.source,
                                    inventories=local_cluster.inventories)
    (LANE_DIR / "site-second-run.log").write_text(out, encoding="utf-8")
    TIMINGS.record("second run of site.yml (no-op)", seconds)
    assert rc == 0, out[-4000:]
    counts = recap(out)
    assert len(counts) == 3, counts
    assert {name: c["changed"] for name, c in counts.items()} == {name: 0 for name in counts}, \
        changed_tasks(out)
