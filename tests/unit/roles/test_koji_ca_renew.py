"""koji_ca's kojiforge_ca_renew.py, the job kojiforge-ca-renew.timer runs daily on the CA host:
it re-signs a CRL near its nextUpdate so that it is what the role's own x509_crl task would keep
(same issuer, entries and digest: the next run of the role changes nothing), leaves one that is
not due alone, and publishes the end dates of the CA certificate, the CRL, every recorded
certificate and the CRL copy of every other hub and web host for Prometheus, rewriting that
file only when a date changed."""

import datetime
import importlib.util
import json
import pathlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

try:  # community.crypto 3 (ansible 11+)
    from ansible_collections.community.crypto.plugins.module_utils._crypto.cryptography_crl import (
        cryptography_decode_revoked_certificate,
    )
except ImportError:  # community.crypto 2 (ansible 9, with ansible-core 2.16: make matrix)
    from ansible_collections.community.crypto.plugins.module_utils.crypto.cryptography_crl import (
        cryptography_decode_revoked_certificate,
    )

ROOT = pathlib.Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "roles" / "koji_ca" / "files" / "kojiforge_ca_renew.py"
NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def _load_script():
    spec = importlib.util.spec_from_file_location("kojiforge_ca_renew", str(SCRIPT))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


renew = _load_script()


def _name(common_name):
    # The role's subjects: O first, then CN (subject_ordered).
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Koji"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _certificate(subject, issuer, key, signing_key, days, serial):
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
            .serial_number(serial).not_valid_before(NOW - DAY).not_valid_after(NOW + days * DAY)
            .sign(signing_key, hashes.SHA256()))


def _pem(obj):
    return obj.public_bytes(serialization.Encoding.PEM)


def _revoked(serial, reason):
    return (x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(NOW - 10 * DAY)
            .add_extension(x509.CRLReason(reason), critical=False).build())


def _crl(ca_key, days_left, revoked=()):
    builder = (x509.CertificateRevocationListBuilder().issuer_name(_name("Koji CA"))
               .last_update(NOW - (90 * DAY - days_left * DAY)).next_update(NOW + days_left * DAY))
    for entry in revoked:
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(ca_key, hashes.SHA256())


