"""Upgrades on purpose, and a pinned version the repositories no longer offer.

- _common's koji_install_check (run first by koji_install, and by site.yml, hub.yml and
  upgrade.yml on every Koji host before their first change) refuses a run that would raise the
  installed Koji version unless koji_upgrade is true; a first install, a rollback and the package
  method without a version pass. Run for real (connection local) against a koji/_version.py in
  a temporary "system Python".
- playbooks/upgrade.yml asks for the version and goes on only when it is the one the run
  installs (-e koji_upgrade_confirm without a terminal); its plays before site.yml run for real.
- With packages on EL, a koji_version the repositories no longer offer stops the install with a
  message naming it and what they offer, before anything is written (fake rpm and dnf on PATH).
"""

import os
import pathlib
import re
import stat
import subprocess
import sys

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from role_templating import load_yaml, trust_as_template, trusted, walk_tasks

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLES = ROOT / "roles"
PLAYBOOKS = ROOT / "playbooks"
COLLECTIONS = ROOT / "build" / "collections"
INSTALLING = ["koji_hub", "koji_web", "koji_db", "kojira", "koji_builder"]
KOJI_GROUPS = "koji_db:koji_hub:koji_web:kojira:koji_builders"

pytestmark = pytest.mark.skipif(not (COLLECTIONS / "ansible_collections" / "kojiforge" / "koji").exists(),
                                reason="run `make collection-link` first")

REFUSED = "This run would upgrade Koji on %s from %s to %s (%s)"


def _env(tmp_path, path_prefix=None):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_FORCE_COLOR="false",
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
               ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-remote-tmp"))
    if path_prefix:
        env["PATH"] = "%s:%s" % (path_prefix, env["PATH"])
    return env


