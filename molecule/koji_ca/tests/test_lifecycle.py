"""The role run again with other inputs, after test_certificates.py has checked the converged
state (molecule runs the files in name order): bad inputs stop it before anything is written,
a renewal re-issues every certificate and reloads or restarts its reader, revocation puts certificates on
the CRL that openssl then rejects, and the host of a revoked certificate gets a new key."""
# Each converge costs minutes on a loaded 2-core machine: renewal and revocation share one run.

import re

import pytest

from conftest import (BUILDER, CA_HOST, EXPECTED, PKI, changed_tasks, check, converge, get_host, invocation,
                      public_key, put, recap_ok, reloads, serial)

FRESH_DIR = "/tmp/koji-ca-preflight"
# What test_renewal_and_revocation revoked, for the runs after it.
REVOCATIONS = []
ONLY_ON = "{{{{ {value!r} if inventory_hostname == {host!r} else {other} }}}}"


PREFLIGHT_CASES = {
    "fqdn-without-dot": (
        {"koji_ca_fqdn": ONLY_ON.format(value="builder1", host=BUILDER, other="ansible_facts.fqdn | default('')")},
        "builder1.kojica.test has no usable fully qualified name"),
    "fqdn-localhost": (
        {"koji_ca_fqdn": ONLY_ON.format(value="localhost.localdomain", host=CA_HOST, other="ansible_facts.fqdn | default('')")},
        "hub.kojica.test has no usable fully qualified name"),
    "ca-host-not-in-inventory": (
        {"koji_ca_host": "nosuch.kojica.test"},
        "koji_ca_host nosuch.kojica.test is not a host of the inventory"),
    "empty-organization": (
        {"koji_ca_organization": ""},
        "koji_ca_organization must be set to a non-empty string"),
    "revoked-name-still-issued": (
        {"koji_ca_revoked_certificates": [{"common_name": "kojira"}]},
        "revokes common name(s) kojira that hub.kojica.test still gets a certificate for"),
}


@pytest.mark.parametrize("case", sorted(PREFLIGHT_CASES))
def test_preflight_stops_before_anything_is_written(case):
    extra, message = PREFLIGHT_CASES[case]
    rc, output = converge(dict(extra, koji_ca_pki_dir=FRESH_DIR))
    assert rc != 0, output[-3000:]
    assert message in " ".join(output.split()), output[-3000:]
    # Preflight is the first step: no later task started, on any host, and nothing was written.
    assert "koji_ca : Install the Python cryptography" not in output
    for hostname in EXPECTED:
        assert not get_host(hostname).file(FRESH_DIR).exists, hostname


def snapshot():
    """(host, name) -> (serial, public key) of every certificate there now."""
    state = {}
    for hostname, certs in EXPECTED.items():
        host = get_host(hostname)
        for name in certs:
            crt = "%s/%s.crt" % (PKI, name)
            state[(hostname, name)] = (serial(host, crt), public_key(host, crt, "cert"))
    return state


def test_renewal_and_revocation():
    """One run renews every certificate (a margin longer than their 365 days, shorter than the
    CA's 3650), revokes the builder's kojid certificate by serial and the retired koji-gc one
    by common name; a second run with the same revocations changes nothing."""
    builder, hub = get_host(BUILDER), get_host(CA_HOST)
    before = snapshot()
    ca_before = hub.file(PKI + "/koji-ca.crt").content_string
    kojid_before = invocation(builder, "kojid")
    reloads_before = reloads(builder)
    old_kojid_serial = before[(BUILDER, "kojid")][0]
    gc_serial = before[(CA_HOST, "koji-gc")][0]
    put(hub, "/tmp/old-kojid.crt", builder.file(PKI + "/kojid.crt").content_string)
    put(hub, "/tmp/old-koji-gc.crt", hub.file(PKI + "/koji-gc.crt").content_string)
    verify = "openssl verify -crl_check -CAfile %s/koji-ca.crt -CRLfile %s/koji-ca.crl " % (PKI, PKI)
    # Before: both pass the CRL check, so the rejection below is the revocation's doing.
    for path in ("/tmp/old-kojid.crt", "/tmp/old-koji-gc.crt"):
        assert hub.run(verify + path).rc == 0, path
    revocations = [
        {"serial_number": old_kojid_serial, "reason": "key_compromise"},
        {"common_name": "koji-gc", "reason": "cessation_of_operation"},
    ]
    # The tests after this one keep them (a run without them would sign a new CRL).
    REVOCATIONS[:] = revocations

    rc, output = converge({"koji_ca_renew_margin_days": 400, "koji_ca_extra_certificates": [],
                           "koji_ca_revoked_certificates": revocations})
    assert rc == 0, output[-3000:]
    assert set(recap_ok(output)) == set(EXPECTED), output[-3000:]

    # Renewal: every certificate re-issued for the same key (kojid: a new key, it was revoked),
    # the .pem rewritten, the CA certificate kept.
    after = snapshot()
    for (hostname, name), (old_serial, old_key) in before.items():
        if name == "koji-gc":
            continue
        new_serial, new_key = after[(hostname, name)]
        assert new_serial != old_serial, "%s on %s not re-issued" % (name, hostname)
        if name == "kojid":
            assert new_key != old_key, "the revoked kojid certificate's key was kept"
        else:
            assert new_key == old_key, "%s on %s: renewal must keep the key" % (name, hostname)
        host = get_host(hostname)
        key, crt, pem = ("%s/%s.%s" % (PKI, name, s) for s in ("key", "crt", "pem"))
        assert host.file(pem).content_string == host.file(key).content_string + host.file(crt).content_string
        assert public_key(host, key, "key") == public_key(host, crt, "cert")
        assert check(host, "openssl verify -CAfile %s/koji-ca.crt %s" % (PKI, crt)) == "%s: OK" % crt
    assert hub.file(PKI + "/koji-ca.crt").content_string == ca_before
    # kojid is reloaded, never restarted: a restart would free its running tasks.
    assert invocation(builder, "kojid") == kojid_before, "kojid was restarted, not reloaded"
    assert reloads(builder) > reloads_before, "kojid was not reloaded"
    # The CA host keeps what it issued, by CN and serial.
    assert hub.file("%s/ca/issued/%s+%s.crt" % (PKI, BUILDER, after[(BUILDER, "kojid")][0])).is_file

    # Revocation: both old certificates on the CRL and rejected; the builder's new one accepted.
    crl = check(hub, "openssl crl -in %s/koji-ca.crl -noout -text" % PKI)
    assert {old_kojid_serial, gc_serial} <= set(re.findall(r"Serial Number: ([0-9A-F]+)", crl))
    assert hub.file(PKI + "/koji-ca.crl").content_string == hub.file(PKI + "/ca/koji-ca.crl").content_string
    for path in ("/tmp/old-kojid.crt", "/tmp/old-koji-gc.crt"):
        out = hub.run(verify + path)
        assert out.rc != 0 and "certificate revoked" in out.stdout + out.stderr, path
    put(hub, "/tmp/new-kojid.crt", builder.file(PKI + "/kojid.crt").content_string)
    assert check(hub, verify + "/tmp/new-kojid.crt") == "/tmp/new-kojid.crt: OK"

    # The same revocations again, default margin: nothing to do (no re-keying loop, stable CRL),
    # but the CA host's renewal job takes the margin back in its settings.
    rc, output = converge({"koji_ca_extra_certificates": [], "koji_ca_revoked_certificates": revocations})
    assert rc == 0, output[-3000:]
    assert set(recap_ok(output)) == set(EXPECTED), output[-3000:]
    assert recap_ok(output)[BUILDER] == 0, output[-3000:]
    assert {title.split(" : ", 1)[-1] for title in changed_tasks(output)} == {"Write the renewal job's settings"}, \
        output[-3000:]


