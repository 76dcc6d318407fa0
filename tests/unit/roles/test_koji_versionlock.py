"""Koji's packages are locked at their installed version with community.general.dnf_versionlock
(roles/_common/tasks/koji_install_package.yml).

There is no EL host here: the task file runs for real (connection local) against a fake EL host
kept in a JSON file. Its package manager (the play's pkg_mgr) installs what it is asked and, like
dnf's versionlock plugin, refuses a version of a locked package that no lock entry allows; its
dnf_versionlock (an ansible collection named community.general that shadows the real one) acts on
the lock list as the real module does (present: NAME-EPOCH:VERSION-RELEASE.* of the installed
version, or of every available one when not installed; absent with raw: exactly the entries
given; check mode: only says). What the real module and plugin do on EL9 is for the scenarios.
"""

import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
COLLECTIONS = ROOT / "build" / "collections"
PACKAGES = ["koji-hub", "python3-koji"]

pytestmark = pytest.mark.skipif(not (COLLECTIONS / "ansible_collections" / "kojiforge" / "koji").exists(),
                                reason="run `make collection-link` first")

FAKE_PKG = '''#!/usr/bin/python
import json, os, re
from ansible.module_utils.basic import AnsibleModule
module = AnsibleModule(argument_spec=dict(name=dict(type="list", elements="str"), state=dict()),
                       supports_check_mode=True)
path = os.environ["FAKE_EL_HOST"]
with open(path) as handle:
    host = json.load(handle)
changed = False
for spec in module.params["name"]:
    if spec == "python3-dnf-plugin-versionlock":
        changed = changed or not host["plugin"]
        host["plugin"] = True
        continue
    m = re.match(r"^(.+?)(?:-(\\d[^-]*))?$", spec)
    name, version = m.group(1), m.group(2)
    locks = [e for e in host["locks"] if re.match(re.escape(name) + r"-\\d+:", e)]
    allowed = [v for v in host["available"] if not locks or any(":%s-" % v in e for e in locks)]
    if version is None:
        if name in host["installed"]:
            continue
        version = allowed[-1] if allowed else None
    if version not in allowed:
        module.fail_json(msg="No package %s available (versionlock excludes it)" % spec)
    evr = "0:%s-1.el9" % version
    if host["installed"].get(name) != evr:
        changed = True
        host["installed"][name] = evr
if changed and not module.check_mode:
    with open(path, "w") as handle:
        json.dump(host, handle)
module.exit_json(changed=changed)
'''

FAKE_VERSIONLOCK = '''#!/usr/bin/python
import json, os, re
from ansible.module_utils.basic import AnsibleModule
module = AnsibleModule(argument_spec=dict(name=dict(type="list", elements="str", default=[]),
                                          raw=dict(type="bool", default=False),
                                          state=dict(default="present", choices=["present", "absent"])),
                       supports_check_mode=True)
path = os.environ["FAKE_EL_HOST"]
with open(path) as handle:
    host = json.load(handle)
if not host["plugin"]:
    module.fail_json(msg="plugin versionlock is required")
pre = list(host["locks"])
toadd, todelete = [], []
if module.params["state"] == "present":
    for name in module.params["name"]:
        evrs = [host["installed"][name]] if name in host["installed"] else ["0:%s-1.el9" % v for v in host["available"]]
        toadd += ["%s-%s.*" % (name, evr) for evr in evrs if "%s-%s.*" % (name, evr) not in pre]
elif module.params["raw"]:
    todelete = [p for p in module.params["name"] if p in pre]
else:
    todelete = [p for p in module.params["name"] if any(re.match(re.escape(p) + r"-\\d+:", e) for e in pre)]
    host["locks"] = [e for e in pre if not any(re.match(re.escape(p) + r"-\\d+:", e) for p in todelete)]
if module.params["raw"]:
    host["locks"] = [e for e in pre if e not in todelete]
host["locks"] += toadd
if (toadd or todelete) and not module.check_mode:
    with open(path, "w") as handle:
        json.dump(host, handle)
module.exit_json(changed=bool(toadd or todelete), locklist_pre=pre, specs_toadd=toadd, specs_todelete=todelete)
'''


def _collections(tmp_path):
    fake = tmp_path / "fake"
    for namespace, name, modules in (("fake", "el", {"pkg.py": FAKE_PKG}),
                                     ("community", "general", {"dnf_versionlock.py": FAKE_VERSIONLOCK})):
        root = fake / "ansible_collections" / namespace / name
        (root / "plugins" / "modules").mkdir(parents=True, exist_ok=True)
        (root / "meta").mkdir(exist_ok=True)
        (root / "meta" / "runtime.yml").write_text("---\nrequires_ansible: '>=2.9'\n")
        for file_name, text in modules.items():
            (root / "plugins" / "modules" / file_name).write_text(text)
    return fake


