"""Shared helpers of the cluster scenario's tests: hosts, the Koji CLI on the hub, playbook runs."""

import json
import os
import pathlib
import subprocess
import time

import pytest
import testinfra

ROOT = pathlib.Path(__file__).resolve().parents[3]
HUB = "hub.kojicluster.test"
BUILDER1 = "builder1.kojicluster.test"
BUILDER2 = "builder2.kojicluster.test"
BUILDER3 = "builder3.kojicluster.test"
# How long to wait for a builder to be ready, or for a task that needs one. kojid declares
# itself not ready while the load average exceeds 4 x the CPUs it sees (hard-coded in
# koji/daemon.py), and containers see the whole machine's load: on a small, busy test bed
# that holds builders back for minutes. A failure says what the load was.
READY_TIMEOUT = 900
# What the tests leave for the report: the scale-out timing.
TIMINGS = ROOT / "build" / "molecule-logs" / "cluster-timings.txt"


def inventory():
    return os.environ["MOLECULE_INVENTORY_FILE"]


def get_host(name):
    # podman exec directly: testinfra's ansible backend would run every command as an ad-hoc
    # Ansible task, since it cannot map the podman connection itself.
    return testinfra.get_host("podman://%s" % name)


@pytest.fixture(scope="session")
def hub():
    return get_host(HUB)


@pytest.fixture(scope="session")
def builder1():
    return get_host(BUILDER1)


@pytest.fixture(scope="session")
def builder2():
    return get_host(BUILDER2)


@pytest.fixture(scope="session")
def builder3():
    return get_host(BUILDER3)


def koji(host, *args, check=True):
    """The koji CLI on the hub, as the administrator (root's profile from koji_hub)."""
    cmd = host.run("koji " + " ".join("'%s'" % a.replace("'", "'\\''") for a in args))
    if check:
        assert cmd.rc == 0, "koji %s failed (%d): %s %s" % (" ".join(args), cmd.rc, cmd.stdout, cmd.stderr)
    return cmd


def hub_call(host, method, *args, **kwargs):
    """One anonymous hub call through the koji library on the hub, as JSON."""
    script = (
        "import json, sys, koji\n"
        "conf = koji.read_config('koji')\n"
        "s = koji.ClientSession(conf['server'], {'serverca': conf['serverca'], 'max_retries': 2})\n"
        "r = getattr(s, sys.argv[1])(*json.loads(sys.argv[2]), **json.loads(sys.argv[3]))\n"
        "print(json.dumps(r, default=str))\n"
    )
    cmd = host.run("python3 -c %s %s %s %s" % (
        _q(script), _q(method), _q(json.dumps(args)), _q(json.dumps(kwargs))))
    assert cmd.rc == 0, "hub call %s failed: %s" % (method, cmd.stderr)
    return json.loads(cmd.stdout)


def _q(text):
    return "'" + text.replace("'", "'\\''") + "'"


def wait_for(what, probe, timeout=180, interval=3):
    """Poll probe() until it returns something true; fail with the last value after timeout."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(interval)
    pytest.fail("%s: not reached in %d s (last: %r; this machine's load average: %s)"
                % (what, timeout, value, " ".join("%.1f" % x for x in os.getloadavg())))


def run_playbook(playbook, *extra, inventories=()):
    """ansible-playbook from the controller against the scenario's inventory; returns (rc, output, seconds)."""
    env = dict(os.environ)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(ROOT / "build" / "collections")
    env["ANSIBLE_ROLES_PATH"] = str(ROOT / "roles")
    env["ANSIBLE_FORCE_COLOR"] = "false"
    env.setdefault("KOJI_SOURCE", os.environ.get("KOJI_SOURCE", ""))
    cmd = ["ansible-playbook", "-i", os.path.dirname(inventory())]
    for extra_inventory in inventories:
        cmd += ["-i", str(extra_inventory)]
    cmd += [playbook] + list(extra)
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, check=False)
    return proc.returncode, proc.stdout, time.monotonic() - started


def recap(output):
    """PLAY RECAP of an ansible-playbook output: host => {ok, changed, failed, ...}."""
    result = {}
    in_recap = False
    for line in output.splitlines():
        if line.startswith("PLAY RECAP"):
            in_recap = True
            continue
        if in_recap and ":" in line:
            name, counts = line.split(":", 1)
            result[name.strip()] = {k: int(v) for k, v in (p.split("=") for p in counts.split())}
    return result


def record_timing(label, seconds):
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    with open(TIMINGS, "a", encoding="utf-8") as out:
        out.write("%s %s: %.0f s\n" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), label, seconds))
    print("%s: %.0f s" % (label, seconds))
