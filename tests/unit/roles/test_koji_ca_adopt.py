"""koji_ca at a site that already has a CA and certificates (issue #21).

Rendered with the role's own variables as Ansible would (no host needed): which CA is in use
(the collection's, a site's adopted with its key, or a site's trusted only), the bundle Apache
accepts client certificates from, the CRL's issuer, and the rules that keep what is there (a key
is never replaced because koji_ca_key_size differs; a certificate is re-issued only when missing,
near its end, revoked, not for its key or from another CA, and for another identity only with
koji_ca_reissue). Then the Koji TLS site of the _common role, the renewal job without a CA key,
and preflight run for real on this machine (connection local, a temporary folder), which must stop
a trust-only or adopting run, naming what is wrong, before anything is written.
"""

import base64
import datetime
import importlib.util
import json
import pathlib
import subprocess
import sys

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from role_templating import load_yaml, run_playbook, trust_as_template, trusted, walk_tasks

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "koji_ca"
COMMON = ROOT / "roles" / "_common"
COLLECTIONS = ROOT / "build" / "collections"
NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)
HUB = "hub.example.com"


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(organization, common_name):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(certificate):
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


class Authority(object):
    """A CA; with_ski=False makes one without a subject key identifier (older site CAs)."""

    def __init__(self, organization="Koji", common_name="Koji CA", with_ski=True, ca=True):
        self.key = _key()
        self.name = _name(organization, common_name)
        builder = (x509.CertificateBuilder().subject_name(self.name).issuer_name(self.name)
                   .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(NOW - DAY).not_valid_after(NOW + 3650 * DAY)
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if with_ski:
            builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()),
                                            critical=False)
        self.certificate = builder.sign(self.key, hashes.SHA256())
        self.pem = _pem(self.certificate)

    def issue(self, common_name, key, organization="Koji", days=365, sans=(), usage="client", aki=True):
        builder = (x509.CertificateBuilder().subject_name(_name(organization, common_name))
                   .issuer_name(self.name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(NOW - DAY).not_valid_after(NOW + days * DAY)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH if usage == "client"
                                                         else ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
        if aki:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]),
                                            critical=False)
        return builder.sign(self.key, hashes.SHA256())


def _variables(**extra):
    variables = dict(load_yaml(ROLE / "defaults" / "main.yml"))
    variables.update(load_yaml(ROLE / "vars" / "main.yml"))
    variables.update(load_yaml(ROLE / "vars" / "Debian.yml"))
    variables.update({
        "inventory_hostname": HUB,
        "koji_ca_fqdn": HUB,
        "koji_ca_host": HUB,
        "groups": {"all": [HUB], "koji_hub": [HUB]},
        "group_names": ["koji_hub", "koji_web"],
    })
    variables.update(extra)
    return variables


# community.crypto's filters (x509_certificate_info...) need Ansible's collection loader, which
# a test process shares with every other test: the role's expressions are rendered in a fresh
# interpreter that installs it, as ansible-playbook does.
RENDERER = """
import json, sys
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
_AnsibleCollectionFinder(paths=[sys.argv[1]])._install()
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
sys.path.insert(0, sys.argv[2])
from role_templating import trust_as_template, trusted
request = json.loads(sys.stdin.read())
templar = Templar(loader=DataLoader(), variables=trusted(request["variables"]))
print(json.dumps(templar.template(trust_as_template(request["expression"]))))
"""


