"""The role run again with other inputs, after test_certificates.py has checked the converged
state (molecule runs the files in name order): bad inputs stop it before anything is written,
a renewal re-issues every certificate and restarts its reader, revocation puts certificates on
the CRL that openssl then rejects, and the host of a revoked certificate gets a new key."""

import re

import pytest

from conftest import BUILDER, CA_HOST, EXPECTED, PKI, check, converge, get_host, public_key, put, serial

FRESH_DIR = "/tmp/koji-ca-preflight"
ONLY_ON = "{{{{ {value!r} if inventory_hostname == {host!r} else {other} }}}}"


def recap_ok(output):
    """Every host of the run's recap has failed=0 and unreachable=0."""
    recap = output[output.rfind("PLAY RECAP"):]
    lines = re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", recap, re.M)
    return {host: int(changed) for host, changed, unreachable, failed in lines
            if unreachable == "0" and failed == "0"}


def invocation(host, service):
    return check(host, "systemctl show -p InvocationID --value %s" % service)


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


def test_renewal_reissues_keeps_keys_and_restarts_readers():
    builder, hub = get_host(BUILDER), get_host(CA_HOST)
    before = snapshot()
    ca_before = hub.file(PKI + "/koji-ca.crt").content_string
    kojid_before = invocation(builder, "kojid")

    # A margin longer than the certificates' lifetime (365 d) but not the CA's (3650 d); and an
    # extra certificate on the builder, revoked by common name in the next test.
    rc, output = converge({
        "koji_ca_renew_margin_days": 400,
        "koji_ca_extra_certificates": ONLY_ON.format(
            value=[{"name": "retired", "common_name": "retired-user"}], host=BUILDER, other="[]"),
    })
    assert rc == 0, output[-3000:]
    assert set(recap_ok(output)) == set(EXPECTED), output[-3000:]

    after = snapshot()
    for (hostname, name), (old_serial, old_key) in before.items():
        new_serial, new_key = after[(hostname, name)]
        assert new_serial != old_serial, "%s on %s not re-issued" % (name, hostname)
        assert new_key == old_key, "%s on %s: renewal must keep the key" % (name, hostname)
        host = get_host(hostname)
        key, crt, pem = ("%s/%s.%s" % (PKI, name, s) for s in ("key", "crt", "pem"))
        assert host.file(pem).content_string == host.file(key).content_string + host.file(crt).content_string
        assert check(host, "openssl verify -CAfile %s/koji-ca.crt %s" % (PKI, crt)) == "%s: OK" % crt
    assert hub.file(PKI + "/koji-ca.crt").content_string == ca_before
    assert invocation(builder, "kojid") != kojid_before, "kojid was not restarted"
    assert check(builder, "openssl x509 -in %s/retired.crt -noout -subject -nameopt RFC2253" % PKI) == \
        "subject=CN=retired-user,O=Koji"
    # The CA host keeps what it issued, by CN and serial.
    kojid_serial = after[(BUILDER, "kojid")][0]
    assert hub.file("%s/ca/issued/%s+%s.crt" % (PKI, BUILDER, kojid_serial)).is_file


def test_revocation_rejects_revoked_certificates_and_rekeys_their_host():
    builder, hub = get_host(BUILDER), get_host(CA_HOST)
    old_kojid = builder.file(PKI + "/kojid.crt").content_string
    old_kojid_serial = serial(builder, PKI + "/kojid.crt")
    old_kojid_key = public_key(builder, PKI + "/kojid.key", "key")
    retired_serial = serial(builder, PKI + "/retired.crt")
    put(hub, "/tmp/old-kojid.crt", old_kojid)
    put(hub, "/tmp/retired.crt", builder.file(PKI + "/retired.crt").content_string)
    verify = "openssl verify -crl_check -CAfile %s/koji-ca.crt -CRLfile %s/koji-ca.crl " % (PKI, PKI)
    # Before: both still pass the CRL check (the test below must be able to see a difference).
    assert hub.run(verify + "/tmp/old-kojid.crt").rc == 0
    kojid_before = invocation(builder, "kojid")

    rc, output = converge({"koji_ca_revoked_certificates": [
        {"serial_number": old_kojid_serial, "reason": "key_compromise"},
        {"common_name": "retired-user"},
    ]})
    assert rc == 0, output[-3000:]

    crl = check(hub, "openssl crl -in %s/koji-ca.crl -noout -text" % PKI)
    revoked = set(re.findall(r"Serial Number: ([0-9A-F]+)", crl))
    assert {old_kojid_serial, retired_serial} <= revoked
    assert hub.file(PKI + "/koji-ca.crl").content_string == hub.file(PKI + "/ca/koji-ca.crl").content_string
    for path in ("/tmp/old-kojid.crt", "/tmp/retired.crt"):
        out = hub.run(verify + path)
        assert out.rc != 0 and "certificate revoked" in out.stdout + out.stderr, path

    # The builder's revoked certificate was replaced, with a new key, and kojid restarted.
    assert serial(builder, PKI + "/kojid.crt") != old_kojid_serial
    assert public_key(builder, PKI + "/kojid.key", "key") != old_kojid_key
    assert public_key(builder, PKI + "/kojid.crt", "cert") == public_key(builder, PKI + "/kojid.key", "key")
    put(hub, "/tmp/new-kojid.crt", builder.file(PKI + "/kojid.crt").content_string)
    assert check(hub, verify + "/tmp/new-kojid.crt") == "/tmp/new-kojid.crt: OK"
    assert invocation(builder, "kojid") != kojid_before

    # Run again with the same revocations: nothing left to do (no re-keying loop, stable CRL).
    rc, output = converge({"koji_ca_revoked_certificates": [
        {"serial_number": old_kojid_serial, "reason": "key_compromise"},
        {"common_name": "retired-user"},
    ]})
    assert rc == 0, output[-3000:]
    assert recap_ok(output) == {hostname: 0 for hostname in EXPECTED}, output[-3000:]
