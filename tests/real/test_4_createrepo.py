"""A repo made by the createrepo builder: regen-repo on a build tag (since Koji 1.35 a repo
request, which kojira has the hub turn into a newRepo task), closed on builder1, its repomd.xml
on Koji's shared storage as the hub and the builder see it."""

import pytest

from deployed_koji import hosts_by_name, hub_call, koji, regen_repo

pytestmark = pytest.mark.real_koji

TAG = "kfci-build"


def test_createrepo_builder_makes_the_repo(local_cluster, hub, createrepo_builder):
    if hub_call(hub, "getTag", TAG) is None:
        koji(hub, "add-tag", TAG, "--arches=x86_64")
    repo_id = regen_repo(hub, TAG)
    task_id = hub_call(hub, "repoInfo", repo_id)["task_id"]
    task = hub_call(hub, "getTaskInfo", task_id)
    assert task["method"] == "newRepo"
    assert task["state"] == 2, "newRepo task %d state %s" % (task_id, task["state"])  # CLOSED
    children = hub_call(hub, "getTaskChildren", task_id)
    builder_id = hosts_by_name(hub)[local_cluster.CREATEREPO_BUILDER]["id"]
    assert {task["host_id"]} | {c["host_id"] for c in children} == {builder_id}
    repomd = "/mnt/koji/repos/%s/%d/x86_64/repodata/repomd.xml" % (TAG, repo_id)
    assert hub.file(repomd).exists
    assert createrepo_builder.file(repomd).exists
