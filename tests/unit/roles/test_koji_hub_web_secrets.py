"""hub.conf and web.conf can be previewed: `--check --diff` shows their changes, never a secret.

The database connection (with its password) and koji-web's session secret are in files of their
own, hub.conf.d/kojiforge-secrets.conf and web.conf.d/kojiforge-secrets.conf, written no_log;
Koji reads the conf.d directory first and the main file last (test_koji_versions.py renders both
for each Koji version and reads them in that order). hub.conf and web.conf are written without
no_log, except on the run that upgrades from a file an earlier version of the role wrote with the
secret in it: that diff would print the old secret among the removed lines.

The roles' task files (koji_hub's hub_conf.yml, koji_web's web_conf.yml) run here for real, on
this machine (connection local), into a temporary configuration directory.
"""

import grp
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

from role_templating import load_yaml, run_playbook

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLES = ROOT / "roles"
COLLECTIONS = ROOT / "build" / "collections"
needs_collection = pytest.mark.skipif(not (COLLECTIONS / "ansible_collections" / "kojiforge" / "koji").exists(),
                                      reason="run `make collection-link` first")
# The tasks write root-owned files (owner: root), as on a host.
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the tasks chown to root")

OLD_PASSWORD = "old-db-password-in-hub-conf"
NEW_PASSWORD = "new-db-password-0123"
OLD_SECRET = "old-web-secret-in-web-conf-0123"
NEW_SECRET = "new-web-secret-0123456789abcdef"
# hub.conf and web.conf as the previous version of the roles wrote them: the secret inside.
OLD_HUB_CONF = ("[hub]\nDBConnectionString = host='db' dbname='koji' user='koji' password='%s'\n"
                "KojiDir = /mnt/koji\n" % OLD_PASSWORD)
OLD_WEB_CONF = "[web]\nSiteName = koji\nSecret = %s\n" % OLD_SECRET

ROLE = {
    "hub": {"role": "kojiforge.koji.koji_hub", "tasks_from": "hub_conf.yml", "dir": "__koji_hub_config_dir",
            "main": "hub.conf", "conf_d": "hub.conf.d", "old": OLD_HUB_CONF, "old_secret": OLD_PASSWORD,
            "new_secret": NEW_PASSWORD, "secret_var": "koji_db_password", "option": "koji_hub_log_level",
            "values": ("WARNING", "DEBUG"), "line": "LogLevel = %s"},
    "web": {"role": "kojiforge.koji.koji_web", "tasks_from": "web_conf.yml", "dir": "__koji_web_config_dir",
            "main": "web.conf", "conf_d": "web.conf.d", "old": OLD_WEB_CONF, "old_secret": OLD_SECRET,
            "new_secret": NEW_SECRET, "secret_var": "koji_web_secret", "option": "koji_web_site_name",
            "values": ("koji", "Our Koji"), "line": "SiteName = %s"},
}