def _render(expression, **extra):
    request = json.dumps({"expression": expression, "variables": _variables(**extra)})
    proc = subprocess.run([sys.executable, "-c", RENDERER, str(COLLECTIONS), str(pathlib.Path(__file__).parent)],
                          input=request, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _site(pem):
    """The registered result of preflight's read of the site's CA certificate."""
    return {"content": base64.b64encode(pem.encode("ascii")).decode("ascii")}


@pytest.mark.parametrize("cert_file, key_file, mode", [
    ("", "", "generated"),
    ("/srv/site-ca/ca.crt", "/srv/site-ca/ca.key", "adopted"),
    ("/srv/site-ca/ca.crt", "", "trusted"),
])
def test_where_the_ca_comes_from(cert_file, key_file, mode):
    found = _render("{{ [__koji_ca_mode, __koji_ca_signs] }}",
                    koji_ca_authority_cert_file=cert_file, koji_ca_authority_key_file=key_file)
    assert list(found) == [mode, mode != "trusted"]


def test_the_bundle_holds_the_koji_ca_first_then_the_trusted_ones():
    koji, old, other = Authority(), Authority("Site", "Old CA"), Authority("Partner", "Partner CA")
    bundle = _render("{{ __koji_ca_bundle }}", __koji_ca_authority={"certificate": koji.pem},
                     koji_ca_trusted_certificates=[old.pem, "\n" + other.pem + "\n\n"])
    assert bundle == koji.pem + old.pem + other.pem
    assert _render("{{ __koji_ca_bundle_file }}") == "/etc/pki/koji/koji-ca-bundle.crt"


def test_without_trusted_certificates_the_bundle_is_the_koji_ca():
    koji = Authority()
    assert _render("{{ __koji_ca_bundle }}", __koji_ca_authority={"certificate": koji.pem}) == koji.pem


def test_an_adopted_ca_is_the_sites_certificate_and_signs_crls_with_its_subject():
    site = Authority("Example Site", "Example Root CA")
    adopted = dict(koji_ca_authority_cert_file="/srv/ca.crt", koji_ca_authority_key_file="/srv/ca.key",
                   __koji_ca_site_authority=_site(site.pem), __koji_ca_authority={"skipped": True})
    assert _render("{{ __koji_ca_authority_pem }}", **adopted) == site.pem
    # The site's subject, in its order, whatever koji_ca_organization says.
    assert list(_render("{{ __koji_ca_authority_issuer }}", **adopted)) == [
        {"organizationName": "Example Site"}, {"commonName": "Example Root CA"}]
    # The collection's own CA: the subject its certificate has, not one rebuilt from a changed
    # koji_ca_organization (a CRL with another issuer would not be the CA's).
    koji = Authority()
    assert list(_render("{{ __koji_ca_authority_issuer }}", __koji_ca_authority={"certificate": koji.pem},
                        koji_ca_organization="Other")) == [{"organizationName": "Koji"}, {"commonName": "Koji CA"}]


def _item_state(certificate, key_matches=True, key_rsa_bits=3072, pem_matches=True):
    return {"certificate": _pem(certificate) if certificate is not None else "",
            "key_matches_certificate": key_matches, "key_rsa_bits": key_rsa_bits,
            "key_meta": ["root", "www-data", 0o640], "certificate_meta": ["root", "root", 0o644],
            "pem_matches": pem_matches, "pem_meta": ["root", "www-data", 0o640]}


HUB_ITEM = {"name": "hub", "common_name": HUB, "usage": "server", "alt_names": [HUB], "owner": "root",
            "group": "www-data", "mode": "0640", "services": ["apache2"]}


def _judge(authority, certificate, expression="__koji_ca_item_current_good", state=None, **extra):
    """What the role concludes for the hub certificate CERTIFICATE on disk (read by install.yml)."""
    state = state or _item_state(certificate)
    variables = dict(item=HUB_ITEM, __koji_ca_index=0, __koji_ca_keys={"results": [{"skipped": True}]},
                     __koji_ca_host_state={"certificates": [state]},
                     __koji_ca_authority={"certificate": authority.pem})
    variables.update(extra)
    return _render("{{ %s }}" % expression, **variables)


def test_a_certificate_for_another_identity_is_kept_unless_reissue_is_asked():
    ca = Authority()
    # Issued before the settings changed: another O=, without the alternative name now asked for.
    certificate = ca.issue(HUB, _key(), organization="Old Org", usage="server", sans=[HUB])
    changed = dict(koji_ca_organization="Koji", koji_ca_server_alt_names=["koji.example.com"])
    assert _judge(ca, certificate, **changed) is True
    assert _judge(ca, certificate, "__koji_ca_item_settled", **changed) is True
    assert _judge(ca, certificate, koji_ca_reissue=True, **changed) is False
    # With the identity the settings ask for, koji_ca_reissue changes nothing.
    right = ca.issue(HUB, _key(), usage="server", sans=[HUB])
    assert _judge(ca, right, koji_ca_reissue=True) is True


def test_a_key_of_another_size_is_kept():
    ca = Authority()
    certificate = ca.issue(HUB, _key(), usage="server", sans=[HUB])
    assert _judge(ca, certificate, "__koji_ca_item_settled", state=_item_state(certificate, key_rsa_bits=2048),
                  koji_ca_key_size=4096) is True


@pytest.mark.parametrize("case", ["missing", "near its end", "revoked", "another CA", "not for its key"])
def test_what_is_re_issued(case):
    ca = Authority()
    certificate = ca.issue(HUB, _key(), usage="server", sans=[HUB])
    extra = {}
    state = _item_state(certificate)
    if case == "missing":
        state = _item_state(None, key_matches=False)
    elif case == "near its end":
        certificate = ca.issue(HUB, _key(), usage="server", sans=[HUB], days=10)
        state = _item_state(certificate)
    elif case == "revoked":
        extra["koji_ca_revoked_certificates"] = [{"serial_number": "%X" % certificate.serial_number}]
    elif case == "another CA":
        certificate = Authority("Koji", "Koji CA").issue(HUB, _key(), usage="server", sans=[HUB])
        state = _item_state(certificate)
    else:
        state = _item_state(certificate, key_matches=False)
    assert _judge(ca, certificate, state=state, **extra) is False
    assert _judge(ca, certificate, "__koji_ca_item_settled", state=state, **extra) is False


def test_the_certificates_of_a_ca_without_subject_key_identifier_are_kept():
    site = Authority("Example Site", "Example Root CA", with_ski=False)
    adopted = dict(koji_ca_authority_cert_file="/srv/ca.crt", koji_ca_authority_key_file="/srv/ca.key",
                   __koji_ca_site_authority=_site(site.pem))
    for aki in (True, False):
        certificate = site.issue(HUB, _key(), organization="Example Site", usage="server", sans=[HUB], aki=aki)
        assert _judge(site, certificate, **adopted) is True


def _key_task():
    tasks = load_yaml(ROLE / "tasks" / "certificates.yml")
    return next(t for t in walk_tasks(tasks) if "community.crypto.openssl_privatekey" in t)


def test_a_key_is_replaced_only_when_its_certificate_is_revoked():
    ca = Authority()
    certificate = ca.issue(HUB, _key(), usage="server", sans=[HUB])
    regenerate = _key_task()["community.crypto.openssl_privatekey"]["regenerate"]
    state = {"certificates": [_item_state(certificate)]}
    common = dict(item=HUB_ITEM, __koji_ca_index=0, __koji_ca_host_state=state)
    assert _render(regenerate, **common) == "never"
    revoked = [{"serial_number": "%X" % certificate.serial_number}]
    assert _render(regenerate, koji_ca_revoked_certificates=revoked, **common) == "always"


def test_trust_only_never_writes_the_sites_keys_and_certificates():
    tasks = {t["name"]: t for t in walk_tasks(load_yaml(ROLE / "tasks" / "certificates.yml"))}
    for name in ("Create this host's private keys (they never leave the host)",
                 "Build the signing requests (for the certificates to issue or renew)",
                 "Sign the requests on the CA host (renewing those near their end or revoked)",
                 "Install the certificates"):
        assert str(tasks[name]["when"]).startswith("__koji_ca_signs and "), name
    # Only the PEM file (key then certificate) counts as what the role keeps right.
    site = Authority("Example Site", "Example Root CA")
    certificate = site.issue(HUB, _key(), organization="Example Site", usage="server", sans=[HUB], days=5)
    trust = dict(koji_ca_authority_cert_file="/srv/ca.crt", __koji_ca_site_authority=_site(site.pem))
    state = dict(_item_state(certificate), key_meta=["root", "root", 0o600], certificate_meta=["root", "root", 0o600])
    assert _judge(site, certificate, "__koji_ca_item_settled", state=state, **trust) is True
    state["pem_matches"] = False
    assert _judge(site, certificate, "__koji_ca_item_settled", state=state, **trust) is False


def test_trust_only_accepts_certificates_of_the_sites_ca_and_of_the_trusted_ones():
    site, old = Authority("Example Site", "Example Root CA"), Authority("Example Site", "Old CA")
    trust = dict(koji_ca_authority_cert_file="/srv/ca.crt", __koji_ca_site_authority=_site(site.pem),
                 koji_ca_trusted_certificates=[old.pem])
    subjects = _render("{{ __koji_ca_trusted_subjects }}", **trust)
    assert [list(map(list, s)) for s in subjects] == [
        [["organizationName", "Example Site"], ["commonName", "Example Root CA"]],
        [["organizationName", "Example Site"], ["commonName", "Old CA"]]]


@pytest.mark.parametrize("crl_settings, wants_crl_file", [
    ({}, True),
    ({"koji_hub_ca_crl": "", "koji_web_ca_crl": ""}, False),
    ({"koji_hub_ca_crl": "/etc/pki/site/site.crl", "koji_web_ca_crl": "/etc/pki/site/site.crl"}, False),
])
def test_the_files_a_trust_only_site_provides(crl_settings, wants_crl_file):
    certificates = [dict(HUB_ITEM), dict(HUB_ITEM, name="kojiweb")]
    found = {"files": [{"path": "/etc/pki/koji/hub.crt"}, {"path": "/etc/pki/koji/hub.key"}]}
    missing = _render("{{ __koji_ca_missing_files }}", __koji_ca_certificates=certificates,
                      __koji_ca_provided=found, **crl_settings)
    assert list(missing) == ["kojiweb.crt", "kojiweb.key"] + (["koji-ca.crl"] if wants_crl_file else [])
    # A builder (no Apache) needs no CRL.
    builder = _render("{{ __koji_ca_provided_files }}", __koji_ca_certificates=[dict(HUB_ITEM, name="kojid")],
                      group_names=["koji_builders"])
    assert list(builder) == ["kojid.crt", "kojid.key"]


def _ssl_site(**extra):
    variables = {"ansible_managed": "Ansible managed", "inventory_hostname": HUB, "ansible_facts": {"fqdn": HUB},
                 "__common_apache_kojiforge_dir": "/etc/apache2/kojiforge", "__common_apache_log_dir": "/var/log/apache2",
                 "_common_apache_tls_cert": "/etc/pki/koji/hub.crt", "_common_apache_tls_key": "/etc/pki/koji/hub.key",
                 "_common_apache_ca_cert": "/etc/pki/koji/koji-ca.crt", "_common_apache_ca_crl": "/etc/pki/koji/koji-ca.crl"}
    variables.update(extra)
    templar = Templar(loader=DataLoader(), variables=trusted(variables))
    source = (COMMON / "templates" / "kojiforge-ssl.conf.j2").read_text(encoding="utf-8")
    rendered = templar.copy_with_new_env(trim_blocks=True).template(trust_as_template(source))
    return [line.strip() for line in rendered.splitlines() if line.strip().startswith("SSLCA")]


def test_apache_accepts_client_certificates_from_the_bundle():
    assert _ssl_site() == ["SSLCACertificateFile /etc/pki/koji/koji-ca-bundle.crt",
                           "SSLCARevocationFile /etc/pki/koji/koji-ca.crl",
                           "SSLCARevocationCheck chain no_crl_for_cert_ok"]
    # Another CA file than koji_ca's is used as it is; an explicit client CA file wins.
    assert _ssl_site(_common_apache_ca_cert="/etc/pki/site/ca.pem")[0] == "SSLCACertificateFile /etc/pki/site/ca.pem"
    assert _ssl_site(_common_apache_client_ca_file="/etc/pki/site/clients.pem")[0] == \
        "SSLCACertificateFile /etc/pki/site/clients.pem"


def test_the_bundle_path_apache_uses_is_the_one_koji_ca_writes():
    assert _ssl_site()[0].split()[1] == _render("{{ __koji_ca_bundle_file }}")


def _renew_module():
    spec = importlib.util.spec_from_file_location("kojiforge_ca_renew_adopt", str(ROLE / "files" / "kojiforge_ca_renew.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_renewal_job_without_a_ca_key_only_publishes_end_dates(tmp_path):
    """Trust only: no key, no CRL of the collection's; the CA's and the hosts' end dates still show."""
    renew = _renew_module()
    site = Authority("Example Site", "Example Root CA")
    (tmp_path / "ca.crt").write_text(site.pem)
    installed = tmp_path / "installed"
    installed.mkdir()
    kojid = site.issue("b1.example.com", _key(), days=20)
    (installed / "b1.example.com.json").write_text(json.dumps(
        {"host": "b1.example.com", "certificates": {"kojid": _pem(kojid)}, "crl": ""}))
    config = {"ca_host": HUB, "authority_certificate": str(tmp_path / "ca.crt"), "authority_key": "",
              "authority_crl": str(tmp_path / "ca.crl"), "installed_dir": str(installed),
              "crl_copy": str(tmp_path / "copy.crl"), "reload_services": [], "renew_margin_days": 30,
              "crl_validity_days": 90, "metrics_file": str(tmp_path / "expiry.prom")}
    # A CRL left from a CA the collection made before is not the site's: the role names none.
    (tmp_path / "ca.crl").write_text("a CRL of the former CA")
    config["authority_crl"] = ""
    changed, problems = renew.run(config)
    assert (changed, problems) == (["metrics"], [])
    metrics = (tmp_path / "expiry.prom").read_text()
    assert 'name="koji-ca"' in metrics and 'common_name="Example Root CA"' in metrics
    assert 'name="kojid"' in metrics
    assert "kojiforge_crl_next_update_timestamp_seconds{" not in metrics
    assert not (tmp_path / "copy.crl").exists()
    settings = _render("{{ __koji_ca_renew_settings }}", koji_ca_authority_cert_file="/srv/ca.crt")
    assert (settings["authority_key"], settings["authority_crl"], settings["crl_copy"]) == ("", "", "")


# Preflight, for real: connection local, the pki folder in a temporary directory.

def _write_key(path, key):
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))


def _preflight(tmp_path, **role_vars):
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {"koji_hub": {"hosts": {HUB: dict(local)}}}}}))
    variables = {"koji_ca_fqdn": HUB, "koji_ca_pki_dir": str(tmp_path / "pki")}
    variables.update(role_vars)
    playbook = tmp_path / "playbook.yml"
    include = [{"name": "Include %s" % part, "ansible.builtin.include_role": {
        "name": "kojiforge.koji.koji_ca", "tasks_from": part}, "vars": variables}
        for part in ("set_vars.yml", "preflight.yml")]
    playbook.write_text(yaml.safe_dump([{"name": "Preflight", "hosts": HUB, "gather_facts": False,
                                         "tasks": include}]))
    returncode, output = run_playbook(tmp_path, inventory, playbook)
    return returncode, " ".join(output.split())


