"""The hosts of the local cluster (tests/conftest.py deploys it), as testinfra hosts."""

import pytest

from deployed_koji import get_host


@pytest.fixture(scope="session")
def hub(local_cluster):
    return get_host(local_cluster.HUB)


@pytest.fixture(scope="session")
def createrepo_builder(local_cluster):
    return get_host(local_cluster.CREATEREPO_BUILDER)


@pytest.fixture(scope="session")
def rpm_builder(local_cluster):
    return get_host(local_cluster.RPM_BUILDER)
