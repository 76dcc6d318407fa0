"""Adoption: after the first two runs of site.yml (converge, idempotence) the operator changes
the builder by hand, site.yml runs once more, and none of what the site owns may have been
overwritten: the hand-disabled builder and its hand-added channel, the site's PostgreSQL (its
pg_hba.conf, its ALTER SYSTEM settings, its process: never restarted nor reloaded), the site's
CA (its files, and the CA every certificate comes from), the certificate the site once gave
alice. Runs in file order; the module fixture `reconverged` makes the hand changes and the run.
"""

import json

import pytest
from conftest import BUILDER1, CONVERGE, DB, HUB, changed_tasks, get_host, hub_call, koji, quote, recap, run_playbook
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes

PKI = "/etc/pki/koji"
KOJI_CA = PKI + "/koji-ca.crt"
SITE_CA_DIR = "/root/site-ca"
SITE_CA = SITE_CA_DIR + "/ca.crt"
# What prepare.yml recorded before the collection first ran (on db and on the hub).
BASELINE = "/root/kojiforge-adoption-baseline.json"
PG_CONF_DIR = "/etc/postgresql/15/main"
PG_DATA_DIR = "/var/lib/postgresql/15/main"
MANUAL = "manual"
COMMENT = "drained by hand for a disk swap"

# A client certificate login on the hub, as a person's client does it: the key and certificate
# file in argv[1]; prints the Koji user the hub sees, or why it refused.
LOGIN = (
    "import sys, koji\n"
    "s = koji.ClientSession('https://%s/kojihub', {'max_retries': 1, 'retry_interval': 1})\n"
    "try:\n"
    "    s.ssl_login(sys.argv[1], None, '%s')\n"
    "    user = s.getLoggedInUser()\n"
    "except Exception as e:\n"
    "    print('refused:', type(e).__name__, e)\n"
    "else:\n"
    "    print('logged in as', user['name'])\n"
    "    print('admin:', s.hasPerm('admin'))\n"
) % (HUB, KOJI_CA)

# The hub's history of a host's registration after an event (anonymous queryHistory; its
# `host` keyword is also the name of hub_call's first parameter).
HOST_HISTORY = (
    "import json, sys, koji\n"
    "conf = koji.read_config('koji')\n"
    "s = koji.ClientSession(conf['server'], {'serverca': conf['serverca'], 'max_retries': 2})\n"
    "print(json.dumps(s.queryHistory(tables=['host_config', 'host_channels'], host=sys.argv[1],\n"
    "                                afterEvent=int(sys.argv[2])), default=str))\n"
)


def baseline(host):
    return json.loads(host.file(BASELINE).content_string)


def sha256(host, path):
    return host.check_output("sha256sum %s", path).split()[0]


def certificate(host, path):
    f = host.file(path)
    assert f.exists, "%s: no %s" % (host.backend.get_pretty_hostname(), path)
    return x509.load_pem_x509_certificate(f.content)


def psql(db, sql, database="postgres"):
    return db.check_output("runuser -u postgres -- psql -X -At -d %s -c %s", database, sql)


def channel_names(hub, host_id):
    return {c["name"] for c in hub_call(hub, "listChannels", hostID=host_id)}


def login(hub, key, cert):
    """LOGIN with a key and certificate put together in a temporary file (root's only)."""
    pem = "/tmp/kojiforge-adoption-login.pem"
    try:
        hub.run_test("umask 077; cat %s %s > %s", key, cert, pem)
        cmd = hub.run("python3 -c %s %s" % (quote(LOGIN), pem))
    finally:
        hub.run("rm -f %s", pem)
    assert cmd.rc == 0, cmd.stderr
    return cmd.stdout


def test_first_runs_registered_builder1_enabled_in_its_channel(hub):
    """Before the hand changes: the first run registered builder1 (a new host is enabled)."""
    host = hub_call(hub, "getHost", BUILDER1)
    assert host, "%s is not registered on the hub" % BUILDER1
    assert "default" in channel_names(hub, host["id"])
    if hub_call(hub, "getChannel", MANUAL) is None:  # no hand change yet (the first verify)
        assert host["enabled"] is True


