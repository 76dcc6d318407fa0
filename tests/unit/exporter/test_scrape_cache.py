"""The scrape cache: a flood of GETs on /metrics costs the hub at most one read per
scrape_cache_ttl, concurrent GETs included; what needs no hub call (cache ages) stays live."""

import io
import threading
import time

import koji
import pytest

from exporter_support import HUB_TIMEOUT, parse, value

from kojiforge_metrics.exporter import Exporter
from kojiforge_metrics.settings import ConfigError, Settings, load_settings
from kojiforge_metrics.wsgi import make_application

TTL = 5.0


def _get(app):
    status = []
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "", "wsgi.input": io.BytesIO(b"")}
    body = b"".join(app(environ, lambda s, headers: status.append(s)))
    assert status == ["200 OK"]
    return parse(body)


def _warmed_up(hub, clock, exporter):
    """The application, after a first scrape (it learns the channels: two requests) and the TTL
    since, with the hub's counters at zero."""
    app = make_application(exporter)
    _get(app)
    clock.now += TTL
    hub.reset_counters()
    return app


@pytest.fixture(name="cached")
def fixture_cached(hub, clock):
    return Exporter(Settings(hub.url, timeout=HUB_TIMEOUT, scrape_cache_ttl=TTL), clock=clock)


def test_default_ttl_is_a_few_seconds(hub):
    assert Settings(hub.url).scrape_cache_ttl == 5


def test_gets_within_the_ttl_cost_one_hub_read(hub, clock, cached):
    app = _warmed_up(hub, clock, cached)
    for _get_number in range(20):
        samples = _get(app)
        assert value(samples, "koji_up") == 1
        assert value(samples, "koji_hosts_ready", host="b1.example.com") == 1
        clock.now += (TTL - 0.5) / 20
    # one scrape's worth: one multicall request, listHosts once plus once per channel
    assert hub.requests == 1
    assert hub.calls["listHosts"] == 1 + len(hub.state.channels)


def test_the_next_get_after_the_ttl_reads_the_hub_again(hub, clock, cached):
    app = _warmed_up(hub, clock, cached)
    _get(app)
    assert hub.requests == 1
    hub.state.add_host("b4.example.com", arches="x86_64", capacity=2, enabled=True, ready=True,
                       task_load=0.0, update_ts=clock.now, channels=("default",))
    clock.now += TTL - 0.01
    # still the cached read: the new host is not there yet
    assert ("koji_hosts_ready", frozenset({("host", "b4.example.com")})) not in _get(app)
    assert hub.requests == 1
    clock.now += 0.01
    assert value(_get(app), "koji_hosts_ready", host="b4.example.com") == 1
    assert hub.requests == 2
    _get(app)
    assert hub.requests == 2


def test_a_clock_set_back_reads_the_hub_again(hub, clock, cached):
    app = _warmed_up(hub, clock, cached)
    _get(app)
    clock.now -= 3600
    _get(app)
    assert hub.requests == 2


def test_concurrent_gets_wait_for_one_hub_read(hub, clock):
    """GETs arriving together while the hub is slow: one of them reads, the others wait for
    its result instead of each calling the hub."""

    class SlowSession(koji.ClientSession):
        def _sendCall(self, handler, headers, request):  # pylint: disable=invalid-name
            time.sleep(0.3)
            return super()._sendCall(handler, headers, request)

    exporter = Exporter(Settings(hub.url, timeout=HUB_TIMEOUT, scrape_cache_ttl=TTL), clock=clock,
                        session_factory=lambda s: SlowSession(s.server, opts=s.koji_opts()))
    app = _warmed_up(hub, clock, exporter)
    threads, gets_per_thread = 8, 5
    start = threading.Barrier(threads)
    results, errors = [], []

    def scraper():
        try:
            start.wait(timeout=30)
            for _get_number in range(gets_per_thread):
                results.append(value(_get(app), "koji_up"))
        except Exception as exc:  # pylint: disable=broad-except
            errors.append(exc)

    workers = [threading.Thread(target=scraper) for _thread in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert errors == []
    assert results == [1] * (threads * gets_per_thread)
    assert hub.requests == 1
    assert hub.calls["listHosts"] == 1 + len(hub.state.channels)


def test_a_hub_that_does_not_answer_is_not_asked_more_often(hub, clock, cached):
    app = _warmed_up(hub, clock, cached)
    hub.fault_hook = lambda method, args, kwargs: koji.ServerOffline("database outage")
    for _get_number in range(20):
        assert value(_get(app), "koji_up") == 0
    assert hub.requests == 1
    # back: koji_up 1 once the failed read is older than the TTL
    hub.fault_hook = None
    assert value(_get(app), "koji_up") == 0
    clock.now += TTL
    assert value(_get(app), "koji_up") == 1
    assert hub.requests == 2


def test_cache_ages_stay_live_within_the_ttl(hub, clock, cached):
    app = _warmed_up(hub, clock, cached)
    assert cached.refresh_tasks()
    before = value(_get(app), "koji_cache_age_seconds", cache="tasks")
    hub.reset_counters()
    clock.now += 3
    assert value(_get(app), "koji_cache_age_seconds", cache="tasks") == before + 3
    assert hub.requests == 0


def test_ttl_0_reads_the_hub_on_every_get(hub, clock):
    exporter = Exporter(Settings(hub.url, timeout=HUB_TIMEOUT, scrape_cache_ttl=0), clock=clock)
    app = _warmed_up(hub, clock, exporter)
    for _get_number in range(3):
        _get(app)
    assert hub.requests == 3


def test_ttl_from_the_configuration_file(tmp_path):
    conf = tmp_path / "metrics.conf"
    conf.write_text("[metrics]\nserver = https://hub/kojihub\nscrape_cache_ttl = 2.5\n", encoding="utf-8")
    assert load_settings(str(conf)).scrape_cache_ttl == 2.5
    conf.write_text("[metrics]\nserver = https://hub/kojihub\nscrape_cache_ttl = -1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="scrape_cache_ttl must not be negative"):
        load_settings(str(conf))
