"""Several hubs and web frontends behind one name (docs/several-hubs.md), in the roles other than koji_lb.

- The URL defaults of every role that talks to the hub or links the web (koji_hub, koji_web,
  koji_builder, kojira, koji_lb) follow one rule: the first koji_lb host, else the first koji_hub
  (koji_web) host; an inventory's koji_hub_url / koji_web_url wins, and the files URL follows the
  hub URL's host. Rendered from the roles' own defaults for one hub, for two hubs and a load
  balancer, and with the URLs set.
- koji_ca: the hubs' and web frontends' server certificates carry the site's names, and a site
  with one hub gets exactly today's names (its certificates are not re-issued).
- The checks koji_hub and koji_storage add run for real (ansible-playbook, connection local), as
  the roles' task files have them.
"""

import pathlib
import sys

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from role_templating import COLLECTIONS, load_yaml, run_playbook, trust_as_template, trusted, walk_tasks
from several_hubs_site import SITE_URLS, TWO_HUBS

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLES = ROOT / "roles"

needs_collection = pytest.mark.skipif(not (COLLECTIONS / "ansible_collections" / "kojiforge" / "koji").exists(),
                                      reason="run `make collection-link` first")

ONE_HUB = {
    "koji_db": ["db.koji.example.com"],
    "koji_hub": ["hub.koji.example.com"],
    "koji_web": ["hub.koji.example.com"],
    "kojira": ["hub.koji.example.com"],
    "koji_builders": ["builder1.koji.example.com"],
}
# One hub, the web frontend on a host of its own (today's defaults: each URL names its host).
SEPARATE_WEB = dict(ONE_HUB, koji_web=["web.koji.example.com"])


def _every(groups):
    return sorted({host for hosts in groups.values() for host in hosts})


def evaluate(role, groups, host, expression, files=("defaults/main.yml",), **inventory):
    """An expression with the role's files (defaults, vars) as the host's variables, the inventory's
    values over them as Ansible's precedence has it (inventory over role defaults)."""
    loader = DataLoader()
    variables = {}
    for name in files:
        variables.update(loader.load_from_file(str(ROLES / role / name)) or {})
    variables.update(inventory)
    group_names = sorted(group for group, hosts in groups.items() if host in hosts)
    variables.update({
        "groups": dict(groups, all=_every(groups)),
        "group_names": group_names,
        "inventory_hostname": host,
        "ansible_facts": {"fqdn": host},
        "hostvars": {name: {"ansible_facts": {"fqdn": name}} for name in _every(groups)},
    })
    return Templar(loader=loader, variables=trusted(variables)).template(trust_as_template(expression))


