"""The scheduler's view per host (Koji 1.34+): active task runs, recent refusals and what kojid
reports, read in the scrape's one multicall with bounded queries; absent, with the rest of the
scrape intact, from a hub without the scheduler API (Koji < 1.34)."""

import koji
import pytest

from exporter_support import HUB_TIMEOUT, NOW, FakeHub, Exporter, Settings, TaskAPI, parse, seed, series, value

from fakehub.api_tasks import add_refusal, add_task_run, set_host_data, set_task_state
from kojiforge_metrics import snapshot

B1, B2, B3 = "b1.example.com", "b2.example.com", "b3.example.com"
SCHEDULER_FAMILIES = ("koji_scheduler_active_runs", "koji_scheduler_task_refusals",
                      "koji_scheduler_host_methods")


def _runs(samples):
    return dict((dict(labels)["host"] + "/" + dict(labels)["state"], v)
                for labels, v in series(samples, "koji_scheduler_active_runs").items())


def _refusals(samples):
    return dict((dict(labels)["host"] + "/soft=" + dict(labels)["soft"], v)
                for labels, v in series(samples, "koji_scheduler_task_refusals").items())


def test_active_runs_per_host_and_task_state(exporter):
    samples = parse(exporter.render())
    # b1: task 5 assigned, task 6 open (task 7 was assigned by hand: no run; task 1's run ended);
    # b2: task 8 open (task 11 finished: its still-active run is not counted); b3: none, but 0s
    assert _runs(samples) == {
        B1 + "/assigned": 1, B1 + "/open": 1,
        B2 + "/assigned": 0, B2 + "/open": 1,
        B3 + "/assigned": 0, B3 + "/open": 0}


def test_runs_follow_the_tasks(hub, exporter):
    set_task_state(hub.state, 5, "OPEN", host=B1, start_ts=NOW)
    set_task_state(hub.state, 6, "CLOSED", completion_ts=NOW)
    samples = parse(exporter.render())
    assert value(samples, "koji_scheduler_active_runs", host=B1, state="assigned") == 0
    assert value(samples, "koji_scheduler_active_runs", host=B1, state="open") == 1
    add_task_run(hub.state, 4, B2, create_ts=NOW)
    set_task_state(hub.state, 4, "ASSIGNED", host=B2)
    samples = parse(exporter.render())
    assert value(samples, "koji_scheduler_active_runs", host=B2, state="assigned") == 1


def test_recent_refusals_per_host_soft_or_not(exporter):
    samples = parse(exporter.render())
    # b2: two soft ones (its own, and an assignment that timed out); b1: the hub's arch refusal;
    # b3's is older than the window
    assert _refusals(samples) == {
        B1 + "/soft=true": 0, B1 + "/soft=false": 1,
        B2 + "/soft=true": 2, B2 + "/soft=false": 0,
        B3 + "/soft=true": 0, B3 + "/soft=false": 0}


def test_refusals_leave_the_window_as_the_clock_moves(hub, exporter, clock):
    # b2's refusals were made 60 s and 300 s before NOW: 700 s later, only the 60 s one is left
    clock.now = NOW + 700
    samples = parse(exporter.render())
    assert value(samples, "koji_scheduler_task_refusals", host=B2, soft="true") == 1
    add_refusal(hub.state, 8, B1, soft=True, ts=clock.now - 1)
    samples = parse(exporter.render())
    assert value(samples, "koji_scheduler_task_refusals", host=B1, soft="true") == 1
    clock.now = NOW + 60 + snapshot.REFUSAL_WINDOW + 1
    samples = parse(exporter.render())
    assert value(samples, "koji_scheduler_task_refusals", host=B2, soft="true") == 0


def test_host_methods_from_what_kojid_reports(hub, exporter):
    samples = parse(exporter.render())
    # only b1's kojid reported scheduler data
    assert series(samples, "koji_scheduler_host_methods") == {frozenset({("host", B1)}): 1}
    set_host_data(hub.state, B2, {"maxjobs": 1, "methods": ["build", "buildArch", "sleep"]})
    samples = parse(exporter.render())
    assert value(samples, "koji_scheduler_host_methods", host=B2) == 3
    assert value(samples, "koji_host_max_jobs", host=B2) == 1


def test_scheduler_reads_are_bounded_and_in_the_one_multicall(hub, exporter):
    seen = []

    def record(method, args, kwargs):
        if method.startswith("scheduler."):
            seen.append((method, args, kwargs))

    exporter.render()           # the first scrape learns the channels
    hub.fault_hook = record
    hub.reset_counters()
    exporter.render()
    assert hub.requests == 1
    calls = dict((method, kwargs) for method, _args, kwargs in seen)
    assert sorted(calls) == ["scheduler.getHostData", "scheduler.getTaskRefusals",
                             "scheduler.getTaskRuns"]
    # only active runs of tasks still assigned or open, two fields each
    runs = calls["scheduler.getTaskRuns"]
    assert runs["clauses"] == [["active", True],
                               ["state", "IN", [koji.TASK_STATES["ASSIGNED"], koji.TASK_STATES["OPEN"]]]]
    assert runs["fields"] == ["host_id", "state"]
    # only refusals within the window, two fields each
    refusals = calls["scheduler.getTaskRefusals"]
    assert refusals["clauses"] == [["ts", ">=", NOW - snapshot.REFUSAL_WINDOW]]
    assert refusals["fields"] == ["host_id", "soft"]


@pytest.fixture(name="old_hub")
def fixture_old_hub():
    """A hub without the scheduler API (Koji < 1.34): its calls are invalid methods."""
    def no_scheduler(method, _args, _kwargs):
        if method.startswith("scheduler."):
            return koji.GenericError("Invalid method: %s" % method)
        return None

    with FakeHub(extra_handlers=[TaskAPI()], fault_hook=no_scheduler) as hub:
        seed(hub.state, hub.session())
        yield hub


def test_hub_without_scheduler_api(old_hub, clock):
    exporter = Exporter(Settings(old_hub.url, timeout=HUB_TIMEOUT, scrape_cache_ttl=0), clock=clock)
    samples = parse(exporter.render())
    assert value(samples, "koji_up") == 1
    for name in SCHEDULER_FAMILIES:
        assert series(samples, name) == {}, name
    # the rest of the scrape is there; maxjobs falls back to the exporter's default
    assert value(samples, "koji_host_open_tasks", host=B1) == 2
    assert value(samples, "koji_host_max_jobs", host=B1) == 10
    assert value(samples, "koji_hosts_ready", host=B1) == 1


def test_a_failing_scheduler_call_drops_only_its_family(hub, exporter):
    def no_refusals(method, _args, _kwargs):
        if method == "scheduler.getTaskRefusals":
            return koji.GenericError("Invalid field for query ts")
        return None

    hub.fault_hook = no_refusals
    samples = parse(exporter.render())
    assert value(samples, "koji_up") == 1
    assert series(samples, "koji_scheduler_task_refusals") == {}
    assert value(samples, "koji_scheduler_active_runs", host=B1, state="open") == 1
