"""koji_db with an externally managed database (koji_db_manage_server false), and PostgreSQL on EL9.

The role's task files are walked as Ansible would run them, from tasks/main.yml through every
include_tasks (and the include_role of _common), each task's `when` (with its block's and its
include's) evaluated with the role's own variables (defaults, vars/main.yml, the OS layers) for an
EL9 or Debian host. A condition that depends on what a task registers at run time and is not given
here counts as "may run". So a task shown never to run is one whose conditions are false from the
inventory alone:

- with koji_db_manage_server false, nothing writes pg_hba.conf, runs ALTER SYSTEM, installs the
  server, initialises a cluster, starts, restarts or reloads PostgreSQL (no task does, no task
  notifies a PostgreSQL handler), creates the role or the database, copies a certificate for the
  server or opens the firewall; what does run against the database passes the connection
  (koji_db_host, koji_db_user, the password, koji_db_sslmode) and is no_log, as PostgreSQL's own
  user nowhere;
- with the default (true) the server tasks are all there, with no connection parameter passed
  (omitted) and as PostgreSQL's user, as before;
- on EL9 PostgreSQL comes from the AppStream module stream, at least the 14 the installed
  community.postgresql's postgresql_alter_system supports; Debian keeps its own packages.
"""

import base64
import pathlib
import re

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from role_templating import load_yaml, trust_as_template, trusted, walk_tasks

try:  # ansible-core 2.19: a value templated to omit raises
    from ansible.errors import AnsibleValueOmittedError
except ImportError:  # older: omit is a placeholder string
    AnsibleValueOmittedError = None

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLES = ROOT / "roles"
ROLE = ROLES / "koji_db"
OMIT = "__omit_place_holder__koji_db_test"
UNKNOWN = "may run"
PASSWORD = "site-db-password-1234"
SITE = {"koji_db_manage_server": False, "koji_db_host": "pg.site.example.com", "koji_db_sslmode": "require",
        "koji_db_password": PASSWORD}
PLATFORMS = {
    "RedHat_9": {"os_family": "RedHat", "distribution": "RedHat", "distribution_major_version": "9"},
    "Debian_12": {"os_family": "Debian", "distribution": "Debian", "distribution_major_version": "12"},
}
# What an upgrade run has decided by the time the tasks below run (tasks/upgrade_check.yml).
UPGRADE = {"__koji_db_upgrade_from": "1.34.3", "__koji_db_upgrade_to": "1.35.3"}
# What the connection check (tasks/external.yml) read from the site's database before an upgrade.
SITE_STATE = {"__koji_db_external_state": {"query_result": [
    {"server_version_num": 160004, "can_create": True, "loaded": True, "recorded": True}]}}
CONNECTION = ("login_host", "login_port", "login_user", "login_password", "ssl_mode", "ca_cert")
POSTGRESQL_HANDLERS = {"Reload PostgreSQL", "Restart PostgreSQL"}


def _layers(facts):
    names = [facts["os_family"], facts["distribution"], "%s_%s" % (facts["os_family"], facts["distribution_major_version"]),
             "%s_%s" % (facts["distribution"], facts["distribution_major_version"])]
    seen = []
    for name in names:
        if name not in seen and (ROLE / "vars" / ("%s.yml" % name)).exists():
            seen.append(name)
    return [ROLE / "vars" / ("%s.yml" % name) for name in seen]


