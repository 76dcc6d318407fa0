"""Shared by the role tests that render the roles' own variables and templates with Ansible's
templating, as the role loader would (no host needed)."""

import os
import pathlib
import subprocess
import sys

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


# The template module's Jinja settings.
TEMPLATE_OVERRIDES = {"trim_blocks": True, "lstrip_blocks": False, "keep_trailing_newline": True}

COLLECTIONS = pathlib.Path(__file__).resolve().parents[3] / "build" / "collections"


def run_playbook(tmp_path, inventory, playbook, extra_env=None, extra_args=()):
    """ansible-playbook of this venv on the collection link, its temporary folders in tmp_path
    (extra_args after the playbook, e.g. --check): (return code, output)."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_FORCE_COLOR="false",
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
               ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-remote-tmp"))
    env.update(extra_env or {})
    ansible_playbook = pathlib.Path(sys.executable).with_name("ansible-playbook")
    proc = subprocess.run([str(ansible_playbook), "-i", str(inventory), str(playbook)] + list(extra_args),
                          cwd=str(tmp_path), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    return proc.returncode, proc.stdout


def fake_posix_collection(base, firewalld_module):
    """An ansible.posix collection under base/ansible_collections whose firewalld module is the
    given source (it records what it is asked instead of calling firewalld)."""
    posix = base / "ansible_collections" / "ansible" / "posix"
    (posix / "plugins" / "modules").mkdir(parents=True)
    (posix / "meta").mkdir()
    (posix / "meta" / "runtime.yml").write_text("---\nrequires_ansible: '>=2.9'\n")
    (posix / "plugins" / "modules" / "firewalld.py").write_text(firewalld_module)
    return posix


def include_of(tasks_file, tasks_from):
    """The one include_role task of a task file that runs the given tasks_from."""
    found = [task for task in walk_tasks(load_yaml(tasks_file))
             if (task.get("ansible.builtin.include_role") or {}).get("tasks_from") == tasks_from]
    assert len(found) == 1, found
    return found[0]
