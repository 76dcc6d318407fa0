"""What crosses the boundary between the roles is a documented input or output.

- No role reads another role's private variables: outside roles/_common nothing names a
  `__common_*` variable (STYLE.md 4).
- Every tasks file of the internal _common role that another role (or a playbook, or a scenario)
  calls with include_role/import_role `tasks_from` is an entry point of its
  meta/argument_specs.yml; the `_common_*` variables a caller passes are options of that entry
  point, the required ones are all passed, and every `_common_*` output read outside _common is
  named in the description of an entry point.

Each check is a function over a tree, run on this tree and, to show that it can fail, on a
small tree that breaks it.
"""

import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
COMMON = "_common"
COMMON_NAMES = {"kojiforge.koji._common", "_common"}
ROLE_INCLUDES = {"include_role", "import_role", "ansible.builtin.include_role", "ansible.builtin.import_role"}
TEXT_SUFFIXES = {".yml", ".yaml", ".j2", ".py", ".cfg", ".conf", ".sh", ".md"}
ANSIBLE_SUFFIXES = {".yml", ".yaml", ".j2"}
PRIVATE = re.compile(r"(?<![A-Za-z0-9_])__common_[A-Za-z0-9_]+")
# One leading underscore: an input or an output of _common's entry points.
PUBLIC = re.compile(r"(?<![A-Za-z0-9_])_common_[A-Za-z0-9_]+")


def _files(top, outside=COMMON):
    """The text files of the roles in TOP other than OUTSIDE, and of playbooks/ and molecule/."""
    roots = [p for p in sorted((top / "roles").iterdir()) if p.is_dir() and p.name != outside]
    roots += [top / "playbooks", top / "molecule"]
    for root in roots:
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if path.is_file() and path.suffix in TEXT_SUFFIXES:
                    yield path


def private_reads(top):
    """(file, variable) for each `__common_*` named outside roles/_common."""
    found = []
    for path in _files(top):
        for name in sorted(set(PRIVATE.findall(path.read_text(encoding="utf-8", errors="replace")))):
            found.append(("%s" % path.relative_to(top), name))
    return found


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def common_calls(top):
    """(file, entry point, the _common_* variables passed) for each include_role/import_role of
    _common with tasks_from outside roles/_common."""
    calls = []
    for path in _files(top):
        if path.suffix not in (".yml", ".yaml"):
            continue
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError:
            continue  # not a task file (e.g. a Jinja-templated YAML)
        for task in _walk(data):
            for key in ROLE_INCLUDES & set(task):
                args = task[key]
                if isinstance(args, dict) and args.get("name") in COMMON_NAMES and args.get("tasks_from"):
                    entry = re.sub(r"\.ya?ml$", "", args["tasks_from"])
                    passed = sorted(name for name in (task.get("vars") or {}) if name.startswith("_common_"))
                    calls.append(("%s" % path.relative_to(top), entry, passed))
    return calls


def _specs(top):
    path = top / "roles" / COMMON / "meta" / "argument_specs.yml"
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("argument_specs") or {}


def undocumented_calls(top):
    """What the callers of _common do that its argument_specs.yml does not specify."""
    specs = _specs(top)
    problems = []
    for path, entry, passed in common_calls(top):
        if entry not in specs:
            problems.append("%s calls _common's %s, which has no entry in argument_specs.yml" % (path, entry))
            continue
        options = specs[entry].get("options") or {}
        for name in passed:
            if name not in options:
                problems.append("%s passes %s, not an option of _common's %s" % (path, name, entry))
        for name, option in sorted(options.items()):
            if option.get("required") and name not in passed:
                problems.append("%s does not pass %s, required by _common's %s" % (path, name, entry))
    return problems


