"""galaxy.yml's dependency minimums are the versions the roles and playbooks really need.

Every plugin of a dependency that a role or playbook names by FQCN (modules as task keys, with the
options the task passes; filters, tests and lookups anywhere in the roles' and playbooks' text) is
looked up with ansible-doc in the installed collections, and the version it, and each option used,
appeared in (version_added, when it belongs to that collection) is the least that collection can be.
The minimum galaxy.yml declares must be exactly the greatest of them: higher would turn away users
who could run the collection, lower lets ansible-galaxy keep a collection that lacks what a role
calls. A plugin the installed collection does not have (an older collection, as the `ansible`
package of the oldest ansible-core claimed ships) must be newer than it: galaxy.yml must then ask
for more than what is installed.
"""

import json
import pathlib
import re
import subprocess
import sys

import pytest
import yaml
from ansible.module_utils.compat.version import LooseVersion

ROOT = pathlib.Path(__file__).resolve().parents[2]
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))
DEPENDENCIES = GALAXY["dependencies"]
ANSIBLE_DOC = str(pathlib.Path(sys.executable).with_name("ansible-doc"))
PLUGIN_TYPES = ("filter", "test", "lookup")


def _yaml_files():
    for pattern in ("roles/*/tasks/*.yml", "roles/*/handlers/*.yml", "playbooks/**/*.yml"):
        yield from sorted(ROOT.glob(pattern))


def _text_files():
    for path in sorted(list((ROOT / "roles").rglob("*")) + list((ROOT / "playbooks").rglob("*"))):
        if path.is_file() and path.suffix in (".yml", ".yaml", ".j2"):
            yield path


def _tasks(items):
    """Every task of a task list or play list, with the blocks' and plays' own."""
    for item in items or []:
        if not isinstance(item, dict):
            continue
        yield item
        for key in ("block", "rescue", "always", "tasks", "pre_tasks", "post_tasks", "handlers"):
            yield from _tasks(item.get(key))


def _fqcn_pattern():
    names = "|".join(re.escape(name) for name in DEPENDENCIES)
    return re.compile(r"\b(%s)\.([a-z_][a-z0-9_]*)\b" % names)


def _usage():
    """{'modules': {fqcn: {option, ...}}, 'plugins': {fqcn, ...}} the roles and playbooks use."""
    pattern = _fqcn_pattern()
    modules = {}
    for path in _yaml_files():
        for task in _tasks(yaml.safe_load(path.read_text(encoding="utf-8"))):
            for key, args in task.items():
                if isinstance(key, str) and pattern.fullmatch(key):
                    modules.setdefault(key, set()).update(args if isinstance(args, dict) else {})
    plugins = set()
    for path in _text_files():
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            if match.group(0) not in modules:
                plugins.add(match.group(0))
    return modules, plugins


def _docs(plugin_type, names):
    if not names:
        return {}
    proc = subprocess.run([ANSIBLE_DOC, "--json", "-t", plugin_type] + sorted(names), capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return {name: entry["doc"] for name, entry in json.loads(proc.stdout).items() if entry.get("doc")}


def _collection_of(fqcn):
    return fqcn.rsplit(".", 1)[0]


def _installed_version(doc):
    """The version of the collection a plugin's documentation came from (its MANIFEST.json)."""
    path = pathlib.Path(doc["filename"])
    while path != path.parent:
        manifest = path / "MANIFEST.json"
        if manifest.exists():
            return json.loads(manifest.read_text(encoding="utf-8"))["collection_info"]["version"]
        path = path.parent
    raise AssertionError("no MANIFEST.json above %s" % doc["filename"])


def _added(entry, collection):
    """The version of `collection` an entry (plugin or option) appeared in; None: with its first."""
    if entry.get("version_added") and entry.get("version_added_collection", collection) == collection:
        return str(entry["version_added"])
    return None


def _option(doc, name):
    for option_name, option in (doc.get("options") or {}).items():
        if name == option_name or name in (option.get("aliases") or []):
            return option
    return None


@pytest.fixture(scope="module")
def requirements():
    """collection -> {'needs': [(version, why)], 'missing': [fqcn], 'installed': version}."""
    modules, plugins = _usage()
    result = {name: {"needs": [], "missing": [], "installed": None} for name in DEPENDENCIES}
    module_docs = _docs("module", modules)
    for fqcn, options in sorted(modules.items()):
        collection = result[_collection_of(fqcn)]
        doc = module_docs.get(fqcn)
        if doc is None:
            collection["missing"].append(fqcn)
            continue
        collection["installed"] = _installed_version(doc)
        collection["needs"].append((_added(doc, _collection_of(fqcn)), fqcn))
        for name in sorted(options):
            option = _option(doc, name)
            assert option is not None, "%s has no option %s (installed %s)" % (fqcn, name, collection["installed"])
            collection["needs"].append((_added(option, _collection_of(fqcn)), "%s's option %s" % (fqcn, name)))
    remaining = set(plugins)
    for plugin_type in PLUGIN_TYPES:
        for fqcn, doc in _docs(plugin_type, remaining).items():
            remaining.discard(fqcn)
            collection = result[_collection_of(fqcn)]
            collection["installed"] = _installed_version(doc)
            collection["needs"].append((_added(doc, _collection_of(fqcn)), "%s (%s)" % (fqcn, plugin_type)))
    # A name matching no plugin of any kind: a module named in a comment that is used elsewhere is
    # counted as a module above; anything else is a plugin the installed collection lacks.
    for fqcn in sorted(remaining):
        result[_collection_of(fqcn)]["missing"].append(fqcn)
    return result


def _greatest(needs):
    versions = [LooseVersion(version) for version, _why in needs if version]
    return max(versions) if versions else None


def test_the_roles_use_every_declared_dependency(requirements):
    for name, found in requirements.items():
        assert found["needs"] or found["missing"], "galaxy.yml depends on %s, which nothing uses" % name


@pytest.mark.parametrize("name", sorted(DEPENDENCIES))
def test_declared_minimum_is_what_the_roles_need(name, requirements):
    found = requirements[name]
    declared = re.fullmatch(r">=\s*([0-9.]+)", str(DEPENDENCIES[name]).strip())
    assert declared, "galaxy.yml's %s: %r is not a plain minimum (>=X.Y.Z)" % (name, DEPENDENCIES[name])
    declared = LooseVersion(declared.group(1))
    greatest = _greatest(found["needs"])
    why = sorted((version, reason) for version, reason in found["needs"]
                 if version and LooseVersion(version) == greatest)
    if found["missing"]:
        # The installed collection is older than what a role calls: galaxy.yml must ask for more.
        assert found["installed"] is None or declared > LooseVersion(found["installed"]), (
            "%s %s is installed and lacks %s, yet galaxy.yml accepts it (%s)"
            % (name, found["installed"], found["missing"], DEPENDENCIES[name]))
        assert greatest is None or declared >= greatest, (name, declared, why)
    else:
        assert greatest is not None, "no version_added found for what %s provides" % name
        assert declared == greatest, (
            "galaxy.yml asks for %s %s; what the roles use needs %s: %s" % (name, DEPENDENCIES[name], greatest, why))
