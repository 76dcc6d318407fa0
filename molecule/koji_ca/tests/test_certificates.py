"""The state converge leaves: the CA on its host only, every host's certificates right and
verifiable, the CRL where Apache checks it, no key of one host on another."""

import re

import pytest

from conftest import (ALL_NAMES, BUILDER, CA_HOST, CRL_HOSTS, EXPECTED, ORGANIZATION, PKI, check,
                      get_host, public_key, put)

CERTIFICATES = [(h, name) for h, certs in EXPECTED.items() for name in certs]
EKU = {"server": "TLS Web Server Authentication", "client": "TLS Web Client Authentication"}


def ext(host, path, name):
    """The value lines of one extension of a certificate ('' when absent)."""
    out = host.run("openssl x509 -in %s -noout -ext %s" % (path, name)).stdout
    return " ".join(line.strip() for line in out.splitlines()[1:])


def test_ca_files_only_on_the_ca_host(hosts):
    ca = hosts[CA_HOST]
    folder = ca.file(PKI + "/ca")
    assert folder.is_directory and folder.user == "root" and folder.mode == 0o700
    key = ca.file(PKI + "/ca/koji-ca.key")
    assert key.is_file and key.user == "root" and key.group == "root" and key.mode == 0o600
    for name, host in hosts.items():
        if name != CA_HOST:
            assert not host.file(PKI + "/ca").exists, "CA folder on %s" % name


def test_ca_certificate_everywhere_and_the_same(hosts):
    contents = set()
    for host in hosts.values():
        f = host.file(PKI + "/koji-ca.crt")
        assert f.is_file and f.user == "root" and f.mode == 0o644
        contents.add(f.content_string)
    assert len(contents) == 1
    ca = hosts[CA_HOST]
    assert "CA:TRUE" in ext(ca, PKI + "/koji-ca.crt", "basicConstraints")
    assert check(ca, "openssl x509 -in %s/koji-ca.crt -noout -subject -nameopt RFC2253" % PKI) == \
        "subject=CN=Koji CA,O=%s" % ORGANIZATION


def test_the_bundle_apache_uses_is_everywhere_and_holds_the_ca(hosts):
    # converge.yml trusts no other CA: the bundle is the Koji CA alone.
    for hostname, host in hosts.items():
        f = host.file(PKI + "/koji-ca-bundle.crt")
        assert f.is_file and f.user == "root" and f.mode == 0o644, hostname
        assert f.content_string == host.file(PKI + "/koji-ca.crt").content_string, hostname


@pytest.mark.parametrize("hostname,name", CERTIFICATES)
def test_certificate(hostname, name):
    host = get_host(hostname)
    want = EXPECTED[hostname][name]
    key, crt, pem = ("%s/%s.%s" % (PKI, name, suffix) for suffix in ("key", "crt", "pem"))

    for path in (key, pem):
        f = host.file(path)
        assert f.is_file, path
        assert (f.user, f.group, f.mode) == (want["owner"], want["group"], want["mode"]), path
    f = host.file(crt)
    assert (f.user, f.mode) == ("root", 0o644)

    assert check(host, "openssl verify -CAfile %s/koji-ca.crt %s" % (PKI, crt)) == "%s: OK" % crt
    assert check(host, "openssl x509 -in %s -noout -subject -nameopt RFC2253" % crt) == \
        "subject=CN=%s,O=%s" % (want["cn"], ORGANIZATION)
    sans = ext(host, crt, "subjectAltName")
    assert set(filter(None, re.split(r",\s*", sans))) == want["sans"]
    assert ext(host, crt, "extendedKeyUsage") == EKU[want["usage"]]
    assert "CA:FALSE" in ext(host, crt, "basicConstraints")

    # The key, the certificate and the combined file belong together.
    assert public_key(host, key, "key") == public_key(host, crt, "cert")
    assert host.file(pem).content_string == host.file(key).content_string + host.file(crt).content_string
    assert public_key(host, pem, "key") == public_key(host, pem, "cert")


def test_kojiweb_dn_as_apache_shows_it(hosts):
    # The string the hub's ProxyDNs carries (mod_ssl's RFC 2253 form).
    out = check(hosts[CA_HOST], "openssl x509 -in %s/kojiweb.crt -noout -subject -nameopt RFC2253" % PKI)
    assert out == "subject=CN=kojiweb,O=Koji"


def test_only_the_certificates_of_the_hosts_groups(hosts):
    for hostname, host in hosts.items():
        for name in ALL_NAMES:
            assert host.file("%s/%s.crt" % (PKI, name)).exists == (name in EXPECTED[hostname]), \
                "%s on %s" % (name, hostname)


def test_crl_where_apache_checks_it(hosts):
    for hostname, host in hosts.items():
        crl = host.file(PKI + "/koji-ca.crl")
        assert crl.exists == (hostname in CRL_HOSTS), hostname
        if hostname in CRL_HOSTS:
            assert crl.mode == 0o644
            out = host.run("openssl crl -in %s/koji-ca.crl -CAfile %s/koji-ca.crt -noout" % (PKI, PKI))
            assert out.rc == 0 and "verify OK" in out.stderr + out.stdout
    # With nothing revoked, every certificate passes the CRL check.
    hub = hosts[CA_HOST]
    assert "No Revoked Certificates" in check(hub, "openssl crl -in %s/koji-ca.crl -noout -text" % PKI)
    for hostname, name in CERTIFICATES:
        copy = "/tmp/koji-ca-test-%s-%s.crt" % (hostname, name)
        put(hub, copy, get_host(hostname).file("%s/%s.crt" % (PKI, name)).content_string)
        assert check(hub, "openssl verify -crl_check -CAfile %s/koji-ca.crt -CRLfile %s/koji-ca.crl %s"
                     % (PKI, PKI, copy)) == "%s: OK" % copy


def private_key_owners(hosts):
    """public key -> the hosts holding its private key, for every private key file found."""
    owners = {}
    for hostname, host in hosts.items():
        files = host.run(
            "grep -rlsE -- '-----BEGIN ([A-Z]+ )?PRIVATE KEY-----' /etc /root /home /srv /opt /tmp /var/tmp"
        ).stdout.split()
        assert files, "no private key found on %s" % hostname
        for path in files:
            owners.setdefault(public_key(host, path, "key"), set()).add(hostname)
    return owners


def test_no_private_key_on_two_hosts_and_the_ca_key_on_its_host_only(hosts):
    owners = private_key_owners(hosts)
    shared = {k: v for k, v in owners.items() if len(v) > 1}
    assert not shared, "private keys found on several hosts: %s" % sorted(shared.values())
    ca_key = public_key(hosts[CA_HOST], PKI + "/koji-ca.crt", "cert")
    assert owners[ca_key] == {CA_HOST}
    # Every certificate's key was found, on its own host.
    for hostname, name in CERTIFICATES:
        assert owners[public_key(get_host(hostname), "%s/%s.crt" % (PKI, name), "cert")] == {hostname}
    assert BUILDER in {h for v in owners.values() for h in v}