def _run(tmp_path, inventory, plays, extra_vars=None, path_prefix=None):
    """ansible-playbook PLAYS (a list, or a path) on INVENTORY, stdin not a terminal."""
    inventory_file = tmp_path / "inventory.yml"
    inventory_file.write_text(yaml.safe_dump(inventory))
    if isinstance(plays, list):
        playbook = tmp_path / "playbook.yml"
        playbook.write_text(yaml.safe_dump(plays))
    else:
        playbook = plays
    cmd = [str(pathlib.Path(sys.executable).with_name("ansible-playbook")), "-i", str(inventory_file), str(playbook)]
    for name, value in (extra_vars or {}).items():
        cmd += ["-e", "%s=%s" % (name, value)]
    proc = subprocess.run(cmd, cwd=str(tmp_path), env=_env(tmp_path, path_prefix), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    return proc.returncode, proc.stdout


def _sitelib(tmp_path, name, version):
    """A system Python's site-packages holding Koji VERSION's koji/_version.py (None: no Koji)."""
    sitelib = tmp_path / "sitelib" / name
    (sitelib / "koji").mkdir(parents=True)
    if version:
        (sitelib / "koji" / "_version.py").write_text(
            "__version_info__ = (%s)\n__version__ = '.'.join([str(x) for x in __version_info__])\n"
            % ", ".join(version.split(".")))
    return str(sitelib)


def _source_tree(tmp_path, version):
    """A directory that passes koji_source_stage's checks, of Koji VERSION."""
    tree = tmp_path / ("koji-%s" % version)
    common = load_yaml(ROLES / "_common" / "vars" / "main.yml")
    for part in common["__common_koji_tree_parts"]:
        (tree / part).mkdir(parents=True, exist_ok=True)
    for marker in common["__common_koji_tree_markers"]:
        (tree / marker).parent.mkdir(parents=True, exist_ok=True)
        (tree / marker).write_text("# test\n")
    (tree / "koji" / "_version.py").write_text("__version_info__ = (%s)\n" % ", ".join(version.split(".")))
    return str(tree)


def _host(**host_vars):
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    host.update(host_vars)
    return host


def _check_task(**extra):
    task_vars = {
        "_common_koji_install_method": "{{ koji_install_method | default('auto') }}",
        "_common_koji_source": "{{ koji_source | default('') }}",
        "_common_koji_source_cache_dir": "{{ koji_source_cache_dir | default('~/.cache/kojiforge') }}",
        "_common_koji_version": "{{ koji_version | default('') }}",
    }
    task_vars.update(extra)
    return {"name": "Check", "ansible.builtin.include_role": {
        "name": "kojiforge.koji._common", "tasks_from": "koji_install_check.yml"}, "vars": task_vars}


def _host_output(out, host):
    """What the run printed for HOST's tasks (fatal and ok lines)."""
    return "\n".join(block for block in re.split(r"\n(?=\S)", out) if "[%s]" % host in block.split("\n", 1)[0])


def test_a_raised_version_is_refused_unless_koji_upgrade(tmp_path):
    hosts = {
        "fresh": _host(__common_python_sitelib=_sitelib(tmp_path, "fresh", None), koji_install_method="package",
                       koji_version="1.35.3"),
        "raise": _host(__common_python_sitelib=_sitelib(tmp_path, "raise", "1.34.3"), koji_install_method="package",
                       koji_version="1.35.3"),
        "allowed": _host(__common_python_sitelib=_sitelib(tmp_path, "allowed", "1.34.3"),
                         koji_install_method="package", koji_version="1.35.3", koji_upgrade=True),
        # as -e koji_upgrade=true gives it: a string
        "allowed_str": _host(__common_python_sitelib=_sitelib(tmp_path, "allowed_str", "1.34.3"),
                             koji_install_method="package", koji_version="1.35.3", koji_upgrade="true"),
        "same": _host(__common_python_sitelib=_sitelib(tmp_path, "same", "1.35.3"), koji_install_method="package",
                      koji_version="1.35.3-1.el9"),
        "rollback": _host(__common_python_sitelib=_sitelib(tmp_path, "rollback", "1.35.3"),
                          koji_install_method="package", koji_version="1.34.3"),
        "unpinned": _host(__common_python_sitelib=_sitelib(tmp_path, "unpinned", "1.34.3"),
                          koji_install_method="package", koji_version=""),
    }
    plays = [{"name": "Check", "hosts": "all", "gather_facts": False, "tasks": [
        _check_task(),
        {"name": "Show", "ansible.builtin.debug": {
            "msg": "versions {{ _common_koji_installed_version }}|{{ _common_koji_target_version }}"}}]}]
    rc, out = _run(tmp_path, {"all": {"hosts": hosts}}, plays)
    assert rc != 0, out
    shown = dict(re.findall(r'ok: \[(\w+)\] => \{\n\s+"msg": "versions ([^"]*)"', out))
    assert shown == {"fresh": "|1.35.3", "allowed": "1.34.3|1.35.3", "allowed_str": "1.34.3|1.35.3",
                     "same": "1.35.3|1.35.3", "rollback": "1.35.3|1.34.3", "unpinned": "1.34.3|"}, out
    assert REFUSED % ("raise", "1.34.3", "1.35.3", "koji_version") in _host_output(out, "raise"), out
    assert "-e koji_upgrade_confirm=1.35.3" in _host_output(out, "raise"), out
    assert "Nothing has been changed" in _host_output(out, "raise"), out
    assert "failed=1" in re.search(r"\nraise +:.*", out).group(0)


def test_a_newer_koji_source_is_an_upgrade_too(tmp_path):
    """With the source method the version to be installed is the staged source's."""
    source = {"koji_install_method": "source", "koji_source": _source_tree(tmp_path, "1.35.3"),
              "koji_source_cache_dir": str(tmp_path / "cache")}
    plays = [{"name": "Check", "hosts": "all", "gather_facts": False, "tasks": [_check_task()]}]
    hosts = {"old": _host(__common_python_sitelib=_sitelib(tmp_path, "old", "1.34.3"), **source)}
    rc, out = _run(tmp_path, {"all": {"hosts": hosts}}, plays)
    assert rc != 0, out
    assert REFUSED % ("old", "1.34.3", "1.35.3", "koji_source") in out, out
    assert "To stay at 1.34.3, set koji_source back." in out, out

    hosts = {"current": _host(__common_python_sitelib=_sitelib(tmp_path, "current", "1.35.3"), **source)}
    rc, out = _run(tmp_path, {"all": {"hosts": hosts}}, plays)
    assert rc == 0, out


def test_auto_is_resolved_as_the_roles_resolve_it():
    """koji_install_check resolves `auto` itself (playbooks call it without a role's vars/)."""
    tasks = load_yaml(ROLES / "_common" / "tasks" / "koji_install_check.yml")
    expression = next(t["ansible.builtin.set_fact"]["__common_check_method"] for t in walk_tasks(tasks)
                      if "__common_check_method" in (t.get("ansible.builtin.set_fact") or {}))
    for os_family in ("RedHat", "Debian"):
        for role in INSTALLING:
            loader = DataLoader()
            variables = {}
            for path in (ROLES / role / "defaults" / "main.yml", ROLES / role / "vars" / "main.yml",
                         ROLES / role / "vars" / ("%s.yml" % os_family)):
                variables.update(trusted(loader.load_from_file(str(path)) or {}))
            variables["koji_install_method"] = "auto"
            effective = next(name for name in variables if re.match(r"__%s_(effective_install_method|install_method_effective)$" % role, name))
            templar = Templar(loader=loader, variables=variables)
            expected = templar.template(trust_as_template("{{ %s }}" % effective))
            check = Templar(loader=loader, variables={"_common_koji_install_method": "auto",
                                                      "ansible_facts": {"os_family": os_family}})
            assert check.template(trust_as_template(expression)).strip() == expected, (role, os_family)


def _upgrade_plays(tmp_path):
    """playbooks/upgrade.yml with its import of site.yml replaced by a play that records that it
    ran (the plays around it, its maintenance silences, find no Alertmanager and do nothing)."""
    plays = load_yaml(PLAYBOOKS / "upgrade.yml")
    (index,) = [i for i, play in enumerate(plays) if "ansible.builtin.import_playbook" in play]
    site = plays[index]
    assert site["ansible.builtin.import_playbook"] == "site.yml" and site["vars"] == {"koji_upgrade": True}
    plays[index] = {"name": "Instead of site.yml", "hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "Record", "ansible.builtin.copy": {"content": "ran\n", "dest": str(tmp_path / "site-ran"),
                                                    "mode": "0644"}}]}
    playbook = tmp_path / "upgrade.yml"
    playbook.write_text(yaml.safe_dump(plays))
    return playbook