def _listing(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


needs_link = pytest.mark.skipif(not (COLLECTIONS / "ansible_collections" / "kojiforge" / "koji").exists(),
                                reason="run `make collection-link` first")


@pytest.fixture
def site_ca(tmp_path):
    site = Authority("Example Site", "Example Root CA")
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "ca.crt").write_text(site.pem)
    _write_key(folder / "ca.key", site.key)
    (tmp_path / "pki").mkdir()
    return site, folder


@needs_link
def test_trust_only_stops_naming_the_missing_files_before_anything_is_written(tmp_path, site_ca):
    site, folder = site_ca
    pki = tmp_path / "pki"
    key = _key()
    _write_key(pki / "hub.key", key)
    (pki / "hub.crt").write_text(_pem(site.issue(HUB, key, organization="Example Site", usage="server")))
    before = _listing(pki)
    rc, out = _preflight(tmp_path, koji_ca_authority_cert_file=str(folder / "ca.crt"))
    assert rc != 0, out
    assert "koji_ca only trusts the site's CA" in out, out
    # The host is in koji_hub (inventory): it needs hub (there) and admin (the first hub host).
    for name in ("admin.crt", "admin.key", "koji-ca.crl"):
        assert "%s/%s" % (pki, name) in out, out
    assert "%s/hub.crt" % pki not in out, out
    assert _listing(pki) == before


