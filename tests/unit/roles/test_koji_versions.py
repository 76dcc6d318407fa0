"""hub.conf and web.conf for each Koji version the collection supports, on EL9 and Debian.

Every option line the templates write (hub.conf and web.conf, and the secrets files beside them in
hub.conf.d/ and web.conf.d/) must be one that version of Koji reads, and the options the role's
variables manage must all be there, each in one file only: Koji reads the conf.d directory first
and the main file last (kojixmlrpc.py load_config: read_config_files([cfdir, (cf, True)]), 1.34.3
:437, 1.35.3 :536; wsgi_publisher.py load_config, 1.34.3 :138, 1.35.3 :137), so an option in
both would be the main file's. The option sets below are data, read from Koji's own
option tables (the hub's config_map in kojihub/kojixmlrpc.py, the web's in
www/kojiweb/wsgi_publisher.py) of the upstream release trees in /work/shared/koji-source, and for
1.36, whose source we cannot get, from its release and migration notes. test_koji_option_tables.py
checks this data against those tables, parsed from the release archives at test time. docs/hub.md
("Koji versions") says which versions ran end to end and which are checked only here.
"""

import configparser
import os
import pathlib
import sys

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from role_templating import load_yaml, run_playbook, trust_as_template, trusted
from test_templates_render import ROLES, TEMPLATE_OVERRIDES, _variables

# koji-1.34.3, kojihub/kojixmlrpc.py:441-520 (load_config's cfgmap).
HUB_1_34 = {
    "DBName", "DBUser", "DBHost", "DBhost", "DBPort", "DBPass", "DBConnectionString", "KojiDir",
    "AuthPrincipal", "AuthKeytab", "ProxyPrincipals", "HostPrincipalFormat", "AllowedKrbRealms",
    "DisableURLSessions", "DNUsernameComponent", "ProxyDNs", "CheckClientIP", "LoginCreatesUser",
    "AllowProxyAuthType", "KojiWebURL", "EmailDomain", "NotifyOnSuccess", "DisableNotifications",
    "Plugins", "PluginPath", "KojiDebug", "KojiTraceback", "VerbosePolicy", "LogLevel", "LogFormat",
    "MissingPolicyOk", "EnableMaven", "EnableWin",
    "RLIMIT_AS", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_DATA", "RLIMIT_FSIZE", "RLIMIT_MEMLOCK",
    "RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_OFILE", "RLIMIT_RSS", "RLIMIT_STACK",
    "MemoryWarnThreshold", "MaxRequestLength", "LockOut", "ServerOffline", "OfflineMessage",
    "MaxNameLengthInternal", "RegexNameInternal", "RegexUserName", "RPMDefaultChecksums",
    "SessionRenewalTimeout",
    # scheduler options
    "MaxJobs", "CapacityOvercommit", "ReadyTimeout", "AssignTimeout", "SoftRefusalTimeout",
    "HostTimeout", "RunInterval",
}
# koji-1.35.3, kojihub/kojixmlrpc.py:420-514 (the module-level config_map): AuthPrincipal and
# AuthKeytab are gone; the repo options (lines 500-513) are new.
HUB_REPO_OPTIONS = {
    "MaxRepoTasks", "MaxRepoTasksMaven", "RepoRetries", "RequestCleanTime", "AllowNewRepo",
    "RepoLag", "RepoAutoLag", "RepoLagWindow", "RepoQueueUser", "DebuginfoTags", "SourceTags",
    "SeparateSourceTags",
}
HUB_1_35 = (HUB_1_34 - {"AuthPrincipal", "AuthKeytab"}) | HUB_REPO_OPTIONS
# Koji 1.36 (https://docs.pagure.org/koji/release_notes/release_notes_1.36/ and its "Migrating
# to Koji 1.36"): RepoLagWindow is gone; DisableURLSessions stays, now defaulting to true. No other
# hub option change is named there.
HUB_1_36 = HUB_1_35 - {"RepoLagWindow"}

