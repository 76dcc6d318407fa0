"""The OS variables load in layers, by one task file for every role (roles/_common/tasks/set_vars.yml).

Each role's `tasks/set_vars.yml` includes the shared file, which loads every file of the role's
vars/ that exists for the host, from the most general to the most specific, each overriding the
last: <os_family>.yml, <distribution>.yml, <os_family>_<major>.yml, <distribution>_<major>.yml.

The roles' set_vars.yml run here for real (connection local) with the facts of EL9 (RHEL, Rocky,
AlmaLinux) and Debian 12, and the variables the roles' vars/ files set must come out as the reviewed
expected files say. expected/os_vars/ was written by the loaders before the layers (each role's own
`first_found`, the most specific file winning), so a file split into layers that changes a value
fails here. After a deliberate change of a value, review the difference and refresh them with
    KOJIFORGE_UPDATE_EXPECTED=1 pytest tests/unit/roles/test_os_vars_layers.py
"""

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLES = ROOT / "roles"
COLLECTIONS = ROOT / "build" / "collections"
EXPECTED = pathlib.Path(__file__).resolve().parent / "expected" / "os_vars"
UPDATE = os.environ.get("KOJIFORGE_UPDATE_EXPECTED") == "1"
SHARED = "roles/_common/tasks/set_vars.yml"

# The roles with OS variables (koji_backup has none: it runs the other roles' entry points).
OS_ROLES = sorted(p.parent.parent.name for p in ROLES.glob("*/vars/*.yml") if p.name != "main.yml")

PLATFORMS = {
    "RedHat_9": {"os_family": "RedHat", "distribution": "RedHat", "distribution_major_version": "9"},
    "Rocky_9": {"os_family": "RedHat", "distribution": "Rocky", "distribution_major_version": "9"},
    "AlmaLinux_9": {"os_family": "RedHat", "distribution": "AlmaLinux", "distribution_major_version": "9"},
    "Debian_12": {"os_family": "Debian", "distribution": "Debian", "distribution_major_version": "12"},
}

UNDEFINED = "<undefined>"

pytestmark = pytest.mark.skipif(not (COLLECTIONS / "ansible_collections" / "kojiforge" / "koji").exists(),
                                reason="run `make collection-link` first")


def _layer_names(roles_dir):
    """role -> the names its OS files (every vars/*.yml but main.yml) set."""
    names = {}
    for path in sorted(roles_dir.glob("*/vars/*.yml")):
        if path.name != "main.yml":
            names.setdefault(path.parent.parent.name, set()).update(yaml.safe_load(path.read_text()) or {})
    return {role: sorted(found) for role, found in names.items()}


