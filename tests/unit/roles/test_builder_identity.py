"""A new builder cannot take another machine's name (koji_builder's `identity` entry point).

Koji knows a builder by its certificate's CN. The check refuses a machine whose name another
inventory host carries, or that the CA issued certificates for whose key this machine does not
hold, or that the hub has registered while this machine does not hold the name; it reads only.

The task file runs here for real (connection local), with the CA's copies of issued
certificates and the builder's key in a temporary directory, against the fake hub over HTTPS
(tests/fakehub): its write log and last event show that nothing was written.
"""

import datetime
import os
import pathlib
import subprocess
import sys
import time

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT = pathlib.Path(__file__).resolve().parents[3]
COLLECTIONS = ROOT / "build" / "collections"
sys.path.insert(0, str(ROOT / "tests"))

from fakehub import FakeHub  # noqa: E402

pytestmark = pytest.mark.skipif(not (COLLECTIONS / "ansible_collections" / "kojiforge" / "koji").exists(),
                                reason="run `make collection-link` first")

NEW = "new.example.com"          # the machine the play runs on
HUB = "hub.example.com"          # CA host and admin host
OLD = "builder1.example.com"     # a builder of the inventory, outside the play
NAME = "builder9.example.com"    # the name the new machine asks for (not in the inventory)


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


class CA(object):
    """The CA host's files: the CA and its copies of issued certificates (issued/<CN>+<SERIAL>.crt)."""

    def __init__(self, pki_dir, keep=True):
        self.pki_dir = pki_dir
        self.issued = pki_dir / "ca" / "issued"
        self.key = _key()
        self.name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Koji"),
                               x509.NameAttribute(NameOID.COMMON_NAME, "Koji CA")])
        start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1000)
        self.certificate = (
            x509.CertificateBuilder().subject_name(self.name).issuer_name(self.name)
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256()))
        if keep:
            self.issued.mkdir(parents=True)
            (pki_dir / "ca" / "koji-ca.crt").write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))

    def issue(self, cn, key, days_ago=0, days=365, keep=True, usage="client"):
        """A certificate for CN and KEY (a client certificate, as kojid's, or a server one, as the
        hub's, web's and PostgreSQL's); kept in issued/ as the CA host keeps it."""
        start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days_ago)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Koji"),
                                         x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
                .issuer_name(self.name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=days))
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                               critical=False)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH if usage == "client"
                                                      else ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .sign(self.key, hashes.SHA256()))
        if keep:
            path = self.issued / ("%s+%X.crt" % (cn, cert.serial_number))
            path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cert


def _serial(cert):
    return "%X" % cert.serial_number


@pytest.fixture
def hub():
    with FakeHub(tls=True) as fake:
        yield fake


@pytest.fixture
def ca(tmp_path):
    return CA(tmp_path / "pki")


