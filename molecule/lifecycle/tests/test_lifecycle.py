"""Checks of the `lifecycle` scenario: an upgraded deployment, backed up, destroyed, deployed
fresh and restored, compared listing by listing (see molecule.yml for the steps).

The listings are written by the scenario's playbooks from the running hub (koji_listing.py);
nothing here is taken from the roles' own variables except the test secrets and names.
"""

import json
import os
import pathlib
import subprocess

import pytest
import testinfra

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
EPHEMERAL = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
SCENARIO_DIR = pathlib.Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
PROJECT = SCENARIO_DIR.parents[1]
STATE = EPHEMERAL / "lifecycle"
BACKUP = STATE / "backups" / "lifecycle"
HUB_NAME = "hub.kojilife.test"
# The test secret of inventory/group_vars/all.yml.
PASSPHRASE = "molecule-lifecycle-ca-passphrase"
OLD_VERSION = "1.34.3"


def _listing(name):
    path = STATE / ("%s.json" % name)
    assert path.is_file(), "%s was not written by the scenario" % path
    return json.loads(path.read_text(encoding="utf-8"))


def _objects(listing):
    """Everything but what is expected to differ between releases and environments."""
    return {key: value for key, value in listing.items() if key not in ("koji_version", "last_event")}


@pytest.fixture(scope="module")
def hub():
    # podman exec directly: testinfra's ansible backend knows no podman_pipelined.
    return testinfra.get_host("podman://%s" % HUB_NAME)


@pytest.fixture(scope="module")
def before():
    return _listing("before-upgrade")


@pytest.fixture(scope="module")
def upgraded():
    return _listing("after-upgrade")


@pytest.fixture(scope="module")
def restored():
    return _listing("after-restore")


@pytest.fixture(scope="module")
def manifest():
    return json.loads((BACKUP / "manifest.json").read_text(encoding="utf-8"))


def _upgraded_from_old(before):
    """The scenario exists to upgrade: a run that deployed the new release from the start fails."""
    assert before["koji_version"] == OLD_VERSION, \
        "the deployment started at Koji %s, not %s: nothing was upgraded" % (before["koji_version"], OLD_VERSION)
    assert _listing("after-upgrade")["koji_version"] != OLD_VERSION, "the deployment is still at %s" % OLD_VERSION


def test_the_seed_is_there(before):
    tags = before["tags"]
    assert {"lifecycle-base", "lifecycle-dest", "lifecycle-build"} <= set(tags)
    assert [link["parent"] for link in tags["lifecycle-build"]["inheritance"]] == ["lifecycle-dest", "lifecycle-base"]
    assert tags["lifecycle-build"]["external_repos"][0]["name"] == "lifecycle-os"
    assert tags["lifecycle-build"]["external_repos"][0]["merge_mode"] == "bare"
    assert tags["lifecycle-build"]["extra"] == {"mock.package_manager": "dnf"}
    assert set(before["external_repos"]) == {"lifecycle-extra", "lifecycle-os"}
    assert before["targets"] == {"lifecycle-target": ["lifecycle-build", "lifecycle-dest"]}
    assert "lifecycle-heavy" in before["channels"]
    assert before["hosts"]["lifecycle-builder.example.test"]["channels"] == ["default", "lifecycle-heavy"]
    assert before["hosts"]["lifecycle-builder.example.test"]["capacity"] == 4.0
    assert set(tags["lifecycle-dest"]["tagged"]) == {"lifecycle-hello-1.0-1", "lifecycle-hello-1.1-1"}
    for nvr in ("lifecycle-hello-1.0-1", "lifecycle-hello-1.1-1"):
        rpms = before["builds"][nvr]["rpms"]
        assert set(rpms) == {nvr + ".src", nvr + ".noarch"}, rpms
        assert all(rpm["payloadhash"] for rpm in rpms.values())
    rpm_files = [path for path in before["files"] if path.endswith(".rpm")]
    assert len(rpm_files) == 4, before["files"]