def _host(tmp_path, plugin=False, installed=None, locks=None):
    path = tmp_path / "el-host.json"
    path.write_text(json.dumps({"plugin": plugin, "installed": installed or {}, "locks": locks or [],
                                "available": ["1.34.3", "1.35.3"]}))
    return path


def _run(tmp_path, host, version, check=False):
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(yaml.safe_dump([{"name": "Install Koji", "hosts": "all", "gather_facts": False, "tasks": [
        {"name": "Pretend to be EL9", "ansible.builtin.set_fact": {
            "ansible_os_family": "RedHat", "ansible_distribution": "Rocky", "ansible_distribution_major_version": "9",
            "ansible_pkg_mgr": "fake.el.pkg", "cacheable": True}},
        {"name": "Load _common's OS variables", "ansible.builtin.include_role": {
            "name": "kojiforge.koji._common", "tasks_from": "set_vars.yml"}},
        {"name": "Install", "ansible.builtin.include_role": {
            "name": "kojiforge.koji._common", "tasks_from": "koji_install_package.yml"},
         "vars": {"_common_koji_packages": PACKAGES, "_common_koji_version": version}},
    ]}]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH="%s:%s" % (_collections(tmp_path), COLLECTIONS),
               ANSIBLE_FORCE_COLOR="false", ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
               ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-remote-tmp"), FAKE_EL_HOST=str(host))
    cmd = [str(pathlib.Path(sys.executable).with_name("ansible-playbook")), "-i", str(inventory), str(playbook)]
    proc = subprocess.run(cmd + (["--check"] if check else []), cwd=str(tmp_path), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    return proc.returncode, proc.stdout, json.loads(host.read_text())


def _changed(out):
    recap = out[out.rindex("PLAY RECAP"):]
    return int(recap.split("changed=")[1].split()[0])


def _locks(version):
    return ["%s-0:%s-1.el9.*" % (name, version) for name in PACKAGES]


def test_a_new_host_gets_the_version_locked_and_a_second_run_changes_nothing(tmp_path):
    host = _host(tmp_path)
    rc, out, state = _run(tmp_path, host, "1.35.3")
    assert rc == 0, out
    assert state == {"plugin": True, "installed": {n: "0:1.35.3-1.el9" for n in PACKAGES}, "locks": _locks("1.35.3"),
                     "available": ["1.34.3", "1.35.3"]}, out
    rc, out, again = _run(tmp_path, host, "1.35.3")
    assert rc == 0, out
    assert again == state
    assert _changed(out) == 0, out


def test_an_upgrade_releases_the_stale_locks_of_koji_only_and_locks_the_new_version(tmp_path):
    host = _host(tmp_path, plugin=True, installed={n: "0:1.34.3-1.el9" for n in PACKAGES},
                 locks=_locks("1.34.3") + ["koji-hubble-0:1.0-1.el9.*", "bash-0:5.1.8-6.el9.*"])
    rc, out, state = _run(tmp_path, host, "1.35.3")
    assert rc == 0, out
    assert state["installed"] == {n: "0:1.35.3-1.el9" for n in PACKAGES}, out
    assert state["locks"] == ["koji-hubble-0:1.0-1.el9.*", "bash-0:5.1.8-6.el9.*"] + _locks("1.35.3"), out
    rc, out, again = _run(tmp_path, host, "1.35.3")
    assert rc == 0 and _changed(out) == 0, out
    assert again == state


def test_without_a_version_what_is_installed_gets_locked(tmp_path):
    host = _host(tmp_path, plugin=True, installed={n: "0:1.34.3-1.el9" for n in PACKAGES})
    rc, out, state = _run(tmp_path, host, "")
    assert rc == 0, out
    assert state["installed"] == {n: "0:1.34.3-1.el9" for n in PACKAGES}, out
    assert state["locks"] == _locks("1.34.3"), out
    rc, out, _state = _run(tmp_path, host, "")
    assert rc == 0 and _changed(out) == 0, out


def test_check_mode_on_a_new_host_says_what_it_would_do_and_writes_nothing(tmp_path):
    host = _host(tmp_path)
    before = host.read_text()
    rc, out, _state = _run(tmp_path, host, "1.35.3", check=True)
    assert rc == 0, out
    assert host.read_text() == before
    assert _changed(out) > 0, out


def test_check_mode_on_a_converged_host_changes_nothing(tmp_path):
    host = _host(tmp_path, plugin=True, installed={n: "0:1.35.3-1.el9" for n in PACKAGES}, locks=_locks("1.35.3"))
    before = host.read_text()
    rc, out, _state = _run(tmp_path, host, "1.35.3", check=True)
    assert rc == 0 and _changed(out) == 0, out
    assert host.read_text() == before


def test_no_hand_made_versionlock_commands_are_left():
    text = (ROOT / "roles" / "_common" / "tasks" / "koji_install_package.yml").read_text()
    assert "versionlock" in text and "community.general.dnf_versionlock" in text
    assert "ansible.builtin.command" not in text and "argv" not in text
