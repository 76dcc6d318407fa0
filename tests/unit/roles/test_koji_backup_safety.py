"""An interrupted or failing backup cannot leave the hub offline.

- The lock-out file says which backup wrote it and when, and koji_hub looks for it where
  koji_backup writes it.
- The backup's calls to the hub time out (the Koji library waits 12 hours per call by default),
  and Ansible bounds each run of the state reader.
- Free space is checked before the hub is locked.
"""

import importlib.util
import pathlib
import sys
import types

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from role_templating import load_yaml, trust_as_template, trusted, walk_tasks

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "koji_backup"
STATE_SCRIPT = ROLE / "files" / "koji_backup_state.py"


def _render(expression, variables):
    loader = DataLoader()
    base = dict(load_yaml(ROLE / "defaults" / "main.yml"))
    base.update(load_yaml(ROLE / "vars" / "main.yml"))
    base.update(variables)
    return Templar(loader=loader, variables=trusted(base)).template(trust_as_template(expression))


# The lock-out's record

def _lockout_task():
    backup = load_yaml(ROLE / "tasks" / "backup.yml")
    return next(task for task in walk_tasks(backup) if task.get("name") == "Backup | Lock the hub for everybody but admins on every hub host")


def test_the_lockout_names_its_backup_and_when_it_started():
    content = _render(_lockout_task()["ansible.builtin.copy"]["content"],
                      {"__koji_backup_name": "koji-20261206T010203Z", "__koji_backup_started": "2026-12-06T01:02:03Z"})
    assert "\n# kojiforge-backup name=koji-20261206T010203Z started=2026-12-06T01:02:03Z\n" in content, content
    assert content.rstrip().endswith("[hub]\nLockOut = On"), content


def test_koji_hub_looks_for_the_lockout_where_koji_backup_writes_it():
    hub_vars = load_yaml(ROOT / "roles" / "koji_hub" / "vars" / "main.yml")
    hub_path = hub_vars["__koji_hub_backup_lockout_file"].replace("{{ __koji_hub_config_dir }}", hub_vars["__koji_hub_config_dir"])
    assert hub_path == load_yaml(ROLE / "vars" / "main.yml")["__koji_backup_lockout_file"]


def test_the_max_age_is_shared_by_default():
    hub_defaults = load_yaml(ROOT / "roles" / "koji_hub" / "defaults" / "main.yml")
    backup_defaults = load_yaml(ROLE / "defaults" / "main.yml")
    assert hub_defaults["koji_hub_backup_lockout_max_age"] == (
        "{{ koji_backup_lockout_max_age | default(%d) }}" % backup_defaults["koji_backup_lockout_max_age"])


def test_site_yml_clears_a_lockout_left_behind():
    configure = load_yaml(ROOT / "roles" / "koji_hub" / "tasks" / "configure.yml")
    assert any(task.get("ansible.builtin.include_tasks") == "backup_lockout.yml" for task in configure)


def test_a_backup_clears_lockouts_left_behind_before_it_locks():
    backup = load_yaml(ROLE / "tasks" / "backup.yml")
    names = [task.get("ansible.builtin.include_tasks") or task.get("name") for task in backup]
    assert names.index("stale_lockout.yml") < names.index("Backup | Lock the hub, dump, archive, and unlock")


# Timeouts of the hub calls

