"""Render every template of koji_db, koji_hub, koji_web (and the shared Apache site of _common)
with the EL9 variables and compare with reviewed expected files.

The EL9 path cannot run on our machines (no EL9 image, no registry): this keeps it honest. The
variables are the roles' own defaults, their vars/RedHat.yml and a fixed production-shaped
inventory (EL9_HOST below); Ansible's Templar renders them as the template module does
(trim_blocks). A Debian rendering is compared too, against what the `hub` scenario deploys.

After a deliberate template change, review the difference and refresh the expected files with
    KOJIFORGE_UPDATE_EXPECTED=1 pytest tests/unit/roles
"""

import difflib
import os
import pathlib

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from role_templating import trust_as_template, trusted

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLES = ROOT / "roles"
EXPECTED = pathlib.Path(__file__).resolve().parent / "expected"
UPDATE = os.environ.get("KOJIFORGE_UPDATE_EXPECTED") == "1"

# The template module's Jinja settings.
TEMPLATE_OVERRIDES = {"trim_blocks": True, "lstrip_blocks": False, "keep_trailing_newline": True}

HOSTS = {
    "koji_db": ["db.koji.example.com"],
    "koji_hub": ["hub.koji.example.com"],
    "koji_web": ["hub.koji.example.com"],
    "kojira": ["hub.koji.example.com"],
}


def _load(loader, path):
    return trusted(loader.load_from_file(str(path)) or {})


def _tasks(tasks):
    """Every task of a task list, the tasks of its blocks included."""
    for task in tasks:
        yield task
        for part in ("block", "rescue", "always"):
            yield from _tasks(task.get(part) or [])


def _load_common_outputs(loader, tasks_file):
    """The facts named _common_* (one underscore: the outputs) a tasks file of _common sets."""
    outputs = {}
    for task in _tasks(_load_list(loader, ROLES / "_common" / "tasks" / tasks_file)):
        facts = task.get("ansible.builtin.set_fact") or {}
        outputs.update({k: v for k, v in facts.items() if k.startswith("_common_")})
    return outputs


def _load_list(loader, path):
    return trusted(loader.load_from_file(str(path)) or [])


def _variables(os_family):
    loader = DataLoader()
    variables = {}
    for role in ("koji_db", "koji_hub", "koji_web"):
        variables.update(_load(loader, ROLES / role / "defaults" / "main.yml"))
    for role in ("_common", "koji_db", "koji_hub", "koji_web"):
        variables.update(_load(loader, ROLES / role / "vars" / "main.yml") if (ROLES / role / "vars" / "main.yml").exists() else {})
        variables.update(_load(loader, ROLES / role / "vars" / ("%s.yml" % os_family)))
    variables.update({
        "groups": dict(HOSTS, all=sorted({h for hs in HOSTS.values() for h in hs})),
        "inventory_hostname": "hub.koji.example.com",
        "group_names": ["koji_hub", "koji_web", "kojira"],
        "ansible_facts": {"fqdn": "hub.koji.example.com", "os_family": os_family},
        "ansible_managed": "Ansible managed",
        # Inventory values (test secrets) and what the tasks compute before rendering.
        "koji_db_password": "example-db-password",
        "koji_web_secret": "example-web-secret-0123456789",
        "__koji_db_client_networks": ["192.0.2.10/32", "2001:db8::10/128"],
        "_common_apache_tls_cert": "/etc/pki/koji/hub.crt",
        "_common_apache_tls_key": "/etc/pki/koji/hub.key",
        "_common_apache_ca_cert": "/etc/pki/koji/koji-ca.crt",
        "_common_apache_ca_crl": "/etc/pki/koji/koji-ca.crl",
        "__koji_web_metrics_site_packages": "/opt/kojiforge/metrics-venv/lib/python3.9/site-packages",
        # The Koji these files are reviewed for: 1.35.3, what CI deploys (test_koji_versions.py
        # renders hub.conf and web.conf for the other versions).
        "koji_version": "1.35.3",
        "_common_koji_staged_version": "1.35.3",
        "_common_koji_install_fingerprint": "koji-hub-1.35.3-1.el9.noarch\nkoji-web-1.35.3-1.el9.noarch",
        # Enable every optional file, so each template renders something.
        "koji_hub_gc_enabled": True,
        "koji_hub_gc_policy": ["order > 2 :: untag"],
        "koji_hub_policy": {"tag": ["has_perm admin :: allow", "all :: deny"]},
        "koji_hub_extra_options": {"EmailDomain": "example.com", "CheckClientIP": False},
        "koji_web_metrics_require": ["ip 192.0.2.0/24", "host prometheus.koji.example.com"],
        # _common's Kerberos client (kerberos.yml), as a role on a site with Kerberos passes it.
        "_common_kerberos_realm": "KOJI.EXAMPLE.COM",
        "_common_kerberos_kdcs": ["kdc1.koji.example.com", "kdc2.koji.example.com"],
        "_common_kerberos_admin_server": "kdc1.koji.example.com",
    })
    # What _common's Apache entry point hands koji_hub and koji_web (its set_fact of the outputs),
    # from the OS variables loaded above.
    variables.update(_load_common_outputs(loader, "apache.yml"))
    return loader, trusted(variables)


