"""The real Koji in the test run: ``--real-koji`` deploys the local cluster once per run and
tears it down at the end, whatever failed in between.

``make test`` (and so CI) passes ``--real-koji``: the lane in tests/real/ and the ``real``
half of the module integration suite then run against Koji deployed by playbooks/site.yml from
the release archive testbed/koji-source.sh finds. Without the option (``make unit``) the tests
that need it are deselected, never skipped: a run either deploys the real Koji or does not
claim to have tested it.
"""

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

# pylint: disable=wrong-import-position
from local_cluster import TIMINGS, LocalCluster  # noqa: E402


def pytest_addoption(parser):
    parser.addoption("--real-koji", action="store_true", default=False,
                     help="deploy the local Koji cluster (testbed/demo.sh) and run the tests "
                          "that need the real Koji")


# With pytest-xdist (make test runs two workers), the tests that drive podman are one group, run
# by one worker in their order: the molecule scenarios, then the real lane, whose local cluster
# (a session fixture) is deployed once and torn down once, then the real half of the module
# integration suite. They use fixed container names and must never overlap.
PODMAN_GROUP = "podman"
PODMAN_DIRS = ("scenarios", "real")
TESTS_DIR = pathlib.Path(__file__).resolve().parent


def pytest_configure(config):
    config.addinivalue_line("markers", "real_koji: needs the real Koji (--real-koji)")
    # Once per run: by the controlling process, not by each xdist worker.
    if config.getoption("--real-koji") and not hasattr(config, "workerinput"):
        TIMINGS.path.unlink(missing_ok=True)


def _drives_podman(item):
    try:
        top = item.path.resolve().relative_to(TESTS_DIR).parts[0]
    except ValueError:
        return False
    return top in PODMAN_DIRS or item.get_closest_marker("real_koji") is not None


# tryfirst: xdist's worker reads the group marks in a hook of its own, which would otherwise run first.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    if config.getoption("--real-koji"):
        for item in items:
            if _drives_podman(item):
                item.add_marker(pytest.mark.xdist_group(PODMAN_GROUP))
        return
    deselected = [item for item in items if item.get_closest_marker("real_koji")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("real_koji")]


def pytest_terminal_summary(terminalreporter, config):
    if config.getoption("--real-koji") and TIMINGS.path.exists():
        terminalreporter.section("real Koji lane: stage timings")
        for line in TIMINGS.path.read_text(encoding="utf-8").splitlines():
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def local_cluster():
    cluster = LocalCluster()
    try:
        cluster.up()
        yield cluster
    finally:
        cluster.down()
