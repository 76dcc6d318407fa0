"""Helpers of the tests that drive a Koji deployed on the podman test bed: hosts reached with
`podman exec` (testinfra), the koji CLI and anonymous hub calls on the hub host, Prometheus and
/metrics, playbook runs and their recap, polling with a diagnostic failure.

Used by the CI lane on the local cluster (tests/real/) and by the cluster scenario's tests
(molecule/cluster/tests/), which differ only in host names and inventories.
"""

import json
import os
import pathlib
import re
import subprocess
import time
from urllib.parse import urlencode

import pytest
import testinfra

ROOT = pathlib.Path(__file__).resolve().parents[1]
# How long to wait for a builder to be ready, or for a task that needs one. kojid declares
# itself not ready while the load average exceeds 4 x the CPUs it sees (hard-coded in
# koji/daemon.py), and containers see the whole machine's load: on a small, busy test bed
# that holds builders back for minutes. A failure says what the load was.
READY_TIMEOUT = 900
PROMETHEUS = "http://127.0.0.1:9090"
KOJI_CA = "/etc/pki/koji/koji-ca.crt"


def get_host(name):
    # podman exec directly: testinfra's ansible backend would run every command as an ad-hoc
    # Ansible task, since it cannot map the podman connection itself.
    return testinfra.get_host("podman://%s" % name)


def quote(text):
    return "'" + text.replace("'", "'\\''") + "'"


def koji(host, *args, check=True):
    """The koji CLI on the hub, as the administrator (root's profile from koji_hub)."""
    cmd = host.run("koji " + " ".join(quote(a) for a in args))
    if check:
        assert cmd.rc == 0, "koji %s failed (%d): %s %s" % (" ".join(args), cmd.rc, cmd.stdout, cmd.stderr)
    return cmd


def hub_call(host, method, *args, **kwargs):
    """One anonymous hub call through the koji library on the hub host, as JSON."""
    script = (
        "import json, sys, koji\n"
        "conf = koji.read_config('koji')\n"
        "s = koji.ClientSession(conf['server'], {'serverca': conf['serverca'], 'max_retries': 2})\n"
        "r = getattr(s, sys.argv[1])(*json.loads(sys.argv[2]), **json.loads(sys.argv[3]))\n"
        "print(json.dumps(r, default=str))\n"
    )
    cmd = host.run("python3 -c %s %s %s %s" % (
        quote(script), quote(method), quote(json.dumps(args)), quote(json.dumps(kwargs))))
    assert cmd.rc == 0, "hub call %s failed: %s" % (method, cmd.stderr)
    return json.loads(cmd.stdout)


def hosts_by_name(hub_host):
    return {h["name"]: h for h in hub_call(hub_host, "listHosts")}


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


def wait_ready(hub_host, names, timeout=READY_TIMEOUT):
    """Wait until every builder named is registered, enabled and ready on the hub."""
    def all_ready():
        hosts = hosts_by_name(hub_host)
        wanted = [hosts.get(name) for name in names]
        return hosts if all(h and h["enabled"] and h["ready"] for h in wanted) else None
    return wait_for("%s enabled and ready" % " and ".join(names), all_ready, timeout=timeout)


def run_playbook(playbook, *extra, inventories):
    """ansible-playbook from the controller; returns (rc, output, seconds)."""
    env = dict(os.environ)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(ROOT / "build" / "collections")
    env["ANSIBLE_ROLES_PATH"] = str(ROOT / "roles")
    env["ANSIBLE_CONNECTION_PLUGINS"] = str(ROOT / "testbed" / "connection_plugins")
    env["ANSIBLE_FORCE_COLOR"] = "false"
    cmd = ["ansible-playbook"]
    for inventory in inventories:
        cmd += ["-i", str(inventory)]
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
        if in_recap and ":" in line and "=" in line:
            name, counts = line.split(":", 1)
            result[name.strip()] = {k: int(v) for k, v in (p.split("=") for p in counts.split())}
        elif in_recap and not line.strip():
            in_recap = False
    return result


def changed_tasks(output):
    """The tasks an ansible-playbook output reports changed: ['host: TASK name', ...]."""
    found, task = [], None
    for line in output.splitlines():
        if line.startswith(("TASK [", "RUNNING HANDLER [")):
            task = line.split("[", 1)[1].rsplit("]", 1)[0]
        elif line.startswith("changed: [") and task:
            found.append("%s: %s" % (line.split("[", 1)[1].split("]", 1)[0], task))
    return found


def http_get(host, url, cafile=None):
    """GET url from the host with its python3 (curl is not on every host): the body, or a
    failed assertion with the error."""
    script = (
        "import ssl, sys, urllib.request\n"
        "context = ssl.create_default_context(cafile=sys.argv[2]) if sys.argv[2] else None\n"
        "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=30, context=context).read().decode())\n"
    )
    cmd = host.run("python3 -c %s %s %s" % (quote(script), quote(url), quote(cafile or "")))
    assert cmd.rc == 0, "GET %s on %s: %s" % (url, host.backend.get_pretty_hostname(), cmd.stderr)
    return cmd.stdout


def prometheus(hub_host, path, **params):
    """GET on Prometheus' HTTP API on the hub host; the decoded 'data' of a successful answer."""
    url = PROMETHEUS + path + ("?" + urlencode(params) if params else "")
    answer = json.loads(http_get(hub_host, url))
    assert answer["status"] == "success", answer
    return answer["data"]


def ready_by_host(hub_host):
    """koji_hosts_ready as Prometheus last scraped it: host => value."""
    result = prometheus(hub_host, "/api/v1/query", query="koji_hosts_ready")["result"]
    return {sample["metric"]["host"]: float(sample["value"][1]) for sample in result}


def metrics_page(web_host, web_name):
    """/metrics of a koji-web host, over its TLS site, verified against the Koji CA."""
    return http_get(web_host, "https://%s/metrics" % web_name, cafile=KOJI_CA)


def regen_repo(hub_host, tag):
    """koji regen-repo --wait on the tag: the id of the new repo."""
    out = koji(hub_host, "regen-repo", "--wait", "--timeout=15", tag).stdout
    return int(re.search(r"Got repo (\d+)", out).group(1))


class Timings(object):
    """Stage timings, appended to a file and printed (the CI log shows each stage's time)."""

    def __init__(self, path):
        self.path = pathlib.Path(path)

    def record(self, label, seconds):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as out:
            out.write("%s %s: %.0f s\n" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), label, seconds))
        print("%s: %.0f s" % (label, seconds))
