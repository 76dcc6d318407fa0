"""koji_ca's handler: which state each service that reads a Koji certificate gets when its
certificate changes. A renewal must never kill running builds: kojid is reloaded (SIGUSR1: it
finishes its tasks, then re-executes itself), never restarted (it would free its tasks).

The handler's own `state` expression is rendered with the role's variables (vars/main.yml and
vars/<OS>.yml) for every service the role's certificates name, as Ansible would."""

import pathlib

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from role_templating import trust_as_template, trusted

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "koji_ca"


def _yaml(path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _service_handler():
    handlers = _yaml(ROLE / "handlers" / "main.yml")
    found = [h for h in handlers if "ansible.builtin.service" in h]
    assert len(found) == 1, handlers
    return found[0]


def _templar(os_family, **extra):
    variables = dict(_yaml(ROLE / "defaults" / "main.yml"))
    variables.update(_yaml(ROLE / "vars" / "main.yml"))
    variables.update(_yaml(ROLE / "vars" / ("%s.yml" % os_family)))
    variables.update(extra)
    return Templar(loader=DataLoader(), variables=trusted(variables))


def _states(os_family):
    """service name -> the state the handler gives it, for every service a certificate names."""
    raw_services = {s for cert in _yaml(ROLE / "vars" / "main.yml")["__koji_ca_group_certificates"]
                    for s in cert["services"]}
    services = {_templar(os_family).template(trust_as_template(s)) for s in raw_services}
    expression = _service_handler()["ansible.builtin.service"]["state"]
    return {service: _templar(os_family, item=service).template(trust_as_template(expression))
            for service in services}


@pytest.mark.parametrize("os_family, apache", [("Debian", "apache2"), ("RedHat", "httpd")])
def test_each_service_gets_the_state_that_keeps_its_work(os_family, apache):
    assert _states(os_family) == {
        apache: "reloaded",     # re-reads certificates and the CRL on a graceful reload
        "kojid": "reloaded",    # finishes its running tasks, then re-executes itself
        "kojira": "restarted",  # reads its certificate when it starts; runs no builds
    }


def test_the_handler_acts_on_the_changed_services_that_run():
    handler = _service_handler()
    assert handler["ansible.builtin.service"]["name"] == "{{ item }}"
    # kojid is left out when its reload is deferred to the rolling play
    # (test_koji_builder_registration.py::test_koji_ca_reloads_kojid_at_once_or_records_it).
    assert handler["loop"].startswith("{{ __koji_ca_services_to_restart | reject('in', ['kojid'] if koji_ca_kojid_reload_deferred")
    assert "== 'running'" in handler["when"]
    assert handler["listen"] == "koji_ca certificates changed"


def test_kojid_unit_reloads_with_sigusr1():
    """state: reloaded is graceful only because koji_builder's unit makes reload SIGUSR1."""
    unit = (ROOT / "roles" / "koji_builder" / "templates" / "kojid.service.j2").read_text(encoding="utf-8")
    assert "\nExecReload=/bin/kill -USR1 $MAINPID\n" in unit
