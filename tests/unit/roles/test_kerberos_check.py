"""_common's kerberos_check entry point, run for real on this machine (a local connection): the
run stops before anything is written when the principal or realm is malformed or the keytab is
neither on the host nor given on the controller, and the message names the principal and how to
make the keytab. Also: each role runs it in its preflight, before it installs anything, and the
keytab copy from the controller is never logged."""

import os
import pathlib
import subprocess
import sys

import pytest
import yaml

from role_templating import COLLECTIONS, load_yaml, walk_tasks

ROLES = pathlib.Path(__file__).resolve().parents[3] / "roles"


def _check(tmp_path, **values):
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    variables = {"_common_kerberos_for": "koji_builder", "_common_kerberos_realm": "EXAMPLE.COM",
                 "_common_kerberos_principal": "compile/b1.example.com@EXAMPLE.COM",
                 "_common_kerberos_keytab": str(tmp_path / "kojid.keytab")}
    variables.update(values)
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Check", "hosts": "all", "gather_facts": False,
        "tasks": [{"name": "Check the Kerberos inputs", "ansible.builtin.include_role": {
            "name": "kojiforge.koji._common", "tasks_from": "kerberos_check.yml"}, "vars": variables}]}]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_FORCE_COLOR="false",
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    proc = subprocess.run([str(pathlib.Path(sys.executable).with_name("ansible-playbook")), "-i", str(inventory),
                           str(playbook)], cwd=str(tmp_path), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    return proc.returncode, proc.stdout


def test_a_keytab_on_the_host_passes(tmp_path):
    (tmp_path / "kojid.keytab").write_bytes(b"\x05\x02")
    code, out = _check(tmp_path)
    assert code == 0, out


def test_a_missing_keytab_stops_the_run_and_says_how_to_make_it(tmp_path):
    code, out = _check(tmp_path)
    assert code != 0
    assert "kojid.keytab does not exist on localhost" in out
    assert "compile/b1.example.com@EXAMPLE.COM" in out and "ipa-getkeytab" in out
    assert "Nothing was changed" in out


def test_a_keytab_given_on_the_controller_need_not_be_on_the_host(tmp_path):
    source = tmp_path / "vaulted.keytab"
    source.write_bytes(b"\x05\x02")
    code, out = _check(tmp_path, _common_kerberos_keytab_src=str(source))
    assert code == 0, out
    code, out = _check(tmp_path, _common_kerberos_keytab_src=str(tmp_path / "nowhere.keytab"))
    assert code != 0 and "does not exist on the controller" in out, out


@pytest.mark.parametrize("values", [
    {"_common_kerberos_principal": "compile/b1.example.com"},
    {"_common_kerberos_principal": "compile/b1.example.com@"},
    {"_common_kerberos_realm": ""},
    {"_common_kerberos_keytab": "relative/kojid.keytab"},
])
def test_malformed_inputs_stop_the_run(tmp_path, values):
    (tmp_path / "kojid.keytab").write_bytes(b"\x05\x02")
    code, out = _check(tmp_path, **values)
    assert code != 0
    assert "Kerberos needs a realm" in out, out


@pytest.mark.parametrize("role", ["koji_hub", "koji_web", "koji_builder", "kojira"])
def test_each_role_checks_in_its_preflight_and_installs_after(role):
    preflight = [task for task in walk_tasks(load_yaml(ROLES / role / "tasks" / "preflight.yml"))
                 if (task.get("ansible.builtin.include_role") or {}).get("tasks_from") == "kerberos_check.yml"]
    install = [task for task in walk_tasks(load_yaml(ROLES / role / "tasks" / "install.yml"))
               if (task.get("ansible.builtin.include_role") or {}).get("tasks_from") == "kerberos.yml"]
    assert len(preflight) == 1 and len(install) == 1
    # The same principal and keytab in both.
    for key in ("_common_kerberos_principal", "_common_kerberos_keytab", "_common_kerberos_keytab_src"):
        assert preflight[0]["vars"][key] == install[0]["vars"][key], key
    main = [task["ansible.builtin.include_tasks"] for task in load_yaml(ROLES / role / "tasks" / "main.yml")
            if "ansible.builtin.include_tasks" in task]
    assert main.index("preflight.yml") < main.index("install.yml")


def test_the_keytab_copy_is_never_logged():
    copies = [task for task in walk_tasks(load_yaml(ROLES / "_common" / "tasks" / "kerberos.yml"))
              if "ansible.builtin.copy" in task]
    assert len(copies) == 1
    assert copies[0]["no_log"] is True and copies[0]["diff"] is False
    assert copies[0]["ansible.builtin.copy"]["mode"] == "0640"
