"""Run every molecule scenario under molecule/ as one pytest test each.

A scenario that deploys the real Koji names KOJI_SOURCE in its files (it passes the source
to the roles); such a scenario is skipped, with the reason, when KOJI_SOURCE is not set.
MOLECULE_SCENARIOS (space separated) limits the run to the scenarios named.

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


def _scenarios():
    return sorted(p.parent.name for p in MOLECULE_DIR.glob("*/molecule.yml"))


def needs_koji_source(scenario):
    """True when any file of the scenario refers to KOJI_SOURCE."""
    for path in (MOLECULE_DIR / scenario).rglob("*"):
        if path.is_file() and path.suffix in (".yml", ".yaml", ".py", ".j2"):
            if "KOJI_SOURCE" in path.read_text(encoding="utf-8", errors="replace"):
                return True
    return False


def _selected(scenario):
    wanted = os.environ.get("MOLECULE_SCENARIOS", "").split()
    return not wanted or scenario in wanted


@pytest.mark.parametrize("scenario", _scenarios())
def test_scenario(scenario):
    if not _selected(scenario):
        pytest.skip("not in MOLECULE_SCENARIOS")
    if needs_koji_source(scenario):
        source = os.environ.get("KOJI_SOURCE", "")
        if not source:
            pytest.skip("needs the real Koji: set KOJI_SOURCE to a Koji source tree or release archive")
        if not pathlib.Path(source).exists() and "://" not in source:
            pytest.fail("KOJI_SOURCE=%s does not exist" % source)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / ("%s.log" % scenario)
    started = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.run(
            ["molecule", "test", "-s", scenario],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=False,
        )
    elapsed = time.monotonic() - started
    print("molecule scenario %s: exit %d in %.0f s (log: %s)" % (scenario, proc.returncode, elapsed, log_path))
    if proc.returncode != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-80:]
        pytest.fail("molecule test -s %s failed (exit %d); last lines of %s:\n%s"
                    % (scenario, proc.returncode, log_path, "\n".join(tail)))
