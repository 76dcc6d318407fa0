"""koji_backup never puts the backup passphrase where others can read it.

A task's `environment:` is prefixed to the remote command line (`/bin/sh -c 'VAR=value python3
...'`): it shows in the CA host's process list and in ansible-playbook -vvv output. So does
anything in a command's `argv`, `cmd` or free-form arguments. The passphrase is given on
standard input (`stdin:`), read by openssl with `-pass stdin` or `-pass fd:N`, and every task
that names it has `no_log: true`. The role's encrypting and decrypting tasks also run for real
here (connection local, -vvv): the CA comes back and the passphrase is not in the output.
"""

import os
import pathlib
import subprocess
import sys

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


def _task(file_name, task_name):
    with open(ROOT / "roles" / "koji_backup" / "tasks" / file_name, encoding="utf-8") as handle:
        task = next(t for t in _tasks(yaml.safe_load(handle)) if t.get("name") == task_name)
    # Run here, on this machine: no CA host to delegate to.
    return {key: value for key, value in task.items() if key not in ("delegate_to", "when")}


def test_the_role_s_own_tasks_encrypt_and_decrypt_without_showing_the_passphrase(tmp_path):
    """The encrypting and decrypting tasks of the role, run for real (connection local) with -vvv:
    the CA comes back intact and the passphrase shows nowhere in Ansible's output."""
    passphrase = "unit-test-ca-passphrase-%d" % os.getpid()
    ca_dir = tmp_path / "pki" / "ca"
    ca_dir.mkdir(parents=True)
    (ca_dir / "koji-ca.key").write_text("-----BEGIN PRIVATE KEY-----\nnot a real key\n")
    (tmp_path / "backup").mkdir()
    (tmp_path / "vars.yml").write_text(yaml.safe_dump({
        "koji_backup_passphrase": passphrase, "koji_backup_ca_dir": str(ca_dir),
        "__koji_backup_path": str(tmp_path / "backup")}))
    (tmp_path / "playbook.yml").write_text(yaml.safe_dump([{
        "name": "The role's passphrase tasks",
        "hosts": "localhost",
        "gather_facts": False,
        "vars_files": [str(tmp_path / "vars.yml")],
        "tasks": [
            _task("backup.yml", "Backup | Encrypt the CA on the CA host"),
            _task("restore.yml", "Restore | Decrypt the CA to nowhere (checks the passphrase)"),
            {"name": "Show the check's result", "ansible.builtin.assert": {"that": "__koji_backup_ca_check.rc == 0"}},
            _task("restore.yml", "Restore | Put the backup's CA in place on the CA host"),
        ],
    }]))
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="false", ANSIBLE_NOCOLOR="1", ANSIBLE_PIPELINING="false",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_REMOTE_TEMP=str(tmp_path / "remote-tmp"))
    proc = subprocess.run([str(pathlib.Path(sys.executable).with_name("ansible-playbook")), "-vvv",
                           "-i", "localhost,", "-c", "local", "-e", "ansible_python_interpreter=%s" % sys.executable,
                           str(tmp_path / "playbook.yml")], cwd=str(tmp_path), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:]
    assert "EXEC" in out  # -vvv shows the command lines
    assert passphrase not in out
    encrypted = (tmp_path / "backup" / "ca.tar.enc").read_bytes()
    assert encrypted.startswith(b"Salted__") and b"PRIVATE KEY" not in encrypted
    # Put back in place from the archive; the original was kept aside.
    assert (ca_dir / "koji-ca.key").read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert len(list((tmp_path / "pki").glob("ca.before-restore-*"))) == 1
    # And openssl reads it with the passphrase alone (as backups made before this change).
    decrypted = subprocess.run(["openssl", "enc", "-d", "-aes-256-cbc", "-pbkdf2", "-iter", "600000", "-pass",
                                "pass:" + passphrase, "-in", str(tmp_path / "backup" / "ca.tar.enc")],
                               stdout=subprocess.PIPE, check=True).stdout
    assert b"koji-ca.key" in decrypted
