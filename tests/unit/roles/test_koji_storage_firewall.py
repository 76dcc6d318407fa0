"""koji_storage opens NFS in firewalld on the storage server, so that the createrepo builders
(and kojira's host, further hubs) can mount Koji's top directory.

The role's include of the shared firewall step (roles/_common/tasks/firewall.yml, in
tasks/exports.yml) runs here through test_firewall.py's runner: a `systemctl` that says whether
firewalld runs and a fake firewalld module that records what it is asked to open. The firewalld
service `nfs` (2049/tcp) is all NFSv4 needs; `mountd` and `rpc-bind` only when the clients' mount
options ask for NFSv3.
"""

import pathlib

import pytest
import yaml

from role_templating import include_of
from test_firewall import COLLECTIONS, _opened, _run

ROLE = pathlib.Path(__file__).resolve().parents[3] / "roles" / "koji_storage"

pytestmark = pytest.mark.skipif(not (COLLECTIONS / "ansible_collections" / "kojiforge" / "koji").exists(),
                                reason="run `make collection-link` first")


def _include():
    return include_of(ROLE / "tasks" / "exports.yml", "firewall.yml")


def _play_vars(**overrides):
    """The role's defaults and vars/main.yml, for a server with one read-only client (what the
    role's vars compute from the inventory)."""
    variables = {}
    for path in (ROLE / "defaults" / "main.yml", ROLE / "vars" / "main.yml"):
        variables.update(yaml.safe_load(path.read_text()))
    variables["__koji_storage_exports"] = ["builder1.koji.example.com(ro,sync,root_squash,no_subtree_check)"]
    variables.update(overrides)
    return variables


@pytest.mark.parametrize("overrides,services", [
    ({}, ["nfs"]),
    ({"koji_storage_nfs_mount_options_ro": "ro,hard,nfsvers=3"}, ["nfs", "mountd", "rpc-bind"]),
    ({"koji_storage_nfs_mount_options_rw": "rw,vers=3,hard"}, ["nfs", "mountd", "rpc-bind"]),
    ({"koji_storage_nfs_mount_options_ro": "ro,nfsvers=4.1"}, ["nfs"]),
], ids=["nfsv4", "nfsv3-ro", "nfsv3-rw", "nfsv4.1"])
def test_the_storage_server_opens_nfs(tmp_path, overrides, services):
    proc, calls, opened = _run(tmp_path, [_include()], extra_vars=_play_vars(**overrides))
    assert proc.returncode == 0, proc.stdout
    assert calls == ["is-active firewalld"], proc.stdout
    assert opened == [_opened(service=service) for service in services], proc.stdout


@pytest.mark.parametrize("overrides", [
    {"koji_storage_firewalld_enabled": False},
    {"koji_storage_nfs_enabled": False},
    {"__koji_storage_exports": []},
], ids=["switched-off", "no-nfs", "no-client"])
def test_nothing_is_opened_or_asked_without_nfs_clients_or_with_the_switch_off(tmp_path, overrides):
    proc, calls, opened = _run(tmp_path, [_include()], extra_vars=_play_vars(**overrides))
    assert proc.returncode == 0, proc.stdout
    assert (calls, opened) == ([], []), proc.stdout


def test_nothing_is_opened_when_firewalld_does_not_run(tmp_path):
    proc, calls, opened = _run(tmp_path, [_include()], firewalld_state="inactive", extra_vars=_play_vars())
    assert proc.returncode == 0, proc.stdout
    assert (calls, opened) == (["is-active firewalld"], []), proc.stdout
