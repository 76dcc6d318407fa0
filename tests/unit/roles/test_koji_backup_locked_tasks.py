"""koji_backup_locked_tasks: the site's tasks run while the hub is locked, after the dump, the
archive and the snapshot, inside the block whose `always` unlocks the hub (so a failing site
task still unlocks it), and only when the variable is set."""

import pathlib

from role_templating import load_yaml, walk_tasks

ROLE = pathlib.Path(__file__).resolve().parents[3] / "roles" / "koji_backup"


def _lock_block():
    backup = load_yaml(ROLE / "tasks" / "backup.yml")
    return next(task for task in backup if task.get("name") == "Backup | Lock the hub, dump, archive, and unlock")


def test_the_site_tasks_run_last_while_the_hub_is_locked():
    block = _lock_block()
    names = [task.get("name", "") for task in block["block"]]
    site = next(i for i, task in enumerate(block["block"]) if "koji_backup_locked_tasks" in str(task))
    task = block["block"][site]
    assert task["ansible.builtin.include_tasks"] == "{{ koji_backup_locked_tasks }}"
    assert task["when"] == "koji_backup_locked_tasks | length > 0"
    assert site == len(names) - 1
    assert names.index("Backup | Lock the hub for everybody but admins on every hub host") < site
    assert any("Dump the database" in name for name in names[:site])
    assert any("Unlock the hub" in t.get("name", "") for t in walk_tasks(block["always"]))


def test_none_by_default():
    assert load_yaml(ROLE / "defaults" / "main.yml")["koji_backup_locked_tasks"] == ""
