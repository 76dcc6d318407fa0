"""kojiforge_metrics against the fake hub: every metric, its value for the seeded state (see
conftest.seed), koji_up 0 with HTTP 200 when the hub is down, counters that only grow across
refreshes, and one multicall request per scrape."""

import io
import math

import koji
import pytest

from exporter_support import HUB_TIMEOUT, NOW, families, parse, series, value

from kojiforge_metrics import metricdefs
from kojiforge_metrics.settings import Settings
from kojiforge_metrics.wsgi import make_application
from kojiforge_metrics.exporter import Exporter
from fakehub.api_tasks import add_task, set_task_state

B1, B2, B3 = "b1.example.com", "b2.example.com", "b3.example.com"
T0 = NOW - 3600


@pytest.fixture(name="scraped")
def fixture_scraped(exporter):
    assert exporter.refresh_counts()
    assert exporter.refresh_tasks()
    return parse(exporter.render())


def test_every_declared_metric_is_served_with_its_type(exporter):
    assert exporter.refresh_counts() and exporter.refresh_tasks()
    served = families(exporter.render())
    declared = dict((spec.name[:-len("_total")] if spec.kind == metricdefs.COUNTER else spec.name,
                     spec.kind) for spec in metricdefs.METRICS)
    assert served == declared


def test_every_declared_metric_has_samples_for_the_seeded_hub(scraped):
    names = set(name for name, _labels in scraped)
    assert sorted(metricdefs.served_sample_names() - names) == []


def test_builders(scraped):
    assert value(scraped, "koji_up") == 1
    assert value(scraped, "koji_builders_update", host=B1, enabled="true", ready="true") == NOW - 10
    assert value(scraped, "koji_builders_update", host=B2, enabled="true", ready="false") == NOW - 5
    # never checked in: 0, and the labels say disabled, not ready
    assert value(scraped, "koji_builders_update", host=B3, enabled="false", ready="false") == 0
    assert len(series(scraped, "koji_builders_update")) == 3
    assert series(scraped, "koji_hosts_enabled") == {
        frozenset({("host", B1)}): 1, frozenset({("host", B2)}): 1, frozenset({("host", B3)}): 0}
    assert series(scraped, "koji_hosts_ready") == {
        frozenset({("host", B1)}): 1, frozenset({("host", B2)}): 0, frozenset({("host", B3)}): 0}
    # capacity per *enabled* host: the disabled b3 has none
    assert series(scraped, "koji_hosts_capacity") == {
        frozenset({("host", B1)}): 4, frozenset({("host", B2)}): 2}
    assert value(scraped, "koji_task_load", host=B1) == 2.5
    assert value(scraped, "koji_task_load", host=B2) == 3
    assert value(scraped, "koji_task_load", host=B3) == 0
    assert value(scraped, "koji_host_open_tasks", host=B1) == 2
    assert value(scraped, "koji_host_open_tasks", host=B2) == 2
    assert value(scraped, "koji_host_open_tasks", host=B3) == 0
    # b1 reports maxjobs to the scheduler; the others get default_max_jobs
    assert value(scraped, "koji_host_max_jobs", host=B1) == 5
    assert value(scraped, "koji_host_max_jobs", host=B2) == 10
    assert value(scraped, "koji_host_max_jobs", host=B3) == 10


def test_channels(scraped):
    assert value(scraped, "koji_enabled_hosts_count", channel="default") == 2
    assert value(scraped, "koji_enabled_hosts_capacity_per_channel", channel="default") == 6
    assert value(scraped, "koji_enabled_hosts_task_load_per_channel", channel="default") == 5.5
    assert value(scraped, "koji_enabled_hosts_count", channel="createrepo") == 1
    assert value(scraped, "koji_enabled_hosts_capacity_per_channel", channel="createrepo") == 4
    assert value(scraped, "koji_enabled_hosts_task_load_per_channel", channel="createrepo") == 2.5
    # image has only the disabled b3
    assert value(scraped, "koji_enabled_hosts_count", channel="image") == 0
    assert value(scraped, "koji_enabled_hosts_capacity_per_channel", channel="image") == 0
    # every channel of the hub is listed, empty ones with 0
    assert len(series(scraped, "koji_enabled_hosts_count")) == 8


