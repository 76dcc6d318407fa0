"""Reports the state of a host's Koji keys, certificates and PEM files in one pass.

koji_ca's tasks/certificates.yml runs this on every host (python3 -c, the request as JSON in
argv[1]) and prints one JSON document. With it the controller decides which certificates are
already right; a run where all of them are right then costs one round trip to the host
instead of four per certificate. Nothing is written. Private keys are read only to compare
their public half with the certificate's: no byte of a key is printed.
"""

import grp
import hashlib
import json
import os
import pwd
import stat
import sys

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
except ImportError:  # the first run installs it just before; the tasks then take the slow path
    x509 = None


def owner_group_mode(path):
    """[owner, group, mode] of a path (mode as an integer), or None when it is missing."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    try:
        owner = pwd.getpwuid(info.st_uid).pw_name
    except KeyError:
        owner = str(info.st_uid)
    try:
        group = grp.getgrgid(info.st_gid).gr_name
    except KeyError:
        group = str(info.st_gid)
    return [owner, group, stat.S_IMODE(info.st_mode)]


def read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def public_der(public_key):
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def item_state(directory, name):
    paths = {kind: os.path.join(directory, "%s.%s" % (name, kind)) for kind in ("key", "crt", "pem")}
    key = read(paths["key"])
    certificate = read(paths["crt"])
    pem = read(paths["pem"])
    state = {
        "name": name,
        "certificate": certificate.decode("ascii", "replace") if certificate else "",
        "certificate_meta": owner_group_mode(paths["crt"]),
        "key_meta": owner_group_mode(paths["key"]),
        "key_rsa_bits": None,
        "key_matches_certificate": False,
        "pem_meta": owner_group_mode(paths["pem"]),
        "pem_matches": key is not None and certificate is not None and pem == key + certificate,
    }
    if key is None or x509 is None:
        return state
    try:
        private_key = serialization.load_pem_private_key(key, password=None)
    except (ValueError, TypeError):
        return state
    if isinstance(private_key, rsa.RSAPrivateKey):
        state["key_rsa_bits"] = private_key.key_size
    if certificate:
        try:
            parsed = x509.load_pem_x509_certificate(certificate)
        except ValueError:
            return state
        state["key_matches_certificate"] = public_der(parsed.public_key()) == public_der(private_key.public_key())
    return state


def main():
    request = json.loads(sys.argv[1])
    missing_groups = []
    for name in request["groups"]:
        try:
            grp.getgrnam(name)
        except KeyError:
            missing_groups.append(name)
    ca_certificate = read(request["ca_certificate"])
    bundle = read(request["bundle"])
    print(json.dumps({
        "cryptography": x509 is not None,
        "dir_meta": owner_group_mode(request["dir"]),
        "ca_certificate_sha256": hashlib.sha256(ca_certificate).hexdigest() if ca_certificate is not None else None,
        "ca_certificate_meta": owner_group_mode(request["ca_certificate"]),
        "bundle_sha256": hashlib.sha256(bundle).hexdigest() if bundle is not None else None,
        "bundle_meta": owner_group_mode(request["bundle"]),
        "missing_groups": missing_groups,
        "certificates": [item_state(request["dir"], name) for name in request["names"]],
    }))


if __name__ == "__main__":
    main()