def _koji_inventory(tmp_path, hub_version, builder_version=None):
    return {"all": {"children": {
        "koji_hub": {"hosts": {"hub": _host(__common_python_sitelib=_sitelib(tmp_path, "hub-%s" % hub_version,
                                                                             hub_version))}},
        "koji_builders": {"hosts": {"builder": _host(__common_python_sitelib=_sitelib(
            tmp_path, "builder-%s" % builder_version, builder_version))}},
    }, "vars": {"koji_install_method": "package", "koji_version": "1.35.3"}}}


def test_upgrade_playbook_goes_on_only_with_the_confirmed_version(tmp_path):
    playbook = _upgrade_plays(tmp_path)
    inventory = _koji_inventory(tmp_path, "1.34.3")  # the builder: a first install

    rc, out = _run(tmp_path, inventory, playbook)  # no terminal, no koji_upgrade_confirm
    assert rc != 0, out
    assert "Not confirmed (no answer). This run would upgrade: hub: Koji 1.34.3 -> 1.35.3." in out, out
    assert "-e koji_upgrade_confirm=1.35.3" in out, out
    assert not (tmp_path / "site-ran").exists()

    rc, out = _run(tmp_path, inventory, playbook, {"koji_upgrade_confirm": "1.36.1"})
    assert rc != 0 and "Not confirmed (1.36.1)" in out, out
    assert not (tmp_path / "site-ran").exists()

    rc, out = _run(tmp_path, inventory, playbook, {"koji_upgrade_confirm": "1.35.3"})
    assert rc == 0, out
    assert (tmp_path / "site-ran").exists()


def test_upgrade_playbook_asks_nothing_when_nothing_is_upgraded(tmp_path):
    playbook = _upgrade_plays(tmp_path)
    rc, out = _run(tmp_path, _koji_inventory(tmp_path, "1.35.3", "1.35.3"), playbook)
    assert rc == 0, out
    assert "Ask for the version to upgrade to" in out and "skipping: [localhost]" in out, out
    assert (tmp_path / "site-ran").exists()


def _guard_play(play):
    tasks = play.get("tasks") or []
    return any((t.get("ansible.builtin.include_role") or {}).get("tasks_from") == "koji_install_check.yml"
               for t in tasks)