@needs_link
def test_trust_only_passes_when_the_site_provided_everything(tmp_path, site_ca):
    site, folder = site_ca
    pki = tmp_path / "pki"
    for name in ("hub", "admin"):
        key = _key()
        _write_key(pki / ("%s.key" % name), key)
        (pki / ("%s.crt" % name)).write_text(_pem(site.issue(name, key, organization="Example Site")))
    rc, out = _preflight(tmp_path, koji_ca_authority_cert_file=str(folder / "ca.crt"),
                         koji_hub_ca_crl="", koji_web_ca_crl="")
    assert rc == 0, out


@needs_link
@pytest.mark.parametrize("case", ["key missing", "not a CA", "cert missing", "revocations in trust only",
                                  "a trusted certificate that is not one", "key without certificate"])
def test_adopting_stops_on_a_bad_site_ca(tmp_path, site_ca, case):
    site, folder = site_ca
    settings = {"koji_ca_authority_cert_file": str(folder / "ca.crt"),
                "koji_ca_authority_key_file": str(folder / "ca.key")}
    if case == "key missing":
        settings["koji_ca_authority_key_file"] = str(folder / "nosuch.key")
        message = "koji_ca_authority_key_file %s/nosuch.key is not a file on %s" % (folder, HUB)
    elif case == "not a CA":
        leaf = site.issue("not-a-ca", _key())
        (folder / "leaf.crt").write_text(_pem(leaf))
        settings["koji_ca_authority_cert_file"] = str(folder / "leaf.crt")
        message = "is not a PEM CA certificate"
    elif case == "cert missing":
        settings["koji_ca_authority_cert_file"] = str(folder / "nosuch.crt")
        message = "koji_ca_authority_cert_file %s/nosuch.crt cannot be read on %s" % (folder, HUB)
    elif case == "revocations in trust only":
        settings = {"koji_ca_authority_cert_file": str(folder / "ca.crt"),
                    "koji_ca_revoked_certificates": [{"common_name": "someone"}]}
        message = "koji_ca_revoked_certificates must be empty in trust-only mode"
    elif case == "a trusted certificate that is not one":
        settings["koji_ca_trusted_certificates"] = [site.pem, "not a certificate"]
        message = "koji_ca_trusted_certificates[1] is not the PEM text of a CA certificate"
    else:
        settings = {"koji_ca_authority_key_file": str(folder / "ca.key")}
        message = "a key file needs its certificate file"
    rc, out = _preflight(tmp_path, **settings)
    assert rc != 0, out
    assert message in out, out
    assert _listing(tmp_path / "pki") == []


