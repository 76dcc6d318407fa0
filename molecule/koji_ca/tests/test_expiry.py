"""Certificates and the CRL do not expire unnoticed. Runs after test_certificates.py and before
test_lifecycle.py (molecule runs the files in name order), on the converged state.

The CA host publishes every end date (the CA certificate, each host's certificates, the CRL) for
Prometheus, matching the files. A CRL three days from its end shows there within the alert's
14 days, and the CA host's timer service re-signs it without a run of the role, which then keeps
it. A builder certificate issued for ten days shows there too, and the next run of the role
(what playbooks/certificates.yml does on a schedule) renews it and reloads kojid."""

import re
import time

from conftest import (BUILDER, CA_HOST, EXPECTED, PKI, changed_tasks, check, converge, get_host, invocation,
                      put, recap_ok, reloads)

METRICS = "/var/www/kojiforge-ca/expiry.prom"
RENEW = "/usr/bin/python3 /usr/local/libexec/kojiforge-ca-renew.py --config %s/ca/renew.json" % PKI
CERTIFICATE = "kojiforge_certificate_not_after_timestamp_seconds"
CRL = "kojiforge_crl_next_update_timestamp_seconds"
DAY = 86400
# koji_monitoring_alert_certificate_days: the alerts fire when an end is nearer than this.
ALERT_DAYS = 14
SAMPLE = re.compile(r"^([a-z_]+)\{(.*)\} (\d+)$")
LABEL = re.compile(r'([a-z_]+)="((?:[^"\\]|\\.)*)"')
# The CRL tasks of the role: they must keep a CRL the timer re-signed.
CRL_TASKS = ("Sign the CRL", "Install the CRL the hub's and web's Apache check (SSLCARevocationFile)")

# Re-signs the CA's CRL (and the hub's copy) to end three days from now, as if the timer had not
# run for 87 days. Run on the CA host, with the CA key, which never leaves it.
SHORT_CRL = """
import datetime
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
ca = "%(pki)s/ca/"
crl = x509.load_pem_x509_crl(open(ca + "koji-ca.crl", "rb").read())
key = serialization.load_pem_private_key(open(ca + "koji-ca.key", "rb").read(), password=None)
now = datetime.datetime.now(datetime.timezone.utc)
builder = (x509.CertificateRevocationListBuilder().issuer_name(crl.issuer)
           .last_update(now - datetime.timedelta(days=87)).next_update(now + datetime.timedelta(days=3)))
for entry in crl:
    builder = builder.add_revoked_certificate(entry)
data = builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
for path in (ca + "koji-ca.crl", "%(pki)s/koji-ca.crl"):
    open(path, "wb").write(data)
""" % {"pki": PKI}


def published(host):
    """{(metric, ((label, value), ...)): value} of the CA host's published end dates."""
    found = {}
    for line in check(host, "cat %s" % METRICS).splitlines():
        if line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, line
        labels = tuple(sorted(LABEL.findall(match.group(2))))
        found[(match.group(1), labels)] = int(match.group(3))
    return found


def certificate_key(hostname, name, common_name):
    return (CERTIFICATE, (("common_name", common_name), ("host", hostname), ("name", name)))


CRL_KEY = (CRL, (("host", CA_HOST),))


def end_of(host, command):
    """Unix time of the date an openssl command prints as name=date."""
    return int(check(host, 'date -u -d "$(%s | cut -d= -f2-)" +%%s' % command))


def certificate_end(hostname, name):
    return end_of(get_host(hostname), "openssl x509 -in %s/%s.crt -noout -enddate" % (PKI, name))


def crl_end(path):
    return end_of(get_host(CA_HOST), "openssl crl -in %s -noout -nextupdate" % path)


