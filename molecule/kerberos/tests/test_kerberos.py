"""Kerberos beside certificates on the real Koji (koji_authentication: both).

A person with a ticket uses the CLI and logs in to the web (SPNEGO); the builder and kojira log
in with their keytabs; an expired ticket, no ticket, a forged token and a person Koji blocks get
no session; the certificate logins (the admin, the web's proxy login) are unchanged. Every check
asks the running services: the koji CLI, curl against Apache, the hub's database.
"""

import re
import subprocess
import time

import pytest
import testinfra

HUB_NAME = "hub.kojikrb.test"
BUILDER_NAME = "builder1.kojikrb.test"
REALM = "KOJIKRB.TEST"
HUB_URL = "https://%s/kojihub" % HUB_NAME
WEB_URL = "https://%s/koji" % HUB_NAME
CA = "/etc/pki/koji/koji-ca.crt"
# koji's AUTHTYPES: NORMAL 0, KERBEROS 1, SSL 2, GSSAPI 3 (the sessions table's authtype).
SSL, GSSAPI = 2, 3
# The person keytabs prepare.yml made on the hub, which stands in for people's machines here.
PEOPLE = "/root/people"
PROFILE = "/etc/koji.conf.d/kojikrb-kerberos.conf"
CERT_PROFILE = "/etc/koji.conf.d/kojikrb-cert.conf"
ADMIN_PEM = "/etc/pki/koji/admin.pem"


def _host(name):
    return testinfra.get_host("podman://%s" % name)


@pytest.fixture(scope="module")
def hub():
    host = _host(HUB_NAME)
    # A client profile that logs in with the ticket cache (KRB5CCNAME), as a person's would.
    host.run_test(
        "mkdir -p /etc/koji.conf.d && printf '%%s\\n' '[kojikrb-kerberos]' 'server = %s' "
        "'weburl = %s' 'serverca = %s' 'authtype = kerberos' > %s",
        HUB_URL, WEB_URL, CA, PROFILE)
    # ... and one that logs in with the admin's certificate, as before Kerberos.
    host.run_test(
        "printf '%%s\n' '[kojikrb-cert]' 'server = %s' 'serverca = %s' 'authtype = ssl' "
        "'cert = %s' > %s", HUB_URL, CA, ADMIN_PEM, CERT_PROFILE)
    return host


@pytest.fixture(scope="module")
def builder():
    return _host(BUILDER_NAME)


@pytest.fixture(scope="module")
def kdc(hub):
    """The KDC host, standing in for the machines of people who hold keytabs made there (dave of
    KOJIKRB.TEST, mallory of OTHERKRB.TEST), with the Koji CA's certificate to check the hub's."""
    host = _host("kdc.kojikrb.test")
    ca = hub.file(CA).content_string
    subprocess.run(["podman", "exec", "-i", "kdc.kojikrb.test", "sh", "-c", "cat > /root/koji-ca.crt"],
                   input=ca, universal_newlines=True, check=True)
    return host


def kinit(hub, person, ccache, lifetime=None):
    """A ticket for PERSON in CCACHE, from the person's keytab (no password anywhere)."""
    args = ["kinit", "-c", ccache, "-k", "-t", "%s/%s.keytab" % (PEOPLE, person)]
    if lifetime:
        args += ["-l", lifetime]
    hub.run_test(" ".join(args + ["%s@%s" % (person, REALM)]))


def koji_as(hub, ccache, command):
    """The koji CLI with the Kerberos profile and the ticket cache CCACHE (COMMAND is trusted)."""
    return hub.run("KRB5CCNAME=%s koji -p kojikrb-kerberos " + command, ccache)


def sql(hub, query):
    result = hub.run("runuser -u postgres -- psql -X -At -d koji -c %s", query)
    assert result.rc == 0, result.stderr
    return result.stdout.strip()


def session_authtypes(hub, user, current=False):
    """The authtypes of USER's sessions (each login is one; the CLI logs out when it is done, which
    expires its session): all of them, or with CURRENT those that have not expired."""
    rows = sql(hub, "SELECT DISTINCT s.authtype FROM sessions s JOIN users u ON u.id = s.user_id "
                    "WHERE u.name = '%s'%s" % (user, " AND s.expired IS FALSE" if current else ""))
    return {int(row) for row in rows.split()}


