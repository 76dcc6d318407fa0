"""The database part of a backup goes through community.postgresql's postgresql_db.

The roles cannot run here, so the tasks are read, their arguments rendered with the role's own
variables, and handed to the installed collection's own dump and restore functions with a
stand-in for the module that records the command instead of running it: what pg_dump and
pg_restore would be asked to do, exactly as the module builds it.

- The dump is PostgreSQL's custom format, written to database.dump.part and renamed when complete;
  the restore runs pg_restore (not psql) as the Koji role, stops at the first error, takes no owners
  from the dump; no password reaches a command line or the environment (peer login as postgres).
- Permissions: the postgres group may pass through the backup's directories on the database host
  (0710) and read the dump (0640); every other part and host stays root's alone.
- No task of the role runs pg_dump or pg_restore by hand any more.
"""

import os
import pathlib
import shlex

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from role_templating import load_yaml, trusted, walk_tasks

postgresql_db = pytest.importorskip("ansible_collections.community.postgresql.plugins.modules.postgresql_db")

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "koji_backup"
MODULE = "community.postgresql.postgresql_db"
DB_HOST = "db.koji.example.com"
HUB_HOST = "hub.koji.example.com"


def _task(file_name, name):
    found = [task for task in walk_tasks(load_yaml(ROLE / "tasks" / file_name)) if task.get("name") == name]
    assert len(found) == 1, "%s: %d tasks named %r" % (file_name, len(found), name)
    return found[0]


def _block_of(file_name, name):
    """The block that holds the task called name (the task itself when it is at the top)."""
    for task in walk_tasks(load_yaml(ROLE / "tasks" / file_name)):
        for key in ("block", "always"):
            if any(inner.get("name") == name for inner in task.get(key) or []):
                return task
    return _task(file_name, name)


def _variables(extra=None):
    variables = dict(load_yaml(ROLE / "defaults" / "main.yml"))
    variables.update(load_yaml(ROLE / "vars" / "main.yml"))
    variables.update({
        "groups": {"koji_db": [DB_HOST], "koji_hub": [HUB_HOST]},
        "inventory_hostname": HUB_HOST,
        "__koji_backup_name": "koji-20261206T010203Z",
        "koji_backup_ca": True,
    })
    variables.update(extra or {})
    return variables


def _render(value, extra=None):
    return Templar(loader=DataLoader(), variables=trusted(_variables(extra))).template(trusted(value))


class RecordingModule:
    """Stands in for AnsibleModule in the collection's db_dump / db_restore: records, runs nothing."""

    def __init__(self, tmpdir):
        self.tmpdir = str(tmpdir)
        self.runs = []

    def get_bin_path(self, name, required=False):
        return "/usr/bin/" + name

    def run_command(self, cmd, use_unsafe_shell=False, environ_update=None, **kwargs):
        self.runs.append({"cmd": cmd, "environ": environ_update or {}, "shell": use_unsafe_shell})
        return 0, "", ""


def _module_command(tmp_path, task_name, file_name, extra=None):
    """The command the module would run for the task, with the connection parameters it would pass."""
    task = _task(file_name, task_name)
    args = _render(task[MODULE], extra)
    module = RecordingModule(tmp_path)
    function = {"dump": postgresql_db.db_dump, "restore": postgresql_db.db_restore}[args["state"]]
    # As postgresql_db's main passes them: the login user defaults to postgres, no password, no host.
    function(module, args["target"], args.get("target_opts", ""), args["name"],
             **({"dump_extra_args": None} if args["state"] == "dump" else {}),
             user="postgres", password=None, host=None, port=args.get("login_port"))
    assert len(module.runs) == 1, module.runs
    return task, args, module.runs[0]


# The dump

def test_the_dump_is_pg_dump_in_custom_format_into_the_part_file(tmp_path):
    task, args, run = _module_command(tmp_path, "Backup | Dump the database (PostgreSQL custom format)", "backup.yml")
    words = shlex.split(run["cmd"])
    assert words[0] == "/usr/bin/pg_dump", run["cmd"]
    assert "koji" in words and "--port=5432" in words and "--format=custom" in words, run["cmd"]
    assert words[-2:] == [">", "/var/lib/kojiforge/backups/koji-20261206T010203Z/database.dump.part"], run["cmd"]
    assert task["become_user"] == "postgres" and task["become"] is True
    assert _render(task["delegate_to"]) == DB_HOST


def test_no_password_reaches_a_command_line_or_the_environment(tmp_path):
    for file_name, name in [("backup.yml", "Backup | Dump the database (PostgreSQL custom format)"),
                            ("restore.yml", "Restore | Restore the database dump (as the Koji role, no owners from the dump)")]:
        task, args, run = _module_command(tmp_path, name, file_name,
                                          {"__koji_backup_link_dir": {"path": "/tmp/ansible.x.koji-restore"}})
        assert not any(key.startswith("login_password") or key == "password" for key in args), args
        assert "PGPASSWORD" not in run["environ"] and "password" not in run["cmd"].lower(), run