# (role, host of the role, expression, [one hub, separate web, two hubs + lb, two hubs + lb + URLs set])
URLS = [
    ("koji_hub", "hub", "{{ koji_hub_url }}",
     ["https://hub.koji.example.com/kojihub", "https://hub.koji.example.com/kojihub",
      "https://koji.kojihubs.test/kojihub", "https://koji.kojihubs.test/kojihub"]),
    ("koji_hub", "hub", "{{ koji_hub_web_url }}",
     ["https://hub.koji.example.com/koji", "https://web.koji.example.com/koji",
      "https://koji.kojihubs.test/koji", "https://kojiweb.kojihubs.test/koji"]),
    ("koji_hub", "hub", "{{ koji_hub_topurl }}",
     ["http://hub.koji.example.com/kojifiles", "http://hub.koji.example.com/kojifiles",
      "http://koji.kojihubs.test/kojifiles", "http://koji.kojihubs.test/kojifiles"]),
    ("koji_web", "web", "{{ koji_web_url }}",
     ["https://hub.koji.example.com/koji", "https://web.koji.example.com/koji",
      "https://koji.kojihubs.test/koji", "https://kojiweb.kojihubs.test/koji"]),
    ("koji_web", "web", "{{ koji_web_hub_url }}",
     ["https://hub.koji.example.com/kojihub", "https://hub.koji.example.com/kojihub",
      "https://koji.kojihubs.test/kojihub", "https://koji.kojihubs.test/kojihub"]),
    ("koji_web", "web", "{{ koji_web_files_url }}",
     ["http://hub.koji.example.com/kojifiles", "http://hub.koji.example.com/kojifiles",
      "http://koji.kojihubs.test/kojifiles", "http://koji.kojihubs.test/kojifiles"]),
    ("koji_builder", "builder", "{{ koji_builder_hub_url }} {{ koji_builder_topurl }}",
     ["https://hub.koji.example.com/kojihub http://hub.koji.example.com/kojifiles",
      "https://hub.koji.example.com/kojihub http://hub.koji.example.com/kojifiles",
      "https://koji.kojihubs.test/kojihub http://koji.kojihubs.test/kojifiles",
      "https://koji.kojihubs.test/kojihub http://koji.kojihubs.test/kojifiles"]),
    ("kojira", "kojira", "{{ kojira_hub_url }}",
     ["https://hub.koji.example.com/kojihub", "https://hub.koji.example.com/kojihub",
      "https://koji.kojihubs.test/kojihub", "https://koji.kojihubs.test/kojihub"]),
]
INVENTORIES = [(ONE_HUB, {}), (SEPARATE_WEB, {}), (TWO_HUBS, {}), (TWO_HUBS, SITE_URLS)]
HOST_OF = {"hub": "koji_hub", "web": "koji_web", "builder": "koji_builders", "kojira": "kojira"}


@pytest.mark.parametrize("role,kind,expression,expected", URLS, ids=["%s:%s" % (r[0], r[2]) for r in URLS])
def test_the_url_defaults_follow_the_site_rule(role, kind, expression, expected):
    for (groups, urls), want in zip(INVENTORIES, expected):
        host = groups[HOST_OF[kind]][-1]
        assert evaluate(role, groups, host, expression, **urls) == want, (groups, urls)


def test_the_files_url_follows_a_hub_url_the_inventory_sets():
    urls = {"koji_hub_url": "https://koji.example.org:8443/kojihub"}
    assert evaluate("koji_hub", ONE_HUB, "hub.koji.example.com", "{{ koji_hub_topurl }}", **urls) == \
        "http://koji.example.org/kojifiles"
    assert evaluate("koji_builder", ONE_HUB, "builder1.koji.example.com", "{{ koji_builder_topurl }}", **urls) == \
        "http://koji.example.org/kojifiles"
    # koji_hub_topurl, when the inventory sets it, wins everywhere.
    urls["koji_hub_topurl"] = "http://files.example.org/kojifiles"
    assert evaluate("koji_web", ONE_HUB, "hub.koji.example.com", "{{ koji_web_files_url }}", **urls) == \
        "http://files.example.org/kojifiles"


def test_every_role_default_naming_the_hub_group_for_a_url_knows_the_load_balancer():
    """A URL default that still starts from the first koji_hub host only would bypass the load balancer."""
    offenders = []
    for path in sorted(ROLES.glob("*/defaults/main.yml")):
        for name, text in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            if isinstance(text, str) and "://" in text and "groups['koji_hub']" in text and "koji_lb" not in text:
                offenders.append("%s: %s" % (path.parent.parent.name, name))
    assert offenders == []


# ---------------------------------------------------------------------------------------------
# koji_ca: the site's names in the server certificates.
# ---------------------------------------------------------------------------------------------

def alt_names(groups, host, certificate, **inventory):
    """The alternative names koji_ca would give one of the host's certificates, as koji_ca's vars compute them."""
    text = evaluate("koji_ca", groups, host,
                    "{{ __koji_ca_group_certificates | selectattr('name', 'eq', '%s') | map(attribute='alt_names') "
                    "| first | to_json }}" % certificate,
                    files=("defaults/main.yml", "vars/main.yml"),
                    __koji_ca_apache_group="apache", __koji_ca_apache_service="httpd", **inventory)
    return yaml.safe_load(text)