def _variables(platform, **overrides):
    """The role's variables on a host of the platform, as the role loader and set_vars.yml leave them."""
    facts = PLATFORMS[platform]
    variables = {}
    variables.update(load_yaml(ROLE / "defaults" / "main.yml"))
    variables.update(load_yaml(ROLE / "vars" / "main.yml"))
    for path in _layers(facts):
        variables.update(load_yaml(path))
    variables.update({
        "inventory_hostname": "hub.koji.example.com",
        "group_names": ["koji_db", "koji_hub"],
        "groups": {"koji_db": ["hub.koji.example.com"], "koji_hub": ["hub.koji.example.com"],
                   "koji_web": ["hub.koji.example.com"]},
        "ansible_facts": dict(facts, fqdn="hub.koji.example.com", default_ipv4={"address": "192.0.2.10"}),
        "ansible_check_mode": False,
        "role_path": str(ROLE),
        "koji_db_password": "example-db-password",
        "koji_install_method": "package",
        "koji_version": "1.35.3",
    })
    if AnsibleValueOmittedError is None:
        variables["omit"] = OMIT
    variables.update(overrides)
    return trusted(variables)


def _templar(variables):
    return Templar(loader=DataLoader(), variables=variables)


def _render(templar, value):
    """A task argument as the task would get it (OMIT for an omitted one)."""
    if isinstance(value, dict):
        return {k: _render(templar, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(templar, v) for v in value]
    if not isinstance(value, str):
        return value
    try:
        return templar.template(trust_as_template(value))
    except Exception as error:  # pylint: disable=broad-except
        if AnsibleValueOmittedError is not None and isinstance(error, AnsibleValueOmittedError):
            return OMIT
        raise


def _condition(templar, condition):
    """True, False or UNKNOWN (it needs a value only the run has)."""
    if isinstance(condition, bool):
        return condition
    try:
        result = templar.template(trust_as_template("{%% if %s %%}True{%% else %%}False{%% endif %%}" % condition))
    except Exception:  # pylint: disable=broad-except
        return UNKNOWN
    return result in (True, "True")  # ansible-core < 2.19 turns the string into a boolean


def _all(values):
    if False in values:
        return False
    return UNKNOWN if UNKNOWN in values else True


def _conditions(task):
    when = task.get("when", [])
    return when if isinstance(when, list) else [when]


def _walk(templar, path, inherited=True):
    """(file, task, status) of every task a run of `path` reaches; status True, False or UNKNOWN."""
    for task in load_yaml(path) or []:
        yield from _walk_task(templar, path, task, inherited)


def _walk_task(templar, path, task, inherited):
    status = _all([inherited] + [_condition(templar, c) for c in _conditions(task)])
    yield path.name, task, status
    for key in ("block", "rescue", "always"):
        for child in task.get(key) or []:
            yield from _walk_task(templar, path, child, status)
    include = task.get("ansible.builtin.include_tasks")
    if include and "{{" not in include:
        yield from _walk(templar, path.parent / include, status)
    role = task.get("ansible.builtin.include_role")
    if role and role["name"] == "kojiforge.koji._common":
        yield from _walk(templar, ROLES / "_common" / "tasks" / role["tasks_from"], status)


def _run(platform, **overrides):
    templar = _templar(_variables(platform, **overrides))
    return templar, [(name, task, status) for name, task, status in _walk(templar, ROLE / "tasks" / "main.yml")
                     if status is not False]


def _module(task):
    return next((key for key in task if isinstance(key, str) and "." in key and key.count(".") == 2), None)


def _is_server_task(templar, task):
    """A task that changes or restarts the PostgreSQL server, or makes its role or database."""
    module = _module(task)
    args = task.get(module) if module else None
    if module in ("community.postgresql.postgresql_alter_system", "community.postgresql.postgresql_user",
                  "community.postgresql.postgresql_db", "ansible.posix.firewalld", "ansible.builtin.template"):
        return True
    if module == "ansible.builtin.service":
        return _render(templar, args["name"]) == _render(templar, "{{ __koji_db_service }}")
    if module == "ansible.builtin.package":
        return _render(templar, args["name"]) == _render(templar, "{{ __koji_db_server_packages }}")
    if module == "ansible.builtin.command" and "argv" in args:
        return args["argv"] == "{{ __koji_db_initdb_argv }}"
    if module == "ansible.builtin.copy":
        return "postgres" in str(args.get("owner"))
    include = task.get("ansible.builtin.include_tasks") or ""
    role = task.get("ansible.builtin.include_role") or {}
    return include == "configure.yml" or role.get("tasks_from") == "firewall.yml"


def _notified(task):
    notify = task.get("notify", [])
    return set(notify if isinstance(notify, list) else [notify])


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
@pytest.mark.parametrize("upgrade", [False, True], ids=["fresh", "upgrade"])
def test_external_mode_runs_nothing_on_a_server(platform, upgrade):
    templar, runs = _run(platform, **dict(SITE, **(dict(UPGRADE, **SITE_STATE) if upgrade else {})))
    names = [task.get("name") for _file, task, _status in runs]
    server = [task.get("name") for _file, task, _status in runs if _is_server_task(templar, task)]
    assert server == [], "tasks for the server run with koji_db_manage_server false: %s" % server
    notified = set().union(*(_notified(task) for _file, task, _status in runs))
    assert not notified & POSTGRESQL_HANDLERS, notified
    # What it does instead: the client, the connection check before Koji is installed, the schema.
    for expected in ("External database | Install the PostgreSQL client and psycopg2 (no server)",
                     "External database | Connect to the database as the Koji role",
                     "External database | Require the database to answer as the Koji role",
                     "Load Koji's schema as the Koji role", "Create the table of the schema version record",
                     "Record the Koji version of the schema (kojiforge_schema_version)",
                     "Add the first administrator"):
        assert expected in names, expected
    assert names.index("External database | Require the database to answer as the Koji role") < names.index(
        "Install Koji (for its schema)")
    if upgrade:
        for expected in ("Upgrade | Dump the database (the way back)", "Upgrade | Require a pg_dump that can dump the site's server",
                         "Upgrade | Run, as the Koji role, {{ __koji_db_upgrade_script.path | basename }}"):
            assert expected in names, expected
        # Its dumps belong to root: there is no PostgreSQL user on this host.
        dump_dir = next(task for _f, task, _s in runs if task.get("name") == "Upgrade | Create the directory for the dumps taken before upgrades")
        assert _render(templar, dump_dir["ansible.builtin.file"]["owner"]) == "root"


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_server_mode_keeps_the_server_tasks(platform):
    templar, runs = _run(platform, **UPGRADE)
    names = {task.get("name") for _file, task, _status in runs if _is_server_task(templar, task)}
    assert {"Install PostgreSQL", "Start PostgreSQL and enable it at boot", "Set the server settings",
            "Write pg_hba.conf (local peer access, the Koji role from the allowed clients only, over TLS)",
            "Create the Koji role", "Create the Koji database",
            "TLS | Give PostgreSQL its copy of the certificate and key"} <= names, names
    assert not [task for _f, task, _s in runs if task.get("name", "").startswith("External database")]


def _database_tasks(runs):
    """The tasks that talk to PostgreSQL: community.postgresql modules, psql and pg_dump."""
    found = []
    for _file, task, _status in runs:
        module = _module(task)
        if module and module.startswith("community.postgresql."):
            found.append(task)
        elif module == "ansible.builtin.command" and isinstance(task[module].get("argv"), list) \
                and task[module]["argv"][0] in ("psql", "pg_dump") and "--version" not in task[module]["argv"]:
            found.append(task)
    return found


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_external_mode_connects_as_the_koji_role_with_no_log(platform):
    templar, runs = _run(platform, **dict(SITE, koji_db_ssl_root_cert="/etc/pki/site/root.crt", **UPGRADE, **SITE_STATE))
    tasks = _database_tasks(runs)
    assert len(tasks) >= 9, [t["name"] for t in tasks]
    for task in tasks:
        module = _module(task)
        assert _render(templar, task.get("no_log", False)) is True, task["name"]
        assert _render(templar, task.get("become", False)) is False, task["name"]
        if module.startswith("community.postgresql."):
            args = _render(templar, {k: v for k, v in task[module].items() if k in CONNECTION})
            assert (args["login_host"], args["login_port"], args["login_user"], args["login_password"],
                    args["ssl_mode"], args["ca_cert"]) == (
                "pg.site.example.com", 5432, "koji", PASSWORD, "require", "/etc/pki/site/root.crt"), task["name"]
        else:
            environment = _render(templar, task["environment"])
            assert {k: environment[k] for k in ("PGHOST", "PGUSER", "PGPASSWORD", "PGSSLMODE", "PGSSLROOTCERT")} == {
                "PGHOST": "pg.site.example.com", "PGUSER": "koji", "PGPASSWORD": PASSWORD, "PGSSLMODE": "require",
                "PGSSLROOTCERT": "/etc/pki/site/root.crt"}, task["name"]


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_server_mode_connects_as_before(platform):
    templar, runs = _run(platform, **UPGRADE)
    tasks = _database_tasks(runs)
    assert len(tasks) >= 9
    for task in tasks:
        module = _module(task)
        assert _render(templar, task.get("become")) is True, task["name"]
        assert task.get("become_user") == "postgres", task["name"]
        assert _render(templar, task.get("no_log", False)) in (False, True), task["name"]
        if task["name"] == "Create the Koji role":
            assert task["no_log"] is True
        elif module.startswith("community.postgresql."):
            assert _render(templar, task.get("no_log", False)) is False, task["name"]
            args = _render(templar, {k: v for k, v in task[module].items() if k in CONNECTION})
            for name in ("login_host", "login_user", "login_password", "ssl_mode", "ca_cert"):
                assert args.get(name, OMIT) == OMIT, (task["name"], name)
        else:
            environment = _render(templar, task["environment"])
            assert set(environment) <= {"PGOPTIONS"}, task["name"]


def _task(path, name):
    return next(task for task in walk_tasks(load_yaml(ROLE / "tasks" / path)) if task.get("name") == name)


def _that(templar, task):
    that = task["ansible.builtin.assert"]["that"]
    return _all([_condition(templar, c) for c in (that if isinstance(that, list) else [that])])


def test_a_database_it_cannot_reach_stops_the_run_naming_where_without_the_password():
    task = _task("external.yml", "External database | Require the database to answer as the Koji role")
    failed = {"failed": True, "msg": "unable to connect to database: connection to server at \"pg.site.example.com\" "
                                     "(192.0.2.20), port 5433 failed: FATAL:  database \"koji\" does not exist "
                                     "(password %s)" % PASSWORD}
    templar = _templar(_variables("Debian_12", **dict(SITE, koji_db_port=5433, __koji_db_external_state=failed)))
    assert _that(templar, task) is False
    message = _render(templar, task["ansible.builtin.assert"]["fail_msg"])
    for part in ("pg.site.example.com", "port 5433", "database koji", "as koji", "does not exist"):
        assert part in message, (part, message)
    assert PASSWORD not in message
    answered = _templar(_variables("Debian_12", **dict(SITE, __koji_db_external_state={"query_result": [
        {"server_version_num": 160004, "can_create": True, "loaded": False, "recorded": False}]})))
    assert _that(answered, task) is True


@pytest.mark.parametrize("row,allowed", [
    ({"can_create": False, "loaded": False, "recorded": False}, False),
    ({"can_create": False, "loaded": True, "recorded": True}, True),
    ({"can_create": True, "loaded": False, "recorded": False}, True),
])
def test_a_role_that_cannot_create_the_tables_is_refused_before_the_schema(row, allowed):
    task = _task("external.yml", "External database | Require the right to create Koji's tables")
    state = {"query_result": [dict(row, server_version_num=150000)]}
    templar = _templar(_variables("Debian_12", **dict(SITE, __koji_db_external_state=state)))
    conditions = _all([_condition(templar, c) for c in _conditions(task)])
    assert (conditions is False or _that(templar, task) is True) is allowed


@pytest.mark.parametrize("registered,expected", [
    ({"koji_db_manage_server": True, "__koji_db_recorded_version": {"stdout": "1.34.3\n"}}, "1.34.3"),
    ({"koji_db_manage_server": True, "__koji_db_recorded_version": {"stdout": "unrecorded"}}, "unrecorded"),
    ({"koji_db_manage_server": True}, ""),
    (dict(SITE, __koji_db_external_state={"query_result": [{"loaded": True, "recorded": True}]},
          __koji_db_external_recorded={"query_result": [{"version": "1.34.3"}]}), "1.34.3"),
    (dict(SITE, __koji_db_external_state={"query_result": [{"loaded": True, "recorded": True}]},
          __koji_db_external_recorded={"query_result": []}), ""),
    (dict(SITE, __koji_db_external_state={"query_result": [{"loaded": True, "recorded": False}]}), "unrecorded"),
    (dict(SITE, __koji_db_external_state={"query_result": [{"loaded": False, "recorded": False}]}), "none"),
    (dict(SITE, __koji_db_external_state={"skipped": True}), ""),
])
def test_the_recorded_version_is_read_the_same_way_in_both_modes(registered, expected):
    task = _task("upgrade_check.yml", "Upgrade | Remember the versions")
    variables = _variables("RedHat_9", **registered)
    variables.update(trusted(task["vars"]))
    assert _render(_templar(variables), "{{ __koji_db_recorded }}") == expected


def test_libpq_environment_is_empty_on_the_server_and_complete_for_the_site():
    assert _render(_templar(_variables("Debian_12")), "{{ __koji_db_libpq_environment }}") == {}
    site = _render(_templar(_variables("Debian_12", **SITE)), "{{ __koji_db_libpq_environment }}")
    assert site == {"PGHOST": "pg.site.example.com", "PGUSER": "koji", "PGPASSWORD": PASSWORD, "PGSSLMODE": "require"}


@pytest.mark.parametrize("overrides,accepted", [
    ({}, True),
    (SITE, True),
    (dict(SITE, koji_db_sslmode="verify-full"), False),
    (dict(SITE, koji_db_sslmode="verify-full", koji_db_ssl_root_cert="/etc/pki/site/root.crt"), True),
    (dict(SITE, koji_db_sslmode="required"), False),
    (dict(SITE, koji_db_host=""), False),
])
def test_preflight_checks_how_the_database_is_reached(overrides, accepted):
    task = _task("preflight.yml", "Require a known way to reach the database")
    assert _that(_templar(_variables("Debian_12", **overrides)), task) is accepted


@pytest.mark.parametrize("stream,accepted", [("16", True), ("15", True), ("13", False), ("sixteen", False), (16, False)])
def test_preflight_requires_a_stream_the_alter_system_module_supports(stream, accepted):
    task = _task("preflight.yml", "Require a PostgreSQL module stream of 14 or later")
    assert _that(_templar(_variables("RedHat_9", koji_db_postgresql_el_stream=stream)), task) is accepted


@pytest.mark.parametrize("platform,pg_version,accepted", [
    ("RedHat_9", "16", True), ("RedHat_9", "13", False), ("Debian_12", "15", True)])
def test_an_existing_cluster_of_another_major_version_is_refused(platform, pg_version, accepted):
    task = _task("preflight.yml", "Refuse a database cluster of another PostgreSQL major version")
    content = base64.b64encode(("%s\n" % pg_version).encode()).decode()
    templar = _templar(_variables(platform, __koji_db_pg_version_file={"content": content}))
    assert _that(templar, task) is accepted


def _alter_system_minimum():
    """The least server version (as server_version_num) the installed postgresql_alter_system supports."""
    import ansible_collections.community.postgresql.plugins.modules.postgresql_alter_system as module  # pylint: disable=import-outside-toplevel
    return int(re.search(r"^PG_SUPPORTED_VER = (\d+)$", pathlib.Path(module.__file__).read_text(encoding="utf-8"),
                         re.MULTILINE).group(1))


@pytest.mark.parametrize("stream", ["16", "15"])
def test_el9_installs_postgresql_from_the_module_stream(stream):
    templar = _templar(_variables("RedHat_9", koji_db_postgresql_el_stream=stream))
    assert _render(templar, "{{ __koji_db_server_packages }}") == ["@postgresql:%s/server" % stream, "python3-psycopg2"]
    client = _render(templar, "{{ __koji_db_client_install_packages }}")
    assert client == ["@postgresql:%s/client" % stream, "python3-psycopg2"]
    assert _render(templar, "{{ __koji_db_server_major }}") == stream
    # The stream's packages keep EL's layout: one service, one data directory, postgresql-setup.
    assert _render(templar, "{{ [__koji_db_service, __koji_db_data_dir, __koji_db_hba_file, __koji_db_initdb_argv] }}") == [
        "postgresql", "/var/lib/pgsql/data", "/var/lib/pgsql/data/pg_hba.conf", ["postgresql-setup", "--initdb"]]


def test_the_default_el9_stream_is_one_postgresql_alter_system_supports():
    pytest.importorskip("ansible_collections.community.postgresql.plugins.modules.postgresql_alter_system")
    stream = int(load_yaml(ROLE / "defaults" / "main.yml")["koji_db_postgresql_el_stream"])
    assert stream * 10000 >= _alter_system_minimum()


def test_debian_keeps_its_own_postgresql():
    templar = _templar(_variables("Debian_12"))
    assert _render(templar, "{{ __koji_db_server_packages }}") == ["postgresql", "python3-psycopg2"]
    assert _render(templar, "{{ __koji_db_client_install_packages }}") == ["postgresql-client", "python3-psycopg2"]
    assert _render(templar, "{{ __koji_db_server_major }}") == "15"


@pytest.mark.parametrize("hostvars,accepted", [
    ({"db.koji.example.com": {}}, True),
    ({"db.koji.example.com": {"koji_db_manage_server": True}}, True),
    ({"db.koji.example.com": {"koji_db_manage_server": False}}, False),
])
def test_koji_backup_refuses_a_database_the_site_manages(hostvars, accepted):
    tasks = load_yaml(ROLES / "koji_backup" / "tasks" / "preflight.yml")
    task = next(t for t in tasks if t.get("name") == "Preflight | Refuse a database the site manages")
    templar = _templar(trusted({"hostvars": hostvars, "koji_backup_db_host": "db.koji.example.com"}))
    assert _all([_condition(templar, c) for c in _conditions(task)]) is True
    assert _that(templar, task) is accepted


@pytest.mark.parametrize("pg_dump,server,accepted", [
    ("pg_dump (PostgreSQL) 15.10 (Debian 15.10-0+deb12u1)", 160004, False),
    ("pg_dump (PostgreSQL) 16.8", 160004, True),
    ("pg_dump (PostgreSQL) 16.8", 150012, True),
])
def test_an_upgrade_needs_a_pg_dump_as_new_as_the_site_server(pg_dump, server, accepted):
    task = _task("upgrade_prepare.yml", "Upgrade | Require a pg_dump that can dump the site's server")
    state = {"query_result": [{"server_version_num": server, "can_create": True, "loaded": True, "recorded": True}]}
    variables = _variables("Debian_12", **dict(SITE, __koji_db_external_state=state,
                                               __koji_db_pg_dump_version={"stdout": pg_dump}))
    variables.update(trusted(task["vars"]))
    templar = _templar(variables)
    assert _all([_condition(templar, c) for c in _conditions(task)]) is True
    assert _that(templar, task) is accepted
