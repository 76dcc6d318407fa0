"""Every query of the Grafana dashboard returns data from the cluster's real Prometheus.

Grafana cannot be installed from our package sources, so the test does what Grafana would:
it takes each panel's targets from roles/koji_monitoring/files/kojiforge-koji-dashboard.json,
expands the template variables with the values Prometheus has for them ($job from the
variable's label_values() query) and Grafana's built-in ones ($__interval, $__rate_interval,
$__range), and runs the query on Prometheus' HTTP API on the hub: an instant query for the
instant targets, a range query over Prometheus' lifetime for the others (a rate needs two
samples). Each must return at least one series with a value that is a number (NaN is what
Grafana shows as no data).

Some panels have data only after an event: a task running (tasks in progress), a task that
failed (failed tasks), tasks finishing after their (channel, method) was first seen (the rates
and the duration quantiles). The module's fixture makes those events as the administrator:
a `sleep` task that runs for a minute on the default channel, then one that fails (its
argument is not a number).
"""

import datetime
import math
import re
import time

import pytest

from conftest import BUILDER2, READY_TIMEOUT, hub_call, koji, wait_for
from deployed_koji import prometheus, wait_ready
import dashboard_queries

DASHBOARD = dashboard_queries.load()
TARGETS = dashboard_queries.targets(DASHBOARD)
# The metric families whose series come from the exporter's per-tag/per-package count cache:
# refreshed every count_refresh_interval, so they may appear only at the next refresh.
COUNTS = ("koji_builds_per_tag", "koji_packages_per_tag", "koji_builds_per_package")
# Koji 1.35 added the repo request queue the exporter reads.
REPO_QUEUE = ("koji_repo_queue_length", "koji_repo_max_waiting_time")
# How long the running task runs (seconds); the scrape interval in the scenario is 5 s.
SLEEP = 60
TASK_STATES = {0: "FREE", 1: "OPEN", 2: "CLOSED", 3: "CANCELED", 4: "ASSIGNED", 5: "FAILED"}
DURATION = re.compile(r"(\d+)(ms|s|m|h|d)")
UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(text):
    return sum(int(number) * UNITS[unit] for number, unit in DURATION.findall(text))


def _query(hub, expr):
    return prometheus(hub, "/api/v1/query", query=expr)["result"]


def _make_task(hub, *args):
    out = koji(hub, "make-task", "--channel", "default", *args).stdout
    return int(re.search(r"Created task id (\d+)", out).group(1))


def _task_state(hub, task_id):
    return TASK_STATES[hub_call(hub, "getTaskInfo", task_id)["state"]]


def _wait_task(hub, task_id, states):
    """The task's state once it is one of `states`."""
    def reached():
        state = _task_state(hub, task_id)
        return state if state in states else None
    return wait_for("task %d %s" % (task_id, " or ".join(states)), reached, timeout=READY_TIMEOUT)


def _wait_series(hub, what, expr, timeout=180):
    return wait_for("Prometheus: %s (%s)" % (what, expr), lambda: _query(hub, expr), timeout=timeout)


@pytest.fixture(scope="module", name="events")
def fixture_events(hub):
    """A task that runs, then one that fails, each seen by Prometheus."""
    wait_ready(hub, [BUILDER2])
    running = _make_task(hub, "sleep", str(SLEEP))
    # While it runs: the tasks in progress, and every counter of (default, sleep) at its value
    # before the failure, so that increase() sees the failure (a series that appears with 1
    # increases by nothing).
    _wait_series(hub, "the sleep task in progress", 'koji_in_progress_tasks{method="sleep"} > 0',
                 timeout=READY_TIMEOUT)
    _wait_series(hub, "the sleep counters", 'koji_task_errors_total{method="sleep"}')
    failing = _make_task(hub, "sleep", "not-a-number")
    assert _wait_task(hub, failing, ("FAILED",)) == "FAILED"
    _wait_series(hub, "the failure counted",
                 'increase(koji_task_errors_total{method="sleep"}[5m]) > 0')
    assert _wait_task(hub, running, ("CLOSED", "FAILED")) == "CLOSED"
    _wait_series(hub, "a second sleep task finished after the first",
                 'increase(koji_task_duration_seconds_count{method="sleep"}[5m]) > 0')
    return {"running": running, "failing": failing}