# koji-1.34.3 www/kojiweb/wsgi_publisher.py:66-117 and koji-1.35.3 :65-116: the same options.
WEB_1_34 = {
    "SiteName", "KojiHubURL", "KojiFilesURL", "KojiTheme", "KojiGreeting", "LiteralFooter",
    "WebPrincipal", "WebKeytab", "WebCCache", "KrbService", "KrbRDNS", "KrbCanonHost",
    "KrbServerRealm", "WebAuthType", "WebCert", "KojiHubCA", "PythonDebug", "LoginTimeout",
    "Secret", "LoginDisabled", "LibPath", "LogLevel", "LogFormat", "Tasks", "ToplevelTasks",
    "ParentTasks", "MBS_WEB_URL",
    "RLIMIT_AS", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_DATA", "RLIMIT_FSIZE", "RLIMIT_MEMLOCK",
    "RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_OFILE", "RLIMIT_RSS", "RLIMIT_STACK",
}
# HiddenUsers is in Koji's sample web.conf (www/conf/web.conf:45) and www/kojiweb/index.py:348
# reads it, but load_config copies only the table's options, so 1.34.3 and 1.35.3 never see it. The
# role still writes it when koji_web_hidden_users is set (a no-op there, documented so).
WEB_READ_BY_NOBODY = {"HiddenUsers"}
WEB_1_35 = set(WEB_1_34)
# 1.36 moved kojiweb to Jinja2 templates; its notes name no web.conf option change.
WEB_1_36 = set(WEB_1_35)

VERSIONS = {
    "1.34.3": (HUB_1_34, WEB_1_34),
    "1.35.3": (HUB_1_35, WEB_1_35),
    "1.36.1": (HUB_1_36, WEB_1_36),
}

# What the role writes whatever the version (the test inventory adds EmailDomain, CheckClientIP).
HUB_ALWAYS = {
    "DBConnectionString", "KojiDir", "DNUsernameComponent", "ProxyDNs", "LoginCreatesUser",
    "DisableURLSessions", "KojiWebURL", "PluginPath", "Plugins", "LogLevel", "KojiDebug",
    "RunInterval", "ReadyTimeout", "AssignTimeout", "SoftRefusalTimeout", "HostTimeout", "MaxJobs",
    "CapacityOvercommit", "EmailDomain", "CheckClientIP",
}
WEB_ALWAYS = {
    "SiteName", "KojiHubURL", "KojiFilesURL", "WebCert", "KojiHubCA", "WebAuthType", "LoginTimeout",
    "Secret", "LibPath", "LiteralFooter",
}


def _render(os_family, version, template, **extra):
    """Render as on a host where Koji `version` is installed: EL9 by the package method (the role
    reads the version from the `rpm -q` _common records), Debian from source (the staged tree's)."""
    loader, variables = _variables(os_family)
    variables.pop("koji_version")
    if os_family == "RedHat":
        variables["_common_koji_install_fingerprint"] = (
            "koji-hub-%s-1.el9.noarch\npython3-koji-hub-%s-1.el9.noarch" % (version, version))
        variables.pop("_common_koji_staged_version")
    else:
        variables["_common_koji_staged_version"] = version
        variables.pop("_common_koji_install_fingerprint")
    variables.update(trusted(extra))
    templar = Templar(loader=loader, variables=variables)
    return templar.template(trust_as_template(template.read_text(encoding="utf-8")), overrides=TEMPLATE_OVERRIDES)


def _options(text, section):
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # Koji's option names are case-sensitive
    parser.read_string(text)
    return set(parser.options(section))


HUB_CONF = ROLES / "koji_hub" / "templates" / "hub.conf.j2"
WEB_CONF = ROLES / "koji_web" / "templates" / "web.conf.j2"
HUB_SECRETS = ROLES / "koji_hub" / "templates" / "hub-secrets.conf.j2"
WEB_SECRETS = ROLES / "koji_web" / "templates" / "web-secrets.conf.j2"
# What the secrets files hold, and only they.
HUB_SECRET_OPTIONS = {"DBConnectionString"}
WEB_SECRET_OPTIONS = {"Secret"}
REPO_TAGS = {
    "koji_hub_debuginfo_tags": ["f4*-build"],
    "koji_hub_source_tags": ["*-source"],
    "koji_hub_separate_source_tags": ["*-separate"],
}


