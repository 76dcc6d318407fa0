"""Fixtures for the kojiforge_metrics exporter tests: a fake hub seeded with a known state."""

import pytest

from exporter_support import HUB_TIMEOUT, Exporter, FakeHub, FixedClock, Settings, TaskAPI, seed


@pytest.fixture(name="hub")
def fixture_hub():
    with FakeHub(extra_handlers=[TaskAPI()]) as hub:
        seed(hub.state, hub.session())
        hub.reset_counters()
        yield hub


@pytest.fixture(name="clock")
def fixture_clock():
    return FixedClock()


@pytest.fixture(name="settings")
def fixture_settings(hub):
    # a small scan chunk so the walk over task ids takes several calls and requests; no scrape
    # cache: these tests check what each scrape reads (test_scrape_cache.py tests the cache)
    return Settings(hub.url, timeout=HUB_TIMEOUT, task_scan_chunk=3, multicall_batch=4, scrape_cache_ttl=0)


@pytest.fixture(name="exporter")
def fixture_exporter(settings, clock):
    return Exporter(settings, clock=clock)