def test_person_with_ticket_uses_the_cli(hub):
    kinit(hub, "alice", "FILE:/tmp/krb5cc_alice")
    result = koji_as(hub, "FILE:/tmp/krb5cc_alice", "moshimoshi")
    assert result.rc == 0, result.stdout + result.stderr
    assert "alice" in result.stdout
    assert "GSSAPI" in result.stdout, result.stdout
    # Koji made the user from the principal (LoginCreatesUser) and mapped the principal to it.
    user = koji_as(hub, "FILE:/tmp/krb5cc_alice", "call --json-output getUser alice")
    assert user.rc == 0, user.stderr
    assert '"name": "alice"' in user.stdout
    assert "alice@%s" % REALM in user.stdout


def _web_login(hub, ccache, jar):
    """curl with SPNEGO (--negotiate) to the web's login; returns 'status redirect'."""
    return hub.run(
        "KRB5CCNAME=%s curl -sS --negotiate -u : --cacert %s -c %s -b %s -o /dev/null "
        "-w '%%{http_code} %%{redirect_url}' %s/login",
        ccache, CA, jar, jar, WEB_URL)


def _login_info(hub, jar):
    page = hub.check_output("curl -sS --cacert %s -b %s %s/index", CA, jar, WEB_URL)
    match = re.search(r'<span id="loginInfo">(.*?)</span>', page, re.S)
    assert match, "no loginInfo in the page:\n" + page[:2000]
    return match.group(1)


def test_person_with_ticket_logs_in_to_the_web(hub):
    kinit(hub, "alice", "FILE:/tmp/krb5cc_alice_web")
    hub.run_test("rm -f /tmp/alice.jar")
    result = _web_login(hub, "FILE:/tmp/krb5cc_alice_web", "/tmp/alice.jar")
    assert result.rc == 0, result.stderr
    status, target = result.stdout.split(" ", 1)
    # koji-web sets its login cookie and sends the browser back.
    assert status == "302", result.stdout
    assert target.startswith("https://%s/koji" % HUB_NAME), result.stdout
    info = _login_info(hub, "/tmp/alice.jar")
    assert "alice" in info and "logout" in info, info
    # The web logged in to the hub for alice with its own certificate (AllowProxyAuthType):
    # alice's web session is a Kerberos one.
    assert GSSAPI in session_authtypes(hub, "alice")


def test_web_login_without_a_ticket_is_refused(hub):
    hub.run_test("rm -f /tmp/nobody.jar")
    result = _web_login(hub, "FILE:/tmp/krb5cc_nobody", "/tmp/nobody.jar")
    assert result.stdout.split(" ")[0] == "401", result.stdout
    assert "login" in _login_info(hub, "/tmp/nobody.jar")


def test_forged_token_is_refused(hub):
    for url in ("%s/login" % WEB_URL, "%s/ssllogin" % HUB_URL):
        status = hub.check_output(
            "curl -sS --cacert %s -o /dev/null -w '%%{http_code}' "
            "-H 'Authorization: Negotiate YIIBhwYJKoZIhvcSAQICAQBuggF2MIIBcqADAgEFoQMCAQ6iBwMFAAAAAACj' %s",
            CA, url)
        assert status in ("401", "403"), (url, status)


def test_principal_of_a_realm_not_allowed_is_refused(kdc):
    """mallory@OTHERKRB.TEST gets a valid ticket for the hub through the realms' trust, and
    Apache refuses it at both logins (koji_hub_kerberos_allowed_realms, koji_web_..._realms);
    dave@KOJIKRB.TEST, from the same machine, gets in."""
    def web_login(person, realm):
        ccache = "FILE:/tmp/krb5cc_%s" % person
        kdc.run_test("kinit -c %s -k -t /root/people/%s.keytab %s@%s", ccache, person, person, realm)
        web = kdc.run("KRB5CCNAME=%s curl -sS --negotiate -u : --cacert /root/koji-ca.crt -o /dev/null "
                      "-w '%%{http_code}' %s/login", ccache, WEB_URL)
        hub_login = kdc.run("KRB5CCNAME=%s curl -sS --negotiate -u : --cacert /root/koji-ca.crt -o /dev/null "
                            "-w '%%{http_code}' -X POST -H 'Content-Type: text/xml' %s/ssllogin",
                            ccache, HUB_URL)
        tickets = kdc.check_output("klist -c %s", ccache)
        return web.stdout, hub_login.stdout, tickets

    web, hub_login, tickets = web_login("mallory", "OTHERKRB.TEST")
    # The trust worked: mallory holds a ticket for the hub's HTTP principal ...
    assert "HTTP/%s@%s" % (HUB_NAME, REALM) in tickets, tickets
    # ... which Apache accepted and then refused for its realm.
    assert web == "401", web
    assert hub_login == "401", hub_login
    web, hub_login = web_login("dave", REALM)[:2]
    assert web == "302", web
    # Past Apache, the hub itself answers the bare POST (with a fault or an error of its own,
    # not Apache's refusal at the door).
    assert hub_login not in ("401", "403", "000"), hub_login