@pytest.mark.parametrize("os_family", ["RedHat", "Debian"])
@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_hub_conf_writes_only_what_the_version_reads(os_family, version):
    known = VERSIONS[version][0]
    main = _options(_render(os_family, version, HUB_CONF, **REPO_TAGS), "hub")
    secrets = _options(_render(os_family, version, HUB_SECRETS), "hub")
    written = main | secrets
    assert written - known == set(), "Koji %s does not read these hub.conf options" % version
    # Nothing the role manages is dropped for a version that reads it.
    assert (HUB_ALWAYS | (HUB_REPO_OPTIONS & known)) - written == set()
    # The secrets in their own file, and hub.conf (read last, it would win) without them.
    assert secrets == HUB_SECRET_OPTIONS
    assert main & HUB_SECRET_OPTIONS == set()


@pytest.mark.parametrize("os_family", ["RedHat", "Debian"])
@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_web_conf_writes_only_what_the_version_reads(os_family, version):
    known = VERSIONS[version][1]
    main = _options(_render(os_family, version, WEB_CONF, koji_web_hidden_users=[5]), "web")
    secrets = _options(_render(os_family, version, WEB_SECRETS), "web")
    written = main | secrets
    assert written - known - WEB_READ_BY_NOBODY == set(), "Koji %s does not read these web.conf options" % version
    assert WEB_ALWAYS | {"HiddenUsers"} <= written
    assert secrets == WEB_SECRET_OPTIONS
    assert main & WEB_SECRET_OPTIONS == set()


def _as_koji_reads(*texts):
    """The options of TEXTS read in order into one parser, as koji.read_config_files does."""
    parser = configparser.RawConfigParser()
    parser.optionxform = str
    for text in texts:
        parser.read_string(text)
    return parser


@pytest.mark.parametrize("os_family", ["RedHat", "Debian"])
@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_the_secrets_reach_koji_and_only_their_file_holds_them(os_family, version):
    """The conf.d file first, the main file last: the secret values are the secrets file's, and
    neither main file carries them (what --diff shows)."""
    password, secret = "pw-%s-x" % version, "web-secret-%s-0123456789" % version
    hub_conf = _render(os_family, version, HUB_CONF, koji_hub_db_password=password)
    hub_secrets = _render(os_family, version, HUB_SECRETS, koji_hub_db_password=password)
    assert password not in hub_conf
    dsn = _as_koji_reads(hub_secrets, hub_conf).get("hub", "DBConnectionString")
    assert " password='%s' " % password in dsn
    web_conf = _render(os_family, version, WEB_CONF, koji_web_secret=secret)
    web_secrets = _render(os_family, version, WEB_SECRETS, koji_web_secret=secret)
    assert secret not in web_conf
    assert _as_koji_reads(web_secrets, web_conf).get("web", "Secret") == secret


def test_repo_tag_globs_are_written_only_when_set():
    hub_conf = _render("Debian", "1.35.3", HUB_CONF, **REPO_TAGS)
    assert "\nDebuginfoTags = f4*-build\n" in hub_conf
    assert "\nSeparateSourceTags = *-separate\n" in hub_conf
    assert "Tags =" not in _render("Debian", "1.35.3", HUB_CONF)


@pytest.mark.parametrize("os_family", ["RedHat", "Debian"])
def test_unknown_version_is_written_for_the_newest(os_family):
    """Check mode before the first install knows no version: the repositories' newest (1.36)."""
    loader, variables = _variables(os_family)
    for name in ("koji_version", "_common_koji_staged_version", "_common_koji_install_fingerprint"):
        variables.pop(name)
    templar = Templar(loader=loader, variables=variables)
    assert templar.template(trust_as_template("{{ __koji_hub_config_version }}")) == "1.36"
    hub_conf = templar.template(trust_as_template(HUB_CONF.read_text(encoding="utf-8")), overrides=TEMPLATE_OVERRIDES)
    assert "RepoQueueUser = kojira" in hub_conf
    assert "RepoLagWindow" not in hub_conf


def test_pinned_package_version_counts_before_the_install():
    """With nothing installed yet, the package method writes for koji_version."""
    loader, variables = _variables("RedHat")
    variables.pop("_common_koji_install_fingerprint")
    variables["koji_version"] = "1.34.3-1.el9"
    templar = Templar(loader=loader, variables=variables)
    assert templar.template(trust_as_template("{{ __koji_hub_config_version }}")) == "1.34.3"


