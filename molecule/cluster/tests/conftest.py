"""The cluster scenario's hosts and helpers; the helpers themselves are shared with the CI lane
on the local cluster (tests/deployed_koji.py)."""

import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests"))

# pylint: disable=wrong-import-position,unused-import
from deployed_koji import (READY_TIMEOUT, Timings, get_host, hub_call, koji, recap,  # noqa: E402,F401
                           wait_for)
from deployed_koji import quote as _q  # noqa: E402,F401
from deployed_koji import run_playbook as _run_playbook  # noqa: E402

HUB = "hub.kojicluster.test"
BUILDER1 = "builder1.kojicluster.test"
BUILDER2 = "builder2.kojicluster.test"
BUILDER3 = "builder3.kojicluster.test"
# What the tests leave for the report: the scale-out timing.
TIMINGS = Timings(ROOT / "build" / "molecule-logs" / "cluster-timings.txt")


def inventory():
    return os.environ["MOLECULE_INVENTORY_FILE"]


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


def run_playbook(playbook, *extra, inventories=()):
    """ansible-playbook against the scenario's inventory (and any extra ones)."""
    return _run_playbook(playbook, *extra, inventories=[os.path.dirname(inventory())] + list(inventories))


def record_timing(label, seconds):
    TIMINGS.record(label, seconds)
