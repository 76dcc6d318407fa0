"""Keep the Koji CA's CRL from expiring, and publish when every Koji certificate ends.

Runs on the CA host as root: daily from kojiforge-ca-renew.timer, and from the koji_ca role with
--metrics-only after a run that issued certificates. Its settings come from a JSON file the role
writes (--config). It

1. re-signs the CRL when its nextUpdate is within the renew margin: same issuer, same revoked
   entries, same digest, so the role's x509_crl task finds it unchanged on its next run;
2. copies the CRL to the CA host's own Apache (when it runs the hub or the web frontend) and
   reloads Apache when that copy changed; the CRL of other hub and web hosts comes with the
   role's next run (playbooks/certificates.yml);
3. writes, for Prometheus, the end of the CA certificate, of the CRL and of every certificate the
   CA issued as the role last installed it on its host, and of the CRL copy each other hub and
   web host holds (the records in installed/<host>.json): a copy that the scheduled run stopped
   refreshing shows there too.

Host certificates are not renewed here: their keys never leave their hosts, so a new one needs
the host's own signing request, which the role's scheduled run makes.

When the collection only trusts a site's CA (no key: "authority_key" is empty), nothing is
signed and there may be no CRL: only the end dates are published.
"""

import argparse
import datetime
import json
import os
import pathlib
import subprocess
import sys
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

CERTIFICATE_METRIC = "kojiforge_certificate_not_after_timestamp_seconds"
CRL_METRIC = "kojiforge_crl_next_update_timestamp_seconds"
# The name label of the CA certificate (the file every host holds as koji-ca.crt).
AUTHORITY_NAME = "koji-ca"

HELP = {
    CERTIFICATE_METRIC: "When a Koji certificate ends (notAfter, Unix time): the CA certificate and every "
                        "certificate the Koji CA issued, as installed on its host.",
    CRL_METRIC: "When the Koji CRL a host holds must have been replaced (nextUpdate, Unix time): its "
                "Apache refuses every client certificate after it.",
}


def _utc(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def not_after(certificate):
    """notAfter, timezone-aware (cryptography 42 added the _utc attributes; EL 9 has 36)."""
    value = getattr(certificate, "not_valid_after_utc", None)
    return value if value is not None else _utc(certificate.not_valid_after)


def next_update(crl):
    value = getattr(crl, "next_update_utc", None)
    return value if value is not None else _utc(crl.next_update)


def write_if_changed(path, data, mode=0o644):
    """Replace the file atomically when its content differs; True when it was written."""
    path = pathlib.Path(path)
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    handle, temporary = tempfile.mkstemp(dir=str(path.parent), prefix=".%s." % path.name)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, str(path))
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return True


def _has_crl(config):
    """Whether the CA has a CRL of the collection's (none when it only trusts a site's CA)."""
    return bool(config.get("authority_crl")) and pathlib.Path(config["authority_crl"]).is_file()


def resign_crl_if_due(config, now):
    """Re-sign the CA's CRL when its nextUpdate is within the margin; True when it was."""
    if not config.get("authority_key") or not _has_crl(config):
        return False
    path = pathlib.Path(config["authority_crl"])
    crl = x509.load_pem_x509_crl(path.read_bytes())
    if next_update(crl) - now > datetime.timedelta(days=int(config["renew_margin_days"])):
        return False
    key = serialization.load_pem_private_key(pathlib.Path(config["authority_key"]).read_bytes(), password=None)
    builder = (x509.CertificateRevocationListBuilder()
               .issuer_name(crl.issuer)
               .last_update(now)
               .next_update(now + datetime.timedelta(days=int(config["crl_validity_days"]))))
    for revoked in crl:
        builder = builder.add_revoked_certificate(revoked)
    new = builder.sign(key, hashes.SHA256())
    if not new.is_signature_valid(key.public_key()):
        raise RuntimeError("the re-signed CRL does not verify with the CA key")
    write_if_changed(path, new.public_bytes(serialization.Encoding.PEM))
    return True


def publish_crl(config):
    """Copy the CA's CRL to the CA host's own Apache; reload the Apache that runs if it changed."""
    if not config.get("crl_copy") or not _has_crl(config):
        return False
    data = pathlib.Path(config["authority_crl"]).read_bytes()
    if not write_if_changed(config["crl_copy"], data):
        return False
    for service in config.get("reload_services", []):
        if subprocess.run(["systemctl", "is-active", "--quiet", service], check=False).returncode == 0:
            subprocess.run(["systemctl", "reload", service], check=True)
    return True


def _escape(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _sample(metric, labels, moment):
    text = ",".join('%s="%s"' % (name, _escape(value)) for name, value in sorted(labels.items()))
    return "%s{%s} %d" % (metric, text, int(moment.timestamp()))


def _common_name(certificate):
    names = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return names[0].value if names else ""


def expiry_samples(config):
    """(metric, sample lines, problems): the CA certificate, the CRL and every recorded certificate."""
    problems = []
    authority = x509.load_pem_x509_certificate(pathlib.Path(config["authority_certificate"]).read_bytes())
    certificates = [_sample(CERTIFICATE_METRIC, {"host": config["ca_host"], "name": AUTHORITY_NAME,
                                                 "common_name": _common_name(authority)}, not_after(authority))]
    crls = []
    if _has_crl(config):
        crl = x509.load_pem_x509_crl(pathlib.Path(config["authority_crl"]).read_bytes())
        crls.append(_sample(CRL_METRIC, {"host": config["ca_host"]}, next_update(crl)))
    for record_path in sorted(pathlib.Path(config["installed_dir"]).glob("*.json")):
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
            for name, pem in sorted(record["certificates"].items()):
                certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
                certificates.append(_sample(CERTIFICATE_METRIC, {
                    "host": record["host"], "name": name, "common_name": _common_name(certificate)},
                    not_after(certificate)))
            # The CA host's own copy is kept in step by this job: its CRL is the one above.
            if record.get("crl") and record["host"] != config["ca_host"]:
                copy = x509.load_pem_x509_crl(record["crl"].encode("ascii"))
                crls.append(_sample(CRL_METRIC, {"host": record["host"]}, next_update(copy)))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            problems.append("%s: %s" % (record_path, error))
    return {CERTIFICATE_METRIC: certificates, CRL_METRIC: crls}, problems


def render_metrics(samples):
    lines = []
    for metric in (CERTIFICATE_METRIC, CRL_METRIC):
        lines.append("# HELP %s %s" % (metric, HELP[metric]))
        lines.append("# TYPE %s gauge" % metric)
        lines.extend(samples[metric])
    return "\n".join(lines) + "\n"


def run(config, metrics_only=False, now=None):
    """Do the work; returns (what changed, problems)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    changed = []
    if not metrics_only and resign_crl_if_due(config, now):
        changed.append("crl")
    if not metrics_only and publish_crl(config):
        changed.append("crl-copy")
    samples, problems = expiry_samples(config)
    if write_if_changed(config["metrics_file"], render_metrics(samples).encode("utf-8")):
        changed.append("metrics")
    return changed, problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--config", required=True, help="the JSON settings the koji_ca role writes")
    parser.add_argument("--metrics-only", action="store_true",
                        help="only rewrite the metrics file (the role re-signs the CRL itself)")
    args = parser.parse_args(argv)
    with open(args.config, encoding="utf-8") as stream:
        config = json.load(stream)
    changed, problems = run(config, metrics_only=args.metrics_only)
    for problem in problems:
        print("unreadable record: %s" % problem, file=sys.stderr)
    # The role reads this line to report changed or not.
    print("changed: %s" % (",".join(changed) or "nothing"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
