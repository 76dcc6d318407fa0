"""koji_backup never puts the backup passphrase where others can read it.

A task's `environment:` is prefixed to the remote command line (`/bin/sh -c 'VAR=value python3
...'`): it shows in the CA host's process list and in ansible-playbook -vvv output. So does
anything in a command's `argv`, `cmd` or free-form arguments. The passphrase is given on
standard input (`stdin:`), read by openssl with `-pass stdin` or `-pass fd:N`, and every task
that names it has `no_log: true`.
"""

import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
TASKS = sorted((ROOT / "roles" / "koji_backup" / "tasks").glob("*.yml"))
SECRET = "koji_backup_passphrase"
# Task keys that are not the module and its arguments.
COMMAND_MODULES = {"ansible.builtin.command", "ansible.builtin.shell", "ansible.builtin.raw",
                   "ansible.builtin.script", "command", "shell", "raw", "script"}


def _tasks(items):
    for task in items or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from _tasks(task.get(key))


def _all_tasks():
    for path in TASKS:
        with open(path, encoding="utf-8") as handle:
            for task in _tasks(yaml.safe_load(handle)):
                yield path.name, task


def _names_secret(value):
    return SECRET in yaml.safe_dump(value)


def _uses_secret(task):
    """The task reads the passphrase's value (messages that only name the variable do not)."""
    return _names_secret({key: value for key, value in task.items() if key not in ("name", "block", "rescue", "always")}
                         | {module: {arg: value for arg, value in args.items() if arg not in ("fail_msg", "success_msg", "msg")}
                            for module, args in task.items() if isinstance(args, dict) and module.endswith("assert")})


def test_the_role_has_tasks_that_use_the_passphrase():
    # Guards the other tests against passing on nothing (a renamed variable, a moved file).
    assert len([task for _name, task in _all_tasks() if _uses_secret(task)]) >= 4


@pytest.mark.parametrize("name,task", [(n, t) for n, t in _all_tasks() if _uses_secret(t)],
                         ids=lambda value: value.get("name", "") if isinstance(value, dict) else value)
def test_a_task_naming_the_passphrase_has_no_log(name, task):
    assert task.get("no_log") is True, "%s: %r names %s without no_log: true" % (name, task.get("name"), SECRET)


@pytest.mark.parametrize("name,task", list(_all_tasks()),
                         ids=lambda value: value.get("name", "") if isinstance(value, dict) else value)
def test_the_passphrase_is_never_in_the_environment_or_on_a_command_line(name, task):
    assert not _names_secret(task.get("environment", {})), \
        "%s: %r passes %s through environment:" % (name, task.get("name"), SECRET)
    for module in COMMAND_MODULES & set(task):
        args = task[module]
        on_command_line = (args if isinstance(args, str)
                           else {key: value for key, value in (args or {}).items() if key != "stdin"})
        assert not _names_secret(on_command_line), \
            "%s: %r puts %s in the command's arguments" % (name, task.get("name"), SECRET)
        text = yaml.safe_dump(args)
        for way in ("-pass env:", "-pass pass:", "-k "):
            assert way not in text, "%s: %r gives openssl its passphrase with %r" % (name, task.get("name"), way)


def test_openssl_reads_the_passphrase_from_standard_input():
    openssl_tasks = [task for _name, task in _all_tasks() if "block" not in task and "openssl" in yaml.safe_dump(task)]
    assert len(openssl_tasks) == 3, [task.get("name") for task in openssl_tasks]
    for task in openssl_tasks:
        module = (COMMAND_MODULES & set(task)).pop()
        text = yaml.safe_dump(task[module])
        assert "-pass stdin" in text or "-pass fd:" in text, task.get("name")
        assert task[module].get("stdin") == "{{ koji_backup_passphrase }}", task.get("name")