# ---- koji_db: the schema upgrade scripts a target version runs ---------------------------------
# The schema-upgrade-*.sql names in koji-1.35.3's schemas/ (Koji ships no script for the two
# releases that changed no schema, 1.6 and 1.27); 1.36's notes name schema-upgrade-1.35-1.36.sql.
SCRIPTS_1_35 = ["schema-upgrade-%d.%d-%d.%d.sql" % (1, minor, 1, minor + 1)
                for minor in range(2, 35) if minor not in (5, 26)]
SCRIPT_1_36 = "schema-upgrade-1.35-1.36.sql"
KOJI_DB = ROLES / "koji_db"


def _upgrade_vars(upgrade_from, upgrade_to, names):
    loader = DataLoader()
    variables = trusted(load_yaml(KOJI_DB / "vars" / "main.yml"))
    variables.update({
        "__koji_db_upgrade_from": upgrade_from, "__koji_db_upgrade_to": upgrade_to,
        # what tasks/upgrade_apply.yml's find registers (in the directory's order, not the versions')
        "__koji_db_upgrade_script_files": {"files": [{"path": "/usr/share/koji/" + name}
                                                     for name in sorted(names, reverse=True)]},
    })
    templar = Templar(loader=loader, variables=variables)
    scripts = templar.template(trust_as_template("{{ __koji_db_upgrade_scripts }}"))
    missing = templar.template(trust_as_template("{{ __koji_db_upgrade_missing_scripts }}"))
    return [pathlib.PurePath(s["path"]).name for s in scripts], [s["to"] for s in scripts], missing


@pytest.mark.parametrize("upgrade_from,upgrade_to,names,expected", [
    ("1.35.3", "1.36.1", SCRIPTS_1_35 + [SCRIPT_1_36], [SCRIPT_1_36]),
    ("1.34.3", "1.36.1", SCRIPTS_1_35 + [SCRIPT_1_36], ["schema-upgrade-1.34-1.35.sql", SCRIPT_1_36]),
    ("1.34.3", "1.35.3", SCRIPTS_1_35, ["schema-upgrade-1.34-1.35.sql"]),
    ("1.35.1", "1.35.3", SCRIPTS_1_35, []),
    # across 1.27, which changed no schema
    ("1.25.1", "1.28.0", SCRIPTS_1_35, ["schema-upgrade-1.25-1.26.sql", "schema-upgrade-1.27-1.28.sql"]),
], ids=["1.35-to-1.36", "1.34-to-1.36", "1.34-to-1.35", "patch-release", "across-1.27"])
def test_upgrade_runs_the_scripts_between_the_versions_in_order(upgrade_from, upgrade_to, names, expected):
    scripts, recorded, missing = _upgrade_vars(upgrade_from, upgrade_to, names)
    assert scripts == expected
    # the record moves to each script's target release, in order
    assert recorded == [name[len("schema-upgrade-"):-len(".sql")].split("-")[1] for name in expected]
    assert missing == []


@pytest.mark.parametrize("upgrade_from,names,missing", [
    ("1.35.3", SCRIPTS_1_35, [SCRIPT_1_36]),
    ("1.34.3", SCRIPTS_1_35, [SCRIPT_1_36]),
    ("1.34.3", [name for name in SCRIPTS_1_35 if "1.34-1.35" not in name] + [SCRIPT_1_36],
     ["schema-upgrade-1.34-1.35.sql"]),
])
def test_a_1_36_target_without_its_script_is_missing_it(upgrade_from, names, missing):
    assert _upgrade_vars(upgrade_from, "1.36.1", names)[2] == missing


def test_a_missing_script_stops_the_upgrade_before_any_script_runs(tmp_path):
    """tasks/upgrade_apply.yml for real on this host: a 1.36 target whose Koji lacks the 1.35 -> 1.36
    script fails naming it, and nothing reaches psql (a fake that would record the call)."""
    schemas = tmp_path / "share-koji"
    schemas.mkdir()
    for name in SCRIPTS_1_35 + ["schema.sql"]:
        (schemas / name).write_text("-- empty\n")
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    psql_log = tmp_path / "psql.log"
    (fake_bin / "psql").write_text("#!/bin/sh\necho \"$@\" >> %s\n" % psql_log)
    (fake_bin / "psql").chmod(0o755)
    playbook = tmp_path / "upgrade.yml"
    playbook.write_text(yaml.safe_dump([{
        "hosts": "localhost", "connection": "local", "gather_facts": False,
        "vars_files": [str(KOJI_DB / "defaults" / "main.yml"), str(KOJI_DB / "vars" / "main.yml")],
        "vars": {"koji_db_schema_file": str(schemas / "schema.sql"), "koji_db_password": "x",
                 "__koji_db_upgrade_from": "1.35.3", "__koji_db_upgrade_to": "1.36.1"},
        "environment": {"PATH": "%s:%s" % (fake_bin, os.environ["PATH"])},
        "tasks": [{"ansible.builtin.include_tasks": str(KOJI_DB / "tasks" / "upgrade_apply.yml")}],
    }]))
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("localhost ansible_python_interpreter=%s\n" % sys.executable)
    rc, out = run_playbook(tmp_path, inventory, playbook)
    assert rc != 0, out
    assert "needs schema-upgrade-1.35-1.36.sql from the installed Koji" in " ".join(out.split()), out
    assert not psql_log.exists()


