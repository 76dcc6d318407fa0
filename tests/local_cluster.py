"""The local Koji cluster of testbed/demo.sh as the tests see it: deployed once per test run
(the ``local_cluster`` fixture of tests/conftest.py), torn down at the end."""

import os
import pathlib
import subprocess
import time

import pytest

from deployed_koji import Timings

ROOT = pathlib.Path(__file__).resolve().parents[1]
LANE_DIR = ROOT / "build" / "real-koji"
TIMINGS = Timings(LANE_DIR / "timings.txt")


class LocalCluster(object):
    """The local cluster of testbed/demo.sh (inventories/local): the hub host runs the database,
    hub, web, kojira and Prometheus; builder1 is a createrepo builder, builder2 an rpm builder."""

    HUB = "hub.koji.test"
    CREATEREPO_BUILDER = "builder1.koji.test"
    RPM_BUILDER = "builder2.koji.test"
    DEMO = ROOT / "testbed" / "demo.sh"
    EXTRA_INVENTORY = ROOT / "build" / "demo" / "builders.yml"

    def __init__(self):
        self.source = None
        self.deploy_output = None

    @property
    def inventories(self):
        found = [ROOT / "inventories" / "local"]
        if self.EXTRA_INVENTORY.exists():
            found.append(self.EXTRA_INVENTORY)
        return found

    def demo(self, *args, log_name):
        """testbed/demo.sh ARGS, its output written to build/real-koji/LOG_NAME as it comes
        (tail it to follow a deploy); (rc, output, seconds)."""
        LANE_DIR.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, ANSIBLE_FORCE_COLOR="false")
        log_path = LANE_DIR / log_name
        started = time.monotonic()
        with open(log_path, "w", encoding="utf-8") as log:
            proc = subprocess.run([str(self.DEMO)] + list(args), cwd=ROOT, env=env, text=True,
                                  stdout=log, stderr=subprocess.STDOUT, check=False)
        return proc.returncode, log_path.read_text(encoding="utf-8"), time.monotonic() - started

    def up(self):
        proc = subprocess.run([str(ROOT / "testbed" / "koji-source.sh")], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        if proc.returncode != 0:
            pytest.fail("no Koji source for the real lane:\n%s" % proc.stderr)
        self.source = proc.stdout.strip()
        # Whatever an interrupted earlier run left behind goes first.
        self.demo("down", log_name="teardown-before.log")
        rc, out, seconds = self.demo("up", log_name="deploy.log")
        TIMINGS.record("deploy: testbed/demo.sh up (containers, site.yml)", seconds)
        self.deploy_output = out
        if rc != 0:
            pytest.fail("testbed/demo.sh up failed (exit %d); the end of build/real-koji/deploy.log:\n%s"
                        % (rc, "\n".join(out.splitlines()[-60:])))

    def down(self):
        rc, out, seconds = self.demo("down", log_name="teardown.log")
        TIMINGS.record("teardown: testbed/demo.sh down", seconds)
        left = subprocess.run(
            "podman ps -a --format '{{.Names}}' | grep -E 'koji\\.test$';"
            "podman volume ls --format '{{.Name}}' | grep -E '^kojiforge-local';"
            "podman network ls --format '{{.Name}}' | grep -x kojiforge-local",
            shell=True, text=True, stdout=subprocess.PIPE, check=False).stdout.split()
        assert rc == 0 and not left, "teardown (exit %d) left %s:\n%s" % (rc, left, out[-2000:])

    def module_test_settings(self):
        """How the module integration suite reaches this hub (tests/integration/modules)."""
        return {"host": self.HUB, "inventory": str(ROOT / "inventories" / "local"),
                "profile": "koji", "read_via": "podman exec -i %s" % self.HUB}