@pytest.fixture(name="ca")
def fixture_ca(tmp_path):
    """A CA laid out as the role keeps it, two hosts' records, and the job's settings."""
    authority = tmp_path / "pki" / "ca"
    (authority / "installed").mkdir(parents=True)
    (tmp_path / "metrics").mkdir()
    ca_key = _key()
    ca_cert = _certificate(_name("Koji CA"), _name("Koji CA"), ca_key, ca_key, 3650, 1)
    (authority / "koji-ca.key").write_bytes(ca_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (authority / "koji-ca.crt").write_bytes(_pem(ca_cert))
    revoked = [_revoked(0x1234, x509.ReasonFlags.key_compromise),
               _revoked(0xABCDEF, x509.ReasonFlags.cessation_of_operation)]
    (authority / "koji-ca.crl").write_bytes(_pem(_crl(ca_key, 60, revoked)))
    host_key = _key()
    hub = {"hub": _certificate(_name("hub.example.com"), _name("Koji CA"), host_key, ca_key, 365, 10),
           "admin": _certificate(_name("kojiadmin"), _name("Koji CA"), host_key, ca_key, 200, 11)}
    builder = {"kojid": _certificate(_name("b1.example.com"), _name("Koji CA"), host_key, ca_key, 13, 12)}
    # hub is the CA host (its CRL copy is this job's to keep), web2 a second web frontend whose
    # copy the scheduled run last refreshed 80 days ago, b1 a builder (no CRL).
    web2 = {"web": _certificate(_name("web2.example.com"), _name("Koji CA"), host_key, ca_key, 300, 13)}
    old_copy = _pem(_crl(ca_key, 10, revoked)).decode("ascii")
    for host, certificates, crl in (("hub", hub, old_copy), ("web2", web2, old_copy), ("b1", builder, "")):
        record = {"host": host, "certificates": {n: _pem(c).decode("ascii") for n, c in certificates.items()},
                  "crl": crl}
        (authority / "installed" / ("%s.json" % host)).write_text(json.dumps(record), encoding="utf-8")
    config = {
        "ca_host": "hub",
        "authority_certificate": str(authority / "koji-ca.crt"),
        "authority_key": str(authority / "koji-ca.key"),
        "authority_crl": str(authority / "koji-ca.crl"),
        "installed_dir": str(authority / "installed"),
        "crl_copy": str(tmp_path / "pki" / "koji-ca.crl"),
        "reload_services": [],
        "renew_margin_days": 30,
        "crl_validity_days": 90,
        "metrics_file": str(tmp_path / "metrics" / "expiry.prom"),
    }
    return {"config": config, "key": ca_key, "cert": ca_cert, "revoked": revoked,
            "certificates": dict(hub, **builder, **web2)}


def _crl_file(config):
    return x509.load_pem_x509_crl(pathlib.Path(config["authority_crl"]).read_bytes())


def _what_x509_crl_compares(crl):
    """What community.crypto's x509_crl (ignore_timestamps: true) compares to keep a CRL."""
    return ([(attribute.oid, attribute.value) for attribute in crl.issuer],
            crl.signature_hash_algorithm.name,
            [{k: v for k, v in cryptography_decode_revoked_certificate(entry).items() if k != "revocation_date"}
             for entry in crl])


def _metrics(config):
    """{(metric, sorted label items): value} from the metrics file."""
    found = {}
    for line in pathlib.Path(config["metrics_file"]).read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        name, rest = line.split("{", 1)
        labels, value = rest.rsplit("} ", 1)
        items = tuple(sorted(tuple(pair.split("=", 1)) for pair in labels.split(",")))
        found[(name, tuple((k, v.strip('"')) for k, v in items))] = int(value)
    return found


def test_a_crl_within_the_margin_is_re_signed_as_the_role_would_keep_it(ca):
    config = ca["config"]
    before = _crl_file(config)
    changed, problems = renew.run(config, now=NOW + 35 * DAY)  # 25 days left < 30
    assert problems == []
    assert "crl" in changed
    after = _crl_file(config)
    assert renew.next_update(after) == NOW + 35 * DAY + 90 * DAY
    assert after.is_signature_valid(ca["key"].public_key())
    assert _what_x509_crl_compares(after) == _what_x509_crl_compares(before)
    assert sorted(entry.serial_number for entry in after) == [0x1234, 0xABCDEF]
    # The CA host's Apache copy follows.
    assert pathlib.Path(config["crl_copy"]).read_bytes() == pathlib.Path(config["authority_crl"]).read_bytes()


def test_a_crl_outside_the_margin_and_a_metrics_only_run_leave_the_crl_alone(ca):
    config = ca["config"]
    original = pathlib.Path(config["authority_crl"]).read_bytes()
    changed, _problems = renew.run(config, now=NOW + 29 * DAY)  # 31 days left
    assert "crl" not in changed
    changed, _problems = renew.run(config, metrics_only=True, now=NOW + 59 * DAY)  # due, but metrics only
    assert "crl" not in changed and "crl-copy" not in changed
    assert pathlib.Path(config["authority_crl"]).read_bytes() == original


def test_metrics_give_every_end_date(ca):
    config = ca["config"]
    renew.run(config, metrics_only=True, now=NOW)
    cert_metric, crl_metric = renew.CERTIFICATE_METRIC, renew.CRL_METRIC

    def end(name):
        return int(renew.not_after(ca["certificates"][name]).timestamp())

    assert _metrics(config) == {
        (cert_metric, (("common_name", "Koji CA"), ("host", "hub"), ("name", "koji-ca"))):
            int(renew.not_after(ca["cert"]).timestamp()),
        (cert_metric, (("common_name", "hub.example.com"), ("host", "hub"), ("name", "hub"))): end("hub"),
        (cert_metric, (("common_name", "kojiadmin"), ("host", "hub"), ("name", "admin"))): end("admin"),
        (cert_metric, (("common_name", "b1.example.com"), ("host", "b1"), ("name", "kojid"))): end("kojid"),
        (cert_metric, (("common_name", "web2.example.com"), ("host", "web2"), ("name", "web"))): end("web"),
        # the CA's CRL for the CA host; the copy web2 holds, as recorded
        (crl_metric, (("host", "hub"),)): int((NOW + 60 * DAY).timestamp()),
        (crl_metric, (("host", "web2"),)): int((NOW + 10 * DAY).timestamp()),
    }
    text = pathlib.Path(config["metrics_file"]).read_text(encoding="utf-8")
    assert "# TYPE %s gauge" % cert_metric in text and "# TYPE %s gauge" % crl_metric in text


def test_the_metrics_file_is_rewritten_only_when_a_date_changes(ca):
    config = ca["config"]
    assert renew.run(config, metrics_only=True, now=NOW)[0] == ["metrics"]
    assert renew.run(config, metrics_only=True, now=NOW + DAY)[0] == []
    # The timer re-signs the CRL: its new nextUpdate is published.
    changed, _problems = renew.run(config, now=NOW + 40 * DAY)
    assert changed == ["crl", "crl-copy", "metrics"]
    assert _metrics(config)[(renew.CRL_METRIC, (("host", "hub"),))] == int((NOW + 130 * DAY).timestamp())


def test_an_unreadable_record_is_reported_and_the_others_still_published(ca, capsys):
    config = ca["config"]
    (pathlib.Path(config["installed_dir"]) / "broken.json").write_text('{"host": "x"}', encoding="utf-8")
    config_file = pathlib.Path(config["metrics_file"]).parent / "renew.json"
    config_file.write_text(json.dumps(config), encoding="utf-8")
    assert renew.main(["--config", str(config_file), "--metrics-only"]) == 1
    assert "broken.json" in capsys.readouterr().err
    assert len(_metrics(config)) == 7


def test_labels_are_escaped():
    assert renew._sample("m", {"name": 'a"b\\c\nd'}, NOW) == 'm{name="a\\"b\\\\c\\nd"} %d' % int(NOW.timestamp())
