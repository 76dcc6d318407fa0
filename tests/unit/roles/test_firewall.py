"""The firewalld step the roles share (roles/_common/tasks/firewall.yml, entry point `firewall`).

koji_db, koji_hub and koji_web each had their own copy of "ask systemctl whether firewalld runs,
then open what the role needs". The roles' own include tasks (read from their configure.yml) run
here for real, on this machine (connection local), with a `systemctl` that answers as told and
records its calls, and an ansible.posix collection whose firewalld module records its arguments
(this machine has no firewalld). The rules must be the ones the roles' copies wrote.
"""

import json
import os
import pathlib
import re
import stat
import subprocess
import sys

import pytest
import yaml

from role_templating import fake_posix_collection

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLES = ROOT / "roles"
COLLECTIONS = ROOT / "build" / "collections"

pytestmark = pytest.mark.skipif(not (COLLECTIONS / "ansible_collections" / "kojiforge" / "koji").exists(),
                                reason="run `make collection-link` first")

FAKE_FIREWALLD = '''#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule
import json, os
module = AnsibleModule(argument_spec=dict(service=dict(), port=dict(), rich_rule=dict(), permanent=dict(type="bool"),
                                          immediate=dict(type="bool"), state=dict()), supports_check_mode=True)
with open(os.environ["FAKE_FIREWALLD_LOG"], "a") as log:
    log.write(json.dumps(dict((k, v) for k, v in module.params.items() if v is not None), sort_keys=True) + "\\n")
module.exit_json(changed=True)
'''

ROLE_VARS = {
    "koji_db_firewalld_enabled": True, "koji_db_port": 5432,
    "__koji_db_client_networks": ["192.0.2.10/32", "2001:db8::10/128"],
    "koji_hub_firewalld_enabled": True, "koji_hub_kojifiles_http": True,
    "koji_web_firewalld_enabled": True,
}


def _role_include(role):
    """The task of the role's configure.yml that includes the shared firewall step."""
    tasks = yaml.safe_load((ROLES / role / "tasks" / "configure.yml").read_text())
    found = [t for t in tasks if (t.get("ansible.builtin.include_role") or {}).get("tasks_from") == "firewall.yml"]
    assert len(found) == 1, role
    return found[0]


def _run(tmp_path, tasks, firewalld_state="active", extra_vars=None, check=False):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    systemctl = bin_dir / "systemctl"
    systemctl.write_text("#!/bin/sh\necho \"$*\" >> %s\necho %s\n[ %s = active ]\n"
                         % (tmp_path / "systemctl.log", firewalld_state, firewalld_state))
    systemctl.chmod(systemctl.stat().st_mode | stat.S_IEXEC)
    fake_posix_collection(tmp_path / "fake", FAKE_FIREWALLD)
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(yaml.safe_dump([{"name": "Open the firewall", "hosts": "all", "gather_facts": False,
                                         "vars": dict(ROLE_VARS, **(extra_vars or {})), "tasks": tasks}]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH="%s:%s" % (tmp_path / "fake", COLLECTIONS),
               ANSIBLE_FORCE_COLOR="false", ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
               ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-remote-tmp"),
               FAKE_FIREWALLD_LOG=str(tmp_path / "firewalld.log"),
               PATH="%s:%s" % (bin_dir, os.environ["PATH"]))
    cmd = [str(pathlib.Path(sys.executable).with_name("ansible-playbook")), "-i", str(inventory), str(playbook)]
    proc = subprocess.run(cmd + (["--check"] if check else []), cwd=str(tmp_path), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    calls = (tmp_path / "systemctl.log").read_text().splitlines() if (tmp_path / "systemctl.log").exists() else []
    rules = ([json.loads(line) for line in (tmp_path / "firewalld.log").read_text().splitlines()]
             if (tmp_path / "firewalld.log").exists() else [])
    return proc, calls, rules


def _opened(**rule):
    return dict(rule, permanent=True, immediate=True, state="enabled")


def test_the_roles_open_what_their_copies_opened_and_ask_systemctl_once(tmp_path):
    tasks = [_role_include(role) for role in ("koji_db", "koji_hub", "koji_web")]
    proc, calls, rules = _run(tmp_path, tasks)
    assert proc.returncode == 0, proc.stdout
    assert calls == ["is-active firewalld"], proc.stdout
    assert rules == [
        _opened(rich_rule='rule family="ipv4" source address="192.0.2.10/32" port port="5432" protocol="tcp" accept'),
        _opened(rich_rule='rule family="ipv6" source address="2001:db8::10/128" port port="5432" protocol="tcp" accept'),
        _opened(service="https"),
        _opened(service="http"),
        _opened(service="https"),
    ], proc.stdout


def test_without_firewalld_nothing_is_opened(tmp_path):
    tasks = [_role_include(role) for role in ("koji_db", "koji_hub", "koji_web")]
    proc, calls, rules = _run(tmp_path, tasks, firewalld_state="inactive")
    assert proc.returncode == 0, proc.stdout
    assert calls == ["is-active firewalld"], proc.stdout
    assert rules == [], proc.stdout
    assert "changed=0" in proc.stdout[proc.stdout.rindex("PLAY RECAP"):], proc.stdout


def test_check_mode_asks_systemctl_and_hands_the_rules_to_the_module_in_check_mode(tmp_path):
    proc, calls, rules = _run(tmp_path, [_role_include("koji_web")], check=True)
    assert proc.returncode == 0, proc.stdout
    assert calls == ["is-active firewalld"], proc.stdout
    # ansible.posix.firewalld supports check mode: it says what it would open (the fake records the call).
    assert rules == [_opened(service="https")], proc.stdout


def test_the_roles_switch_opens_nothing_and_asks_nothing(tmp_path):
    tasks = [_role_include(role) for role in ("koji_db", "koji_hub", "koji_web")]
    proc, calls, rules = _run(tmp_path, tasks, extra_vars={
        "koji_db_firewalld_enabled": False, "koji_hub_firewalld_enabled": False, "koji_web_firewalld_enabled": False})
    assert proc.returncode == 0, proc.stdout
    assert (calls, rules) == ([], []), proc.stdout


def test_ports_without_sources_are_not_opened(tmp_path):
    proc, calls, rules = _run(tmp_path, [_role_include("koji_db")], extra_vars={"__koji_db_client_networks": []})
    assert proc.returncode == 0, proc.stdout
    assert (calls, rules) == ([], []), proc.stdout


def test_a_bad_port_fails_before_anything_is_asked(tmp_path):
    include = {"name": "Open", "ansible.builtin.include_role": {"name": "kojiforge.koji._common", "tasks_from": "firewall.yml"},
               "vars": {"_common_firewall_ports": ["5432"], "_common_firewall_sources": ["192.0.2.0/24"]}}
    proc, calls, rules = _run(tmp_path, [include])
    assert proc.returncode != 0, proc.stdout
    assert "_common_firewall_ports takes PORT/PROTOCOL (5432/tcp), not 5432" in proc.stdout, proc.stdout
    assert (calls, rules) == ([], []), proc.stdout


def test_no_role_keeps_its_own_firewalld_step():
    shared = ROLES / "_common" / "tasks" / "firewall.yml"
    copies = sorted(str(p.relative_to(ROOT)) for p in ROLES.glob("*/tasks/**/*.yml")
                    if p != shared and re.search(r"is-active, firewalld|ansible\.posix\.firewalld", p.read_text()))
    assert copies == []
