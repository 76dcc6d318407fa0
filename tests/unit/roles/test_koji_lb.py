"""koji_lb: HAProxy in front of several hubs and web frontends (docs/several-hubs.md).

haproxy.cfg is rendered with the role's own defaults and vars (as the template module does) for the
shape of the `hubs` scenario (two hubs, two web hosts, a name each for the hub and the web) and
for one name over hosts that run both; the sections are parsed and the routing (SNI rules), the
backends' servers and their health checks compared with what the role promises. The preflight
runs for real (ansible-playbook, connection local) on inventories it must refuse, before anything
is written. No HAProxy here: `haproxy -c` runs in the role (the template task's validate) and in
the lead's `hubs` scenario.
"""

import pathlib
import re
import sys

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from role_templating import TEMPLATE_OVERRIDES, COLLECTIONS, run_playbook, trust_as_template, trusted
from several_hubs_site import SITE_URLS as HUBS_URLS
from several_hubs_site import TWO_HUBS as HUBS

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "koji_lb"

needs_collection = pytest.mark.skipif(not (COLLECTIONS / "ansible_collections" / "kojiforge" / "koji").exists(),
                                      reason="run `make collection-link` first")

# Hub and web on the same two hosts, one name (the load balancer's inventory name, the default).
ONE_NAME = {
    "koji_lb": ["lb.koji.example.com"],
    "koji_hub": ["front1.koji.example.com", "front2.koji.example.com"],
    "koji_web": ["front2.koji.example.com", "front1.koji.example.com"],
}


def _variables(groups, os_family="Debian", **extra):
    loader = DataLoader()
    variables = {}
    for name in ("defaults/main.yml", "vars/main.yml", "vars/%s.yml" % os_family):
        variables.update(loader.load_from_file(str(ROLE / name)) or {})
    every = sorted({host for hosts in groups.values() for host in hosts} | {"localhost"})
    variables.update({
        "groups": dict(groups, all=every),
        "hostvars": {host: {} for host in every},
        "inventory_hostname": groups["koji_lb"][0],
        "ansible_managed": "Ansible managed",
    })
    variables.update(extra)
    return loader, trusted(variables)


def render(groups, os_family="Debian", **extra):
    loader, variables = _variables(groups, os_family, **extra)
    templar = Templar(loader=loader, variables=variables)
    text = (ROLE / "templates" / "haproxy.cfg.j2").read_text(encoding="utf-8")
    return templar.template(trust_as_template(text), overrides=TEMPLATE_OVERRIDES)


def value(groups, expression, **extra):
    loader, variables = _variables(groups, **extra)
    return Templar(loader=loader, variables=variables).template(trust_as_template(expression))


def sections(config):
    """haproxy.cfg as {"frontend koji_https": [its lines, stripped, comments left out], ...}."""
    found, current = {}, None
    for line in config.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            current = line.strip()
            assert current not in found, "section %s twice" % current
            found[current] = []
        else:
            assert current is not None, line
            found[current].append(line.strip())
    return found


def servers(lines):
    """{server name: the rest of its line} of a backend."""
    return {line.split()[1]: line.split(None, 2)[2] for line in lines if line.startswith("server ")}


def test_two_hubs_two_webs_route_each_name_to_its_hosts():
    config = render(HUBS, **HUBS_URLS)
    assert "{{" not in config and "{%" not in config
    assert config.startswith("#")
    parts = sections(config)
    assert sorted(parts) == ["backend koji_hub", "backend koji_kojifiles", "backend koji_web", "defaults",
                             "frontend koji_http", "frontend koji_https", "global"]
    https = parts["frontend koji_https"]
    assert "mode tcp" in parts["defaults"]
    assert "bind :443" in https
    # The SNI is read from the ClientHello before a backend is chosen; each name to its backend.
    assert https.index("tcp-request content accept if { req_ssl_hello_type 1 }") < https.index(
        "use_backend koji_web if { req_ssl_sni -i kojiweb.kojihubs.test }")
    assert "use_backend koji_hub if { req_ssl_sni -i koji.kojihubs.test }" in https
    assert "default_backend koji_hub" in https
    assert sorted(servers(parts["backend koji_hub"])) == HUBS["koji_hub"]
    assert sorted(servers(parts["backend koji_web"])) == HUBS["koji_web"]
    # TLS passthrough: no server line decrypts (no `ssl` keyword, only the checks are TLS).
    for backend in ("backend koji_hub", "backend koji_web"):
        for name, rest in servers(parts[backend]).items():
            assert rest.split()[0] == name + ":443"
            assert " ssl " not in " %s " % rest
            words = rest.split()
            assert words[words.index("check-sni") + 1] == name and words[words.index("verifyhost") + 1] == name
            assert "check" in words and "check-ssl" in words
            assert words[words.index("verify") + 1] == "required"
            assert words[words.index("ca-file") + 1] == "/etc/pki/koji/koji-ca.crt"
    # /kojifiles over plain HTTP goes to the hubs, each following its hub's health.
    assert "bind :80" in parts["frontend koji_http"]
    assert servers(parts["backend koji_kojifiles"]) == {
        host: "%s:80 track koji_hub/%s" % (host, host) for host in HUBS["koji_hub"]}


