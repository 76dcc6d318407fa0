"""koji_ca's side of the expiry alerts, rendered with the role's own variables as Ansible would:
each host's record on the CA host holds the certificates it was just given (signed in this run,
or kept), records of hosts that left the inventory are found, the renewal job's settings name the
CA's files and this host's Apache; and the pieces other roles must agree on do (the Apache folder
of the _common role, the path koji_monitoring scrapes, the metric names its rules use)."""

import json
import pathlib
import re

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from role_templating import trust_as_template, trusted

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "koji_ca"
MONITORING = ROOT / "roles" / "koji_monitoring"
SCRIPT = ROLE / "files" / "kojiforge_ca_renew.py"

CERTIFICATES = [{"name": "hub"}, {"name": "web"}, {"name": "kojiweb"}]
PEM = {name: "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % name for name in ("hub", "web", "new-kojiweb")}


def _yaml(path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _templar(os_family, **extra):
    variables = dict(_yaml(ROLE / "defaults" / "main.yml"))
    variables.update(_yaml(ROLE / "vars" / "main.yml"))
    variables.update(_yaml(ROLE / "vars" / ("%s.yml" % os_family)))
    variables.update({
        "inventory_hostname": "hub.example.com",
        "koji_ca_host": "hub.example.com",
        "groups": {"all": ["hub.example.com", "b1.example.com"], "koji_hub": ["hub.example.com"]},
        "group_names": ["koji_hub", "koji_web"],
    })
    variables.update(extra)
    return Templar(loader=DataLoader(), variables=trusted(variables))


def _render(templar, expression):
    return templar.template(trust_as_template(expression))


def test_the_record_holds_what_the_install_task_wrote():
    """hub and web kept (read from disk), kojiweb signed in this run (replacing the old one)."""
    # As the one-pass read (install.yml) found them on disk.
    state = {"certificates": [{"name": "hub", "certificate": PEM["hub"]},
                              {"name": "web", "certificate": PEM["web"]},
                              {"name": "kojiweb", "certificate": "old kojiweb"}]}
    signed = {"results": [{"skipped": True}, {"skipped": True}, {"certificate": PEM["new-kojiweb"], "changed": True}]}
    templar = _templar("Debian", __koji_ca_certificates=CERTIFICATES, __koji_ca_host_state=state,
                       __koji_ca_signed=signed, __koji_ca_crl={"crl": "the CRL"})
    record = _render(templar, "{{ __koji_ca_record | to_nice_json(sort_keys=true) }}")
    assert json.loads(record) == {"host": "hub.example.com", "crl": "the CRL", "certificates": {
        "hub": PEM["hub"], "web": PEM["web"], "kojiweb": PEM["new-kojiweb"]}}


def test_a_host_without_apache_records_no_crl():
    templar = _templar("Debian", __koji_ca_certificates=[], __koji_ca_host_state={"certificates": []},
                       __koji_ca_signed={"results": []}, __koji_ca_crl={"crl": "the CRL"},
                       inventory_hostname="b1.example.com", group_names=["koji_builders"])
    assert json.loads(_render(templar, "{{ __koji_ca_record | to_nice_json }}")) == {
        "host": "b1.example.com", "certificates": {}, "crl": ""}


def test_records_of_hosts_that_left_the_inventory_are_the_ones_removed():
    found = ["/etc/pki/koji/ca/installed/%s.json" % h for h in ("hub.example.com", "b1.example.com", "gone.example.com")]
    templar = _templar("Debian", found=found)
    removed = _render(templar, "{{ found | reject('in', __koji_ca_known_records) | list }}")
    assert list(removed) == ["/etc/pki/koji/ca/installed/gone.example.com.json"]


@pytest.mark.parametrize("os_family, apache", [("Debian", "apache2"), ("RedHat", "httpd")])
def test_the_renewal_settings(os_family, apache):
    settings = json.loads(_render(_templar(os_family), "{{ __koji_ca_renew_settings | to_nice_json(sort_keys=true) }}"))
    # ansible-core 2.16 renders the day counts as strings, 2.19 as numbers; the job reads int() of them.
    for days in ("renew_margin_days", "crl_validity_days"):
        settings[days] = int(settings[days])
    assert settings == {
        "ca_host": "hub.example.com",
        "authority_certificate": "/etc/pki/koji/ca/koji-ca.crt",
        "authority_key": "/etc/pki/koji/ca/koji-ca.key",
        "authority_crl": "/etc/pki/koji/ca/koji-ca.crl",
        "installed_dir": "/etc/pki/koji/ca/installed",
        "crl_copy": "/etc/pki/koji/koji-ca.crl",
        "reload_services": [apache],
        "renew_margin_days": 30,
        "crl_validity_days": 90,
        "metrics_file": "/var/www/kojiforge-ca/expiry.prom",
    }


def test_a_ca_host_without_apache_keeps_no_crl_copy():
    settings = json.loads(_render(_templar("Debian", group_names=["koji_db"]),
                                  "{{ __koji_ca_renew_settings | to_nice_json }}"))
    assert settings["crl_copy"] == "" and settings["reload_services"] == []


def test_apache_is_reloaded_when_the_expiry_site_part_changes():
    templar = _templar("Debian", __koji_ca_certificates=[], __koji_ca_authority_copy={"changed": False},
                       __koji_ca_expiry_site={"changed": True})
    assert list(_render(templar, "{{ __koji_ca_services_to_restart }}")) == ["apache2"]


@pytest.mark.parametrize("os_family", ["Debian", "RedHat"])
def test_the_site_part_goes_where_the_shared_tls_site_includes_it(os_family):
    ours = _yaml(ROLE / "vars" / ("%s.yml" % os_family))["__koji_ca_apache_kojiforge_dir"]
    common = _yaml(ROOT / "roles" / "_common" / "vars" / ("%s.yml" % os_family))["__common_apache_kojiforge_dir"]
    assert ours == common
    site = (ROOT / "roles" / "_common" / "templates" / "kojiforge-ssl.conf.j2").read_text(encoding="utf-8")
    assert "IncludeOptional {{ __common_apache_kojiforge_dir }}/ssl.d/*.conf" in site


def test_koji_monitoring_scrapes_the_path_the_ca_host_serves():
    served = _yaml(ROLE / "vars" / "main.yml")["__koji_ca_metrics_path"]
    assert _yaml(MONITORING / "defaults" / "main.yml")["koji_monitoring_certificates_metrics_path"] == served
    site = (ROLE / "templates" / "kojiforge-ca-metrics.conf.j2").read_text(encoding="utf-8")
    assert "Alias {{ __koji_ca_metrics_path }} {{ __koji_ca_metrics_file }}" in site


def test_the_alert_rules_use_the_metrics_the_renewal_job_writes():
    script = SCRIPT.read_text(encoding="utf-8")
    written = set(re.findall(r'^[A-Z_]+_METRIC = "(kojiforge_[a-z_]+)"', script, re.M))
    rules = (MONITORING / "templates" / "koji_alerts.rules.yml.j2").read_text(encoding="utf-8")
    used = set(re.findall(r"\bkojiforge_[a-z_]+_seconds\b", rules))
    assert written and used == written


def test_the_service_runs_the_installed_job_with_its_settings():
    unit = (ROLE / "templates" / "kojiforge-ca-renew.service.j2").read_text(encoding="utf-8")
    assert "ExecStart=/usr/bin/python3 {{ __koji_ca_renew_script }} --config {{ __koji_ca_renew_config }}\n" in unit
    timer = (ROLE / "templates" / "kojiforge-ca-renew.timer.j2").read_text(encoding="utf-8")
    assert "OnCalendar={{ koji_ca_renew_on_calendar }}\n" in timer and "Persistent=true\n" in timer