def test_expired_ticket_gets_no_session(hub):
    # A 10-second ticket; the KDC's clock allowance is 5 s (prepare.yml).
    kinit(hub, "alice", "FILE:/tmp/krb5cc_alice_short", lifetime="10s")
    assert koji_as(hub, "FILE:/tmp/krb5cc_alice_short", "moshimoshi").rc == 0
    time.sleep(20)
    result = koji_as(hub, "FILE:/tmp/krb5cc_alice_short", "moshimoshi")
    assert result.rc != 0, result.stdout
    assert "alice" not in result.stdout
    hub.run_test("rm -f /tmp/expired.jar")
    web = _web_login(hub, "FILE:/tmp/krb5cc_alice_short", "/tmp/expired.jar")
    assert web.stdout.split(" ")[0] == "401", web.stdout


def test_person_blocked_in_koji_is_refused(hub):
    kinit(hub, "bob", "FILE:/tmp/krb5cc_bob")
    assert koji_as(hub, "FILE:/tmp/krb5cc_bob", "moshimoshi").rc == 0
    hub.run_test("koji disable-user bob")
    try:
        result = koji_as(hub, "FILE:/tmp/krb5cc_bob", "moshimoshi")
        assert result.rc != 0, result.stdout
        assert "not allowed" in result.stdout + result.stderr, result.stdout + result.stderr
    finally:
        hub.run_test("koji enable-user bob")


def test_admin_writes_log_in_with_the_admin_keytab(hub):
    # root's profile on the hub (koji_hub) uses the admin's keytab, and Koji mapped the principal
    # to the existing admin user at its first login (the roles' writes made it).
    profile = hub.file("/root/.koji/config").content_string
    assert "authtype = kerberos" in profile and "keytab = /root/kojiadmin.keytab" in profile
    result = hub.run("koji moshimoshi")
    assert result.rc == 0, result.stdout + result.stderr
    assert "kojiadmin" in result.stdout and "GSSAPI" in result.stdout, result.stdout
    user = hub.check_output("koji call --json-output getUser kojiadmin")
    assert "kojiadmin@%s" % REALM in user, user
    # config.yml declared carol with her principal before her first login.
    carol = hub.check_output("koji call --json-output getUser carol")
    assert "carol@%s" % REALM in carol, carol


def test_builder_logs_in_with_its_keytab(hub, builder):
    config = builder.file("/etc/kojid/kojid.conf").content_string
    assert re.search(r"^krb_principal = compile/%s@%s$" % (re.escape(BUILDER_NAME), REALM), config, re.M)
    assert not re.search(r"^cert\s*=", config, re.M), config
    # The registration mapped the host principal to the builder's user.
    info = hub.check_output("koji call --json-output getUser %s", BUILDER_NAME)
    assert "compile/%s@%s" % (BUILDER_NAME, REALM) in info, info
    deadline = time.time() + 90
    while time.time() < deadline:
        if GSSAPI in session_authtypes(hub, BUILDER_NAME, current=True):
            break
        time.sleep(3)
    assert session_authtypes(hub, BUILDER_NAME, current=True) == {GSSAPI}
    # ... and kojid keeps checking in on that session.
    host = hub.check_output("koji call --json-output getHost %s", BUILDER_NAME)
    assert '"enabled": true' in host and '"ready": true' in host, host


def test_kojira_logs_in_with_its_keytab(hub):
    config = hub.file("/etc/kojira/kojira.conf").content_string
    assert re.search(r"^principal = kojira/%s@%s$" % (re.escape(HUB_NAME), REALM), config, re.M)
    assert not re.search(r"^cert\s*=", config, re.M), config
    assert hub.service("kojira").is_running
    deadline = time.time() + 90
    while time.time() < deadline and GSSAPI not in session_authtypes(hub, "kojira", current=True):
        time.sleep(3)
    assert session_authtypes(hub, "kojira", current=True) == {GSSAPI}


def test_certificate_login_is_unchanged(hub):
    # The admin's certificate, through the same /kojihub/ssllogin that now also takes tickets.
    result = hub.run("koji -p kojikrb-cert moshimoshi")
    assert result.rc == 0, result.stdout + result.stderr
    assert "kojiadmin" in result.stdout and "client certificate" in result.stdout, result.stdout
    assert SSL in session_authtypes(hub, "kojiadmin")
