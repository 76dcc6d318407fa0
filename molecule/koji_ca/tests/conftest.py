"""Shared helpers of the koji_ca scenario's tests: the hosts, what each must hold, and a way to
run the role again with other variables (the lifecycle tests)."""

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest
import testinfra

SCENARIO_DIR = pathlib.Path(__file__).resolve().parents[1]
PKI = "/etc/pki/koji"
CA_HOST = "hub.kojica.test"
BUILDER = "builder1.kojica.test"
ORGANIZATION = "Koji"

# What each host must hold after converge, from its groups (molecule.yml): name -> expectations.
# converge.yml adds koji_ca_server_alt_names: a DNS name and an address.
SERVER_SANS = {"DNS:hub.kojica.test", "DNS:koji.kojica.test", "IP Address:192.0.2.10"}
EXPECTED = {
    CA_HOST: {
        "hub": dict(cn=CA_HOST, usage="server", sans=SERVER_SANS, owner="root", group="www-data", mode=0o640),
        "web": dict(cn=CA_HOST, usage="server", sans=SERVER_SANS, owner="root", group="www-data", mode=0o640),
        "kojiweb": dict(cn="kojiweb", usage="client", sans=set(), owner="root", group="www-data", mode=0o640),
        "kojira": dict(cn="kojira", usage="client", sans=set(), owner="root", group="root", mode=0o600),
        "admin": dict(cn="kojiadmin", usage="client", sans=set(), owner="root", group="root", mode=0o600),
        # from koji_ca_extra_certificates in converge.yml
        "koji-gc": dict(cn="koji-gc", usage="client", sans=set(), owner="root", group="root", mode=0o600),
    },
    BUILDER: {
        "kojid": dict(cn=BUILDER, usage="client", sans=set(), owner="root", group="root", mode=0o600),
    },
}
ALL_NAMES = sorted({name for certs in EXPECTED.values() for name in certs})
# Hosts whose Apache checks the CRL (groups koji_hub and koji_web).
CRL_HOSTS = {CA_HOST}


def inventory():
    return os.environ["MOLECULE_INVENTORY_FILE"]


_hosts = {}


def get_host(name):
    """The container by its name, through `podman exec`: testinfra's ansible backend runs a
    whole Ansible task per command, far too slow for the hundred-odd checks here."""
    if name not in _hosts:
        _hosts[name] = testinfra.get_host("podman://%s" % name)
    return _hosts[name]


@pytest.fixture(scope="module")
def hosts():
    return {name: get_host(name) for name in EXPECTED}


def check(host, command):
    """Run a command that must succeed and return its stdout."""
    return host.check_output(command)


def put(host, path, content):
    """Write a (public) text file on a host."""
    host.check_output("printf '%%s' %s > %s", content, path)


def public_key(host, path, kind):
    """The PEM public key of a private key file ('key') or a certificate file ('cert')."""
    if kind == "key":
        return host.check_output("openssl pkey -in %s -pubout" % path)
    return host.check_output("openssl x509 -in %s -noout -pubkey" % path)


def serial(host, path):
    return host.check_output("openssl x509 -in %s -noout -serial" % path).split("=", 1)[1].strip()


def converge(extra_vars):
    """Run the scenario's converge playbook again with extra variables; return (rc, output)."""
    playbook = pathlib.Path(sys.executable).parent / "ansible-playbook"
    proc = subprocess.run(
        [str(playbook), "-i", os.path.dirname(inventory()), "-e", json.dumps(extra_vars),
         str(SCENARIO_DIR / "converge.yml")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False,
        env=dict(os.environ, ANSIBLE_FORCE_COLOR="false", ANSIBLE_NOCOLOR="true"),
    )
    return proc.returncode, proc.stdout


def recap_ok(output):
    """Every host of the run's recap has failed=0 and unreachable=0."""
    recap = output[output.rfind("PLAY RECAP"):]
    lines = re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", recap, re.M)
    return {host: int(changed) for host, changed, unreachable, failed in lines
            if unreachable == "0" and failed == "0"}


def changed_tasks(output):
    """The titles of the tasks (and handlers) that reported changed on some host in a run."""
    found, title = set(), None
    for line in output.splitlines():
        heading = re.match(r"^(?:TASK|RUNNING HANDLER) \[(.*)\] \**$", line)
        if heading:
            title = heading.group(1)
        elif title and line.startswith("changed: "):
            found.add(title)
    return found


def invocation(host, service):
    return check(host, "systemctl show -p InvocationID --value %s" % service)


def reloads(host):
    """How many times the stand-in kojid (prepare.yml) was reloaded (SIGUSR1)."""
    return int(check(host, "cat /run/kojid-standin.reloads 2>/dev/null | wc -l"))