# After the renewal test: the state it leaves (every certificate issued for converge.yml's settings).

SERVER_NAMES = ["koji.kojica.test", "192.0.2.10"]


def settings(**extra):
    """converge.yml's settings as the renewal test left them, with EXTRA."""
    return dict({"koji_ca_extra_certificates": [], "koji_ca_revoked_certificates": REVOCATIONS}, **extra)


def test_changed_settings_keep_keys_and_certificates():
    """Another key size, organization and SAN list alone replace nothing: not the CA, not a key,
    not a certificate (an existing site's certificates survive the collection's defaults)."""
    before = snapshot()
    ca_before = get_host(CA_HOST).file(PKI + "/ca/koji-ca.crt").content_string
    rc, output = converge(settings(koji_ca_key_size=4096, koji_ca_authority_key_size=2048,
                                   koji_ca_organization="Other Org",
                                   koji_ca_server_alt_names=SERVER_NAMES + ["new.kojica.test"]))
    assert rc == 0, output[-3000:]
    assert recap_ok(output) == {CA_HOST: 0, BUILDER: 0}, output[-3000:]
    assert snapshot() == before
    assert get_host(CA_HOST).file(PKI + "/ca/koji-ca.crt").content_string == ca_before


def test_reissue_applies_a_deliberate_change_and_keeps_the_keys():
    """koji_ca_reissue: the certificates whose alternative names differ (hub and web) are
    re-issued for the same keys; the others are left alone; a second run changes nothing."""
    before = snapshot()
    deliberate = settings(koji_ca_reissue=True, koji_ca_server_alt_names=SERVER_NAMES + ["new.kojica.test"])
    rc, output = converge(deliberate)
    assert rc == 0, output[-3000:]
    after = snapshot()
    hub = get_host(CA_HOST)
    for (hostname, name), (old_serial, old_key) in before.items():
        new_serial, new_key = after[(hostname, name)]
        assert new_key == old_key, "%s on %s: the key must be kept" % (name, hostname)
        assert (new_serial != old_serial) == (name in ("hub", "web")), "%s on %s" % (name, hostname)
    for name in ("hub", "web"):
        assert "DNS:new.kojica.test" in check(hub, "openssl x509 -in %s/%s.crt -noout -ext subjectAltName" % (PKI, name))
    rc, output = converge(deliberate)
    assert rc == 0, output[-3000:]
    assert recap_ok(output) == {CA_HOST: 0, BUILDER: 0}, output[-3000:]


def test_a_trusted_ca_goes_into_the_bundle_after_the_koji_ca():
    hub = get_host(CA_HOST)
    check(hub, "openssl req -x509 -newkey rsa:2048 -nodes -keyout /tmp/old-site-ca.key -out /tmp/old-site-ca.crt"
               " -days 30 -subj '/O=Site/CN=Old Site CA' -addext basicConstraints=critical,CA:TRUE")
    old_ca = hub.file("/tmp/old-site-ca.crt").content_string
    rc, output = converge(settings(koji_ca_trusted_certificates=[old_ca]))
    assert rc == 0, output[-3000:]
    for hostname in EXPECTED:
        host = get_host(hostname)
        bundle = host.file(PKI + "/koji-ca-bundle.crt").content_string
        assert bundle == host.file(PKI + "/koji-ca.crt").content_string.strip() + "\n" + old_ca.strip() + "\n"
    # Back to converge.yml's settings: the bundle is the Koji CA alone again.
    rc, output = converge(settings())
    assert rc == 0, output[-3000:]
    assert hub.file(PKI + "/koji-ca-bundle.crt").content_string == hub.file(PKI + "/koji-ca.crt").content_string