@pytest.fixture()
def state_script(monkeypatch):
    """koji_backup_state.py with a stand-in for the koji library that records the session options."""
    created = []

    class ServerOffline(Exception):
        pass

    class ClientSession:
        def __init__(self, server, opts):
            self.opts = opts
            created.append(opts)

        def getAPIVersion(self):
            raise ServerOffline("locked")

    fake = types.ModuleType("koji")
    fake.ServerOffline = ServerOffline
    fake.ClientSession = ClientSession
    # The library's own defaults: 12 hours per call, 30 retries.
    fake.read_config = lambda profile: {"server": "https://hub/kojihub", "timeout": 43200, "auth_timeout": 60,
                                        "max_retries": 30, "retry_interval": 20, "offline_retry": True}
    fake.grab_session_options = lambda opts: {key: opts[key] for key in
                                              ("timeout", "auth_timeout", "max_retries", "retry_interval", "offline_retry")}
    monkeypatch.setitem(sys.modules, "koji", fake)
    spec = importlib.util.spec_from_file_location("koji_backup_state_under_test", STATE_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.created = created
    return module


def test_every_hub_call_has_a_timeout_and_few_retries(state_script):
    state_script.session("koji", False)
    opts = state_script.created[-1]
    assert opts["timeout"] <= 600 and opts["auth_timeout"] <= 600, opts
    assert opts["max_retries"] <= 3 and opts["offline_retry"] is False, opts


def test_the_timeout_comes_from_the_command_line(state_script, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["koji_backup_state.py", "--profile", "koji", "--timeout", "7", "--expect-locked"])
    assert state_script.main() == 0
    assert state_script.created[-1]["timeout"] == 7 and state_script.created[-1]["auth_timeout"] == 7


def test_every_run_of_the_state_reader_passes_the_timeout_and_is_bounded():
    command = _render("{{ __koji_backup_state_command }}", {"koji_backup_hub_timeout": 45})
    assert command[-2:] == ["--timeout", "45"], command
    runs = []
    for path in sorted((ROLE / "tasks").glob("*.yml")):
        for task in walk_tasks(load_yaml(path)):
            text = yaml.safe_dump(task.get("ansible.builtin.command", {}))
            if "state_script" in text or "state_command" in text:
                runs.append(task)
                assert "__koji_backup_state_command" in text, "%s: %s bypasses the timeout" % (path.name, task["name"])
                assert task.get("timeout") == "{{ __koji_backup_state_task_timeout }}", "%s: %s" % (path.name, task["name"])
    assert len(runs) == 6, [task["name"] for task in runs]
    assert int(_render("{{ __koji_backup_state_task_timeout }}", {"koji_backup_hub_timeout": 45})) > 4 * 45


# Free space, before the hub is locked

def test_free_space_is_checked_before_the_hub_is_locked():
    backup = load_yaml(ROLE / "tasks" / "backup.yml")
    names = [task.get("ansible.builtin.include_tasks") or task.get("name") for task in backup]
    assert names.index("free_space.yml") < names.index("Backup | Lock the hub, dump, archive, and unlock")
    text = (ROLE / "tasks" / "free_space.yml").read_text(encoding="utf-8")
    assert "pg_database_size" in text and "df" in text


def _space_check(free, db=10 * 2**30, files=50 * 2**30, ca=2**20, hosts=("db", "hub", "hub")):
    task = load_yaml(ROLE / "tasks" / "free_space.yml")[-1]
    variables = dict(task["vars"])
    variables.update({
        "__koji_backup_name": "koji-test",
        "koji_backup_dir": "/var/lib/kojiforge/backups",
        "__koji_backup_db_size": {"stdout": "%d\n" % db},
        "__koji_backup_files_size": {"stdout": "%d" % files},
        "__koji_backup_ca_size": {"stdout": "%d\t/etc/pki/koji/ca" % ca},
        "__koji_backup_artifacts": [{"file": "database.dump", "host": hosts[0]}, {"file": "files.tar", "host": hosts[1]},
                                    {"file": "ca.tar.enc", "host": hosts[2]}],
        "__koji_backup_free_space": {"results": [{"item": host, "stdout_lines": ["Avail", str(space)]}
                                                 for host, space in free.items()]},
    })
    return _render("{{ __koji_backup_space_short }}", variables)


def test_enough_room_passes():
    assert _space_check({"db": 20 * 2**30, "hub": 80 * 2**30}) == []


def test_too_little_room_on_one_host_is_named():
    short = _space_check({"db": 5 * 2**30, "hub": 80 * 2**30})
    assert len(short) == 1 and short[0].startswith("db:/var/lib/kojiforge/backups needs about 11."), short


def test_parts_on_one_host_are_added_up():
    # 10 + 50 GiB on one host: 60 GiB free is too little, each part alone would fit.
    assert len(_space_check({"hub": 60 * 2**30}, hosts=("hub", "hub", "hub"))) == 1
    assert _space_check({"hub": 70 * 2**30}, hosts=("hub", "hub", "hub")) == []