def test_task_states(scraped):
    # waiting tasks are counted per (channel, method) the task walk has seen, 0 included
    assert series(scraped, "koji_waiting_tasks") == {
        _key("default", "build"): 2, _key("default", "buildArch"): 0, _key("default", "tagBuild"): 0,
        _key("createrepo", "newRepo"): 0, _key("createrepo", "createrepo"): 0}
    assert series(scraped, "koji_in_progress_tasks") == {
        # buildArch names its build tag by id; resolved through the cached tag names
        frozenset({("channel", "default"), ("method", "buildArch"), ("tag", "f40-build")}): 1,
        # newRepo names its tag; keyword arguments in the request do not confuse it
        frozenset({("channel", "createrepo"), ("method", "newRepo"), ("tag", "f40-build")}): 1,
        # build names a target: the label is its destination tag
        frozenset({("channel", "default"), ("method", "build"), ("tag", "f40")}): 1,
        # createrepo names a repo, not a tag
        frozenset({("channel", "createrepo"), ("method", "createrepo"), ("tag", "")}): 1,
    }


def test_waiting_tasks_of_unseen_methods_count_as_other(hub, exporter):
    # before the task walk has seen any task, every waiting task is method="other"
    samples = parse(exporter.render())
    assert series(samples, "koji_waiting_tasks") == {_key("default", "other"): 2}
    assert exporter.refresh_tasks()
    # a method the walk has not seen yet in that channel
    add_task(hub.state, "image", "default", "FREE", request=[])
    samples = parse(exporter.render())
    assert value(samples, "koji_waiting_tasks", channel="default", method="build") == 2
    assert value(samples, "koji_waiting_tasks", channel="default", method="other") == 1
    assert exporter.refresh_tasks()
    samples = parse(exporter.render())
    assert value(samples, "koji_waiting_tasks", channel="default", method="image") == 1
    assert ("koji_waiting_tasks", _key("default", "other")) not in samples


def test_repo_queue(scraped):
    assert value(scraped, "koji_repo_queue_length") == 2
    # the oldest *active* request was made 300 s ago (an inactive one is older)
    assert value(scraped, "koji_repo_max_waiting_time") == 300


def test_per_tag_and_per_package_counts(scraped):
    # f40 lists bash and a blocked zsh: blocked entries do not count
    assert series(scraped, "koji_packages_per_tag") == {
        frozenset({("tag", "f40")}): 1, frozenset({("tag", "f40-build")}): 1}
    # the tag's own tag_listing rows: the zsh build tagged in f40 counts although f40 blocks
    # zsh (the hub's listTagged would hide it); f40-build: its one bash build
    assert series(scraped, "koji_builds_per_tag") == {
        frozenset({("tag", "f40")}): 3, frozenset({("tag", "f40-build")}): 1}
    # completed builds only: bash has a failed one too
    assert series(scraped, "koji_builds_per_package") == {
        frozenset({("package", "bash")}): 2, frozenset({("package", "zsh")}): 1}


def _key(channel, method):
    return frozenset({("channel", channel), ("method", method)})


def test_finished_task_counters(scraped):
    assert series(scraped, "koji_tasks_total") == {
        _key("default", "build"): 4, _key("default", "buildArch"): 2,
        _key("createrepo", "newRepo"): 2, _key("createrepo", "createrepo"): 1,
        _key("default", "tagBuild"): 1}
    # every (channel, method) gets all counters, 0 included
    assert series(scraped, "koji_task_completions_total") == {
        _key("default", "build"): 1, _key("default", "buildArch"): 1,
        _key("createrepo", "newRepo"): 1, _key("createrepo", "createrepo"): 0,
        _key("default", "tagBuild"): 1}
    assert series(scraped, "koji_task_succeed_total") == {
        _key("default", "build"): 1, _key("default", "buildArch"): 0,
        _key("createrepo", "newRepo"): 0, _key("createrepo", "createrepo"): 0,
        _key("default", "tagBuild"): 1}
    assert series(scraped, "koji_task_errors_total") == {
        _key("default", "build"): 0, _key("default", "buildArch"): 1,
        _key("createrepo", "newRepo"): 0, _key("createrepo", "createrepo"): 0,
        _key("default", "tagBuild"): 0}
    assert value(scraped, "koji_tasks_last_seen_id") == 11


def _bucket(samples, name, channel, method, le):
    return value(samples, name + "_bucket", channel=channel, method=method, le=le)


