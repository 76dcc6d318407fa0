"""Throw-away certificates for the fake hub's TLS mode: a CA, a server certificate for
localhost/127.0.0.1 and a client certificate (key and certificate in one PEM, as koji's
``cert`` option wants it) whose CN is the user it logs in as."""

import datetime
import ipaddress
import os
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def _cert(subject_cn, key, issuer_cn, issuer_key, ca=False, san=None, client=False):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(_name(subject_cn))
               .issuer_name(_name(issuer_cn))
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    if client:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def make_client_cert(certs, user):
    """Write a client PEM (key + certificate) for ``user``, signed by the fake CA."""
    with open(certs['ca_key'], 'rb') as handle:
        ca_key = serialization.load_pem_private_key(handle.read(), None)
    key = _key()
    cert = _cert(user, key, 'fakehub-ca', ca_key, client=True)
    path = os.path.join(certs['dir'], '%s.pem' % user)
    with open(path, 'wb') as handle:
        handle.write(_pem_key(key) + cert.public_bytes(serialization.Encoding.PEM))
    return path


def make_certs(certdir=None, admin_user='admin'):
    certdir = certdir or tempfile.mkdtemp(prefix='fakehub-certs-')
    ca_key = _key()
    ca_cert = _cert('fakehub-ca', ca_key, 'fakehub-ca', ca_key, ca=True)
    server_key = _key()
    server_cert = _cert('localhost', server_key, 'fakehub-ca', ca_key,
                        san=[x509.DNSName('localhost'),
                             x509.IPAddress(ipaddress.ip_address('127.0.0.1'))])
    files = {
        'dir': certdir,
        'ca': os.path.join(certdir, 'ca.crt'),
        'ca_key': os.path.join(certdir, 'ca.key'),
        'server_cert': os.path.join(certdir, 'server.crt'),
        'server_key': os.path.join(certdir, 'server.key'),
    }
    with open(files['ca'], 'wb') as handle:
        handle.write(ca_cert.public_bytes(serialization.Encoding.PEM))
    with open(files['ca_key'], 'wb') as handle:
        handle.write(_pem_key(ca_key))
    with open(files['server_cert'], 'wb') as handle:
        handle.write(server_cert.public_bytes(serialization.Encoding.PEM))
    with open(files['server_key'], 'wb') as handle:
        handle.write(_pem_key(server_key))
    files['admin_pem'] = make_client_cert(files, admin_user)
    return files