@needs_link
def test_adopting_a_good_site_ca_passes_preflight(tmp_path, site_ca):
    site, folder = site_ca
    rc, out = _preflight(tmp_path, koji_ca_authority_cert_file=str(folder / "ca.crt"),
                         koji_ca_authority_key_file=str(folder / "ca.key"),
                         koji_ca_trusted_certificates=[Authority("Example Site", "Old CA").pem])
    assert rc == 0, out
    assert site.pem


def test_the_collections_ca_is_signed_again_only_when_missing_due_or_asked():
    ca = Authority()
    current = {"content": base64.b64encode(ca.pem.encode("ascii")).decode("ascii")}
    assert _render("{{ __koji_ca_authority_to_sign }}", __koji_ca_authority_current={"failed": True}) is True
    # Another koji_ca_organization or CA name alone: the CA certificate on disk is kept.
    assert _render("{{ __koji_ca_authority_to_sign }}", __koji_ca_authority_current=current,
                   koji_ca_organization="Other", koji_ca_authority_common_name="Other CA") is False
    assert _render("{{ __koji_ca_authority_to_sign }}", __koji_ca_authority_current=current,
                   koji_ca_renew_margin_days=4000) is True
    assert _render("{{ __koji_ca_authority_to_sign }}", __koji_ca_authority_current=current, koji_ca_reissue=True) is True
    # Kept: the certificate in use is the one on disk.
    assert _render("{{ __koji_ca_authority_pem }}", __koji_ca_authority_current=current,
                   __koji_ca_authority={"skipped": True}) == ca.pem


def test_the_ca_key_is_never_replaced():
    tasks = load_yaml(ROLE / "tasks" / "ca.yml")
    key_task = next(t for t in walk_tasks(tasks) if t.get("name") == "Create the CA key")
    assert key_task["community.crypto.openssl_privatekey"]["regenerate"] == "never"