def test_duration_histograms(scraped):
    total = "koji_task_duration_seconds"
    # build: created T0, started +5, completed +65
    assert value(scraped, total + "_sum", channel="default", method="build") == 65
    assert value(scraped, total + "_count", channel="default", method="build") == 1
    assert _bucket(scraped, total, "default", "build", "60.0") == 0
    assert _bucket(scraped, total, "default", "build", "180.0") == 1
    assert _bucket(scraped, total, "default", "build", "+Inf") == 1
    waiting = "koji_task_waiting_duration_seconds"
    assert value(scraped, waiting + "_sum", channel="default", method="build") == 5
    assert _bucket(scraped, waiting, "default", "build", "10.0") == 1
    running = "koji_task_in_progress_duration_seconds"
    # 60 s lands in the le="60" bucket (upper bounds are inclusive)
    assert _bucket(scraped, running, "default", "build", "30.0") == 0
    assert _bucket(scraped, running, "default", "build", "60.0") == 1
    assert value(scraped, running + "_sum", channel="default", method="buildArch") == 600
    assert _bucket(scraped, running, "default", "buildArch", "480.0") == 0
    assert _bucket(scraped, running, "default", "buildArch", "1200.0") == 1
    # the canceled newRepo never started: total duration only
    assert value(scraped, total + "_sum", channel="createrepo", method="newRepo") == 30
    assert _key("createrepo", "newRepo") not in series(scraped, waiting + "_count")
    assert _key("createrepo", "newRepo") not in series(scraped, running + "_count")
    # open tasks are not observed
    assert _key("createrepo", "createrepo") not in series(scraped, total + "_count")


def test_cache_ages(exporter, clock):
    # never refreshed: the age counts from the exporter's start
    clock.now += 42
    samples = parse(exporter.render())
    assert value(samples, "koji_cache_age_seconds", cache="counts") == 42
    assert value(samples, "koji_cache_age_seconds", cache="tasks") == 42
    assert exporter.refresh_counts()
    clock.now += 7
    samples = parse(exporter.render())
    assert value(samples, "koji_cache_age_seconds", cache="counts") == 7
    assert value(samples, "koji_cache_age_seconds", cache="tasks") == 49
    assert value(samples, "koji_cache_refresh_errors_total", cache="counts") == 0
    assert value(samples, "koji_cache_refresh_duration_seconds", cache="counts") > 0


def _counters(samples):
    counter_names = set()
    for spec in metricdefs.METRICS:
        if spec.kind == metricdefs.COUNTER:
            counter_names.add(spec.name)
        elif spec.kind == metricdefs.HISTOGRAM:
            counter_names.update(spec.name + suffix for suffix in ("_bucket", "_count", "_sum"))
    return dict((key, v) for key, v in samples.items() if key[0] in counter_names)


def test_counters_are_incremental_and_never_go_backwards(hub, exporter):
    assert exporter.refresh_tasks()
    first = _counters(parse(exporter.render()))
    # the open buildArch (6) finishes, the missing id 10 commits late, a new task 12 closes
    set_task_state(hub.state, 6, "CLOSED", completion_ts=T0 + 100)
    add_task(hub.state, "build", "default", "CLOSED", request=[], create_ts=T0, start_ts=T0,
             completion_ts=T0 + 10, task_id=10)
    add_task(hub.state, "tagBuild", "default", "FAILED", request=[], create_ts=T0, start_ts=T0,
             completion_ts=T0 + 1, task_id=12)
    hub.reset_counters()
    assert exporter.refresh_tasks()
    # only the unfinished ids (4-9), the missing one (10) and the new one (12) were asked
    # for, 3 ids per call, in one multicall request after the newest-id request
    assert hub.calls["getTaskInfo"] == math.ceil(8 / 3)
    assert hub.requests == 2
    samples = parse(exporter.render())
    second = _counters(samples)
    for key, before in first.items():
        assert second[key] >= before, key
    assert value(second, "koji_tasks_total", channel="default", method="buildArch") == 2
    assert value(second, "koji_task_completions_total", channel="default", method="buildArch") == 2
    assert value(second, "koji_task_succeed_total", channel="default", method="buildArch") == 1
    assert value(second, "koji_tasks_total", channel="default", method="build") == 5
    assert value(second, "koji_task_succeed_total", channel="default", method="build") == 2
    assert value(second, "koji_task_errors_total", channel="default", method="tagBuild") == 1
    assert value(samples, "koji_tasks_last_seen_id") == 12
    # a third refresh with nothing new changes nothing
    assert exporter.refresh_tasks()
    assert _counters(parse(exporter.render())) == second