def test_site_and_hub_check_every_koji_host_before_their_first_change():
    site = load_yaml(PLAYBOOKS / "site.yml")
    guard = next(i for i, play in enumerate(site) if _guard_play(play))
    first_import = next(i for i, play in enumerate(site) if "ansible.builtin.import_playbook" in play)
    assert guard < first_import
    assert site[guard]["hosts"] == KOJI_GROUPS and site[guard]["any_errors_fatal"] is True
    # Only the plays before it read (the builders' names) or gather facts.
    assert all("roles" not in play and all("include_role" not in str(t) or "identity.yml" in str(t)
                                           for t in play.get("tasks") or []) for play in site[:guard])
    hub_import = next(p for p in site if p.get("ansible.builtin.import_playbook") == "hub.yml")
    assert hub_import["vars"]["kojiforge_site_versions_checked"] is True

    hub = load_yaml(PLAYBOOKS / "hub.yml")
    assert _guard_play(hub[0]) and hub[0]["any_errors_fatal"] is True
    assert set(hub[0]["hosts"].split(":")) == {"koji_db", "koji_hub", "koji_web"}
    # The same install variables, with the roles' defaults, as the roles pass to koji_install.
    defaults = load_yaml(ROLES / "koji_hub" / "defaults" / "main.yml")
    for play in (site[guard], hub[0]):
        passed = play["tasks"][0]["vars"]
        for name in ("koji_install_method", "koji_source", "koji_source_cache_dir", "koji_version"):
            assert "%s | default(%r)" % (name, defaults[name]) in passed["_common_%s" % name], (name, passed)


def test_koji_install_checks_before_anything_else():
    tasks = load_yaml(ROLES / "_common" / "tasks" / "koji_install.yml")[0]["block"]
    names = [t.get("ansible.builtin.include_tasks") for t in tasks]
    assert names[:3] == ["set_vars.yml", "koji_install_check.yml", "package_cache.yml"]
    assert load_yaml(ROLES / "_common" / "defaults" / "main.yml")["koji_upgrade"] is False


FAKE_RPM = """#!/bin/sh
# rpm -q NAME-VERSION...: installed when listed in $FAKE_INSTALLED
rc=0
shift
for spec in "$@"; do
  grep -qx "$spec" "$FAKE_DIR/installed" 2>/dev/null || { echo "package $spec is not installed"; rc=1; }
done
exit $rc
"""
FAKE_DNF = """#!/bin/sh
echo "$@" >> "$FAKE_DIR/dnf-calls"
[ -f "$FAKE_DIR/offered" ] || exit 1
cat "$FAKE_DIR/offered"
"""
PACKAGES = ["koji-hub", "python3-koji-hub"]


def _available(tmp_path, version, installed=(), offered=None):
    fake = tmp_path / "fake"
    fake.mkdir(exist_ok=True)
    for name, text in (("rpm", FAKE_RPM), ("dnf", FAKE_DNF)):
        (fake / name).write_text(text)
        (fake / name).chmod(stat.S_IRWXU)
    (fake / "installed").write_text("".join("%s\n" % line for line in installed))
    if offered is None:
        (fake / "offered").unlink(missing_ok=True)
    else:
        (fake / "offered").write_text("".join("%s\n" % line for line in offered))
    (fake / "dnf-calls").unlink(missing_ok=True)
    plays = [{"name": "Check", "hosts": "all", "gather_facts": False, "environment": {"FAKE_DIR": str(fake)},
              "tasks": [{"name": "Check", "ansible.builtin.include_role": {
                  "name": "kojiforge.koji._common", "tasks_from": "koji_install_package_available.yml"},
                  "vars": {"_common_koji_version": version, "_common_koji_packages": PACKAGES}}]}]
    rc, out = _run(tmp_path, {"all": {"hosts": {"el9": _host()}}}, plays, path_prefix=str(fake))
    calls = (fake / "dnf-calls").read_text() if (fake / "dnf-calls").exists() else ""
    return rc, out, calls


def test_a_pinned_version_the_repositories_dropped_is_named_before_anything_is_written(tmp_path):
    offered = ["koji-hub 1.35.3-1.el9", "python3-koji-hub 1.35.3-1.el9", "koji-hub 1.35.2-1.el9"]
    rc, out, calls = _available(tmp_path, "1.34.3", offered=offered)
    assert rc != 0, out
    assert ("koji_version 1.34.3 cannot be installed on el9: the enabled repositories do not offer "
            "koji-hub, python3-koji-hub at that version (they offer 1.35.2, 1.35.3;") in out, out
    assert "Nothing has been changed." in out
    assert "repoquery --disableplugin=versionlock" in calls and "koji-hub python3-koji-hub" in calls

    for pinned in ("1.35.3", "1.35.3-1.el9"):
        rc, out, calls = _available(tmp_path, pinned, offered=offered)
        assert rc == 0, out

    # Only asked when the packages are not all installed at that version already.
    rc, out, calls = _available(tmp_path, "1.34.3", installed=["koji-hub-1.34.3", "python3-koji-hub-1.34.3"],
                                offered=offered)
    assert rc == 0 and calls == "", out
    # Repositories that do not answer: the install says so itself.
    rc, out, calls = _available(tmp_path, "1.34.3", offered=None)
    assert rc == 0 and "repoquery" in calls, out