@pytest.fixture(scope="module", name="window")
def fixture_window(hub, events):
    """What Grafana would send with each query: the variables' values, the time range (Prometheus'
    lifetime, at most 6 h) and the step."""
    assert events
    targets = [t for t in prometheus(hub, "/api/v1/targets")["activeTargets"] if t["labels"].get("job") == "koji"]
    assert targets, "no koji job in Prometheus"
    scrape = _seconds(targets[0].get("scrapeInterval", "")) or _seconds(
        re.search(r"scrape_interval: *(\S+)", prometheus(hub, "/api/v1/status/config")["yaml"]).group(1))
    started = prometheus(hub, "/api/v1/status/runtimeinfo")["startTime"]
    start = datetime.datetime.strptime(started[:19], "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    values = {}
    for name, variable in dashboard_queries.query_variables(DASHBOARD).items():
        selector, label = dashboard_queries.variable_query(variable)
        params = {"match[]": selector} if selector else {}
        found = prometheus(hub, "/api/v1/label/%s/values" % label, **params)
        assert found, "template variable %s: Prometheus has no value for label_values(%s, %s)" % (
            name, selector, label)
        values[name] = dashboard_queries.variable_text(variable, found)
    return {"scrape": scrape, "start": max(start, time.time() - 6 * 3600), "values": values}


@pytest.fixture(scope="module", name="count_refresh")
def fixture_count_refresh(hub):
    """The exporter's count_refresh_interval (seconds), from its configuration."""
    match = re.search(r"^count_refresh_interval *= *(\d+)", hub.file("/etc/kojiweb/metrics.conf").content_string, re.M)
    return int(match.group(1)) if match else 600


@pytest.fixture(scope="module", name="koji_version")
def fixture_koji_version(hub):
    return tuple(int(part) for part in re.findall(r"\d+", hub_call(hub, "getKojiVersion"))[:2])


def _run(hub, target, window):
    """The target's query as Grafana sends it: (expanded expression, result)."""
    end = time.time()
    span = max(end - window["start"], window["scrape"])
    step = max(window["scrape"], math.ceil(span / 500.0))
    values = dict(window["values"], **dashboard_queries.builtins(step, window["scrape"], span))
    expr = dashboard_queries.expand(target.expr, values)
    if target.instant:
        return expr, prometheus(hub, "/api/v1/query", query=expr, time="%.3f" % end)["result"]
    return expr, prometheus(hub, "/api/v1/query_range", query=expr, start="%.3f" % (end - span),
                            end="%.3f" % end, step=str(step))["result"]


def _numbers(series):
    samples = series.get("values") or [series["value"]]
    return [float(value) for _ts, value in samples if not math.isnan(float(value))]


@pytest.mark.parametrize("target", TARGETS, ids=["panel%d-%s" % (t.panel_id, t.ref_id) for t in TARGETS])
def test_panel_query_returns_data(hub, target, window, count_refresh, koji_version):
    if koji_version < (1, 35) and any(name in target.expr for name in REPO_QUEUE):
        pytest.skip("Koji %s has no repo request queue (1.35+): %s" % (".".join(map(str, koji_version)), target.name))
    # the count cache may be older than the tags and packages the scenario made: one refresh more
    timeout = count_refresh + 120 if any(name in target.expr for name in COUNTS) else 60
    found = {}

    def has_numbers():
        try:
            found["expr"], found["result"] = _run(hub, target, window)
        except AssertionError as error:  # Prometheus refused the query: no use waiting
            found["refused"] = str(error)
            return True
        return [series for series in found["result"] if _numbers(series)]

    try:
        wait_for("data for %s" % target.name, has_numbers, timeout=timeout, interval=5)
    except pytest.fail.Exception:
        pytest.fail("panel %r, query %s: no series with a number from Prometheus.\nquery: %s\nresult: %s"
                    % (target.panel, target.ref_id, found.get("expr"), str(found.get("result"))[:2000]))
    assert "refused" not in found, "panel %r, query %s: Prometheus refused it: %s" % (
        target.panel, target.ref_id, found["refused"])


def _panel_target(title, ref_id="A"):
    matches = [t for t in TARGETS if t.panel == title and t.ref_id == ref_id]
    assert len(matches) == 1, "the dashboard has no panel %r with a query %s" % (title, ref_id)
    return matches[0]


def test_failed_tasks_panel_shows_the_failed_task(hub, window):
    """The failed sleep task is a bar above zero in "Failed tasks per method"."""
    target = _panel_target("Failed tasks per method")
    expr, result = _run(hub, target, window)
    sleep = [s for s in result if s["metric"].get("method") == "sleep"]
    assert sleep and max(_numbers(sleep[0])) > 0, (expr, result)


def test_in_progress_panel_shows_the_running_task(hub, window):
    """The sleep task that ran for a minute shows in "Tasks in progress per channel"."""
    target = _panel_target("Tasks in progress per channel")
    expr, result = _run(hub, target, window)
    default = [s for s in result if s["metric"].get("channel") == "default"]
    assert default and max(_numbers(default[0])) >= 1, (expr, result)