def _templates():
    found = []
    for role in ("_common", "koji_db", "koji_hub", "koji_web"):
        for path in sorted((ROLES / role / "templates").glob("*.j2")):
            found.append((role, path))
    return found


def _render(os_family, path):
    loader, variables = _variables(os_family)
    templar = Templar(loader=loader, variables=variables)
    return templar.template(trust_as_template(path.read_text(encoding="utf-8")), overrides=TEMPLATE_OVERRIDES)


@pytest.mark.parametrize("os_family", ["RedHat", "Debian"])
@pytest.mark.parametrize("role,path", _templates(), ids=[pair[1].name for pair in _templates()])
def test_template_renders_as_reviewed(os_family, role, path):
    rendered = _render(os_family, path)
    assert "{{" not in rendered and "{%" not in rendered, "unrendered Jinja left in %s" % path.name
    assert rendered.startswith("#") or rendered.startswith("#!/bin/bash\n#"), "%s lacks the ansible_managed header" % path.name
    expected_file = EXPECTED / os_family / role / path.name[: -len(".j2")]
    if UPDATE:
        expected_file.parent.mkdir(parents=True, exist_ok=True)
        expected_file.write_text(rendered, encoding="utf-8")
    assert expected_file.is_file(), "no reviewed rendering %s (KOJIFORGE_UPDATE_EXPECTED=1 creates it)" % expected_file
    expected = expected_file.read_text(encoding="utf-8")
    if rendered != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), rendered.splitlines(True),
                                            str(expected_file), "rendered"))
        pytest.fail("%s renders differently from the reviewed file:\n%s" % (path.name, diff))


def test_el_hub_conf_carries_the_production_settings():
    """Spot checks that a reviewer would otherwise have to read the expected file for."""
    hub_conf = _render("RedHat", ROLES / "koji_hub" / "templates" / "hub.conf.j2")
    secrets = _render("RedHat", ROLES / "koji_hub" / "templates" / "hub-secrets.conf.j2")
    assert "DBConnectionString = host='db.koji.example.com' " in secrets
    assert "root:apache 0640" in secrets
    assert "DBConnectionString" not in hub_conf and "example-db-password" not in hub_conf
    assert "ProxyDNs = CN=kojiweb,O=Koji" in hub_conf
    assert "RepoQueueUser = kojira" in hub_conf
    assert "\n[policy]\nchannel =\n    has req_channel :: req\n" in hub_conf
    site = _render("RedHat", ROLES / "_common" / "templates" / "kojiforge-ssl.conf.j2")
    assert "IncludeOptional /etc/httpd/kojiforge/ssl.d/*.conf" in site
    assert "SSLCARevocationFile /etc/pki/koji/koji-ca.crl" in site
    assert "SSLVerifyClient optional" in site
    web = _render("RedHat", ROLES / "koji_web" / "templates" / "kojiweb-ssl.conf.j2")
    assert "IncludeOptional /etc/httpd/kojiforge/kojiweb.d/*.conf" in web
    metrics = _render("RedHat", ROLES / "koji_web" / "templates" / "kojiweb-metrics.conf.j2")
    assert "WSGIDaemonProcess kojiforge-metrics processes=1 " in metrics
    # its own user, not Apache's (which can read kojiweb.pem, the proxy certificate)
    daemon = next(line for line in metrics.splitlines() if line.startswith("WSGIDaemonProcess"))
    assert " user=koji-metrics group=koji-metrics home=/opt/kojiforge/metrics-venv " in daemon
    assert "apache" not in daemon
    assert "scrape_cache_ttl = 5\n" in _render("RedHat", ROLES / "koji_web" / "templates" / "metrics.conf.j2")
    assert "SetEnv KOJIFORGE_METRICS_CONFIG /etc/kojiweb/metrics.conf" in metrics
    assert "        Require ip 192.0.2.0/24\n" in metrics