def _play(tmp_path, facts, includes, names, collections=COLLECTIONS):
    """Run the includes (include_role arguments) on this machine with the given facts and return the
    values of names afterwards (UNDEFINED for a name nothing set)."""
    out = tmp_path / "vars.json"
    facts = dict(facts, fqdn="host.koji.example.com")
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    playbook = tmp_path / "playbook.yml"
    tasks = [{"name": "Pretend to be the platform",
              "ansible.builtin.set_fact": dict({"ansible_" + k: v for k, v in facts.items()}, cacheable=True)}]
    tasks += [{"name": "Load the variables", "ansible.builtin.include_role": include} for include in includes]
    content = "{{ dict(__names | zip(query('ansible.builtin.vars', *__names, default='%s'))) | to_json }}" % UNDEFINED
    tasks.append({"name": "Write them out", "ansible.builtin.copy": {"dest": str(out), "mode": "0644", "content": content},
                  "vars": {"__names": names}})
    playbook.write_text(yaml.safe_dump([{"name": "Load OS variables", "hosts": "all", "gather_facts": False,
                                         "tasks": tasks}]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_FORCE_COLOR="false",
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
               ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-remote-tmp"))
    proc = subprocess.run([str(pathlib.Path(sys.executable).with_name("ansible-playbook")), "-i", str(inventory),
                           str(playbook)], cwd=str(tmp_path), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert proc.returncode == 0, proc.stdout
    return json.loads(out.read_text()), proc.stdout


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_every_role_gets_the_same_os_variables_as_before_the_layers(tmp_path, platform):
    names = _layer_names(ROLES)
    all_names = sorted({name for role_names in names.values() for name in role_names})
    includes = [{"name": "kojiforge.koji.%s" % role, "tasks_from": "set_vars.yml"} for role in sorted(names)]
    got, _out = _play(tmp_path, PLATFORMS[platform], includes, all_names)
    result = {role: {name: got[name] for name in names[role]} for role in names}
    expected_file = EXPECTED / ("%s.json" % platform)
    if UPDATE:
        expected_file.parent.mkdir(parents=True, exist_ok=True)
        expected_file.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    assert expected_file.is_file(), "no reviewed variables %s (KOJIFORGE_UPDATE_EXPECTED=1 writes them)" % expected_file
    expected = json.loads(expected_file.read_text())
    # Names that a file of one platform sets and the other's do not are UNDEFINED on that one; a
    # role's variables must all be defined on the platforms it supports.
    for role, values in result.items():
        assert values == expected.get(role), "%s on %s" % (role, platform)
        assert UNDEFINED not in values.values(), "%s on %s leaves %s undefined" % (
            role, platform, sorted(k for k, v in values.items() if v == UNDEFINED))
    assert sorted(result) == sorted(expected)


def _fake_collection(tmp_path, files):
    """A copy of the collection's _common role and a role 'probe' whose vars/ holds files."""
    root = tmp_path / "collections" / "ansible_collections" / "kojiforge" / "koji"
    (root / "meta").mkdir(parents=True)
    (root / "meta" / "runtime.yml").write_text("---\nrequires_ansible: '>=2.16.0'\n")
    (root / "galaxy.yml").write_text(yaml.safe_dump({"namespace": "kojiforge", "name": "koji", "version": "1.0.0"}))
    (root / "roles").mkdir()
    os.symlink(str(ROLES / "_common"), str(root / "roles" / "_common"))
    probe = root / "roles" / "probe"
    (probe / "tasks").mkdir(parents=True)
    (probe / "vars").mkdir()
    (probe / "tasks" / "set_vars.yml").write_text((ROLES / "koji_hub" / "tasks" / "set_vars.yml").read_text())
    for name, content in files.items():
        (probe / "vars" / name).write_text(yaml.safe_dump(content))
    return tmp_path / "collections"


LAYERS = {
    "RedHat.yml": {"__probe_family": "RedHat", "__probe_distribution": "RedHat", "__probe_family_major": "RedHat",
                   "__probe_major": "RedHat", "__probe_list": ["from", "RedHat"]},
    "Rocky.yml": {"__probe_distribution": "Rocky", "__probe_family_major": "Rocky", "__probe_major": "Rocky"},
    "RedHat_9.yml": {"__probe_family_major": "RedHat_9", "__probe_major": "RedHat_9"},
    "Rocky_9.yml": {"__probe_major": "Rocky_9"},
    "Rocky_8.yml": {"__probe_major": "Rocky_8", "__probe_family": "Rocky_8"},
    "Debian.yml": {"__probe_family": "Debian"},
}
PROBE_NAMES = ["__probe_family", "__probe_distribution", "__probe_family_major", "__probe_major", "__probe_list"]


@pytest.mark.parametrize("platform,values,files", [
    # Rocky: each layer over the one before, the list replaced whole.
    ("Rocky_9", {"__probe_family": "RedHat", "__probe_distribution": "Rocky", "__probe_family_major": "RedHat_9",
                 "__probe_major": "Rocky_9", "__probe_list": ["from", "RedHat"]},
     ["RedHat.yml", "Rocky.yml", "RedHat_9.yml", "Rocky_9.yml"]),
    # RHEL: family and distribution are one layer, loaded once.
    ("RedHat_9", {"__probe_family": "RedHat", "__probe_distribution": "RedHat", "__probe_family_major": "RedHat_9",
                  "__probe_major": "RedHat_9", "__probe_list": ["from", "RedHat"]},
     ["RedHat.yml", "RedHat_9.yml"]),
])
def test_a_later_layer_overrides_an_earlier_one(tmp_path, platform, values, files):
    collections = _fake_collection(tmp_path, LAYERS)
    got, out = _play(tmp_path, PLATFORMS[platform], [{"name": "kojiforge.koji.probe", "tasks_from": "set_vars.yml"}],
                     PROBE_NAMES, collections=collections)
    assert got == values, out
    # Only the files that exist, each once, in order.
    assert re.findall(r"\((?:item=)?(\w+\.yml)\)", out) == files, out


def test_a_platform_without_any_file_fails_clearly(tmp_path):
    collections = _fake_collection(tmp_path, {"Debian.yml": {"__probe_family": "Debian"}})
    with pytest.raises(AssertionError, match="No variables for Rocky 9"):
        _play(tmp_path, PLATFORMS["Rocky_9"], [{"name": "kojiforge.koji.probe", "tasks_from": "set_vars.yml"}],
              PROBE_NAMES, collections=collections)


def test_no_role_keeps_its_own_copy_of_the_loading_logic():
    shared = ROOT / SHARED
    loaders = sorted(str(p.relative_to(ROOT)) for p in ROLES.glob("*/tasks/**/*.yml")
                     if re.search(r"include_vars|first_found", p.read_text()) and p != shared)
    assert loaders == []
    assert "include_vars" in shared.read_text()
    for role in OS_ROLES:
        if role == "_common":
            continue
        tasks = yaml.safe_load((ROLES / role / "tasks" / "set_vars.yml").read_text())
        includes = [t["ansible.builtin.include_tasks"] for t in tasks if "ansible.builtin.include_tasks" in t]
        assert includes == ["{{ role_path }}/../_common/tasks/set_vars.yml"], role
