"""Run molecule scenarios under molecule/ as one pytest test each.

MOLECULE_SCENARIOS (space separated) names the scenarios to run; unset, every scenario runs.
`make test` names those that fit CI's time (the others have make targets of their own: `make
cluster`, `make lifecycle`, `make adoption`). A scenario that deploys the real Koji names KOJI_SOURCE in its
files; it gets the source testbed/koji-source.sh finds (KOJI_SOURCE, else the release archive
beside the repository, else a download), and the lifecycle scenario the older release it
upgrades from (KOJI_SOURCE_OLD, else Koji 1.34.3 found the same way). No source: the test fails.

Each scenario's full log goes to build/molecule-logs/<scenario>.log; a failure shows its tail.
"""

import os
import pathlib
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
MOLECULE_DIR = ROOT / "molecule"
LOG_DIR = ROOT / "build" / "molecule-logs"
# The release the lifecycle scenario deploys first, then upgrades from.
OLD_KOJI_VERSION = "1.34.3"


def _scenarios():
    found = sorted(p.parent.name for p in MOLECULE_DIR.glob("*/molecule.yml"))
    wanted = os.environ.get("MOLECULE_SCENARIOS", "").split()
    unknown = set(wanted) - set(found)
    if unknown:
        raise ValueError("MOLECULE_SCENARIOS names no scenario %s (there are: %s)"
                         % (" ".join(sorted(unknown)), " ".join(found)))
    return [name for name in found if not wanted or name in wanted]


def needs_koji_source(scenario):
    """True when any file of the scenario refers to KOJI_SOURCE."""
    for path in (MOLECULE_DIR / scenario).rglob("*"):
        if path.is_file() and path.suffix in (".yml", ".yaml", ".py", ".j2"):
            if "KOJI_SOURCE" in path.read_text(encoding="utf-8", errors="replace"):
                return True
    return False


def koji_source(version=None):
    env = dict(os.environ)
    if version:
        env.pop("KOJI_SOURCE", None)
        env["KOJI_VERSION"] = version
    proc = subprocess.run([str(ROOT / "testbed" / "koji-source.sh")], cwd=ROOT, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        pytest.fail("no Koji source%s:\n%s" % (" for %s" % version if version else "", proc.stderr))
    return proc.stdout.strip()


@pytest.mark.parametrize("scenario", _scenarios())
def test_scenario(scenario):
    env = dict(os.environ)
    if needs_koji_source(scenario):
        env["KOJI_SOURCE"] = koji_source()
        if scenario == "lifecycle" and not env.get("KOJI_SOURCE_OLD"):
            env["KOJI_SOURCE_OLD"] = koji_source(OLD_KOJI_VERSION)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / ("%s.log" % scenario)
    started = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.run(
            ["molecule", "test", "-s", scenario],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=False,
        )
    elapsed = time.monotonic() - started
    print("molecule scenario %s: exit %d in %.0f s (log: %s)" % (scenario, proc.returncode, elapsed, log_path))
    if proc.returncode != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-80:]
        pytest.fail("molecule test -s %s failed (exit %d); last lines of %s:\n%s"
                    % (scenario, proc.returncode, log_path, "\n".join(tail)))