def test_the_dump_file_is_made_by_root_for_the_postgres_group_then_sealed_and_renamed():
    block = _block_of("backup.yml", "Backup | Dump the database (PostgreSQL custom format)")["block"]
    names = [task["name"] for task in block]
    make, dump, seal, rename = (names.index(name) for name in (
        "Backup | Make the dump's file, writable by PostgreSQL's user",
        "Backup | Dump the database (PostgreSQL custom format)",
        "Backup | Make the dump read-only",
        "Backup | Put the complete dump in place"))
    assert make < dump < seal < rename, names
    made = _render(block[make]["ansible.builtin.copy"])
    assert (made["owner"], made["group"], made["mode"]) == ("root", "postgres", "0660"), made
    assert made["dest"].endswith("/database.dump.part"), made
    sealed = _render(block[seal]["ansible.builtin.file"])
    assert (sealed["owner"], sealed["group"], sealed["mode"]) == ("root", "postgres", "0640"), sealed
    argv = _render(block[rename]["ansible.builtin.command"]["argv"])
    assert argv[0] == "mv" and argv[-2].endswith("/database.dump.part") and argv[-1].endswith("/database.dump"), argv
    assert os.path.dirname(argv[-2]) == os.path.dirname(argv[-1]), argv
    for index in (make, seal, rename):
        assert _render(block[index]["delegate_to"]) == DB_HOST


@pytest.mark.parametrize("file_name,name", [
    ("backup.yml", "Backup | Create the backup's directory on each host that holds a part of it"),
    ("restore.yml", "Restore | Create the backup's directory on each host that needs a part of it"),
])
def test_only_the_database_hosts_directories_let_the_postgres_group_through(file_name, name):
    task = _task(file_name, name)
    seen = {}
    for host in (DB_HOST, HUB_HOST):
        for path in ("/var/lib/kojiforge/backups", "/var/lib/kojiforge/backups/koji-1"):
            args = _render(task["ansible.builtin.file"], {"item": [host, path]})
            seen[host] = (args["owner"], args["group"], args["mode"])
    assert seen == {DB_HOST: ("root", "postgres", "0710"), HUB_HOST: ("root", "root", "0700")}, seen


def test_parts_copied_from_the_controller_keep_the_backups_modes():
    task = _task("restore.yml", "Restore | Copy the backup's parts to their hosts")
    modes = {}
    for part in ("database.dump", "files.tar", "ca.tar.enc", "manifest.json"):
        extra = {"item": {"file": part, "host": DB_HOST}, "koji_backup_controller_dir": "/srv/backups"}
        args = _render(task["ansible.builtin.copy"], extra)
        modes[part] = (args["owner"], args["group"], args["mode"])
    assert modes == {"database.dump": ("root", "postgres", "0640"), "files.tar": ("root", "root", "0600"),
                     "ca.tar.enc": ("root", "root", "0600"), "manifest.json": ("root", "root", "0600")}, modes


# The restore

def test_the_restore_is_pg_restore_as_the_koji_role_stopping_at_the_first_error(tmp_path):
    link_dir = "/tmp/ansible.abc.koji-restore"
    task, args, run = _module_command(
        tmp_path, "Restore | Restore the database dump (as the Koji role, no owners from the dump)", "restore.yml",
        {"__koji_backup_link_dir": {"path": link_dir}, "koji_db_user": "kojiuser"})
    words = shlex.split(run["cmd"])
    assert words[0] == "/usr/bin/pg_restore", run["cmd"]
    for word in ("--dbname=koji", "--port=5432", "--format=Custom", "--role=kojiuser", "--exit-on-error", "--no-owner"):
        assert word in words, (word, run["cmd"])
    assert words[-1] == link_dir + "/database.pgc", run["cmd"]


def test_the_restore_reads_the_backups_dump_through_a_link_that_is_removed():
    block = _block_of("restore.yml", "Restore | Restore the database dump (as the Koji role, no owners from the dump)")
    assert block["become_user"] == "postgres" and block["when"] == "not ansible_check_mode"
    extra = {"__koji_backup_link_dir": {"path": "/tmp/ansible.abc.koji-restore"}}
    link = _render(next(task for task in block["block"] if "ansible.builtin.file" in task)["ansible.builtin.file"], extra)
    restore = _render(next(task for task in block["block"] if MODULE in task)[MODULE], extra)
    assert link["state"] == "link" and link["dest"] == restore["target"], (link, restore)
    assert link["src"] == "/var/lib/kojiforge/backups/koji-20261206T010203Z/database.dump", link
    removed = _render(block["always"][0]["ansible.builtin.file"], extra)
    assert removed == {"path": "/tmp/ansible.abc.koji-restore", "state": "absent"}, removed


def test_the_restore_lets_the_postgres_group_read_the_dump_before_pg_restore():
    tasks = load_yaml(ROLE / "tasks" / "restore.yml")
    names = [task.get("name") for task in tasks]
    grant = names.index("Restore | Let PostgreSQL's user reach and read the dump")
    assert grant < names.index("Restore | Restore the database dump"), names
    # After every check: "Nothing has been changed" stays true when a check fails.
    assert grant > names.index("Restore | Refuse an environment that holds builds or tags (not a fresh deployment)")
    entries = [_render(entry) for entry in tasks[grant]["loop"]]
    assert [(entry["state"], entry["mode"]) for entry in entries] == [("directory", "0710"), ("directory", "0710"), ("file", "0640")]
    assert entries[-1]["path"].endswith("/database.dump"), entries
    assert _render(tasks[grant]["ansible.builtin.file"]["group"]) == "postgres"


def test_no_task_runs_pg_dump_or_pg_restore_by_hand():
    for path in sorted((ROLE / "tasks").glob("*.yml")):
        for task in walk_tasks(load_yaml(path)):
            for action in ("ansible.builtin.shell", "ansible.builtin.command"):
                text = yaml.safe_dump(task.get(action, ""))
                assert "pg_dump" not in text and "pg_restore" not in text, (path.name, task.get("name"))
