"""Every role's meta/argument_specs.yml documents exactly the keys of its defaults/main.yml.

The house style (STYLE.md, after prometheus.prometheus) keeps the two in step: a default without
a spec is an undocumented variable, a spec without a default is a variable users cannot see.
Required options are the one exception: they have no default by design.
"""

import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if p.is_dir() and not p.name.startswith("_"))
# The one exception to the prefix: the install variables the roles that install Koji share, the
# same in each of them (tests/unit/roles/test_install_variables.py).
SHARED = {"koji_install_method", "koji_source", "koji_source_cache_dir", "koji_version"}
SHARING = {"koji_hub", "koji_web", "koji_db", "kojira", "koji_builder"}


def _load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def _main_options(role):
    spec = _load(role / "meta" / "argument_specs.yml")
    return spec.get("argument_specs", {}).get("main", {}).get("options", {}) or {}


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_role_has_argument_specs(role):
    assert (role / "meta" / "argument_specs.yml").is_file(), "%s has no meta/argument_specs.yml" % role.name


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_defaults_match_argument_specs(role):
    defaults_file = role / "defaults" / "main.yml"
    defaults = set(_load(defaults_file)) if defaults_file.is_file() else set()
    options = _main_options(role)
    optional = {name for name, spec in options.items() if not spec.get("required", False)}
    assert sorted(defaults - set(options)) == [], "defaults without a spec in %s" % role.name
    assert sorted(optional - defaults) == [], "optional specs without a default in %s" % role.name


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_public_variables_are_prefixed_and_described(role):
    prefix = role.name + "_"
    for name, spec in _main_options(role).items():
        shared = role.name in SHARING and name in SHARED
        assert name.startswith(prefix) or shared, "%s: variable %s does not start with %s" % (role.name, name, prefix)
        assert spec.get("description"), "%s: variable %s has no description" % (role.name, name)


def _referenced(value):
    """The internal (__) variables a default's template names."""
    return set(re.findall(r"\b(__[A-Za-z0-9_]+)", yaml.safe_dump(value)))


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_no_default_needs_the_os_variables(role):
    """The role's argument validation runs first, and templates every default (and every spec
    default) then: with defaults/main.yml and vars/main.yml only, before the role's tasks load
    vars/<OS>.yml. A default that names a variable defined only there fails every run (the
    cluster scenario's converge did, for koji_monitoring's Alertmanager package)."""
    defaults_file = role / "defaults" / "main.yml"
    defaults = _load(defaults_file) if defaults_file.is_file() else {}
    main_vars_file = role / "vars" / "main.yml"
    main_vars = _load(main_vars_file) if main_vars_file.is_file() else {}
    os_only = set()
    for path in sorted((role / "vars").glob("*.yml")) if (role / "vars").is_dir() else ():
        if path.name != "main.yml":
            os_only.update(name for name in _load(path) if name not in main_vars and name not in defaults)
    options = _main_options(role)
    problems = []
    for name, value in sorted(defaults.items()):
        seen, todo = set(), _referenced(value)
        while todo:  # through vars/main.yml's own templates
            ref = todo.pop()
            if ref in seen:
                continue
            seen.add(ref)
            if ref in main_vars:
                todo.update(_referenced(main_vars[ref]))
        problems.extend("%s names %s (vars/<OS>.yml only)" % (name, ref) for ref in sorted(seen & os_only))
    for name, spec in sorted(options.items()):
        refs = _referenced(spec.get("default")) & os_only
        problems.extend("the spec's default of %s names %s (vars/<OS>.yml only)" % (name, ref) for ref in sorted(refs))
    assert problems == [], "%s: %s" % (role.name, "; ".join(problems))
