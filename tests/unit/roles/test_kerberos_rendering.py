"""What koji_authentication (certificate | both | kerberos) writes: hub.conf and web.conf for each
Koji version, the hub's and the web's Apache login locations, kojid.conf, kojira.conf and root's
client profile. The certificate default writes what it wrote before Kerberos existed: the reviewed
files of test_templates_render.py (certificate site) are unchanged, and no Kerberos line appears.
The molecule `kerberos` scenario runs the `both` files against a real KDC, Apache and hub.
"""

import configparser
import re

import pytest
from ansible.template import Templar

from role_templating import trust_as_template, trusted
from test_koji_versions import HUB_CONF, VERSIONS, WEB_CONF, _render
from test_templates_render import ROLES, TEMPLATE_OVERRIDES, _variables

REALM = "KOJI.EXAMPLE.COM"
HUB_SSL = ROLES / "koji_hub" / "templates" / "kojihub-ssl.conf.j2"
WEB_SSL = ROLES / "koji_web" / "templates" / "kojiweb-ssl.conf.j2"
ROOT_PROFILE = ROLES / "koji_hub" / "templates" / "root-koji-config.j2"
KERBEROS_HUB_OPTIONS = {"AllowedKrbRealms", "HostPrincipalFormat", "ProxyPrincipals", "AllowProxyAuthType"}
KERBEROS_WEB_OPTIONS = {"WebPrincipal", "WebKeytab", "WebCCache", "KrbService", "KrbServerRealm"}


def site(mode, **extra):
    values = {"koji_authentication": mode, "koji_kerberos_realm": REALM}
    values.update(extra)
    return values


def section(text, name):
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read_string(text)
    return dict(parser.items(name))


def render_role_template(roles, template, **extra):
    """A template of koji_builder or kojira, with those roles' defaults and the test site's facts."""
    loader, variables = _variables("Debian")
    for role in roles:
        variables.update(trusted(loader.load_from_file(str(ROLES / role / "defaults" / "main.yml"))))
        variables.update(trusted(loader.load_from_file(str(ROLES / role / "vars" / "main.yml"))))
    variables.update({"__kojira_log_file": "/var/log/kojira.log", "koji_builder_types": ["rpm"]})
    variables.update(trusted(extra))
    templar = Templar(loader=loader, variables=variables)
    return templar.template(trust_as_template(template.read_text(encoding="utf-8")), overrides=TEMPLATE_OVERRIDES)


def render_hub_side(template, **extra):
    loader, variables = _variables("Debian")
    variables.update(trusted(extra))
    templar = Templar(loader=loader, variables=variables)
    return templar.template(trust_as_template(template.read_text(encoding="utf-8")), overrides=TEMPLATE_OVERRIDES)


@pytest.mark.parametrize("os_family", ["RedHat", "Debian"])
@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_certificate_sites_get_no_kerberos_option(os_family, version):
    hub = section(_render(os_family, version, HUB_CONF), "hub")
    web = section(_render(os_family, version, WEB_CONF), "web")
    assert not KERBEROS_HUB_OPTIONS & set(hub)
    assert not KERBEROS_WEB_OPTIONS & set(web)
    assert web["WebAuthType"] == "ssl" and web["WebCert"]


@pytest.mark.parametrize("os_family", ["RedHat", "Debian"])
@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_both_lets_the_web_act_for_kerberos_users_with_its_certificate(os_family, version):
    hub_options, web_options = VERSIONS[version]
    hub = section(_render(os_family, version, HUB_CONF, **site("both")), "hub")
    web = section(_render(os_family, version, WEB_CONF, **site("both")), "web")
    assert set(hub) <= hub_options | {"DBConnectionString"}
    assert set(web) <= web_options
    assert hub["AllowedKrbRealms"] == REALM
    assert hub["HostPrincipalFormat"] == "compile/%s@" + REALM
    # The web logs in with its certificate (ProxyDNs) for a person who logged in with a ticket.
    assert hub["AllowProxyAuthType"] == "On"
    assert "ProxyPrincipals" not in hub
    assert web["WebAuthType"] == "gssapi"
    assert web["WebCert"] == "/etc/pki/koji/kojiweb.pem"
    assert "WebPrincipal" not in web


@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_kerberos_only_web_logs_in_with_its_keytab(version):
    hub = section(_render("RedHat", version, HUB_CONF, **site("kerberos")), "hub")
    web = section(_render("RedHat", version, WEB_CONF, **site("kerberos")), "web")
    principal = "HTTP/hub.koji.example.com@" + REALM
    assert hub["ProxyPrincipals"] == principal
    assert "AllowProxyAuthType" not in hub
    assert web["WebPrincipal"] == principal
    assert web["WebKeytab"] == "/etc/kojiforge/http.keytab"
    assert "WebCert" not in web
    assert web["WebAuthType"] == "gssapi"