def test_task_history_new_counts_only_new_tasks(hub, settings, clock):
    settings.task_history = "new"
    exporter = Exporter(settings, clock=clock)
    assert exporter.refresh_tasks()
    assert series(parse(exporter.render()), "koji_tasks_total") == {}
    add_task(hub.state, "build", "default", "CLOSED", request=[], create_ts=T0, start_ts=T0,
             completion_ts=T0 + 10)
    assert exporter.refresh_tasks()
    samples = parse(exporter.render())
    assert series(samples, "koji_tasks_total") == {_key("default", "build"): 1}
    assert value(samples, "koji_task_succeed_total", channel="default", method="build") == 1


def test_one_multicall_request_per_scrape(hub, exporter):
    exporter.render()           # the first scrape learns the channels: two requests
    for _scrape in range(3):
        hub.reset_counters()
        exporter.render()
        assert hub.requests == 1
        assert hub.calls["listHosts"] == 1 + len(hub.state.channels)
        # waiting tasks: a count per channel (no pairs known yet); open tasks: one listing
        assert hub.calls["listTasks"] == len(hub.state.channels) + 1
        assert "getTaskInfo" not in hub.calls and "listBuilds" not in hub.calls
    # more tags and packages do not make a scrape dearer
    for i in range(30):
        hub.state.add_tag("extra-%d" % i)
        hub.state.add_package("extra-%d" % i, "pkg%d" % i, "admin")
    assert exporter.refresh_counts()
    assert exporter.refresh_tasks()
    hub.reset_counters()
    exporter.render()
    assert hub.requests == 1
    # plus a count per (channel, method) pair the task walk has seen (5 in the seeded hub)
    assert hub.calls["listTasks"] == len(hub.state.channels) + 5 + 1


def test_a_new_channel_costs_one_more_request_once(hub, exporter):
    exporter.render()
    hub.state.add_channel("new-channel")
    hub.reset_counters()
    samples = parse(exporter.render())
    assert hub.requests == 2
    assert value(samples, "koji_enabled_hosts_count", channel="new-channel") == 0
    hub.reset_counters()
    exporter.render()
    assert hub.requests == 1


def test_per_tag_refresh_is_batched(hub, exporter):
    assert exporter.refresh_counts()
    tags, packages = len(hub.state.tags), len(hub.state.packages)
    # one request for the lists, then multicall_batch (4) count calls per request
    assert hub.requests == 1 + math.ceil((2 * tags + packages) / 4)


def test_full_recount_makes_two_calls_per_tag_and_one_per_package(hub, exporter):
    for i in range(7):
        hub.state.add_tag("extra-%d" % i)
        hub.state.add_package("extra-%d" % i, "pkg%d" % i, "admin")
    hub.state.add_package("f40", "pkg-only-listed", "admin")      # a package without builds
    tags, packages = len(hub.state.tags), len(hub.state.packages)
    assert (tags, packages) == (9, 10)
    hub.reset_counters()
    assert exporter.refresh_counts()
    # getLastEvent, the newest build, listTags, listPackages, getBuildTargets; then per tag
    # listPackages(countOnly) and queryHistory(tag_listing, countOnly), per package
    # listBuilds(countOnly)
    assert hub.calls == {"getLastEvent": 1, "listTags": 1, "getBuildTargets": 1,
                         "listPackages": 1 + tags, "queryHistory": tags, "listBuilds": 1 + packages}
    assert sum(hub.calls.values()) == 5 + 2 * tags + packages
    samples = parse(exporter.render())
    assert len(series(samples, "koji_builds_per_tag")) == tags
    assert len(series(samples, "koji_builds_per_package")) == packages
    assert value(samples, "koji_builds_per_package", package="pkg-only-listed") == 0


def _count_series(exporter):
    samples = parse(exporter.render())
    return dict((name, series(samples, name))
                for name in ("koji_packages_per_tag", "koji_builds_per_tag", "koji_builds_per_package"))