REPO_STAGES = ("before-upgrade", "after-upgrade", "after-restore")


def _repo(stage):
    path = STATE / ("repo-%s.json" % stage)
    assert path.is_file(), "%s was not written by the scenario" % path
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_builder_is_registered_in_the_createrepo_channel(before, restored):
    for listing in (before, restored):
        host = listing["hosts"][HUB_NAME]
        assert "createrepo" in host["channels"], host
        assert host["enabled"], host


@pytest.mark.parametrize("stage", REPO_STAGES)
def test_the_builder_produced_a_repo_holding_the_latest_build(stage):
    repo = _repo(stage)
    assert repo["task_method"] == "newRepo"
    assert repo["task_state"] == 2, repo  # CLOSED
    assert repo["hosts"] == [HUB_NAME], repo
    assert repo["repomd"], repo
    # The latest of the two tagged builds, with the RPM file the import stored.
    assert "lifecycle-hello-1.1-1.noarch.rpm" in repo["pkglist"], repo
    assert "lifecycle-hello-1.0-1.noarch.rpm" not in repo["pkglist"], repo


def test_each_repo_is_new_and_the_restored_hub_continues_the_backup(upgraded):
    ids = [_repo(stage)["repo_id"] for stage in REPO_STAGES]
    assert ids == sorted(set(ids)), ids
    # The restored database continues the backed-up one's sequences (a fresh one would start at 1).
    assert ids[2] > ids[1] > 1, ids


def test_upgrade_went_from_the_old_to_the_new_release(before, upgraded):
    _upgraded_from_old(before)
    assert before["koji_version"] == OLD_VERSION
    assert upgraded["koji_version"] != OLD_VERSION


def test_upgrade_lost_nothing(before, upgraded):
    assert _objects(upgraded) == _objects(before)


def test_upgrade_dumped_the_old_schema_first(before):
    _upgraded_from_old(before)
    text = (STATE / "upgrade-dumps.txt").read_text(encoding="utf-8")
    assert "== koji-%s-before-" % OLD_VERSION in text, text
    # 1.35 added repo_queue: the dump was taken before the schema upgrade.
    assert " TABLE public build " in text and " repo_queue " not in text, text


def test_restore_lost_nothing(upgraded, restored):
    assert _objects(restored) == _objects(upgraded)
    assert restored["koji_version"] == upgraded["koji_version"]
    assert restored["last_event"] == upgraded["last_event"]


def test_the_fresh_environment_was_empty_and_had_its_own_ca(upgraded):
    fresh = _listing("fresh")
    assert fresh["builds"] == {} and fresh["tags"] == {} and fresh["files"] == {}
    assert fresh["ca"]["key_sha256"] != upgraded["ca"]["key_sha256"]


def test_restore_brought_the_ca_back(upgraded, restored):
    assert restored["ca"] == upgraded["ca"]


def test_manifest_counts_match_the_backed_up_hub(manifest, upgraded):
    counts = manifest["counts"]
    assert counts["tags"] == len(upgraded["tags"])
    assert counts["builds"] == len(upgraded["builds"])
    assert counts["rpms"] == sum(len(b["rpms"]) for b in upgraded["builds"].values())
    assert counts["hosts"] == len(upgraded["hosts"])
    assert counts["channels"] == len(upgraded["channels"])
    assert counts["external_repos"] == len(upgraded["external_repos"])
    assert counts["targets"] == len(upgraded["targets"])
    assert manifest["koji_version"] == upgraded["koji_version"]
    assert manifest["schema_version"] == upgraded["koji_version"]
    assert manifest["last_event"] == upgraded["last_event"]
    assert manifest["files"]["count"] == len(upgraded["files"])


