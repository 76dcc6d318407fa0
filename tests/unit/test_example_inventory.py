"""inventories/example documents every public variable of every role, and runs.

A user copies that inventory to start a site: a variable missing there is one they will not
know about. A variable counts when it is set, or shown commented out (`# name: value`), in any
file of the inventory.

The example must also work as it is: every role the playbooks apply, on the hosts they apply it
to, with the variables the inventory gives those hosts, for EL9 and for Debian 12 (below).
"""

import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader

ROOT = pathlib.Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "inventories" / "example"
ROLES = sorted(p.parent.parent.name for p in (ROOT / "roles").glob("*/meta/argument_specs.yml")
               if not p.parent.parent.name.startswith("_"))


def _inventory_text():
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(INVENTORY.rglob("*.yml")))


def _options(role):
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    return sorted(specs["argument_specs"]["main"].get("options") or {})


@pytest.mark.parametrize("role", ROLES)
def test_every_public_variable_is_in_the_example_inventory(role):
    text = _inventory_text()
    missing = [name for name in _options(role)
               if not re.search(r"^\s*(#\s*)?%s:" % re.escape(name), text, re.MULTILINE)]
    assert missing == [], "not in inventories/example: %s" % ", ".join(missing)


def test_example_inventory_parses_as_yaml():
    for path in sorted(INVENTORY.rglob("*.yml")):
        yaml.safe_load(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------
# The example inventory runs: every role the playbooks apply, on the hosts they apply it to, with
# the variables the inventory gives those hosts, for EL9 and for Debian 12.
#
# No EL9 machine is needed: the hosts are this machine (connection local) pretending to be the
# inventory's hosts (facts injected, as tests/unit/roles/test_os_vars_layers.py does). For every
# (hosts, role, entry point) that playbooks/*.yml apply, in one ansible-playbook run per platform:
#   - the role's OS variables load (its set_vars.yml), its defaults and vars are exposed;
#   - the entry point's argument spec validates the host's variables with Ansible's own
#     validate_argument_spec action, the spec read from the role's meta/argument_specs.yml as the
#     role loader does (values templated with the host's variables and facts);
#   - the asserts of the role's tasks/main.yml and its tasks/preflight.yml run for real, in check
#     mode (nothing is written);
#   - every template of the role (and, for koji_hub and koji_web, of the Apache site they share
#     from _common) is rendered with the template module into a scratch directory.
# A value a role refuses, a missing variable or a template error fails the run. A new role,
# entry point or template is covered without a new test.
#
# What stands in for what a real run has: the vault (VAULT below), and, for the source install
# (Debian's `auto`), the record that koji_source was staged earlier in the run, so that no
# download of the example's placeholder URL is attempted (its "koji_source is set" check still
# runs). Image builders need mock, which Debian lacks (koji_builder refuses them there): with
# Debian facts they keep the EL9 facts, as a Debian site's image builders would be EL hosts.
# ---------------------------------------------------------------------------------------------

COLLECTIONS = ROOT / "build" / "collections"
PLAYBOOKS = ROOT / "playbooks"
ROLES_DIR = ROOT / "roles"

# The vault a real inventory has beside group_vars (test values of the documented lengths).
VAULT = {
    "vault_koji_db_password": "example-db-password",
    "vault_koji_web_secret": "example-web-secret-0123456789",
    "vault_koji_backup_passphrase": "example-backup-passphrase",
}

PLATFORMS = {
    "EL9": {"os_family": "RedHat", "distribution": "AlmaLinux", "distribution_major_version": "9",
            "distribution_version": "9.4", "selinux": {"status": "enabled", "mode": "enforcing"}},
    "Debian12": {"os_family": "Debian", "distribution": "Debian", "distribution_major_version": "12",
                 "distribution_version": "12.7", "selinux": {"status": "disabled"}},
}
# Hosts that keep EL9's facts whatever the platform (see above).
EL_ONLY_GROUPS = ["koji_builders_image"]

# What the roles' tasks compute before they render a template (read from a host or a venv that
# does not exist here).
COMPUTED = {
    # kojid's virtualenv (Debian: the Python packages Debian lacks), read by install.yml.
    "koji_builder": {"__koji_builder_venv_site": {"stdout": "/opt/kojiforge/kojid-venv/lib/python3.11/site-packages"}},
    "koji_web": {"__koji_web_metrics_venv_report": {
        "site_packages": "/opt/kojiforge/metrics-venv/lib/python3.9/site-packages"}},
}
# The roles that render _common's Apache site (tasks/install.yml include _common's apache.yml
# with these inputs), and the role-side names of those inputs.
APACHE_ROLES = {
    "koji_hub": {"tls_cert": "koji_hub_tls_cert", "tls_key": "koji_hub_tls_key",
                 "ca_cert": "koji_hub_ca_cert", "ca_crl": "koji_hub_ca_crl"},
    "koji_web": {"tls_cert": "koji_web_tls_cert", "tls_key": "koji_web_tls_key",
                 "ca_cert": "koji_web_ca_cert", "ca_crl": "koji_web_ca_crl"},
}


def _walk(tasks):
    for task in tasks or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from _walk(task.get(key))


def _short(name):
    return name.split(".")[-1]


def role_applications():
    """(hosts pattern, role, entry point) for every role playbooks/*.yml apply, in order, once each."""
    found = []
    for path in sorted(PLAYBOOKS.glob("*.yml")):
        for play in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            if "hosts" not in play:
                continue
            for role in play.get("roles") or []:
                found.append((play["hosts"], _short(role["role"] if isinstance(role, dict) else role), "main"))
            for task in _walk(play.get("tasks")):
                include = task.get("ansible.builtin.include_role") or task.get("ansible.builtin.import_role")
                # _common is internal: its inputs are the including task's vars, not the inventory
                # (tests/unit/roles/test_role_interfaces.py checks them).
                if include and _short(include["name"]) != "_common":
                    entry = include.get("tasks_from", "main")
                    found.append((play["hosts"], _short(include["name"]), entry[:-4] if entry.endswith(".yml") else entry))
    unique = []
    for item in found:
        if item not in unique:
            unique.append(item)
    return unique


def _argument_specs(role):
    return yaml.safe_load((ROLES_DIR / role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))["argument_specs"]


def _main_asserts(role):
    """The assert tasks at the top of a role's tasks/main.yml (a check that lives there, not in preflight)."""
    tasks = yaml.safe_load((ROLES_DIR / role / "tasks" / "main.yml").read_text(encoding="utf-8")) or []
    return [task for task in tasks if "ansible.builtin.assert" in task]


def _templates(role):
    return sorted((ROLES_DIR / role / "templates").glob("*.j2"))


def _facts_task(name, facts, when):
    values = {"ansible_" + key: value for key, value in facts.items()}
    values.update({
        "ansible_fqdn": "{{ inventory_hostname }}",
        "ansible_hostname": "{{ inventory_hostname.split('.')[0] }}",
        "ansible_domain": "{{ inventory_hostname.split('.', 1)[1] }}",
        "ansible_architecture": "x86_64",
        "ansible_processor_vcpus": 4,
        "ansible_default_ipv4": {"address": "192.0.2.{{ 10 + groups['all'].index(inventory_hostname) }}"},
        "ansible_services": {},
        "cacheable": True,
    })
    return {"name": name, "ansible.builtin.set_fact": values, "when": when}


# Entry points whose required inputs a person gives on the command line (-e), not the
# inventory: the values such a command line would carry.
COMMAND_LINE_INPUTS = {
    ("koji_ca", "person"): {"koji_ca_person": "alice", "koji_ca_person_csr": "/home/alice/alice.csr"},
}


def _role_play(pattern, role, entries, out_dir, render):
    """One play: the role's variables, its entry points' argument specs, its checks, its templates."""
    tasks = []
    if (ROLES_DIR / role / "tasks" / "set_vars.yml").exists():
        tasks.append({"name": "Load %s's OS variables, defaults and vars" % role,
                      "ansible.builtin.include_role": {"name": "kojiforge.koji." + role,
                                                       "tasks_from": "set_vars.yml", "public": True}})
    elif (ROLES_DIR / role / "tasks" / "preflight.yml").exists():
        # No OS variables: its preflight (below) brings its defaults and vars.
        tasks.append({"name": "Load %s's defaults and vars with its preflight" % role,
                      "ansible.builtin.include_role": {"name": "kojiforge.koji." + role,
                                                       "tasks_from": "preflight.yml", "public": True}})
    specs_file = str(ROLES_DIR / role / "meta" / "argument_specs.yml")
    for entry in entries:
        # As the role loader does: the spec read from the file (so its Jinja defaults and
        # descriptions are not templated), the values from the host's variables.
        tasks.append({"name": "Validate %s's entry point %s" % (role, entry),
                      "ansible.builtin.validate_argument_spec": {
                          "argument_spec": "{{ (lookup('ansible.builtin.file', %r) | from_yaml)"
                                           "['argument_specs'][%r]['options'] }}" % (specs_file, entry),
                          "validate_args_context": {"type": "role", "name": role, "argument_spec_name": entry}},
                      "vars": COMMAND_LINE_INPUTS.get((role, entry), {})})
    if "main" in entries:
        tasks.extend(_main_asserts(role))
        if (ROLES_DIR / role / "tasks" / "set_vars.yml").exists() and (ROLES_DIR / role / "tasks" / "preflight.yml").exists():
            tasks.append({"name": "Run %s's preflight" % role,
                          "ansible.builtin.include_role": {"name": "kojiforge.koji." + role,
                                                           "tasks_from": "preflight.yml", "public": True}})
    if render and "main" in entries:
        templates = [(role, path, {}) for path in _templates(role)]
        if role in COMPUTED:
            tasks.append({"name": "What %s's tasks compute before rendering" % role,
                          "ansible.builtin.set_fact": COMPUTED[role]})
        if role in APACHE_ROLES:
            inputs = {"_common_apache_" + key: "{{ %s }}" % name for key, name in APACHE_ROLES[role].items()}
            # _common's krb5.conf, as the role's Kerberos step passes it (kerberos.yml).
            inputs.update({"_common_kerberos_" + key: "{{ %s_kerberos_%s }}" % (role, key)
                           for key in ("realm", "kdcs", "admin_server")})
            tasks.append({"name": "Load _common's OS variables",
                          "ansible.builtin.include_role": {"name": "kojiforge.koji._common",
                                                           "tasks_from": "set_vars.yml", "public": True}})
            # _common's apache.yml publishes these facts before it renders.
            tasks.append({"name": "What _common's Apache entry point publishes",
                          "ansible.builtin.set_fact": {
                              "_common_apache_" + name: "{{ __common_apache_%s }}" % name
                              for name in ("user", "group", "service", "kojiforge_dir")}})
            templates += [("_common", path, inputs) for path in _templates("_common")]
        for owner in sorted({owner for owner, _path, _vars in templates}):
            tasks.append({"name": "Directory of the renderings of %s" % owner,
                          "ansible.builtin.file": {"path": "%s/{{ inventory_hostname }}/%s/%s" % (out_dir, role, owner),
                                                   "state": "directory", "mode": "0700"},
                          "check_mode": False})
        for owner, path, task_vars in templates:
            tasks.append({
                "name": "Render %s/%s" % (owner, path.name),
                "ansible.builtin.template": {
                    "src": str(path),
                    "dest": "%s/{{ inventory_hostname }}/%s/%s/%s" % (out_dir, role, owner, path.name[:-3]),
                    "mode": "0600"},
                "vars": task_vars,
                "check_mode": False})
    return {"name": "%s (%s) on %s" % (role, ", ".join(entries), pattern), "hosts": pattern,
            "gather_facts": False, "check_mode": True, "tasks": tasks}


def failures(output):
    """The lines of an ansible-playbook output that say what failed."""
    return "\n".join(line for line in output.splitlines()
                     if line.startswith(("fatal:", "failed:", "[ERROR]", "ERROR!")) or "FAILED!" in line)


def run_example(tmp_path, platform, inventory=INVENTORY, roles=None, render=True):
    """Run the checks and renderings above with an inventory; returns (returncode, output, rendered dir)."""
    out_dir = tmp_path / "rendered"
    local = tmp_path / "local.yml"
    local.write_text(yaml.safe_dump({"all": {"vars": dict(
        VAULT, ansible_connection="local", ansible_python_interpreter=sys.executable)}}))
    facts = PLATFORMS[platform]
    el_only = " or ".join("'%s' in group_names" % group for group in EL_ONLY_GROUPS)
    prelude = [{"name": "Pretend to be the inventory's hosts", "hosts": "all", "gather_facts": False, "tasks": [
        _facts_task("The platform's facts", facts, "not (%s)" % el_only),
        _facts_task("EL9's facts (hosts that need EL)", PLATFORMS["EL9"], el_only),
        # The source install's controller staging, as if an earlier role of the run had done it.
        {"name": "Koji source staged earlier in the run", "run_once": True, "delegate_to": "localhost",
         "delegate_facts": True, "ansible.builtin.set_fact": {"__common_koji_staged": {
             "source": "{{ koji_source | default('') }}", "version": "1.35.3",
             "tree": str(tmp_path / "koji-tree"), "archive": str(tmp_path / "koji.tar.gz")}}},
    ]}]
    applications = {}
    for pattern, role, entry in role_applications():
        if roles is None or role in roles:
            applications.setdefault((pattern, role), []).append(entry)
    plays = prelude + [_role_play(pattern, role, entries, out_dir, render)
                       for (pattern, role), entries in applications.items()]
    playbook = tmp_path / "example.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_FORCE_COLOR="false",
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
               ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-remote-tmp"), ANSIBLE_RETRY_FILES_ENABLED="false",
               ANSIBLE_HOST_KEY_CHECKING="false", ANSIBLE_PIPELINING="true")
    proc = subprocess.run([str(pathlib.Path(sys.executable).with_name("ansible-playbook")),
                           "-i", str(inventory), "-i", str(local), str(playbook)],
                          cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    return proc.returncode, proc.stdout, out_dir


# Jinja the template module left unrendered; Prometheus' own templates ({{ $labels.host }}) are meant.
LEFTOVER_JINJA = re.compile(r"\{%|\{\{(?!\s*\$)")

needs_collection = pytest.mark.skipif(not (COLLECTIONS / "ansible_collections" / "kojiforge" / "koji").exists(),
                                      reason="run `make collection-link` first")


@pytest.fixture(scope="module", params=sorted(PLATFORMS))
def example_run(request, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("example-" + request.param)
    return (request.param,) + run_example(tmp_path, request.param)


@needs_collection
def test_the_example_inventory_passes_every_role_check(example_run):
    platform, returncode, output, _out = example_run
    assert returncode == 0, "the example inventory fails on %s:\n%s\n\n%s" % (platform, failures(output), output[-3000:])


@needs_collection
def test_every_template_is_rendered_for_the_hosts_of_its_role(example_run):
    platform, returncode, output, out_dir = example_run
    assert returncode == 0, output[-5000:]
    inventory = InventoryManager(loader=DataLoader(), sources=[str(INVENTORY)])
    missing, unrendered = [], []
    for pattern, role in sorted({(pattern, role) for pattern, role, entry in role_applications() if entry == "main"}):
        for host in [host.name for host in inventory.list_hosts(pattern)]:
            owners = [(role, path) for path in _templates(role)]
            owners += [("_common", path) for path in _templates("_common")] if role in APACHE_ROLES else []
            for owner, path in owners:
                rendered = out_dir / host / role / owner / path.name[:-3]
                if not rendered.is_file():
                    missing.append(str(rendered.relative_to(out_dir)))
                elif LEFTOVER_JINJA.search(rendered.read_text(encoding="utf-8")):
                    unrendered.append(str(rendered.relative_to(out_dir)))
    assert missing == [] and unrendered == [], "on %s: not rendered %s; Jinja left in %s" % (platform, missing, unrendered)


# A policy rule as Koji's hub parses it (koji.policy): tests joined by &&, then :: or !!, then the action.
POLICY_RULE = re.compile(r"^    [a-z_]+( [^:!&]+)?( && [a-z_]+( [^:!&]+)?)* (::|!!) [a-z].*$")


@needs_collection
def test_the_example_policies_render_in_kojis_syntax(example_run):
    """The starting policies of the example (hub.conf [policy]) and the builders' allowed SCMs."""
    platform, returncode, output, out_dir = example_run
    assert returncode == 0, output[-5000:]
    hub_conf = (out_dir / "hub.koji.example.com" / "koji_hub" / "koji_hub" / "hub.conf").read_text(encoding="utf-8")
    policy = hub_conf.split("\n[policy]\n", 1)[1]
    names = re.findall(r"^([a-z_]+) =$", policy, re.MULTILINE)
    assert names == ["channel", "build_from_scm", "package_list", "sidetag", "tag"], (platform, names)
    rules = [line for line in policy.splitlines() if line.startswith(" ")]
    assert [rule for rule in rules if not POLICY_RULE.match(rule)] == [], platform
    # Every policy ends with a rule that always matches: nothing falls through to Koji's default.
    for name in names:
        block = policy.split("%s =\n" % name, 1)[1].split("\n\n", 1)[0]
        last = [line for line in block.splitlines() if line.startswith(" ")][-1]
        assert last.strip().startswith("all :: "), (name, last)
    assert "    match scm_host src.koji.example.com && match scm_repository /rpms/* :: allow\n" in policy
    kojid_conf = (out_dir / "rpm-builder1.koji.example.com" / "koji_builder" / "koji_builder" / "kojid.conf").read_text(encoding="utf-8")
    assert "\nallowed_scms = src.koji.example.com:/rpms/*:no\n" in kojid_conf
    assert "\nallowed_scms_use_policy = True\n" in kojid_conf


def _edited_inventory(tmp_path, path, old, new):
    """A copy of the example inventory with one text replaced in one file."""
    copy = tmp_path / "inventory"
    shutil.copytree(str(INVENTORY), str(copy))
    text = (copy / path).read_text(encoding="utf-8")
    assert old in text, "%s no longer holds %r: adapt the test" % (path, old)
    (copy / path).write_text(text.replace(old, new), encoding="utf-8")
    return copy


@needs_collection
@pytest.mark.parametrize("role", ["kojira", "koji_builder"])
def test_a_value_a_role_refuses_fails_the_check(tmp_path, role):
    inventory = _edited_inventory(tmp_path, "group_vars/all.yml", "\nkoji_install_method: auto\n",
                                  "\nkoji_install_method: rpm\n")
    returncode, output, _out = run_example(tmp_path, "EL9", inventory=inventory, roles=[role], render=False)
    assert returncode != 0, output[-3000:]
    assert re.search(r"koji_install_method.*(must be one of|choices)", failures(output)), failures(output) or output[-3000:]


@needs_collection
def test_a_missing_variable_fails_the_check(tmp_path):
    inventory = _edited_inventory(tmp_path, "group_vars/all.yml", '\nkoji_web_secret: "{{ vault_koji_web_secret }}"\n', "\n")
    returncode, output, _out = run_example(tmp_path, "Debian12", inventory=inventory, roles=["koji_web"], render=False)
    assert returncode != 0, output[-3000:]
    # The check is no_log: ansible-core 2.16 censors its message, later versions show it.
    task = output.split("TASK [kojiforge.koji.koji_web : Require the web secret]", 1)[-1].split("\nTASK [", 1)[0]
    assert "koji_web_secret must be set" in failures(task) or "censored" in failures(task), \
        failures(output) or output[-3000:]


@needs_collection
def test_a_template_that_cannot_render_fails_the_check(tmp_path):
    """A value the argument spec lets through (a dict) but hub.conf.j2 cannot render (a policy whose
    rules are a number): the rendering fails, after the checks passed."""
    inventory = tmp_path / "inventory"
    shutil.copytree(str(INVENTORY), str(inventory))
    (inventory / "host_vars").mkdir()
    (inventory / "host_vars" / "hub.koji.example.com.yml").write_text("koji_hub_policy: {tag: 5}\n")
    returncode, output, _out = run_example(tmp_path, "EL9", inventory=inventory, roles=["koji_hub"])
    assert returncode != 0, output[-3000:]
    assert "Validate koji_hub's entry point main" in output
    rendering = output.split("TASK [Render koji_hub/hub.conf.j2]", 1)[-1].split("TASK [", 1)[0]
    assert "fatal: [hub.koji.example.com]" in rendering, failures(output) or output[-3000:]


def test_the_checks_cover_every_role_the_playbooks_apply():
    """Each role with an argument spec is applied by some playbook (so the run above checks it)."""
    applied = {role for _pattern, role, _entry in role_applications()}
    assert sorted(set(ROLES) - applied) == []
    assert ("koji_builders", "koji_builder", "identity") in role_applications()