def test_allowed_realms_reach_hub_conf_and_apache():
    values = site("both", koji_hub_kerberos_allowed_realms=[REALM, "AD.EXAMPLE.COM"])
    hub = section(_render("Debian", "1.35.3", HUB_CONF, **values), "hub")
    assert hub["AllowedKrbRealms"] == REALM + ",AD.EXAMPLE.COM"
    apache = render_hub_side(HUB_SSL, **values)
    assert r"Require expr %{REMOTE_USER} =~ /@(KOJI\.EXAMPLE\.COM|AD\.EXAMPLE\.COM)$/" in apache


def _location(apache, path):
    match = re.search(r"<Location %s>\n(.*?)</Location>" % re.escape(path), apache, re.S)
    assert match, apache
    return match.group(1)


def test_hub_login_location_per_mode():
    certificate = _location(render_hub_side(HUB_SSL), "/kojihub/ssllogin")
    assert "GSSAPI" not in certificate and "Gssapi" not in certificate
    assert "Require expr %{SSL_CLIENT_VERIFY} == 'SUCCESS'" in certificate

    both = _location(render_hub_side(HUB_SSL, **site("both")), "/kojihub/ssllogin")
    assert "AuthType GSSAPI" in both
    assert "GssapiCredStore keytab:/etc/kojiforge/http.keytab" in both
    assert "GssapiLocalName Off" in both  # the hub maps the full principal
    # A verified certificate is enough on its own; a ticket needs a user of an allowed realm.
    any_of = re.search(r"<RequireAny>(.*)</RequireAny>", both, re.S).group(1)
    assert any_of.strip().startswith("Require expr %{SSL_CLIENT_VERIFY} == 'SUCCESS'")
    assert "Require valid-user" in any_of

    kerberos = _location(render_hub_side(HUB_SSL, **site("kerberos")), "/kojihub/ssllogin")
    assert "AuthType GSSAPI" in kerberos
    assert "SSL_CLIENT_VERIFY" not in kerberos


def test_web_login_location_per_mode():
    certificate = _location(render_hub_side(WEB_SSL), "/koji/login")
    assert "GSSAPI" not in certificate
    both = _location(render_hub_side(WEB_SSL, **site("both")), "/koji/login")
    assert "AuthType GSSAPI" in both and "Require valid-user" in both
    assert "GssapiBasicAuth Off" in both  # no password prompt: the ticket or nothing
    # A person who prefers certificates on a `both` site keeps the certificate web login.
    kept = _location(render_hub_side(WEB_SSL, **site("both", koji_web_authentication="certificate")),
                     "/koji/login")
    assert "GSSAPI" not in kept


def test_kojid_logs_in_with_its_keytab():
    template = ROLES / "koji_builder" / "templates" / "kojid.conf.j2"
    names = {"koji_builder_name": "builder1.koji.example.com"}
    certificate = section(render_role_template(["koji_builder"], template, **names), "kojid")
    assert certificate["cert"] == "/etc/pki/koji/kojid.pem"
    assert "krb_principal" not in certificate and "keytab" not in certificate
    # On a `both` site the builder keeps its certificate unless told otherwise.
    both = section(render_role_template(["koji_builder"], template, **names, **site("both")), "kojid")
    assert both["cert"] == "/etc/pki/koji/kojid.pem"
    keytab = section(render_role_template(["koji_builder"], template, **names, **site("kerberos")), "kojid")
    # kojid logs in with a certificate whenever `cert` names a file: it must not be there.
    assert "cert" not in keytab
    assert keytab["krb_principal"] == "compile/builder1.koji.example.com@" + REALM
    assert keytab["keytab"] == "/etc/kojid/kojid.keytab"
    assert keytab["serverca"] == "/etc/pki/koji/koji-ca.crt"


def test_kojira_logs_in_with_its_keytab():
    template = ROLES / "kojira" / "templates" / "kojira.conf.j2"
    certificate = section(render_role_template(["kojira"], template), "kojira")
    assert certificate["cert"] == "/etc/pki/koji/kojira.pem" and "principal" not in certificate
    keytab = section(render_role_template(["kojira"], template, **site("both", kojira_authentication="kerberos")),
                     "kojira")
    assert "cert" not in keytab
    assert keytab["principal"] == "kojira/hub.koji.example.com@" + REALM
    assert keytab["keytab"] == "/etc/kojira/kojira.keytab"


def test_roots_profile_follows_the_admin_login():
    certificate = section(render_hub_side(ROOT_PROFILE), "koji")
    assert certificate["authtype"] == "ssl" and certificate["cert"] == "/etc/pki/koji/admin.pem"
    admin = {"koji_admin_kerberos_principal": "kojiadmin@" + REALM, "koji_admin_kerberos_keytab": "/root/admin.keytab"}
    # On a Kerberos-only site the hub refuses the admin's certificate: the profile uses the keytab.
    kerberos = section(render_hub_side(ROOT_PROFILE, **site("kerberos", **admin)), "koji")
    assert kerberos["authtype"] == "kerberos"
    assert kerberos["principal"] == "kojiadmin@" + REALM and kerberos["keytab"] == "/root/admin.keytab"
    assert "cert" not in kerberos
    both = section(render_hub_side(ROOT_PROFILE, **site("both", **admin)), "koji")
    assert both["authtype"] == "ssl"