def test_the_hubs_and_webs_carry_the_site_names():
    assert alt_names(TWO_HUBS, "hub2.kojihubs.test", "hub", **SITE_URLS) == ["hub2.kojihubs.test", "koji.kojihubs.test"]
    assert alt_names(TWO_HUBS, "web1.kojihubs.test", "web", **SITE_URLS) == ["web1.kojihubs.test", "kojiweb.kojihubs.test"]
    # Without URLs in the inventory the names are the load balancer's inventory name.
    assert alt_names(TWO_HUBS, "hub1.kojihubs.test", "hub") == ["hub1.kojihubs.test", "koji.kojihubs.test"]
    # A host in both groups serves both names with one certificate (koji_web uses hub.crt there).
    both = dict(TWO_HUBS, koji_web=TWO_HUBS["koji_hub"])
    assert alt_names(both, "hub1.kojihubs.test", "hub", **SITE_URLS) == \
        ["hub1.kojihubs.test", "koji.kojihubs.test", "kojiweb.kojihubs.test"]
    # The site's extra names come after, as before.
    assert alt_names(TWO_HUBS, "hub1.kojihubs.test", "hub", koji_ca_server_alt_names=["192.0.2.7"], **SITE_URLS) == \
        ["hub1.kojihubs.test", "koji.kojihubs.test", "192.0.2.7"]


def test_a_site_with_one_hub_keeps_its_names():
    """The names of today's certificates: the FQDN and the inventory name, then koji_ca_server_alt_names.
    An existing certificate whose names match is kept (koji_ca's __koji_ca_item_identity_matches)."""
    assert alt_names(ONE_HUB, "hub.koji.example.com", "hub") == ["hub.koji.example.com"]
    assert alt_names(ONE_HUB, "hub.koji.example.com", "web") == ["hub.koji.example.com"]
    assert alt_names(SEPARATE_WEB, "web.koji.example.com", "web") == ["web.koji.example.com"]
    assert alt_names(SEPARATE_WEB, "hub.koji.example.com", "hub", koji_ca_server_alt_names=["koji.example.org"]) == \
        ["hub.koji.example.com", "koji.example.org"]


def test_no_host_gets_another_hosts_name():
    """A URL left at one hub's name on a site with several (koji_hub refuses the run) gives hub2 no
    certificate for hub1's name."""
    urls = {"koji_hub_url": "https://hub1.kojihubs.test/kojihub"}
    assert alt_names(dict(TWO_HUBS, koji_lb=[]), "hub2.kojihubs.test", "hub", **urls) == ["hub2.kojihubs.test"]


# ---------------------------------------------------------------------------------------------
# The checks of koji_hub (the URL on a site with several hubs) and koji_storage (every hub mounts
# Koji's top directory), run for real from the roles' task files.
# ---------------------------------------------------------------------------------------------

def _task(role, tasks_file, name):
    found = [task for task in walk_tasks(load_yaml(ROLES / role / "tasks" / tasks_file)) if task.get("name") == name]
    assert len(found) == 1, name
    return found[0]


def run_check(tmp_path, role, task, groups, host, inventory_vars=None):
    """The task, on `host` of an inventory of `groups` (connection local), with the role's variables:
    its defaults under the inventory's values (in the inventory, the inventory's win), its vars/main.yml
    over them (play vars)."""
    defaults = dict(load_yaml(ROLES / role / "defaults" / "main.yml") or {}, **(inventory_vars or {}))
    play_vars = load_yaml(ROLES / role / "vars" / "main.yml") or {}
    children = {group: {"hosts": {member: {} for member in members}} for group, members in groups.items()}
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": children, "vars": dict(
        defaults, ansible_connection="local", ansible_python_interpreter=sys.executable)}}))
    playbook = tmp_path / "check.yml"
    playbook.write_text(yaml.safe_dump([{"name": "The check", "hosts": host, "gather_facts": False,
                                         "vars": play_vars, "tasks": [task]}]))
    returncode, output = run_playbook(tmp_path, inventory, playbook)
    return returncode, " ".join(output.split())