def test_the_health_checks_ask_the_hub_for_a_result_and_the_web_for_its_page():
    parts = sections(render(HUBS, **HUBS_URLS))
    hub = parts["backend koji_hub"]
    assert "option httpchk" in hub
    send = [line for line in hub if line.startswith("http-check send ")]
    assert len(send) == 1
    assert send[0].startswith("http-check send meth POST uri /kojihub ver HTTP/1.1 hdr Host koji.kojihubs.test "
                              "hdr Content-Type text/xml body ")
    body = re.search(r' body "(.*)"$', send[0]).group(1)
    assert '"' not in body and "\\" not in body
    assert "<methodName>getLastEvent</methodName>" in body and body.startswith("<?xml version='1.0'?><methodCall>")
    # A fault (Koji answers faults, the database outage too, with 200) has no `id` member.
    assert [line for line in hub if line.startswith("http-check expect")] == ["http-check expect string <name>id</name>"]
    web = parts["backend koji_web"]
    assert "http-check send meth GET uri /koji/ ver HTTP/1.1 hdr Host kojiweb.kojihubs.test" in web
    assert [line for line in web if line.startswith("http-check expect")] == ["http-check expect status 200"]


def test_the_check_expects_what_koji_answers():
    """The expected text is in a getLastEvent result as Python's XML-RPC (Koji's) writes it, and in
    none of the faults the hub answers with 200."""
    from xmlrpc.client import Fault, dumps
    expect = value(HUBS, "{{ __koji_lb_hub_check_expect }}", **HUBS_URLS)
    assert expect in dumps(({"id": 1234, "ts": 1733400000.5},), methodresponse=True)
    assert expect not in dumps(Fault(1, "database outage"))
    assert expect not in dumps(Fault(1014, "server is offline"))


def test_long_calls_and_checks_have_their_timeouts():
    parts = sections(render(HUBS, **HUBS_URLS))
    defaults = parts["defaults"]
    for name in ("client", "server", "tunnel"):
        assert "timeout %s 1h" % name in defaults
    assert "timeout connect 5s" in defaults and "timeout check 10s" in defaults
    assert "default-server inter 5s fall 3 rise 2 init-addr libc,none" in defaults
    assert "tcp-request inspect-delay 5s" in parts["frontend koji_https"]
    custom = sections(render(HUBS, koji_lb_timeout_idle="6h", koji_lb_check_interval="2s", **HUBS_URLS))["defaults"]
    assert "timeout tunnel 6h" in custom and "default-server inter 2s fall 3 rise 2 init-addr libc,none" in custom


def test_one_name_for_hosts_that_run_both_is_one_backend():
    parts = sections(render(ONE_NAME))
    assert "backend koji_web" not in parts
    https = parts["frontend koji_https"]
    assert [line for line in https if line.startswith("use_backend")] == [
        "use_backend koji_hub if { req_ssl_sni -i lb.koji.example.com }"]
    assert sorted(servers(parts["backend koji_hub"])) == sorted(ONE_NAME["koji_hub"])


def test_the_names_default_to_the_first_load_balancer():
    assert value(HUBS, "{{ koji_lb_hub_url }} {{ koji_lb_web_url }}") == \
        "https://koji.kojihubs.test/kojihub https://koji.kojihubs.test/koji"
    assert value(HUBS, "{{ __koji_lb_hub_name }} {{ __koji_lb_web_name }}", **HUBS_URLS) == \
        "koji.kojihubs.test kojiweb.kojihubs.test"


def test_no_http_listener_when_its_port_is_0_and_the_os_differences():
    parts = sections(render(HUBS, koji_lb_http_port=0, koji_lb_bind_address="::", **HUBS_URLS))
    assert "frontend koji_http" not in parts and "backend koji_kojifiles" not in parts
    assert "bind :::443" in parts["frontend koji_https"]
    el = sections(render(HUBS, os_family="RedHat", **HUBS_URLS))["global"]
    debian = sections(render(HUBS, **HUBS_URLS))["global"]
    assert "log 127.0.0.1 local0" in el and "stats socket /var/lib/haproxy/stats mode 660 level admin" in el
    assert "log /dev/log local0" in debian and "stats socket /run/haproxy/admin.sock mode 660 level admin" in debian


def test_the_firewall_opens_the_listening_ports():
    assert value(HUBS, "{{ __koji_lb_firewall_services }} {{ __koji_lb_firewall_ports }}") == "['https', 'http'] []"
    assert value(HUBS, "{{ __koji_lb_firewall_services }} {{ __koji_lb_firewall_ports }}",
                 koji_lb_https_port=8443, koji_lb_http_port=0) == "[] ['8443/tcp']"


# ---------------------------------------------------------------------------------------------
# The preflight, for real: ansible-playbook on this machine (connection local) pretending to be
# the load balancer of an inventory. Nothing after the preflight runs.
# ---------------------------------------------------------------------------------------------

