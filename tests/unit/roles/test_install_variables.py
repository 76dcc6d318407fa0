"""One documented set of install variables for the roles that install Koji, and the install
fingerprints' new name.

- koji_hub, koji_web, koji_db, kojira and koji_builder each specify koji_install_method,
  koji_source, koji_source_cache_dir and koji_version (roles are used standalone) with the same
  spec and the same default, and none keeps a per-role install variable of its own;
- `auto` means package on EL and source on Debian in every one of them;
- a per-role install variable that the inventory still sets stops the role's preflight, naming
  its replacement (run for real, connection local);
- the records of the installed Koji's fingerprint that earlier versions named `*.koji-code` are
  renamed, content and all, so the service roles' records show no change; the second run
  changes nothing, and check mode touches nothing (run for real).
"""

import os
import pathlib
import subprocess
import sys

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from role_templating import trust_as_template, trusted

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLES = ROOT / "roles"
COLLECTIONS = ROOT / "build" / "collections"
INSTALLING = ["koji_hub", "koji_web", "koji_db", "kojira", "koji_builder"]
SHARED = ["koji_install_method", "koji_source", "koji_source_cache_dir", "koji_version"]
REMOVED = {"install_method": "koji_install_method", "source": "koji_source",
           "source_cache_dir": "koji_source_cache_dir", "version": "koji_version"}
# Each role's name for the method `auto` resolves to.
EFFECTIVE = {
    "koji_hub": "__koji_hub_effective_install_method",
    "koji_web": "__koji_web_effective_install_method",
    "koji_db": "__koji_db_effective_install_method",
    "kojira": "__kojira_install_method_effective",
    "koji_builder": "__koji_builder_install_method_effective",
}
# The record each service role writes (tasks/install.yml); koji_db runs no Koji service.
RECORDS = {"koji_hub": "koji-hub", "koji_web": "koji-web", "kojira": "kojira", "koji_builder": "kojid"}


def _yaml(path):
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _options(role):
    return _yaml(ROLES / role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]


def test_the_shared_set_is_specified_alike_in_every_role_that_installs_koji():
    first = {name: _options(INSTALLING[0])[name] for name in SHARED}
    assert first["koji_install_method"]["choices"] == ["auto", "package", "source"]
    for role in INSTALLING:
        options = _options(role)
        defaults = _yaml(ROLES / role / "defaults" / "main.yml")
        for name in SHARED:
            assert options.get(name) == first[name], "%s specifies %s differently from %s" % (role, name, INSTALLING[0])
            assert defaults.get(name) == first[name]["default"], "%s: default of %s" % (role, name)


@pytest.mark.parametrize("role", INSTALLING)
def test_no_role_keeps_install_variables_of_its_own(role):
    own = {"%s_%s" % (role, suffix) for suffix in REMOVED}
    assert own & set(_options(role)) == set()
    assert own & set(_yaml(ROLES / role / "defaults" / "main.yml")) == set()
    # ... and its preflight refuses them, each naming its replacement.
    removed = _yaml(ROLES / role / "vars" / "main.yml")["__%s_removed_variables" % role]
    assert removed == {"%s_%s" % (role, suffix): new for suffix, new in REMOVED.items()}
    first = _yaml(ROLES / role / "tasks" / "preflight.yml")[0]
    assert first["ansible.builtin.include_role"] == {"name": "kojiforge.koji._common", "tasks_from": "removed_variables.yml"}
    assert first["vars"] == {"_common_removed_variables": "{{ __%s_removed_variables }}" % role}


def _effective(role, os_family, method):
    loader = DataLoader()
    variables = {}
    for path in (ROLES / role / "defaults" / "main.yml", ROLES / role / "vars" / "main.yml",
                 ROLES / role / "vars" / ("%s.yml" % os_family)):
        variables.update(trusted(loader.load_from_file(str(path)) or {}))
    variables["koji_install_method"] = method
    templar = Templar(loader=loader, variables=variables)
    return templar.template(trust_as_template("{{ %s }}" % EFFECTIVE[role]))


@pytest.mark.parametrize("role", INSTALLING)
def test_auto_is_package_on_el_and_source_on_debian(role):
    assert _effective(role, "RedHat", "auto") == "package"
    assert _effective(role, "Debian", "auto") == "source"
    assert _effective(role, "RedHat", "source") == "source"
    assert _effective(role, "Debian", "package") == "package"


