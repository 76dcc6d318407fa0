"""The hub talks to PostgreSQL over verified TLS only (issue 15, item 7).

Rendered as the roles render them, on EL9 and Debian, for the production-shaped inventory of
test_templates_render (db.koji.example.com apart from hub.koji.example.com):

- koji_db's pg_hba.conf admits the Koji role from the hub hosts with `hostssl` entries only
  (a plaintext connection finds no entry and is refused), `host` ones only with koji_db_tls off;
- PostgreSQL's server settings turn SSL on with the copy of the certificate the Koji CA issued
  for the database host, whose names include the one the hub connects to;
- koji_hub gives the hub (and koji-sweep-db) one libpq connection string with sslmode=verify-full
  and the Koji CA as sslrootcert, values quoted as libpq reads them, in hub.conf.d's secrets file
  (read before hub.conf, which has no database option).

The molecule cluster scenario shows the same against a running PostgreSQL
(molecule/cluster/tests/test_cluster.py::test_database_refuses_plaintext_and_verifies_tls).
"""

import configparser
import re

import pytest
import yaml
from ansible.template import Templar

from role_templating import trust_as_template, trusted
from test_templates_render import ROLES, TEMPLATE_OVERRIDES, _load, _variables

DB_HOST = "db.koji.example.com"
NETWORKS = ["192.0.2.10/32", "2001:db8::10/128"]  # test_templates_render's __koji_db_client_networks


def _templar(os_family, **overrides):
    loader, variables = _variables(os_family)
    variables.update(trusted(overrides))
    return Templar(loader=loader, variables=variables)


def _render_file(os_family, role, template, **overrides):
    """As the template module renders a file: its backslashes as written (escape_backslashes=False,
    ansible/plugins/action/template.py)."""
    text = (ROLES / role / "templates" / template).read_text(encoding="utf-8")
    return _templar(os_family, **overrides).template(trust_as_template(text), escape_backslashes=False,
                                                     overrides=TEMPLATE_OVERRIDES)


def _value(os_family, expression, **overrides):
    return _templar(os_family, **overrides).template(trust_as_template("{{ %s }}" % expression))


def _ca_value(os_family, expression, **overrides):
    """An expression of koji_ca, with that role's defaults and variables loaded too."""
    loader, variables = _variables(os_family)
    for path in (ROLES / "koji_ca" / "defaults" / "main.yml", ROLES / "koji_ca" / "vars" / "main.yml",
                 ROLES / "koji_ca" / "vars" / ("%s.yml" % os_family)):
        variables.update(trusted(_load(loader, path)))
    variables.update(trusted(overrides))
    return Templar(loader=loader, variables=variables).template(trust_as_template("{{ %s }}" % expression))


def _on_db_host(os_family, **overrides):
    """The variables as they are on the database host (its role's tasks run there)."""
    return dict(inventory_hostname=DB_HOST, group_names=["koji_db"],
                ansible_facts={"fqdn": DB_HOST, "os_family": os_family}, **overrides)


def _koji_role_lines(pg_hba):
    return [line.split() for line in pg_hba.splitlines()
            if line.strip() and not line.startswith("#") and line.split()[0] != "local"]


def parse_libpq(conninfo):
    """keyword=value pairs as libpq's conninfo_parse reads them (values optionally single-quoted,
    backslash escapes inside and outside quotes, whitespace around '=')."""
    result, i, n = {}, 0, len(conninfo)
    while True:
        while i < n and conninfo[i].isspace():
            i += 1
        if i >= n:
            return result
        start = i
        while i < n and conninfo[i] != "=" and not conninfo[i].isspace():
            i += 1
        key = conninfo[start:i]
        while i < n and conninfo[i].isspace():
            i += 1
        assert i < n and conninfo[i] == "=", "missing '=' after %r in %r" % (key, conninfo)
        i += 1
        while i < n and conninfo[i].isspace():
            i += 1
        value = []
        if i < n and conninfo[i] == "'":
            i += 1
            while True:
                assert i < n, "unterminated quoted value of %r" % key
                if conninfo[i] == "\\":
                    value.append(conninfo[i + 1])
                    i += 2
                elif conninfo[i] == "'":
                    i += 1
                    break
                else:
                    value.append(conninfo[i])
                    i += 1
        else:
            while i < n and not conninfo[i].isspace():
                if conninfo[i] == "\\":
                    i += 1
                value.append(conninfo[i])
                i += 1
        assert key not in result, "%s given twice in %r" % (key, conninfo)
        result[key] = "".join(value)


