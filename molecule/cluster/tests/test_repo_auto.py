"""Koji 1.35's repos on demand with a build tag the collection declares: playbooks/config.yml
declares it with `repo.auto` in its extra, and kojira then makes its repo and, after a change to
the tag (a package added), a new one, with no `koji regen-repo` anywhere: the hub queues the
requests kojira files (repo.autoRequests) and turns them into newRepo tasks owned by kojira.

Timing: Koji rounds the lag of automatic requests down to the hub's RepoLagWindow (600 s, Koji's
default, kept by this scenario); with the tag's `repo.lag: 0` a change is in the repo once the
next window boundary has passed, so the regeneration may take up to one window plus a newRepo
task. Runs in file order.
"""

import json
import re
import time

from conftest import HUB, READY_TIMEOUT, hub_call, koji, recap, run_playbook, wait_for

TAG = "kfc-auto-build"
DECLARED = {
    "name": TAG,
    "arches": ["x86_64"],
    # repo.lag 0: the automatic repo may not lag behind the tag (beyond the hub's window)
    "extra": {"mock.package_manager": "dnf", "repo.auto": True, "repo.lag": 0},
}
# Only this tag: the other lists of the inventory are left out of these runs (their tasks skip).
ONLY_THIS_TAG = {"koji_tags": [DECLARED], "koji_external_repos": [], "koji_channels": [],
                 "koji_users": [], "koji_targets": []}
REPO_READY = 1  # koji.REPO_STATES['READY']


def _declare(tmp_path_factory):
    extra = tmp_path_factory.mktemp("repo-auto") / "only-this-tag.json"
    extra.write_text(json.dumps(ONLY_THIS_TAG))
    return run_playbook("kojiforge.koji.config", "-e", "@%s" % extra)


def _lag_window(hub):
    """The hub's RepoLagWindow (hub.conf), Koji's 600 when not set."""
    found = re.search(r"^RepoLagWindow\s*=\s*(\d+)", hub.file("/etc/koji-hub/hub.conf").content_string, re.M)
    return int(found.group(1)) if found else 600


def _kojira_id(hub):
    return hub_call(hub, "getUser", "kojira")["id"]


def _diagnostics(hub, tag_id):
    queue = hub_call(hub, "repo.queryQueue", clauses=[["tag_id", "=", tag_id]])
    log = hub.run("journalctl -u kojira -n 40 --no-pager")
    return "repo requests of %s: %s\nkojira's journal:\n%s" % (TAG, queue, log.stdout)


def _wait_for_repo(hub, what, timeout, min_event=None):
    """The newest ready repo of the tag (created at or after min_event), polled."""
    tag_id = hub_call(hub, "getTag", TAG)["id"]

    def ready_repo():
        kwargs = {"min_event": min_event} if min_event is not None else {}
        return hub_call(hub, "getRepo", TAG, **kwargs)
    started = time.monotonic()
    repo = None
    try:
        repo = wait_for(what, ready_repo, timeout=timeout, interval=10)
    finally:
        print("%s: %s after %.0f s" % (what, "reached" if repo else "not reached", time.monotonic() - started))
        if not repo:  # what the hub's queue and kojira say
            print(_diagnostics(hub, tag_id))
    return repo


def _assert_made_by_kojira(hub, repo):
    assert repo["state"] == REPO_READY, repo
    task = hub_call(hub, "getTaskInfo", repo["task_id"])
    assert task["method"] == "newRepo"
    # the hub's repo queue owns the task as RepoQueueUser (kojira), not the administrator
    assert task["owner"] == _kojira_id(hub), task
    for name in ("repo.json", "x86_64/pkglist", "x86_64/repodata/repomd.xml"):
        assert hub.file("/mnt/koji/repos/%s/%d/%s" % (TAG, repo["id"], name)).exists, name


def test_build_tag_declared_with_repo_auto(hub, tmp_path_factory):
    rc, out, _seconds = _declare(tmp_path_factory)
    assert rc == 0, out[-4000:]
    extra = hub_call(hub, "getTag", TAG)["extra"]
    assert extra["repo.auto"] is True and extra["repo.lag"] == 0, extra
    # declared again: nothing to change
    rc, out, _seconds = _declare(tmp_path_factory)
    assert rc == 0, out[-4000:]
    assert recap(out)[HUB]["changed"] == 0, out[-4000:]


def test_kojira_makes_the_first_repo_unasked(hub):
    repo = _wait_for_repo(hub, "a first repo of %s made by kojira" % TAG, timeout=_lag_window(hub) + READY_TIMEOUT)
    _assert_made_by_kojira(hub, repo)


def test_kojira_regenerates_the_repo_after_a_change(hub):
    before = hub_call(hub, "getRepo", TAG)
    assert before is not None, "no repo of %s: see the test before" % TAG
    # a new package listing each run (a verify run again on the same cluster adds another)
    package = "kfc-auto-pkg-%d" % int(time.time())
    koji(hub, "add-pkg", "--owner=kojiadmin", TAG, package)
    changed_at = hub_call(hub, "getLastEvent")["id"]
    assert before["create_event"] < changed_at

    after = _wait_for_repo(hub, "a repo of %s at or after event %d (the package added)" % (TAG, changed_at),
                           timeout=_lag_window(hub) + READY_TIMEOUT, min_event=changed_at)
    assert after["id"] != before["id"]
    assert after["create_event"] >= changed_at
    _assert_made_by_kojira(hub, after)
    # the tag's content at the new repo's event has the package (the repo is of the changed tag)
    listed = {p["package_name"] for p in hub_call(hub, "listPackages", tagID=TAG, event=after["create_event"])}
    assert package in listed