@pytest.fixture(scope="module")
def reconverged(hub):
    """(1) The operator, as the admin with the koji CLI on the hub: disables builder1 with a
    comment, adds it to a channel of the site's own; the hub's last event is noted.
    (2) site.yml again, as converge runs it. Returns the event and the run."""
    koji(hub, "disable-host", "--comment", COMMENT, BUILDER1)
    if hub_call(hub, "getChannel", MANUAL) is None:
        koji(hub, "add-channel", "--description", "made by hand on the hub", MANUAL)
    host = hub_call(hub, "getHost", BUILDER1)
    if MANUAL not in channel_names(hub, host["id"]):
        koji(hub, "add-host-to-channel", BUILDER1, MANUAL)
    host = hub_call(hub, "getHost", BUILDER1)
    assert (host["enabled"], host["comment"]) == (False, COMMENT), host
    assert channel_names(hub, host["id"]) == {"default", MANUAL}
    event = hub_call(hub, "getLastEvent")["id"]

    rc, out, seconds = run_playbook(CONVERGE)
    print("site.yml after the hand changes: %.0f s" % seconds)
    return {"event": event, "rc": rc, "out": out}


def test_run_after_hand_changes_changes_nothing(reconverged):
    out = reconverged["out"]
    assert reconverged["rc"] == 0, out[-4000:]
    counts = recap(out)
    assert set(counts) == {DB, HUB, BUILDER1}, counts
    assert {name: c["changed"] for name, c in counts.items()} == {name: 0 for name in counts}, \
        "changed: %s" % changed_tasks(out)


@pytest.mark.usefixtures("reconverged")
def test_builder1_stays_disabled_with_its_comment(hub, builder1):
    host = hub_call(hub, "getHost", BUILDER1)
    assert host["enabled"] is False
    assert host["comment"] == COMMENT
    # Disabled on the hub only: kojid itself keeps running.
    assert builder1.service("kojid").is_running


@pytest.mark.usefixtures("reconverged")
def test_builder1_keeps_the_hand_added_channel(hub):
    host = hub_call(hub, "getHost", BUILDER1)
    assert channel_names(hub, host["id"]) == {"default", MANUAL}


def test_nothing_written_to_builder1s_registration(reconverged, hub):
    history = json.loads(hub.check_output("python3 -c %s %s %d" % (
        quote(HOST_HISTORY), quote(BUILDER1), reconverged["event"])))
    assert {table: rows for table, rows in history.items() if rows} == {}


@pytest.mark.usefixtures("reconverged")
def test_pg_hba_conf_untouched(db):
    path = PG_CONF_DIR + "/pg_hba.conf"
    assert sha256(db, path) == baseline(db)["checksums"][path]
    content = db.file(path).content_string
    assert "host    replication     replicator      10.0.0.0/8              scram-sha-256" in content
    assert "hostssl postgres        monitoring      10.0.0.0/8              scram-sha-256" in content


@pytest.mark.usefixtures("reconverged")
def test_postgresql_neither_restarted_nor_reloaded(db):
    before = baseline(db)
    now = psql(db, "SELECT extract(epoch FROM pg_postmaster_start_time()), "
                   "extract(epoch FROM pg_conf_load_time())").split("|")
    assert now == [before["start_time"], before["conf_load_time"]]


@pytest.mark.usefixtures("reconverged")
def test_site_settings_kept(db):
    before = baseline(db)
    assert psql(db, "SHOW work_mem") == "7MB" == before["work_mem"]
    for path in (PG_CONF_DIR + "/postgresql.conf", PG_DATA_DIR + "/postgresql.auto.conf"):
        assert sha256(db, path) == before["checksums"][path], path


@pytest.mark.usefixtures("reconverged")
def test_no_postgresql_server_on_the_hub(hub):
    """koji_db runs on the hub (its koji_db group) and installs only the client there."""
    assert not hub.package("postgresql-15").is_installed
    assert hub.run("pgrep -x postgres").rc == 1, "a PostgreSQL server runs on the hub"


