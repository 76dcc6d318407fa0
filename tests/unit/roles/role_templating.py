"""Shared by the role tests that render the roles' own variables and templates with Ansible's
templating, as the role loader would (no host needed)."""

import yaml

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core < 2.19 has no data tagging: every template is trusted
    def trust_as_template(value):
        return value


def trusted(value):
    """Values read from YAML are untrusted in ansible-core 2.19: trust them as the role loader does."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {k: trusted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [trusted(v) for v in value]
    return value


def load_yaml(path):
    """A role file as YAML (untrusted strings; see trusted())."""
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def walk_tasks(items):
    """Every task of a task list, with those inside block, rescue and always."""
    for task in items or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from walk_tasks(task.get(key))