# ---- koji_storage: Koji 1.36's toplink in every other volume ---------------------------------
def _run_toplinks(tmp_path, top, check_mode=False):
    """tasks/volume_toplinks.yml for real on this host, Koji's top directory being TOP: (return
    code, output, the recap's changed count)."""
    playbook = tmp_path / "toplinks.yml"
    playbook.write_text(yaml.safe_dump([{
        "hosts": "localhost", "connection": "local", "gather_facts": False, "check_mode": check_mode,
        "vars": {"koji_storage_dir": str(top)},
        "tasks": [{"ansible.builtin.include_tasks": str(ROLES / "koji_storage" / "tasks" / "volume_toplinks.yml")}],
    }]))
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("localhost ansible_python_interpreter=%s\n" % sys.executable)
    rc, out = run_playbook(tmp_path, inventory, playbook)
    return rc, out, _recap_changed(out)


def _recap_changed(out):
    tail = out[out.rindex("PLAY RECAP"):] if "PLAY RECAP" in out else ""
    return int(tail.split("changed=")[1].split()[0]) if "changed=" in tail else None


def test_each_volume_gets_its_toplink_once(tmp_path):
    top = tmp_path / "mnt-koji"
    for name in ("vol-a", "vol-b", "vol-c"):
        (top / "vol" / name / "packages").mkdir(parents=True)
    os.symlink("../..", str(top / "vol" / "vol-b" / "toplink"))  # made by the site: left alone
    rc, out, changed = _run_toplinks(tmp_path, top, check_mode=True)
    assert (rc, changed) == (0, 1), out
    assert not os.path.lexists(str(top / "vol" / "vol-a" / "toplink"))
    rc, out, changed = _run_toplinks(tmp_path, top)
    assert rc == 0, out
    assert changed == 1, out  # one task, looping over vol-a and vol-c
    for name in ("vol-a", "vol-b", "vol-c"):
        link = top / "vol" / name / "toplink"
        assert link.is_symlink() and os.readlink(str(link)) == "../.."
        assert link.resolve() == top.resolve()
        # the volume's build paths reach the main volume through it
        assert (link / "vol" / name / "packages").is_dir()
    rc, out, changed = _run_toplinks(tmp_path, top)
    assert (rc, changed) == (0, 0), out


def test_no_volume_directory_changes_nothing(tmp_path):
    top = tmp_path / "mnt-koji"
    (top / "packages").mkdir(parents=True)
    rc, out, changed = _run_toplinks(tmp_path, top)
    assert (rc, changed) == (0, 0), out
    assert not (top / "vol").exists()


def test_a_toplink_that_is_not_a_link_stops_before_any_is_made(tmp_path):
    top = tmp_path / "mnt-koji"
    for name in ("vol-a", "vol-b", "vol-c"):
        (top / "vol" / name).mkdir(parents=True)
    (top / "vol" / "vol-b" / "toplink").write_text("not a link\n")
    os.symlink(str(tmp_path), str(top / "vol" / "vol-c" / "toplink"))
    rc, out = _run_toplinks(tmp_path, top)[:2]
    assert rc != 0, out
    flat = " ".join(out.split())
    assert "%s is not a symlink" % (top / "vol" / "vol-b" / "toplink") in flat, out
    assert "%s points to %s" % (top / "vol" / "vol-c" / "toplink", tmp_path.resolve()) in flat, out
    assert not os.path.lexists(str(top / "vol" / "vol-a" / "toplink"))