def test_parallel_count_refresh_reads_the_same_counts_in_as_many_requests(hub, clock):
    for i in range(10):
        hub.state.add_tag("extra-%d" % i)
        hub.state.add_package("extra-%d" % i, "pkg%d" % i, "admin")
    figures = {}
    for workers in (1, 3):
        exporter = Exporter(Settings(hub.url, timeout=HUB_TIMEOUT, multicall_batch=4, count_refresh_workers=workers),
                            clock=clock)
        hub.reset_counters()
        assert exporter.refresh_counts()
        tags, packages = len(hub.state.tags), len(hub.state.packages)
        # the workers share the batches: no call twice, no request more
        assert hub.requests == 1 + math.ceil((2 * tags + packages) / 4)
        # one per package, and the newest build id (read with the event, for the next refresh)
        assert hub.calls["listBuilds"] == packages + 1
        figures[workers] = _count_series(exporter)
    assert figures[3] == figures[1]
    assert figures[1]["koji_packages_per_tag"][frozenset({("tag", "extra-3")})] == 1


class _BrokenLink(koji.ClientSession):
    """A session whose requests counting builds fail as a whole once ``broken`` is set (a
    connection dropped in the middle of the refresh)."""

    broken = False

    def _sendCall(self, handler, headers, request):  # pylint: disable=invalid-name
        if _BrokenLink.broken and "listBuilds" in str(request):
            raise ConnectionResetError("connection reset by peer")
        return super()._sendCall(handler, headers, request)


def test_parallel_count_refresh_fails_whole_when_a_worker_request_fails(hub, clock):
    def new_session(settings):
        return _BrokenLink(settings.server, opts=settings.koji_opts())

    settings = Settings(hub.url, timeout=HUB_TIMEOUT, multicall_batch=2, count_refresh_workers=3)
    exporter = Exporter(settings, session_factory=new_session, clock=clock)
    assert exporter.refresh_counts()
    before = _count_series(exporter)
    hub.state.add_tag("extra")
    hub.state.add_package("extra", "pkg", "admin")
    _BrokenLink.broken = True
    try:
        assert not exporter.refresh_counts()
    finally:
        _BrokenLink.broken = False
    # the previous counts are served whole, and the next refresh starts with new sessions
    assert _count_series(exporter) == before
    assert value(parse(exporter.render()), "koji_cache_refresh_errors_total", cache="counts") == 1
    assert exporter.refresh_counts()
    assert frozenset({("tag", "extra")}) in _count_series(exporter)["koji_packages_per_tag"]


def _wsgi(app, method="GET"):
    status = []
    environ = {"REQUEST_METHOD": method, "PATH_INFO": "", "wsgi.input": io.BytesIO(b"")}
    body = b"".join(app(environ, lambda s, headers: status.append((s, dict(headers)))))
    return status[0][0], status[0][1], body


def test_hub_down_answers_200_with_koji_up_0_and_the_cache(hub, exporter):
    app = make_application(exporter)
    assert exporter.refresh_tasks()
    status, _headers, body = _wsgi(app)
    assert status == "200 OK"
    before = parse(body)
    assert value(before, "koji_up") == 1
    # the hub answers every call with a fault, as when its database is gone
    hub.fault_hook = lambda method, args, kwargs: koji.ServerOffline("database outage")
    status, headers, body = _wsgi(app)
    assert status == "200 OK"
    assert headers["Content-Type"].startswith("text/plain")
    down = parse(body)
    assert value(down, "koji_up") == 0
    # nothing read this scrape is served, the cache still is, counters unchanged
    assert series(down, "koji_hosts_enabled") == {}
    assert series(down, "koji_tasks_total") == series(before, "koji_tasks_total")
    # a failed background refresh is counted, the cache kept
    assert not exporter.refresh_tasks()
    down = parse(exporter.render())
    assert value(down, "koji_cache_refresh_errors_total", cache="tasks") == 1
    assert series(down, "koji_tasks_total") == series(before, "koji_tasks_total")
    # the hub comes back
    hub.fault_hook = None
    assert value(parse(exporter.render()), "koji_up") == 1


def test_hub_never_reachable(clock):
    # nothing listens on port 9 of localhost (discard): the scrape answers quickly with koji_up 0
    exporter = Exporter(Settings("http://127.0.0.1:9/kojihub", timeout=2), clock=clock)
    status, _headers, body = _wsgi(make_application(exporter))
    assert status == "200 OK"
    assert value(parse(body), "koji_up") == 0


def test_only_get_and_head(exporter):
    app = make_application(exporter)
    assert _wsgi(app, "POST")[0].startswith("405")
    status, _headers, body = _wsgi(app, "HEAD")
    assert status == "200 OK" and body == b""