def _connection_string(*files):
    """DBConnectionString as the hub reads hub.conf.d/*.conf, then hub.conf
    (koji.read_config_files(..., raw=True))."""
    parser = configparser.RawConfigParser()
    for text in files:
        parser.read_string(text)
    return parse_libpq(parser.get("hub", "DBConnectionString"))


@pytest.mark.parametrize("os_family", ["RedHat", "Debian"])
def test_pg_hba_admits_the_koji_role_from_the_hub_hosts_over_tls_only(os_family):
    pg_hba = _render_file(os_family, "koji_db", "pg_hba.conf.j2", **_on_db_host(os_family))
    entries = _koji_role_lines(pg_hba)
    assert entries == [["hostssl", "koji", "koji", network, "scram-sha-256"] for network in NETWORKS], pg_hba
    assert not re.search(r"^host(nossl)?\s", pg_hba, re.MULTILINE), "a plaintext entry:\n" + pg_hba
    assert "\nlocal   all       postgres            peer\n" in pg_hba


@pytest.mark.parametrize("os_family", ["RedHat", "Debian"])
def test_pg_hba_is_plaintext_only_when_tls_is_turned_off(os_family):
    pg_hba = _render_file(os_family, "koji_db", "pg_hba.conf.j2", **_on_db_host(os_family, koji_db_tls=False))
    assert [entry[0] for entry in _koji_role_lines(pg_hba)] == ["host", "host"], pg_hba


@pytest.mark.parametrize("os_family,tls_dir", [("RedHat", "/var/lib/pgsql/data"),
                                               ("Debian", "/etc/postgresql/15/main")])
def test_postgresql_serves_tls_with_its_copy_of_the_database_certificate(os_family, tls_dir):
    settings = _value(os_family, "__koji_db_server_settings", **_on_db_host(os_family))
    params = [item["param"] for item in settings]
    values = {item["param"]: item["value"] for item in settings}
    assert values["ssl"] == "on"
    assert values["ssl_cert_file"] == tls_dir + "/kojiforge-server.crt"
    assert values["ssl_key_file"] == tls_dir + "/kojiforge-server.key"
    # The module reloads after each change: SSL goes on once its files are set.
    assert params.index("ssl") > params.index("ssl_cert_file") and params.index("ssl") > params.index("ssl_key_file")
    assert values["password_encryption"] == "scram-sha-256"
    # The copies come from the files the Koji CA issued for this host.
    assert _value(os_family, "__koji_db_tls_issued_cert") == "/etc/pki/koji/postgresql.crt"
    assert _value(os_family, "__koji_db_tls_issued_key") == "/etc/pki/koji/postgresql.key"


def test_tls_off_leaves_the_ssl_settings_alone():
    settings = _value("RedHat", "__koji_db_server_settings", **_on_db_host("RedHat", koji_db_tls=False))
    assert [item["param"] for item in settings] == ["listen_addresses", "port", "password_encryption"]