HUB_CHECK = "Require the load balancer's name in the URLs of a site with several hubs"


@needs_collection
@pytest.mark.parametrize("groups,inventory_vars,host", [
    (ONE_HUB, {}, "hub.koji.example.com"),
    (SEPARATE_WEB, {}, "hub.koji.example.com"),
    (TWO_HUBS, {}, "hub2.kojihubs.test"),
    (TWO_HUBS, SITE_URLS, "hub1.kojihubs.test"),
    (dict(TWO_HUBS, koji_lb=[]), SITE_URLS, "hub2.kojihubs.test"),
], ids=["one-hub", "separate-web", "lb-default", "lb-urls", "own-load-balancer"])
def test_koji_hub_accepts_a_site_name(tmp_path, groups, inventory_vars, host):
    task = _task("koji_hub", "preflight.yml", HUB_CHECK)
    returncode, output = run_check(tmp_path, "koji_hub", task, groups, host,
                                   inventory_vars)
    assert returncode == 0, output


@needs_collection
@pytest.mark.parametrize("inventory_vars", [
    {},
    {"koji_hub_url": "https://hub2.kojihubs.test/kojihub", "koji_web_url": "https://kojiweb.kojihubs.test/koji"},
    {"koji_hub_url": "https://koji.kojihubs.test/kojihub", "koji_web_url": "https://WEB1.kojihubs.test/koji"},
], ids=["first-hub-default", "a-hub-name", "a-web-name"])
def test_koji_hub_refuses_one_hosts_name_with_several_hubs(tmp_path, inventory_vars):
    task = _task("koji_hub", "preflight.yml", HUB_CHECK)
    returncode, output = run_check(tmp_path, "koji_hub", task, dict(TWO_HUBS, koji_lb=[]), "hub1.kojihubs.test",
                                   inventory_vars)
    assert returncode != 0, output
    assert "Set koji_hub_url and koji_web_url (group_vars/all) to URLs of the load balancer's name" in output, output


STORAGE_CHECK = "Require every hub to mount Koji's top directory read-write"


@needs_collection
def test_koji_storage_mounts_every_hub_by_default(tmp_path):
    task = _task("koji_storage", "preflight.yml", STORAGE_CHECK)
    returncode, output = run_check(tmp_path, "koji_storage", task, TWO_HUBS, "hub2.kojihubs.test")
    assert returncode == 0, output
    assert evaluate("koji_storage", TWO_HUBS, "hub2.kojihubs.test", "{{ __koji_storage_client_access }}",
                    files=("defaults/main.yml", "vars/main.yml")) == "rw"
    assert evaluate("koji_storage", TWO_HUBS, "hub1.kojihubs.test", "{{ __koji_storage_client_access }}",
                    files=("defaults/main.yml", "vars/main.yml")) == ""
    assert evaluate("koji_hub", TWO_HUBS, "hub2.kojihubs.test", "{{ koji_hub_dir_on_nfs }}") is True
    assert evaluate("koji_hub", TWO_HUBS, "hub1.kojihubs.test", "{{ koji_hub_dir_on_nfs }}") is False
    assert evaluate("koji_hub", TWO_HUBS, "hub2.kojihubs.test", "{{ koji_hub_dir_on_nfs }}",
                    koji_storage_nfs_enabled=False) is False


@needs_collection
def test_koji_storage_refuses_a_hub_without_the_share(tmp_path):
    task = _task("koji_storage", "preflight.yml", STORAGE_CHECK)
    returncode, output = run_check(tmp_path, "koji_storage", task, TWO_HUBS, "hub1.kojihubs.test",
                                   {"koji_storage_nfs_rw_clients": ["db.kojihubs.test"]})
    assert returncode != 0, output
    assert "the hubs hub2.kojihubs.test are not the storage server (hub1.kojihubs.test)" in output, output
