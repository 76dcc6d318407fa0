"""The hubs scenario's hosts; the helpers are shared with the other scenarios that drive the real
Koji (tests/deployed_koji.py)."""

import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests"))

# pylint: disable=wrong-import-position
from deployed_koji import get_host  # noqa: E402

DOMAIN = "kojihubs.test"
NAMES = ("koji", "db", "hub1", "hub2", "web1", "web2", "builder1")


def inventory():
    return os.environ["MOLECULE_INVENTORY_FILE"]


@pytest.fixture(scope="session")
def hosts():
    """Short name (hub1, web2, koji for the load balancer...) => testinfra host."""
    return {name: get_host("%s.%s" % (name, DOMAIN)) for name in NAMES}