def test_database_certificate_is_a_server_certificate_for_the_name_the_hub_connects_to():
    # koji_ca issues it to every koji_db host, as it issues the hub's and web's.
    on_db_host = _on_db_host("RedHat", koji_ca_fqdn=DB_HOST, koji_ca_database_alt_names=["pg.koji.example.com"])
    certificates = _ca_value("RedHat", "__koji_ca_certificates", **on_db_host)
    certificate = next(entry for entry in certificates if entry["name"] == "postgresql")
    hub_connects_to = _value("RedHat", "koji_hub_db_host")
    assert hub_connects_to == DB_HOST
    assert certificate["usage"] == "server"
    assert certificate["common_name"] == DB_HOST
    assert hub_connects_to in certificate["alt_names"]
    assert "pg.koji.example.com" in certificate["alt_names"]
    # Its key stays root's (koji_ca runs before PostgreSQL and its user exist); PostgreSQL gets a copy.
    assert (certificate["owner"], certificate["group"], certificate["mode"]) == ("root", "root", "0600")
    # Only database hosts get one.
    on_hub_host = _on_db_host("RedHat", koji_ca_fqdn=DB_HOST)
    on_hub_host["group_names"] = ["koji_hub", "koji_web"]
    others = _ca_value("RedHat", "__koji_ca_certificates", **on_hub_host)
    assert "postgresql" not in [entry["name"] for entry in others]
    # Nor a database the site manages (its server has its own certificate), nor one without TLS.
    for setting in ({"koji_db_manage_server": False}, {"koji_db_tls": False}):
        unused = _ca_value("RedHat", "__koji_ca_certificates", **_on_db_host("RedHat", koji_ca_fqdn=DB_HOST, **setting))
        assert "postgresql" not in [entry["name"] for entry in unused], setting


def test_postgresql_reads_a_key_only_postgres_can_read_copied_on_the_host():
    tasks = yaml.safe_load((ROLES / "koji_db" / "tasks" / "tls.yml").read_text(encoding="utf-8"))
    block = tasks[0]["block"]
    # koji_ca issued it earlier in the run (its own play): no second koji_ca run here.
    assert not [task for task in block if "ansible.builtin.include_role" in task]
    copy = next(task for task in block if "ansible.builtin.copy" in task)
    assert copy["ansible.builtin.copy"]["remote_src"] is True  # the key never goes through the controller
    assert copy["ansible.builtin.copy"]["owner"] == "postgres"
    assert copy["diff"] is False
    key = next(item for item in copy["loop"] if "key" in item["dest"])
    assert key["mode"] == "0600"
    assert copy["notify"] == "Reload PostgreSQL"
    # Copied before PostgreSQL is configured to serve it.
    includes = [task.get("ansible.builtin.include_tasks") for task in
                yaml.safe_load((ROLES / "koji_db" / "tasks" / "main.yml").read_text(encoding="utf-8"))]
    assert includes.index("tls.yml") < includes.index("configure.yml"), includes


@pytest.mark.parametrize("os_family", ["RedHat", "Debian"])
def test_hub_connects_with_verify_full_against_the_koji_ca(os_family):
    hub_conf = _render_file(os_family, "koji_hub", "hub.conf.j2")
    secrets = _render_file(os_family, "koji_hub", "hub-secrets.conf.j2")
    dsn = _connection_string(secrets, hub_conf)
    assert dsn == {
        "host": DB_HOST,
        "port": "5432",
        "dbname": "koji",
        "user": "koji",
        "password": "example-db-password",
        "sslmode": "verify-full",
        "sslrootcert": "/etc/pki/koji/koji-ca.crt",
    }
    # The DB* options Koji would ignore beside DBConnectionString are gone (no second password).
    for text in (hub_conf, secrets):
        assert not re.search(r"^DB(Name|User|Host|host|Port|Pass)\s*=", text, re.MULTILINE), text


def test_hub_connection_string_quotes_values_as_libpq_reads_them():
    password = "it's a \\ pass='word' with spaces"
    secrets = _render_file("RedHat", "koji_hub", "hub-secrets.conf.j2", koji_hub_db_password=password,
                           koji_hub_db_sslmode="prefer", koji_hub_db_ssl_root_cert="")
    dsn = _connection_string(secrets)
    assert dsn["password"] == password
    assert dsn["sslmode"] == "prefer"
    assert "sslrootcert" not in dsn


def test_libpq_parser_reads_libpq_examples():
    """The parser above, on the forms the libpq documentation shows."""
    assert parse_libpq("host=localhost port=5432 dbname=mydb connect_timeout=10") == {
        "host": "localhost", "port": "5432", "dbname": "mydb", "connect_timeout": "10"}
    assert parse_libpq("password = 'a b\\'c\\\\' user=x") == {"password": "a b'c\\", "user": "x"}
    assert parse_libpq("dbname=''") == {"dbname": ""}