def _playbook(tmp_path, tasks, host_vars=None, extra_vars=None, check=False):
    """Run TASKS on localhost (connection local); returns (rc, output)."""
    inventory = tmp_path / "inventory.yml"
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    host.update(host_vars or {})
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": host}}}))
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(yaml.safe_dump([{"name": "Test", "hosts": "localhost", "gather_facts": False,
                                         "tasks": tasks}]))
    cmd = [str(pathlib.Path(sys.executable).with_name("ansible-playbook")), "-i", str(inventory), str(playbook)]
    if extra_vars:
        extra = tmp_path / "extra.yml"
        extra.write_text(yaml.safe_dump(extra_vars))
        cmd += ["-e", "@%s" % extra]
    if check:
        cmd.append("--check")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_FORCE_COLOR="false",
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
               ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-remote-tmp"))
    proc = subprocess.run(cmd, cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    return proc.returncode, proc.stdout


def _task_output(out, task):
    """What the run printed for TASK (from its header to the next one)."""
    start = out.index(task)
    end = out.find("TASK [", start + len(task))
    return out[start:] if end < 0 else out[start:end]


REFUSE = "Removed variables | Refuse variables that are set but no longer read"
needs_collection = pytest.mark.skipif(not (COLLECTIONS / "ansible_collections" / "kojiforge" / "koji").exists(),
                                      reason="run `make collection-link` first")


@needs_collection
@pytest.mark.parametrize("role", INSTALLING)
def test_a_removed_variable_still_set_stops_the_preflight(tmp_path, role):
    preflight = [{"name": "Preflight", "ansible.builtin.include_role": {
        "name": "kojiforge.koji.%s" % role, "tasks_from": "preflight.yml"}}]
    rc, out = _playbook(tmp_path, preflight, host_vars={"%s_version" % role: "1.35.3", "%s_source" % role: "/k"})
    assert rc != 0, out
    refused = _task_output(out, REFUSE)
    assert "fatal: [localhost]" in refused, out
    assert "%s_source is set but no longer read: set koji_source instead." % role in refused, out
    assert "%s_version is set but no longer read: set koji_version instead." % role in refused, out

    # The shared set passes this check (the later ones need a real site).
    rc, out = _playbook(tmp_path, preflight, host_vars={"koji_version": "1.35.3", "koji_source": "/k"})
    assert "ok: [localhost]" in _task_output(out, REFUSE), out


def _record(path, content):
    """The record task of the service roles (tasks/install.yml), for PATH."""
    copy = {"content": content, "dest": str(path), "mode": "0644"}
    return {"name": "Record %s" % path.name, "ansible.builtin.copy": copy}


@needs_collection
def test_old_fingerprint_records_are_renamed_without_a_change_to_the_new_ones(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (state / "koji-hub.koji-code").write_text("koji-hub-1.35.3-1.el9.noarch\n")
    (state / "kojid.koji-code").write_text("0123abcd\n")
    (state / "other-file").write_text("kept\n")
    migrate = {"name": "Migrate", "ansible.builtin.include_role": {
        "name": "kojiforge.koji._common", "tasks_from": "koji_install_fingerprint_migrate.yml"}}
    tasks = [migrate, _record(state / "koji-hub.koji-install-fingerprint", "koji-hub-1.35.3-1.el9.noarch\n"),
             _record(state / "kojid.koji-install-fingerprint", "0123abcd\n")]
    extra = {"__common_state_dir": str(state)}

    rc, out = _playbook(run_dir, tasks, extra_vars=extra, check=True)
    assert rc == 0, out
    assert sorted(p.name for p in state.iterdir()) == ["koji-hub.koji-code", "kojid.koji-code", "other-file"]

    rc, out = _playbook(run_dir, tasks, extra_vars=extra)
    assert rc == 0, out
    assert "changed=1" in out[out.rindex("PLAY RECAP"):], out  # the renames, not the records
    assert "ok: [localhost]" in _task_output(out, "Record koji-hub.koji-install-fingerprint"), out
    assert sorted(p.name for p in state.iterdir()) == [
        "koji-hub.koji-install-fingerprint", "kojid.koji-install-fingerprint", "other-file"]
    assert (state / "kojid.koji-install-fingerprint").read_text() == "0123abcd\n"

    rc, out = _playbook(run_dir, tasks, extra_vars=extra)
    assert rc == 0, out
    assert "changed=0" in out[out.rindex("PLAY RECAP"):], out


@pytest.mark.parametrize("role", sorted(RECORDS))
def test_the_service_roles_write_the_records_the_migration_renames_to(role):
    suffix = _yaml(ROLES / "_common" / "vars" / "main.yml")["__common_fingerprint_suffix"]
    state = _yaml(ROLES / "_common" / "vars" / "main.yml")["__common_state_dir"]
    record = next(t for t in _yaml(ROLES / role / "tasks" / "install.yml") if "ansible.builtin.copy" in t)
    assert record["ansible.builtin.copy"]["dest"] == "%s/%s%s" % (state, RECORDS[role], suffix)
    assert record["ansible.builtin.copy"]["content"] == "{{ _common_koji_install_fingerprint }}\n"