@pytest.mark.usefixtures("reconverged")
def test_collection_loaded_and_records_the_schema_in_the_sites_database(hub, db):
    owner = psql(db, "SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'users'",
                 database="koji")
    assert owner == "koji"
    installed = hub.check_output("python3 -c %s", "from koji._version import __version__; print(__version__)")
    assert psql(db, "SELECT version FROM kojiforge_schema_version", database="koji") == installed


@pytest.mark.usefixtures("reconverged")
def test_admin_works_through_the_sites_database(hub):
    """The hub has no database of its own: answering the admin means it reached db."""
    hello = koji(hub, "moshimoshi")
    assert "kojiadmin" in hello.stdout


@pytest.mark.usefixtures("reconverged")
def test_site_ca_files_untouched(hub):
    before = baseline(hub)
    for name in ("ca.crt", "ca.key", "alice.crt", "alice.key"):
        path = "%s/%s" % (SITE_CA_DIR, name)
        f = hub.file(path)
        assert sha256(hub, path) == before["checksums"][path], path
        assert "%04o" % f.mode == before["modes"][path], path


@pytest.mark.parametrize("name", [HUB, BUILDER1])
@pytest.mark.usefixtures("reconverged")
def test_koji_ca_is_the_site_ca(hub, name):
    site_ca = certificate(hub, SITE_CA)
    koji_ca = certificate(get_host(name), KOJI_CA)
    assert koji_ca.fingerprint(hashes.SHA256()) == site_ca.fingerprint(hashes.SHA256())


@pytest.mark.parametrize("name, path", [
    (HUB, PKI + "/hub.crt"),
    (HUB, PKI + "/web.crt"),
    (HUB, PKI + "/kojiweb.crt"),
    (HUB, PKI + "/kojira.crt"),
    (HUB, PKI + "/admin.crt"),
    (BUILDER1, PKI + "/kojid.crt"),
])
@pytest.mark.usefixtures("reconverged")
def test_certificates_issued_by_the_site_ca(hub, name, path):
    site_ca = certificate(hub, SITE_CA)
    cert = certificate(get_host(name), path)
    assert cert.issuer == site_ca.subject
    try:
        cert.verify_directly_issued_by(site_ca)
    except (ValueError, TypeError, InvalidSignature) as error:
        pytest.fail("%s on %s is not signed by the site's CA: %s" % (path, name, error))


@pytest.mark.usefixtures("reconverged")
def test_crl_signed_with_the_site_ca_key(hub):
    """Apache checks client certificates against this CRL: signed with another key, it would
    make Apache refuse every one."""
    crl = x509.load_pem_x509_crl(hub.file(PKI + "/koji-ca.crl").content)
    site_ca = certificate(hub, SITE_CA)
    assert crl.issuer == site_ca.subject
    assert crl.is_signature_valid(site_ca.public_key())


@pytest.mark.usefixtures("reconverged")
def test_alice_logs_in_with_her_existing_certificate(hub):
    out = login(hub, SITE_CA_DIR + "/alice.key", SITE_CA_DIR + "/alice.crt")
    assert "logged in as alice" in out, out
    assert "admin: False" in out, out
    user = hub_call(hub, "getUser", "alice")
    assert user and user["status"] == 0, user  # koji.USER_STATUS['NORMAL']


@pytest.mark.usefixtures("reconverged")
def test_certificate_of_another_ca_is_refused(hub):
    """The control for alice's login: a certificate the site's CA did not sign gets nobody in."""
    key, cert = "/tmp/kojiforge-adoption-mallory.key", "/tmp/kojiforge-adoption-mallory.crt"
    hub.run_test("umask 077; openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s -days 2 "
                 "-subj /O=Elsewhere/CN=mallory -addext extendedKeyUsage=clientAuth 2>/dev/null", key, cert)
    try:
        out = login(hub, key, cert)
    finally:
        hub.run("rm -f %s %s", key, cert)
    assert "refused:" in out and "logged in" not in out, out
    assert hub_call(hub, "getUser", "mallory") is None