def test_backup_parts_match_their_checksums_and_the_ca_is_encrypted(manifest):
    import hashlib
    for name, info in manifest["artifacts"].items():
        data = (BACKUP / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == info["sha256"], name
    encrypted = (BACKUP / "ca.tar.enc").read_bytes()
    assert encrypted.startswith(b"Salted__")
    assert b"PRIVATE KEY" not in encrypted and b"koji-ca.key" not in encrypted


@pytest.mark.parametrize("window,openssl", [("backup", "openssl enc -aes-256-cbc"), ("restore", "openssl enc -d")])
def test_the_ca_passphrase_never_showed_in_the_process_list(window, openssl):
    """The side effect sampled `ps -eo args` on the CA host every 50 ms during the backup and
    the restore (files/lifecycle-ps-sampler.yml)."""
    text = (STATE / ("ps-%s.txt" % window)).read_text(encoding="utf-8")
    # The sampler saw the CA being encrypted (decrypted): the check below is not vacuous.
    assert openssl in text, "the sampler never saw %r during the %s: inconclusive" % (openssl, window)
    leaks = [line for line in text.splitlines() if PASSPHRASE in line]
    assert leaks == [], "the passphrase showed in the process list during the %s" % window


def test_site_yml_removed_the_lockout_an_interrupted_backup_left(hub):
    """The side effect left a lock-out dated two days back (as a backup interrupted by Ctrl-C or a
    lost controller leaves it) before deploying the fresh environment with site.yml."""
    after_site = json.loads((STATE / "lockout-after-site.json").read_text(encoding="utf-8"))
    assert after_site["lockout_present"] is False, after_site
    # The hub answered a call without a certificate right after site.yml (not "server offline").
    assert after_site["anonymous_rc"] == 0, after_site
    assert not hub.file("/etc/koji-hub/hub.conf.d/kojiforge-backup-lockout.conf").exists


def test_restored_hub_answers_the_admin(hub):
    result = hub.run("koji moshimoshi")
    assert result.rc == 0, result.stderr
    assert "kojiadmin" in result.stdout


def test_the_restored_database_records_its_schema_version(hub, upgraded):
    result = hub.run("runuser -u postgres -- psql -X -At -d koji -c 'SELECT version FROM kojiforge_schema_version'")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == upgraded["koji_version"]


def _playbook(playbook, *extra):
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": str(EPHEMERAL / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(PROJECT / "build" / "collections"),
        "ANSIBLE_ROLES_PATH": str(PROJECT / "roles"),
        "ANSIBLE_FORCE_COLOR": "false",
    })
    argv = ["ansible-playbook", "-i", str(pathlib.Path(INVENTORY).parent), str(playbook)]
    for item in extra:
        argv += ["-e", item]
    proc = subprocess.run(argv, cwd=str(SCENARIO_DIR), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    return proc.returncode, proc.stdout


def test_restore_refuses_a_wrong_passphrase(hub, restored):
    rc, out = _playbook(PROJECT / "playbooks" / "restore.yml",
                        "koji_backup_passphrase=not-the-right-passphrase", "koji_backup_restore_force=true")
    assert rc != 0, out[-3000:]
    assert "cannot be decrypted" in out, out[-3000:]
    # Nothing was changed: the hub still serves the restored data.
    assert hub.run("koji list-tagged lifecycle-dest").stdout.count("lifecycle-hello") == 2


def test_restore_refuses_an_environment_that_is_not_fresh(hub):
    rc, out = _playbook(PROJECT / "playbooks" / "restore.yml")
    assert rc != 0, out[-3000:]
    assert "not fresh" in out, out[-3000:]
    assert hub.run("koji list-tagged lifecycle-dest").stdout.count("lifecycle-hello") == 2
    assert (BACKUP / "manifest.json").is_file() and (BACKUP / "database.dump").is_file()


def test_the_restored_environment_converges_without_change():
    rc, out = _playbook(SCENARIO_DIR / "converge.yml")
    assert rc == 0, out[-3000:]
    recap = out[out.rindex("PLAY RECAP"):]
    assert "changed=0" in recap and "failed=0" in recap, recap
