"""make test runs pytest with several xdist workers (--dist loadgroup): the tests that drive
podman (the molecule scenarios, the real Koji lane, the real half of the module integration
suite) must be one group, which one worker runs in order, and no other test may be in it.
tests/conftest.py marks them; this collects the suite as make test does and reads the marks."""

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]

REPORTER = """
def pytest_collection_finish(session):
    for item in session.items:
        mark = item.get_closest_marker("xdist_group")
        print("GROUPED" if mark else "FREE", mark.args[0] if mark else "-", item.nodeid)
"""


def collect(tmp_path, *options):
    (tmp_path / "group_reporter.py").write_text(REPORTER)
    env = dict(os.environ, PYTHONPATH=str(tmp_path), MOLECULE_SCENARIOS="koji_ca hub")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "group_reporter",
                           "--collect-only", "-q"] + list(options) +
                          ["tests/scenarios", "tests/real", "tests/integration", "tests/unit/exporter/test_state.py"],
                          cwd=str(ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stdout
    rows = [line.split(" ", 2) for line in proc.stdout.splitlines() if line.startswith(("GROUPED ", "FREE "))]
    assert rows, proc.stdout
    return {nodeid: group for _kind, group, nodeid in rows}


def test_the_tests_that_drive_podman_are_one_group_in_their_order(tmp_path):
    groups = collect(tmp_path, "--real-koji")
    grouped = [nodeid for nodeid, group in groups.items() if group != "-"]
    assert set(groups[n] for n in grouped) == {"podman"}
    for nodeid, group in groups.items():
        podman = nodeid.startswith(("tests/scenarios/", "tests/real/")) or nodeid.endswith("[real]")
        assert (group == "podman") == podman, nodeid
    # The order the worker gets them in: the scenarios, the lane (deploy first), the real hub's suite.
    assert grouped[0].startswith("tests/scenarios/")
    lane = [n for n in grouped if n.startswith("tests/real/")]
    assert lane[0].startswith("tests/real/test_1_deploy.py::")
    assert grouped.index(lane[-1]) < min(grouped.index(n) for n in grouped if n.endswith("[real]"))


def test_without_the_real_koji_nothing_is_grouped(tmp_path):
    groups = collect(tmp_path)
    assert groups and set(groups.values()) == {"-"}
    assert not any(n.endswith("[real]") for n in groups)