def _preflight(tmp_path, groups, lb_vars=None, check=False):
    ca_file = tmp_path / "koji-ca.crt"
    ca_file.write_text("not read by the preflight\n")
    children = {group: {"hosts": {host: {} for host in hosts}} for group, hosts in groups.items()}
    lb = groups["koji_lb"][0]
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": children, "vars": dict(
        {"koji_lb_ca_file": str(ca_file)}, **(lb_vars or {}))}}))
    playbook = tmp_path / "preflight.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "koji_lb's preflight", "hosts": lb, "gather_facts": False,
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "tasks": [{"name": "Preflight", "ansible.builtin.include_role": {
            "name": "kojiforge.koji.koji_lb", "tasks_from": "preflight.yml"}}]}]))
    # --check as a site's dry run gives it (a play's check_mode leaves ansible_check_mode false).
    return run_playbook(tmp_path, inventory, playbook, extra_args=["--check"] if check else [])


@needs_collection
def test_the_preflight_passes_the_scenario_shape(tmp_path):
    returncode, output = _preflight(tmp_path, HUBS, HUBS_URLS)
    assert returncode == 0, output


@needs_collection
@pytest.mark.parametrize("groups,lb_vars,message", [
    (HUBS, {"koji_hub_url": "https://koji.kojihubs.test/kojihub"},
     "have the same host name (koji.kojihubs.test), so one backend serves both"),
    (HUBS, {"koji_hub_url": "https://hub1.kojihubs.test/kojihub", "koji_web_url": "https://kojiweb.kojihubs.test/koji"},
     "must be names of the load balancer"),
    (HUBS, dict(HUBS_URLS, koji_lb_timeout_idle="1 hour"), "not koji_lb_timeout_idle"),
    (HUBS, dict(HUBS_URLS, koji_lb_hub_url="http://koji.kojihubs.test/kojihub"), "must be https:// URLs"),
    (dict(HUBS, koji_hub=[]), HUBS_URLS, "must name at least one host"),
    (HUBS, dict(HUBS_URLS, koji_lb_web_hosts=["web1.kojihubs.test", "web9.kojihubs.test"]), "(not web9.kojihubs.test)"),
], ids=["one-name-different-hosts", "a-hub-name", "bad-timeout", "plain-http-url", "no-hub", "unknown-host"])
def test_the_preflight_refuses(tmp_path, groups, lb_vars, message):
    returncode, output = _preflight(tmp_path, groups, lb_vars)
    assert returncode != 0, output
    assert message in " ".join(output.split()), output


@needs_collection
def test_the_preflight_wants_the_ca_certificate_except_in_check_mode(tmp_path):
    missing = dict(HUBS_URLS, koji_lb_ca_file=str(tmp_path / "nowhere" / "koji-ca.crt"))
    returncode, output = _preflight(tmp_path, HUBS, missing)
    assert returncode != 0 and "Run koji_ca on this host first" in " ".join(output.split()), output
    returncode, output = _preflight(tmp_path, HUBS, missing, check=True)
    assert returncode == 0, output


def test_every_task_has_a_name_and_the_template_is_validated():
    tasks = yaml.safe_load((ROLE / "tasks" / "configure.yml").read_text(encoding="utf-8"))
    template = [task for task in tasks if "ansible.builtin.template" in task]
    assert len(template) == 1
    assert template[0]["ansible.builtin.template"]["validate"] == "haproxy -c -f %s"
    assert template[0]["notify"] == "Reload HAProxy"
    handlers = yaml.safe_load((ROLE / "handlers" / "main.yml").read_text(encoding="utf-8"))
    assert [h["name"] for h in handlers] == ["Reload HAProxy"]
    assert handlers[0]["ansible.builtin.systemd_service"]["state"] == "reloaded"


@needs_collection
def test_the_package_cache_entry_point_loads_its_os_variables_when_called_alone(tmp_path):
    """koji_lb's install calls _common's package_cache entry point before any other _common step
    (it used to need one to have loaded _common's OS variables). EL facts: nothing to refresh."""
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"lb.koji.example.com": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    playbook = tmp_path / "cache.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "The package cache alone", "hosts": "all", "gather_facts": False, "tasks": [
            {"name": "EL9's facts", "ansible.builtin.set_fact": {
                "ansible_os_family": "RedHat", "ansible_distribution": "AlmaLinux",
                "ansible_distribution_major_version": "9", "cacheable": True}},
            [task for task in yaml.safe_load((ROLE / "tasks" / "install.yml").read_text(encoding="utf-8"))
             if (task.get("ansible.builtin.include_role") or {}).get("tasks_from") == "package_cache.yml"][0],
            {"name": "Show the flag", "ansible.builtin.debug": {"msg": "refresh={{ __common_package_cache_refresh }}"}},
        ]}]))
    returncode, output = run_playbook(tmp_path, inventory, playbook)
    assert returncode == 0, output
    assert '"msg": "refresh=False"' in output, output
    assert "Package cache | Refresh the package lists when they are missing or old" in output
