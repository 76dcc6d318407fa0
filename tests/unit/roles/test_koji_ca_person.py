"""playbooks/person_certificate.yml, run for real (connection local) with a CA in a temporary
folder: a person's request is signed with clientAuth and the certificate comes back beside it,
the CA keeps a copy to revoke it by common name, a second run changes nothing, and a request that
is not right (not a request, another CN, a weak key, asking for server use or a CA) is refused with
a clear message before anything is signed or written."""

import datetime
import os
import pathlib
import re
import subprocess
import sys

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT = pathlib.Path(__file__).resolve().parents[3]
COLLECTIONS = ROOT / "build" / "collections"
PLAYBOOK = ROOT / "playbooks" / "person_certificate.yml"
CA_HOST = "hub.example.com"

pytestmark = pytest.mark.skipif(not (COLLECTIONS / "ansible_collections" / "kojiforge" / "koji").exists(),
                                reason="run `make collection-link` first")


def _key(size=2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=size)


def _ca(pki):
    key = _key()
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Koji"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Koji CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=3650))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                   .sign(key, hashes.SHA256()))
    folder = pki / "ca"
    (folder / "issued").mkdir(parents=True)
    (folder / "koji-ca.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "koji-ca.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.TraditionalOpenSSL,
                                                           serialization.NoEncryption()))
    return certificate


def _csr(path, common_name="alice", key=None, usage=ExtendedKeyUsageOID.CLIENT_AUTH, ca=False):
    """A request as docs/onboarding.md has the person make it (openssl req ... -addext ...)."""
    builder = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
               .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    request = builder.sign(key or _key(), hashes.SHA256())
    path.write_bytes(request.public_bytes(serialization.Encoding.PEM))
    return request


def _run(tmp_path, person="alice", csr=None):
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory = tmp_path / "inventory"
    (inventory / "group_vars").mkdir(parents=True, exist_ok=True)
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {
        "koji_hub": {"hosts": {CA_HOST: local}}}}}))
    # As a site keeps the CA settings: group_vars/all.
    (inventory / "group_vars" / "all.yml").write_text(yaml.safe_dump({"koji_ca_pki_dir": str(tmp_path / "pki")}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_FORCE_COLOR="false",
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
               ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-remote-tmp"), ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    ansible_playbook = pathlib.Path(sys.executable).with_name("ansible-playbook")
    proc = subprocess.run([str(ansible_playbook), "-i", str(inventory), str(PLAYBOOK),
                           "-e", "koji_ca_person=%s" % person, "-e", "koji_ca_person_csr=%s" % csr],
                          cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    return proc.returncode, proc.stdout


@pytest.fixture
def ca(tmp_path):
    return _ca(tmp_path / "pki")


def test_a_request_is_signed_for_client_use_and_comes_back(tmp_path, ca):
    person = tmp_path / "alice"
    person.mkdir()
    key = _key(3072)
    _csr(person / "alice.csr", key=key)
    rc, out = _run(tmp_path, csr=person / "alice.csr")
    assert rc == 0, out
    certificate = x509.load_pem_x509_certificate((person / "alice.crt").read_bytes())
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "alice"
    assert certificate.issuer == ca.subject
    ca.public_key().verify(certificate.signature, certificate.tbs_certificate_bytes,
                           __import__("cryptography.hazmat.primitives.asymmetric.padding", fromlist=["PKCS1v15"]).PKCS1v15(),
                           certificate.signature_hash_algorithm)
    assert list(certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == \
        [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert certificate.public_key().public_numbers() == key.public_key().public_numbers()
    assert (person / "koji-ca.crt").read_bytes() == (tmp_path / "pki" / "ca" / "koji-ca.crt").read_bytes()
    # The CA keeps it as it keeps every certificate it issues (revocation by common name).
    kept = list((tmp_path / "pki" / "ca" / "issued").glob("alice+*.crt"))
    assert [int(p.name[len("alice+"):-len(".crt")], 16) for p in kept] == [certificate.serial_number]
    assert kept[0].read_bytes() == (person / "alice.crt").read_bytes()
    assert "openssl pkcs12 -export -inkey alice.key -in alice.crt" in out
    # Again with the same request: the certificate is kept.
    rc, out = _run(tmp_path, csr=person / "alice.csr")
    assert rc == 0, out
    assert re.search(r"localhost\s+: ok=\d+\s+changed=0 ", out), out
    assert x509.load_pem_x509_certificate((person / "alice.crt").read_bytes()).serial_number == certificate.serial_number


@pytest.mark.parametrize("case", ["not a request", "another CN", "weak key", "server use", "a CA"])
def test_a_wrong_request_is_refused_before_anything_is_signed(tmp_path, ca, case):
    csr = tmp_path / "request.csr"
    if case == "not a request":
        csr.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
        message = "it is not a certificate request"
    elif case == "another CN":
        _csr(csr, common_name="mallory")
        message = "its CN is mallory, not the Koji user name alice"
    elif case == "weak key":
        _csr(csr, key=_key(1024))
        message = "its key is RSA of 1024 bits: RSA of at least 2048 bits"
    elif case == "server use":
        _csr(csr, usage=ExtendedKeyUsageOID.SERVER_AUTH)
        message = "it must ask for client use only"
    else:
        _csr(csr, ca=True)
        message = "it must ask for client use only"
    rc, out = _run(tmp_path, csr=csr)
    assert rc != 0, out
    assert message in " ".join(out.split()), out
    assert "Nothing was signed" in " ".join(out.split()), out
    assert list((tmp_path / "pki" / "ca" / "issued").iterdir()) == []
    assert not (tmp_path / "alice.crt").exists()
    assert ca.serial_number