def _run(tmp_path, hub, ca, name=NAME, machine_key=None, machine_cert=None, check=False, inventory_vars=None,
         role="kojiforge.koji.koji_builder", tasks_from="identity.yml", **role_vars):
    """The identity entry point on NEW for NAME; returns (rc, output). MACHINE_KEY (and
    MACHINE_CERT) are the key (and certificate) the machine holds in kojid.pem."""
    builder_pem = tmp_path / "builder" / "kojid.pem"
    builder_pem.parent.mkdir(exist_ok=True)
    if machine_key is not None:
        builder_pem.write_bytes(_pem(machine_key) + (
            machine_cert.public_bytes(serialization.Encoding.PEM) if machine_cert is not None else b""))
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    hosts = {NEW: dict(local), OLD: dict(local)}
    hosts[OLD].update(inventory_vars or {})
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {
        "koji_hub": {"hosts": {HUB: dict(local)}},
        "koji_builders": {"hosts": hosts},
    }}}))
    variables = {
        "koji_builder_name": name,
        "koji_builder_cert": str(builder_pem),
        "koji_builder_serverca": hub.certs["ca"],
        "koji_builder_hub_url": hub.url,
        "koji_ca_pki_dir": str(ca.pki_dir),
    }
    variables.update(role_vars)
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Check the identity",
        "hosts": NEW,
        # koji_ca's tasks expect the facts its set_vars.yml gathers.
        "gather_facts": role == "kojiforge.koji.koji_ca",
        "gather_subset": ["!all", "!min", "distribution", "platform"],
        "tasks": [{"name": "Include it", "ansible.builtin.include_role": {
            "name": role, "tasks_from": tasks_from}, "vars": variables}],
    }]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_FORCE_COLOR="false",
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
               ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-remote-tmp"))
    ansible_playbook = pathlib.Path(sys.executable).with_name("ansible-playbook")
    cmd = [str(ansible_playbook), "-i", str(inventory), str(playbook)] + (["--check"] if check else [])
    proc = subprocess.run(cmd, cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    return proc.returncode, proc.stdout


def _refused(rc, out):
    assert rc != 0, out
    assert "Identity | Refuse a machine that would take another machine's name" in out, out
    return out[out.index("Refuse a machine"):]


def _nothing_written(hub, event_before):
    assert hub.write_log == []
    assert hub.session(login=False).getLastEvent()["id"] == event_before


def test_a_new_name_passes_and_writes_nothing(tmp_path, hub, ca):
    event = hub.session(login=False).getLastEvent()["id"]
    rc, out = _run(tmp_path, hub, ca)
    assert rc == 0, out
    assert "changed=0" in out[out.rindex("PLAY RECAP"):], out
    assert "WARNING" not in out, out
    _nothing_written(hub, event)


def test_the_inventory_name_of_a_host_outside_the_play_is_refused(tmp_path, hub, ca):
    rc, out = _run(tmp_path, hub, ca, name=OLD.upper())
    assert rc != 0, out
    assert ("%s would be registered as %s, which is already the inventory name of host %s"
            % (NEW, OLD.upper(), OLD)) in out, out


def test_a_name_the_inventory_sets_for_another_host_is_refused(tmp_path, hub, ca):
    rc, out = _run(tmp_path, hub, ca, inventory_vars={"koji_ca_fqdn": NAME})
    assert rc != 0, out
    assert "which is already the koji_ca_fqdn of host %s" % OLD in out, out


def test_a_name_the_inventory_cannot_resolve_for_a_host_outside_the_play_is_no_error(tmp_path, hub, ca):
    # Its koji_ca_fqdn needs facts that host has not gathered: unknown, not a failure.
    rc, out = _run(tmp_path, hub, ca, inventory_vars={"koji_ca_fqdn": "{{ ansible_facts['fqdn'] }}"})
    assert rc == 0, out


def test_a_clone_without_the_key_is_refused_before_anything_is_written(tmp_path, hub, ca):
    old_key = _key()
    cert = ca.issue(NAME, old_key, days_ago=30)
    hub.state.add_host(NAME, arches=["x86_64", "i386"], ready=True, update_ts=time.time())
    event = hub.session(login=False).getLastEvent()["id"]
    hub.write_log.clear()
    rc, out = _run(tmp_path, hub, ca)
    message = _refused(rc, out)
    assert "%s would be registered as %s, but another machine holds that name" % (NEW, NAME) in message
    assert "the hub has host %s (id " % NAME in message
    assert "arches x86_64 i386, enabled, ready, last check-in 20" in message
    assert "newest serial" in message and "it has no key %s" % (tmp_path / "builder" / "kojid.pem") in message
    assert "koji_ca_revoked_certificates (serial_number: " in message
    assert "koji_builder_replace_host: true" in message
    assert "Nothing was written" in message
    assert cert.serial_number
    _nothing_written(hub, event)


def test_a_clone_is_refused_in_check_mode_too(tmp_path, hub, ca):
    ca.issue(NAME, _key())
    hub.state.add_host(NAME)
    rc, out = _run(tmp_path, hub, ca, check=True)
    _refused(rc, out)


def test_a_machine_with_another_key_is_refused(tmp_path, hub, ca):
    ca.issue(NAME, _key())
    rc, out = _run(tmp_path, hub, ca, machine_key=_key())
    message = _refused(rc, out)
    assert "its key %s is another" % (tmp_path / "builder" / "kojid.pem") in message


def test_the_machine_holding_the_key_of_the_newest_certificate_passes(tmp_path, hub, ca):
    key = _key()
    ca.issue(NAME, key, days_ago=400)           # expired: renewed since, same key
    ca.issue(NAME, key, days_ago=35)
    hub.state.add_host(NAME, ready=True, update_ts=time.time())
    event = hub.session(login=False).getLastEvent()["id"]
    hub.write_log.clear()
    rc, out = _run(tmp_path, hub, ca, machine_key=key)
    assert rc == 0, out
    assert "WARNING" not in out, out
    _nothing_written(hub, event)


def test_a_builder_that_is_also_the_hub_holds_its_name_whatever_server_certificates_came_later(tmp_path, hub, ca):
    """An all-in-one host: the CA also issued server certificates for its name (hub, web,
    PostgreSQL), each with its own key and newer than kojid's; only client certificates log in."""
    key = _key()
    ca.issue(NAME, key, days_ago=35)
    hub_key, web_key, postgresql_key = _key(), _key(), _key()
    for server_key in (hub_key, web_key, postgresql_key):
        ca.issue(NAME, server_key, days_ago=1, usage="server")
    hub.state.add_host(NAME, ready=True, update_ts=time.time())
    event = hub.session(login=False).getLastEvent()["id"]
    hub.write_log.clear()
    rc, out = _run(tmp_path, hub, ca, machine_key=key)
    assert rc == 0, out
    _nothing_written(hub, event)


def test_a_name_the_hub_knows_but_the_ca_never_issued_needs_replace_host(tmp_path, hub, ca):
    hub.state.add_host(NAME)
    rc, out = _run(tmp_path, hub, ca)
    message = _refused(rc, out)
    assert "the CA never issued a certificate for it" in message

    rc, out = _run(tmp_path, hub, ca, koji_builder_replace_host=True)
    assert rc == 0, out
    assert "WARNING: %s holds the name %s (it takes it over in this run): remove koji_builder_replace_host" % (
        NEW, NAME) in out, out


def test_replace_host_needs_the_old_certificates_revoked(tmp_path, hub, ca):
    old_key = _key()
    renewed = ca.issue(NAME, old_key, days_ago=10)
    previous = ca.issue(NAME, old_key, days_ago=300)
    expired = ca.issue(NAME, old_key, days_ago=800)
    hub.state.add_host(NAME)
    rc, out = _run(tmp_path, hub, ca, koji_builder_replace_host=True)
    message = _refused(rc, out)
    assert "koji_builder_replace_host is true, but the old certificates are still valid" in message
    # The still valid ones, not the expired one.
    to_revoke = message.split("koji_ca_revoked_certificates (serial_number: ", 1)[1].split(")", 1)[0]
    assert sorted(int(s.replace(":", ""), 16) for s in to_revoke.split(", ")) == sorted(
        [renewed.serial_number, previous.serial_number]), message
    assert expired.serial_number

    # As `openssl x509 -noout -serial` prints it, and in lower case with colons: koji_ca reads both.
    padded = "%0*X" % (len(_serial(previous)) + len(_serial(previous)) % 2, previous.serial_number)
    revoked = [{"serial_number": _serial(renewed)},
               {"serial_number": ":".join(padded[i:i + 2] for i in range(0, len(padded), 2)).lower()}]
    rc, out = _run(tmp_path, hub, ca, koji_builder_replace_host=True, koji_ca_revoked_certificates=revoked)
    assert rc == 0, out


def test_an_unreachable_hub_is_a_warning_and_the_ca_still_decides(tmp_path, hub, ca):
    rc, out = _run(tmp_path, hub, ca, koji_builder_hub_url="https://localhost:9/kojihub")
    assert rc == 0, out
    assert "WARNING: %s: the hub (https://localhost:9/kojihub, asked from %s) did not answer getHost(%s)" % (
        NEW, HUB, NAME) in out, out

    ca.issue(NAME, _key())
    rc, out = _run(tmp_path, hub, ca, koji_builder_hub_url="https://localhost:9/kojihub")
    _refused(rc, out)


def test_after_a_restore_a_certificate_of_the_replaced_ca_holds_the_name(tmp_path, hub, ca):
    # restore.yml puts the backup's CA (ca, with the old environment's certificates) in place on
    # a fresh environment, whose machines hold certificates of the fresh CA; koji_ca then
    # re-issues them. The registration is in the restored database.
    ca.issue(NAME, _key(), days_ago=100)
    hub.state.add_host(NAME)
    fresh = CA(tmp_path / "fresh-pki", keep=False)
    key = _key()
    rc, out = _run(tmp_path, hub, ca, machine_key=key, machine_cert=fresh.issue(NAME, key, keep=False))
    assert rc == 0, out


def test_a_certificate_of_another_ca_for_another_name_holds_nothing(tmp_path, hub, ca):
    ca.issue(NAME, _key(), days_ago=100)
    key = _key()
    other = CA(tmp_path / "other-pki", keep=False).issue("other.example.com", key, keep=False)
    rc, out = _run(tmp_path, hub, ca, machine_key=key, machine_cert=other)
    _refused(rc, out)


def test_a_certificate_of_the_ca_in_place_that_is_not_the_newest_holds_nothing(tmp_path, hub, ca):
    # The machine that had the name before a takeover: the name went to the newest certificate.
    old_key = _key()
    old = ca.issue(NAME, old_key, days_ago=100)
    ca.issue(NAME, _key(), days_ago=1)
    hub.state.add_host(NAME)
    rc, out = _run(tmp_path, hub, ca, machine_key=old_key, machine_cert=old)
    _refused(rc, out)


def test_before_the_ca_exists_the_hub_is_not_asked(tmp_path, hub):
    hub.reset_counters()
    rc, out = _run(tmp_path, hub, CA(tmp_path / "pki", keep=False), koji_builder_serverca=str(tmp_path / "no-ca.crt"))
    assert rc == 0, out
    assert hub.requests == 0
    assert "WARNING" not in out, out


def test_koji_ca_refuses_to_issue_a_certificate_for_a_name_another_machine_holds(tmp_path, hub, ca):
    """koji_ca's preflight, before any certificate is issued, runs the check for a builder."""
    ca.issue(NAME, _key(), days_ago=30)
    hub.state.add_host(NAME, ready=True, update_ts=time.time())
    event = hub.session(login=False).getLastEvent()["id"]
    hub.write_log.clear()
    rc, out = _run(tmp_path, hub, ca, role="kojiforge.koji.koji_ca", tasks_from="preflight.yml",
                   koji_ca_fqdn=NAME, koji_ca_host=HUB,
                   # What set_vars.yml loads for the platform.
                   __koji_ca_apache_group="www-data", __koji_ca_apache_service="apache2")
    message = _refused(rc, out)
    assert "%s would be registered as %s, but another machine holds that name" % (NEW, NAME) in message
    _nothing_written(hub, event)


@pytest.mark.parametrize("playbook", ["builders.yml", "site.yml"])
def test_the_playbooks_that_add_builders_check_their_names_first(playbook):
    """Before the storage play writes the hub's exports, before any certificate or registration."""
    first = yaml.safe_load((ROOT / "playbooks" / playbook).read_text())[0]
    assert first["hosts"] == "koji_builders" and first["any_errors_fatal"] is True
    assert [t.get("ansible.builtin.include_role") for t in first["tasks"]] == [
        {"name": "kojiforge.koji.koji_builder", "tasks_from": "identity.yml"}]
