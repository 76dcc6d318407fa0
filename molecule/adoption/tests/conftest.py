"""The adoption scenario's hosts and helpers; the helpers are the ones the cluster scenario and
the CI lane on the local cluster use (tests/deployed_koji.py)."""

import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests"))

# pylint: disable=wrong-import-position,unused-import
from deployed_koji import get_host, hub_call, koji, quote, recap, changed_tasks  # noqa: E402,F401
from deployed_koji import run_playbook as _run_playbook  # noqa: E402

HUB = "hub.kojiadopt.test"
DB = "db.kojiadopt.test"
BUILDER1 = "builder1.kojiadopt.test"
CONVERGE = str(pathlib.Path(__file__).resolve().parents[1] / "converge.yml")


@pytest.fixture(scope="session")
def hub():
    return get_host(HUB)


@pytest.fixture(scope="session")
def db():
    return get_host(DB)


@pytest.fixture(scope="session")
def builder1():
    return get_host(BUILDER1)


def run_playbook(playbook, *extra):
    """ansible-playbook against the scenario's inventory (molecule's, with its group_vars)."""
    return _run_playbook(playbook, *extra, inventories=[os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])])
