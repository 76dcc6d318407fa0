"""Checks of the real Koji hub, database and web deployed by the `hub` scenario.

Every check talks to the running services (the koji CLI, HTTPS, PostgreSQL) and fails when
they misbehave; nothing here is taken from the roles' own variables except the test secrets.
"""

import os
import re
import time

import pytest
import testinfra

HUB_NAME = "hub.kojihub.test"
DB_NAME = "db.kojihub.test"
HUB_URL = "https://%s/kojihub" % HUB_NAME
WEB_URL = "https://%s/koji" % HUB_NAME
CA = "/etc/pki/koji/koji-ca.crt"
ADMIN_PEM = "/etc/pki/koji/admin.pem"


def _login_info(page):
    """The header's login box: `<a href="login">login</a>`, or the user's name and a logout link."""
    match = re.search(r'<span id="loginInfo">(.*?)</span>', page, re.S)
    assert match, "no loginInfo in the page:\n" + page[:2000]
    return match.group(1)


def _host(name):
    # podman exec directly, as tests/deployed_koji.py does: testinfra's ansible backend knows no
    # podman_pipelined and would run every command as an ad-hoc Ansible task.
    return testinfra.get_host("podman://%s" % name)


@pytest.fixture(scope="module")
def hub():
    return _host(HUB_NAME)


@pytest.fixture(scope="module")
def db():
    return _host(DB_NAME)


@pytest.fixture(scope="module")
def outsider():
    return _host("outsider.kojihub.test")


@pytest.fixture(scope="module")
def db_password():
    # The inventory's variables, read by testinfra's ansible backend (ansible-inventory: no
    # connection to the host is made).
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    inventory_host = testinfra.get_host("ansible://%s" % HUB_NAME, ansible_inventory=inventory)
    password = inventory_host.ansible.get_variables().get("koji_db_password")
    assert password, "koji_db_password is not in the scenario's inventory"
    return password


def test_services_enabled_and_running(hub, db):
    assert hub.service("apache2").is_running
    assert hub.service("apache2").is_enabled
    assert db.service("postgresql").is_enabled
    assert db.run("systemctl is-active postgresql@15-main").stdout.strip() == "active"


def test_admin_says_hello(hub):
    result = hub.run("koji moshimoshi")
    assert result.rc == 0, result.stderr
    assert "kojiadmin" in result.stdout
    assert "client certificate" in result.stdout


def test_admin_creates_and_deletes_a_tag(hub):
    tag = "kojiforge-verify-%d" % int(time.time())
    created = hub.run("koji add-tag --arches=x86_64 %s", tag)
    assert created.rc == 0, created.stderr
    info = hub.run("koji taginfo %s", tag)
    assert info.rc == 0 and ("Tag: %s" % tag) in info.stdout, info.stdout + info.stderr
    removed = hub.run("koji remove-tag %s", tag)
    assert removed.rc == 0, removed.stderr
    gone = hub.run("koji taginfo %s", tag)
    assert gone.rc != 0 or "No such tag" in gone.stdout + gone.stderr


def test_call_without_certificate_cannot_write(hub):
    script = (
        "import koji\n"
        "s = koji.ClientSession(%r, {'serverca': %r, 'max_retries': 1})\n"
        "print('anonymous read ok', s.getAPIVersion())\n"
        "try:\n"
        "    s.createTag('kojiforge-anonymous-write')\n"
        "except koji.GenericError as e:\n"
        "    print('refused:', type(e).__name__, e)\n"
        "else:\n"
        "    print('WROTE')\n"
    ) % (HUB_URL, CA)
    result = hub.run("python3 -c %s", script)
    assert result.rc == 0, result.stderr
    assert "anonymous read ok" in result.stdout
    assert "refused:" in result.stdout and "WROTE" not in result.stdout
    assert hub.run("koji taginfo kojiforge-anonymous-write").rc != 0


def test_web_answers_anonymously(hub):
    page = hub.run("curl -sS --fail --cacert %s %s/index", CA, WEB_URL)
    assert page.rc == 0, page.stderr
    assert "<title>" in page.stdout
    info = _login_info(page.stdout)
    assert 'href="login"' in info and "logout" not in info


def test_web_certificate_login(hub):
    jar = "/tmp/kojiforge-verify-cookies"
    hub.run("rm -f %s", jar)
    login = hub.run(
        "curl -sS --fail -L --cacert %s --cert %s -c %s -b %s %s/login",
        CA, ADMIN_PEM, jar, jar, WEB_URL)
    assert login.rc == 0, login.stderr
    page = hub.run("curl -sS --fail --cacert %s -b %s %s/index", CA, jar, WEB_URL)
    assert page.rc == 0, page.stderr
    info = _login_info(page.stdout)
    assert ">kojiadmin</a>" in info and "logout" in info, "the page does not show the logged-in user: " + info


def test_kojifiles_served_read_only(hub):
    listing = hub.run("curl -sS -o /dev/null -w '%%{http_code}' http://%s/kojifiles/", HUB_NAME)
    assert listing.stdout == "200"
    put = hub.run("curl -sS -o /dev/null -w '%%{http_code}' -X PUT --data x "
                  "http://%s/kojifiles/packages/x", HUB_NAME)
    assert put.stdout in ("403", "405")


def test_hub_reaches_database(hub, db_password):
    script = (
        "import psycopg2\n"
        "c = psycopg2.connect(host=%r, dbname='koji', user='koji', password=%r, connect_timeout=5)\n"
        "cur = c.cursor(); cur.execute('SELECT count(*) FROM users'); print('users', cur.fetchone()[0])\n"
    ) % (DB_NAME, db_password)
    result = hub.run("python3 -c %s", script)
    assert result.rc == 0, result.stderr
    assert result.stdout.startswith("users ")


def test_outsider_is_refused_by_postgresql(outsider, db_password):
    result = outsider.run(
        "PGPASSWORD=%s PGCONNECT_TIMEOUT=5 psql -h %s -U koji -d koji -c 'SELECT 1'",
        db_password, DB_NAME)
    assert result.rc != 0
    assert "no pg_hba.conf entry" in result.stderr, result.stderr


def test_admin_has_admin_permission(hub):
    perms = hub.run("koji list-permissions --user kojiadmin")
    assert perms.rc == 0, perms.stderr
    assert "admin" in perms.stdout.split()


@pytest.mark.parametrize("path", [
    "/etc/koji-hub/hub.conf",
    "/etc/kojiweb/web.conf",
    "/etc/koji-hub/hub.conf.d/kojiforge-secrets.conf",
    "/etc/kojiweb/web.conf.d/kojiforge-secrets.conf",
    "/etc/pki/koji/hub.key",
    "/etc/pki/koji/web.key",
    "/etc/pki/koji/kojiweb.pem",
    "/etc/pki/koji/admin.pem",
])
def test_secrets_not_world_readable(hub, path):
    f = hub.file(path)
    assert f.exists, path
    assert f.mode & 0o007 == 0, "%s is mode %o" % (path, f.mode)


def test_pg_hba_not_world_readable(db):
    f = db.file("/etc/postgresql/15/main/pg_hba.conf")
    assert f.mode & 0o077 == 0
