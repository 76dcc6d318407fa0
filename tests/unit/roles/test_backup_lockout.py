"""A lock-out left by an interrupted backup does not keep the hub offline.

koji_backup locks the hub with a hub.conf.d file while it runs and removes it in an `always:`
block, which a Ctrl-C or a lost controller never reaches. koji_hub (site.yml) and the next
backup remove a lock-out older than the max age, with a warning, and reload Apache; a younger
one belongs to a backup that may still run: koji_hub leaves it, a new backup refuses to start.

The roles' task files run here for real, on this machine (connection local), against a lock-out
file in a temporary directory: no hub, no Apache (the test play's own "Reload Apache" handler
records that it was notified).
"""

import os
import pathlib
import re
import sys
import time

import pytest
import yaml

from role_templating import run_playbook

ROOT = pathlib.Path(__file__).resolve().parents[3]
COLLECTIONS = ROOT / "build" / "collections"
RECORD = "# kojiforge-backup name=koji-20260101T020000Z started=2026-01-01T02:00:00Z"
LOCKOUT = "# Written by kojiforge.koji's backup while it runs.\n%s\n[hub]\nLockOut = On\n" % RECORD

pytestmark = pytest.mark.skipif(not (COLLECTIONS / "ansible_collections" / "kojiforge" / "koji").exists(),
                                reason="run `make collection-link` first")


def _run(tmp_path, role, tasks_from, role_vars):
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {"koji_hub": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}}}))
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Run the task file",
        "hosts": "koji_hub",
        "gather_facts": False,
        "tasks": [{"name": "Include it", "ansible.builtin.include_role": {"name": role, "tasks_from": tasks_from},
                   "vars": role_vars}],
        "handlers": [{"name": "Reload Apache", "ansible.builtin.copy": {
            "content": "reloaded\n", "dest": str(tmp_path / "reloaded"), "mode": "0644"}}],
    }]))
    return run_playbook(tmp_path, inventory, playbook)


def _lockout(tmp_path, age_seconds):
    lockout = tmp_path / "hub.conf.d" / "kojiforge-backup-lockout.conf"
    lockout.parent.mkdir()
    lockout.write_text(LOCKOUT)
    then = time.time() - age_seconds
    os.utime(lockout, (then, then))
    return lockout


def _hub(tmp_path, lockout, max_age=21600):
    return _run(tmp_path, "kojiforge.koji.koji_hub", "backup_lockout.yml",
                {"__koji_hub_backup_lockout_file": str(lockout), "koji_hub_backup_lockout_max_age": max_age})


def test_koji_hub_removes_a_lockout_left_behind_warns_and_reloads_apache(tmp_path):
    lockout = _lockout(tmp_path, 2 * 86400)
    rc, out = _hub(tmp_path, lockout)
    assert rc == 0, out
    assert not lockout.exists(), out
    assert (tmp_path / "reloaded").exists(), out
    assert "WARNING: %s was left by an interrupted backup" % lockout in out, out
    assert ("(kojiforge-backup name=koji-20260101T020000Z started=2026-01-01T02:00:00Z; last written 20"
            in out), out


def test_koji_hub_leaves_the_lockout_of_a_running_backup(tmp_path):
    lockout = _lockout(tmp_path, 60)
    rc, out = _hub(tmp_path, lockout)
    assert rc == 0, out
    assert lockout.read_text() == LOCKOUT
    assert not (tmp_path / "reloaded").exists(), out
    assert "WARNING" not in out, out


def test_koji_hub_with_max_age_0_removes_any_lockout(tmp_path):
    lockout = _lockout(tmp_path, 5)
    rc, out = _hub(tmp_path, lockout, max_age=0)
    assert rc == 0, out
    assert not lockout.exists(), out


def test_koji_hub_without_a_lockout_changes_nothing(tmp_path):
    (tmp_path / "hub.conf.d").mkdir()
    rc, out = _hub(tmp_path, tmp_path / "hub.conf.d" / "kojiforge-backup-lockout.conf")
    assert rc == 0, out
    assert "changed=0" in out[out.rindex("PLAY RECAP"):], out
    assert not (tmp_path / "reloaded").exists(), out


def _backup(tmp_path, lockout, max_age=21600):
    return _run(tmp_path, "kojiforge.koji.koji_backup", "stale_lockout.yml",
                {"__koji_backup_lockout_file": str(lockout), "koji_backup_lockout_max_age": max_age})


def test_a_backup_refuses_to_run_next_to_a_running_backup(tmp_path):
    lockout = _lockout(tmp_path, 60)
    rc, out = _backup(tmp_path, lockout)
    assert rc != 0, out
    assert "another backup is running" in out, out
    assert lockout.read_text() == LOCKOUT


def test_a_backup_runs_when_no_lockout_is_there(tmp_path):
    (tmp_path / "hub.conf.d").mkdir()
    rc, out = _backup(tmp_path, tmp_path / "hub.conf.d" / "kojiforge-backup-lockout.conf")
    assert rc == 0, out
    assert "changed=0" in out[out.rindex("PLAY RECAP"):], out


def test_a_backup_removes_a_lockout_left_behind_with_a_warning(tmp_path):
    lockout = _lockout(tmp_path, 2 * 86400)
    rc, out = _backup(tmp_path, lockout)
    assert not lockout.exists(), out
    assert ("WARNING: localhost:%s was left by an interrupted backup (kojiforge-backup name=koji-20260101T020000Z"
            " started=2026-01-01T02:00:00Z)" % lockout) in out, out
    # The next step reloads Apache on that host, which this machine has not: it fails there, and
    # only there (the lock-out is gone, nothing refused the backup).
    assert rc != 0, out
    # ansible-core 2.16 reports "fatal: [localhost -> ...]", 2.19 "failed: [localhost]".
    failed_at = re.search(r"(failed|fatal): \[localhost", out)
    assert failed_at, out
    failed_task = out[:failed_at.start()].rsplit("TASK [", 1)[1]
    assert failed_task.startswith("kojiforge.koji.koji_backup : Backup | Reload Apache where a lock-out was removed"), out