def undocumented_outputs(top):
    """`_common_*` names read outside _common that no entry point specifies as an option or
    names in its description (its outputs)."""
    specs = _specs(top)
    documented = set()
    for spec in specs.values():
        documented |= set(spec.get("options") or {})
        description = spec.get("description") or []
        text = " ".join(description if isinstance(description, list) else [description])
        documented |= set(PUBLIC.findall(text))
    # A _common tasks file other roles include by path (set_vars.yml: include_tasks keeps the
    # caller's role_path) has no spec; its header comment documents its inputs.
    for shared in sorted((top / "roles" / COMMON / "tasks").glob("*.yml")):
        if any(("_common/tasks/%s" % shared.name) in path.read_text(encoding="utf-8", errors="replace")
               for path in _files(top) if path.suffix in ANSIBLE_SUFFIXES):
            header = [line for line in shared.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
            documented |= set(PUBLIC.findall(" ".join(header)))
    problems = []
    for path in _files(top):
        if path.suffix not in ANSIBLE_SUFFIXES:
            continue  # Python's own names (koji_ca's `def _common_name`) are not Ansible variables
        for name in sorted(set(PUBLIC.findall(path.read_text(encoding="utf-8", errors="replace"))) - documented):
            problems.append("%s reads %s, which no entry point of _common documents" % (path.relative_to(top), name))
    return problems


def test_no_role_reads_private_common_variables():
    assert private_reads(ROOT) == [], "read _common's outputs (_common_*) instead"


def test_every_common_entry_point_called_elsewhere_is_specified():
    calls = common_calls(ROOT)
    # The calls this tree is known to make, so the scan cannot silently find none.
    assert {"koji_install", "koji_source_stage", "apache", "removed_variables"} <= {c[1] for c in calls}, calls
    assert undocumented_calls(ROOT) == []


def test_every_common_output_read_elsewhere_is_documented():
    assert undocumented_outputs(ROOT) == []


def test_common_entry_points_name_existing_task_files():
    for entry in _specs(ROOT):
        assert (ROOT / "roles" / COMMON / "tasks" / ("%s.yml" % entry)).is_file(), entry


def _tree(tmp_path, caller_tasks, template="", specs=None):
    """A minimal tree: roles/_common with SPECS, and roles/other calling it with CALLER_TASKS."""
    (tmp_path / "roles" / COMMON / "meta").mkdir(parents=True)
    (tmp_path / "roles" / COMMON / "meta" / "argument_specs.yml").write_text(yaml.safe_dump({"argument_specs": specs or {
        "apache": {"description": ["Outputs: C(_common_apache_user)."],
                   "options": {"_common_apache_tls_cert": {"type": "str", "required": True}}},
    }}))
    (tmp_path / "roles" / "other" / "tasks").mkdir(parents=True)
    (tmp_path / "roles" / "other" / "templates").mkdir(parents=True)
    (tmp_path / "roles" / "other" / "tasks" / "main.yml").write_text(yaml.safe_dump(caller_tasks))
    (tmp_path / "roles" / "other" / "templates" / "x.conf.j2").write_text(template)
    return tmp_path


def _call(tasks_from, **variables):
    return {"name": "Call", "ansible.builtin.include_role": {"name": "kojiforge.koji._common", "tasks_from": tasks_from},
            "vars": variables}


def test_checks_fail_on_a_tree_that_breaks_them(tmp_path):
    good = [{"block": [_call("apache.yml", _common_apache_tls_cert="/x.crt")]}]
    tree = _tree(tmp_path / "good", good, template="User={{ _common_apache_user }}\n")
    assert private_reads(tree) == [] and undocumented_calls(tree) == [] and undocumented_outputs(tree) == []

    tree = _tree(tmp_path / "private", good, template="User={{ __common_apache_user }}\n")
    assert private_reads(tree) == [("roles/other/templates/x.conf.j2", "__common_apache_user")]

    tree = _tree(tmp_path / "unspecified", good + [_call("koji_install.yml")])
    assert undocumented_calls(tree) == [
        "roles/other/tasks/main.yml calls _common's koji_install, which has no entry in argument_specs.yml"]

    tree = _tree(tmp_path / "inputs", [_call("apache.yml", _common_apache_tls_kye="/x.key")])
    assert undocumented_calls(tree) == [
        "roles/other/tasks/main.yml passes _common_apache_tls_kye, not an option of _common's apache",
        "roles/other/tasks/main.yml does not pass _common_apache_tls_cert, required by _common's apache"]

    tree = _tree(tmp_path / "outputs", good, template="Group={{ _common_apache_group }}\n")
    assert undocumented_outputs(tree) == [
        "roles/other/templates/x.conf.j2 reads _common_apache_group, which no entry point of _common documents"]