def _run(tmp_path, part, extra, check=False):
    """Run PART's task file with --diff (and --check); returns (rc, output)."""
    spec = ROLE[part]
    inventory = tmp_path / "inventory.yml"
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory.write_text(yaml.safe_dump({"all": {"children": {
        group: {"hosts": {"localhost": host}} for group in ("koji_db", "koji_hub", "koji_web")}}}))
    role_vars = {spec["dir"]: str(tmp_path / "etc"), "koji_install_method": "source",
                 "_common_apache_group": grp.getgrgid(os.getegid()).gr_name}
    role_vars.update(extra)
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Write the configuration", "hosts": "koji_hub", "gather_facts": False,
        "tasks": [{"name": "Include it", "ansible.builtin.include_role": {
            "name": spec["role"], "tasks_from": spec["tasks_from"]}, "vars": role_vars}],
        "handlers": [{"name": "Reload Apache", "ansible.builtin.debug": {"msg": "reloaded"}}],
    }]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_FORCE_COLOR="false",
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
               ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-remote-tmp"))
    cmd = [str(pathlib.Path(sys.executable).with_name("ansible-playbook")), "-i", str(inventory), str(playbook),
           "--diff"] + (["--check"] if check else [])
    proc = subprocess.run(cmd, cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    return proc.returncode, proc.stdout


def _recap(out):
    return out[out.rindex("PLAY RECAP"):]


@needs_collection
@needs_root
@pytest.mark.parametrize("part", sorted(ROLE))
def test_the_main_file_is_previewed_and_the_secrets_never_show(tmp_path, part):
    spec = ROLE[part]
    etc = tmp_path / "etc"
    (etc / spec["conf_d"]).mkdir(parents=True)
    (etc / spec["main"]).write_text(spec["old"])
    secrets_file = etc / spec["conf_d"] / "kojiforge-secrets.conf"
    first, second = spec["values"]
    variables = {spec["secret_var"]: spec["new_secret"], spec["option"]: first}

    # The upgrade from a main file that holds the secret: previewed, nothing printed, nothing written.
    rc, out = _run(tmp_path, part, variables, check=True)
    assert rc == 0, out
    assert spec["old_secret"] not in out and spec["new_secret"] not in out, out
    assert (etc / spec["main"]).read_text() == spec["old"] and not secrets_file.exists()

    # ... and done: the secret moves to its own file, the main file loses it.
    rc, out = _run(tmp_path, part, variables)
    assert rc == 0, out
    assert spec["old_secret"] not in out and spec["new_secret"] not in out, out
    assert spec["new_secret"] in secrets_file.read_text()
    assert oct(secrets_file.stat().st_mode & 0o777) == "0o640"
    main = (etc / spec["main"]).read_text()
    assert spec["old_secret"] not in main and spec["new_secret"] not in main
    assert spec["line"] % first in main

    # From then on a change of the main file shows in the preview, the secret still not.
    variables[spec["option"]] = second
    rc, out = _run(tmp_path, part, variables, check=True)
    assert rc == 0, out
    assert "-" + spec["line"] % first in out and "+" + spec["line"] % second in out, out
    assert spec["new_secret"] not in out, out
    assert spec["line"] % first in (etc / spec["main"]).read_text()

    rc, out = _run(tmp_path, part, variables)
    assert rc == 0, out
    rc, out = _run(tmp_path, part, variables)
    assert rc == 0 and "changed=0" in _recap(out), out


@pytest.mark.parametrize("part", sorted(ROLE))
def test_only_the_secrets_file_is_written_no_log_and_it_comes_first(part):
    tasks = load_yaml(ROLES / ROLE[part]["role"].split(".")[-1] / "tasks" / ROLE[part]["tasks_from"])
    templates = [t for t in tasks if "ansible.builtin.template" in t]
    assert [t["ansible.builtin.template"]["src"] for t in templates] == [
        "%s-secrets.conf.j2" % part, "%s.conf.j2" % part]
    assert templates[0]["no_log"] is True
    # Only while an old main file still holds a secret.
    assert templates[1]["no_log"].startswith("{{ __koji_%s_conf_old_secrets.rc" % part)


def _preflight(tmp_path, role, role_vars):
    inventory = tmp_path / "inventory.yml"
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory.write_text(yaml.safe_dump({"all": {"children": {
        group: {"hosts": {"localhost": host}} for group in ("koji_db", "koji_hub", "koji_web")}}}))
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Preflight", "hosts": "koji_hub", "gather_facts": False,
        "tasks": [{"name": "Include it", "ansible.builtin.include_role": {
            "name": role, "tasks_from": "preflight.yml"}, "vars": role_vars}]}]))
    return run_playbook(tmp_path, inventory, playbook)


@needs_collection
def test_secret_options_among_the_extra_options_are_refused(tmp_path):
    """In hub.conf or web.conf, read last, they would override the secrets file (and show in diffs)."""
    rc, out = _preflight(tmp_path, "kojiforge.koji.koji_hub", {
        "koji_db_password": NEW_PASSWORD, "koji_install_method": "package",
        "koji_hub_extra_options": {"DBPass": "x", "DBHost": "db2", "EmailDomain": "example.com"}})
    assert rc != 0, out
    assert "koji_hub_extra_options sets DBHost, DBPass: the role writes the database connection" in out, out

    rc, out = _preflight(tmp_path, "kojiforge.koji.koji_web", {
        "koji_web_secret": NEW_SECRET, "koji_install_method": "package",
        "koji_web_extra_options": {"Secret": "y" * 20, "KojiGreeting": "hi"}})
    assert rc != 0, out
    assert "koji_web_extra_options sets Secret: the role writes it into" in out, out
    assert "y" * 20 not in out, out

    # Other options pass (and the rest of the preflight with them).
    rc, out = _preflight(tmp_path, "kojiforge.koji.koji_web", {
        "koji_web_secret": NEW_SECRET, "koji_install_method": "package",
        "koji_web_extra_options": {"KojiGreeting": "hi"}})
    assert rc == 0, out
