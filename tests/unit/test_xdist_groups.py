"""make test runs pytest with several xdist workers (--dist loadgroup): the tests that drive
podman (the molecule scenarios, the real Koji lane, the real half of the module integration
suite) must be one group, which one worker runs in order, and no other test may be in it.
tests/conftest.py marks them. This starts pytest as make test does, with an xdist worker, and
reads the node ids the worker schedules by (xdist appends "@group"), then runs nothing."""

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]

REPORTER = """
import os

import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    # After xdist's worker has named the groups: record the node ids it schedules by, run nothing.
    if hasattr(config, "workerinput"):
        with open(os.environ["GROUP_REPORT"], "w") as report:
            report.write("\\n".join(item.nodeid for item in items))
    items[:] = []
"""


def collect(tmp_path, *options):
    """{test: its xdist group or None}, in the order the worker got them."""
    (tmp_path / "group_reporter.py").write_text(REPORTER)
    report = tmp_path / "report.txt"
    env = dict(os.environ, PYTHONPATH=str(tmp_path), MOLECULE_SCENARIOS="koji_ca hub", GROUP_REPORT=str(report))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "group_reporter",
                           "-n", "1", "--dist", "loadgroup"] + list(options) +
                          ["tests/scenarios", "tests/real", "tests/integration", "tests/unit/exporter/test_state.py"],
                          cwd=str(ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          check=False)
    assert proc.returncode == 5, proc.stdout  # no tests ran
    groups = {}
    for nodeid in report.read_text().splitlines():
        test, _at, group = nodeid.partition("@")
        groups[test] = group or None
    assert groups, proc.stdout
    return groups


def test_the_tests_that_drive_podman_are_one_group_in_their_order(tmp_path):
    groups = collect(tmp_path, "--real-koji")
    grouped = [nodeid for nodeid, group in groups.items() if group]
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
    assert groups and set(groups.values()) == {None}
    assert not any(n.endswith("[real]") for n in groups)