def test_every_end_date_is_published_as_on_disk():
    hub = get_host(CA_HOST)
    metrics = hub.file(METRICS)
    assert metrics.is_file and metrics.user == "root" and metrics.mode == 0o644
    want = {certificate_key(hostname, name, cert["cn"]): certificate_end(hostname, name)
            for hostname, certs in EXPECTED.items() for name, cert in certs.items()}
    want[certificate_key(CA_HOST, "koji-ca", "Koji CA")] = end_of(
        hub, "openssl x509 -in %s/koji-ca.crt -noout -enddate" % PKI)
    want[CRL_KEY] = crl_end(PKI + "/ca/koji-ca.crl")
    assert published(hub) == want
    # A fresh deployment alerts on nothing.
    assert min(want.values()) > time.time() + ALERT_DAYS * DAY
    # The timer that renews the CRL without a person, and the part of the TLS site serving the
    # dates (Apache is not installed in this scenario; the cluster scenario scrapes it).
    assert check(hub, "systemctl is-enabled kojiforge-ca-renew.timer") == "enabled"
    assert check(hub, "systemctl is-active kojiforge-ca-renew.timer") == "active"
    assert hub.file("/etc/apache2/kojiforge/ssl.d/kojiforge-ca-metrics.conf").contains(
        "^Alias /kojiforge-ca/metrics %s$" % METRICS)


def test_the_timer_re_signs_a_crl_near_its_end_and_the_role_keeps_it():
    hub, builder = get_host(CA_HOST), get_host(BUILDER)
    put(hub, "/tmp/short-crl.py", SHORT_CRL)
    check(hub, "python3 /tmp/short-crl.py")
    check(hub, RENEW + " --metrics-only")
    left = published(hub)[CRL_KEY] - time.time()
    assert 2 * DAY < left < ALERT_DAYS * DAY, "the alert's condition should hold now"

    # What the timer starts, without any run of the role.
    check(hub, "systemctl start kojiforge-ca-renew.service")
    assert check(hub, "systemctl show -p Result --value kojiforge-ca-renew.service") == "success"
    end = crl_end(PKI + "/ca/koji-ca.crl")
    assert abs(end - (time.time() + 90 * DAY)) < DAY, "re-signed for koji_ca_crl_validity_days"
    assert published(hub)[CRL_KEY] == end
    assert hub.file(PKI + "/koji-ca.crl").content_string == hub.file(PKI + "/ca/koji-ca.crl").content_string
    out = hub.run("openssl crl -in %s/koji-ca.crl -CAfile %s/koji-ca.crt -noout" % (PKI, PKI))
    assert out.rc == 0 and "verify OK" in out.stdout + out.stderr
    put(hub, "/tmp/kojid-now.crt", builder.file(PKI + "/kojid.crt").content_string)
    assert check(hub, "openssl verify -crl_check -CAfile {0}/koji-ca.crt -CRLfile {0}/koji-ca.crl "
                      "/tmp/kojid-now.crt".format(PKI)) == "/tmp/kojid-now.crt: OK"
    # The role's CRL tasks keep it: checked in the runs of the next test.


def test_a_short_lived_certificate_shows_and_the_scheduled_run_renews_it():
    hub, builder = get_host(CA_HOST), get_host(BUILDER)
    # The builder's kojid certificate goes missing and is issued again for ten days (same key).
    check(builder, "rm %s/kojid.crt" % PKI)
    rc, output = converge({"koji_ca_certificate_validity_days": 10})
    assert rc == 0, output[-3000:]
    assert set(recap_ok(output)) == set(EXPECTED), output[-3000:]
    assert not {t for t in changed_tasks(output) if t.endswith(CRL_TASKS)}, "the timer's CRL was not kept"
    short_end = certificate_end(BUILDER, "kojid")
    assert abs(short_end - (time.time() + 10 * DAY)) < DAY
    kojid = certificate_key(BUILDER, "kojid", BUILDER)
    assert published(hub)[kojid] == short_end
    assert published(hub)[kojid] - time.time() < ALERT_DAYS * DAY, "the alert's condition should hold now"

    # The scheduled run, with the usual lifetime: ten days are within the 30-day margin.
    kojid_before, reloads_before = invocation(builder, "kojid"), reloads(builder)
    rc, output = converge({})
    assert rc == 0, output[-3000:]
    assert recap_ok(output)[BUILDER] > 0, output[-3000:]
    assert not {t for t in changed_tasks(output) if t.endswith(CRL_TASKS)}, "the timer's CRL was not kept"
    renewed_end = certificate_end(BUILDER, "kojid")
    assert abs(renewed_end - (time.time() + 365 * DAY)) < DAY
    assert published(hub)[kojid] == renewed_end
    assert min(published(hub).values()) > time.time() + ALERT_DAYS * DAY, "nothing left to alert on"
    assert invocation(builder, "kojid") == kojid_before, "kojid was restarted, not reloaded"
    assert reloads(builder) > reloads_before, "kojid was not reloaded"
