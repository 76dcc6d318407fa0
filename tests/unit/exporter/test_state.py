"""The background state: kept on disk across restarts (state.py), served at /state and followed
by the other web hosts' exporters (Exporter with refresh_url)."""

import gzip
import json
import logging
import math
import os
import threading
import wsgiref.simple_server

import pytest

from exporter_support import HUB_TIMEOUT, Exporter, FixedClock, Settings, parse, series, value
from fakehub.api_tasks import add_build, add_task
from kojiforge_metrics import state
from kojiforge_metrics.wsgi import make_application

COUNTERS = ("koji_tasks_total", "koji_task_completions_total", "koji_task_succeed_total",
            "koji_task_errors_total", "koji_task_duration_seconds_count")


def settings_for(hub, **extra):
    return Settings(hub.url, timeout=HUB_TIMEOUT, task_scan_chunk=3, multicall_batch=4, scrape_cache_ttl=0,
                    **extra)


def counters(exporter):
    samples = parse(exporter.render())
    return dict(((name, labels), v) for name in COUNTERS for labels, v in series(samples, name).items())


def refreshed(exporter):
    assert exporter.refresh_counts()
    assert exporter.refresh_tasks()
    return exporter


def not_lower(after, before):
    """The counters of ``before`` that went down in ``after`` (a monotonic counter never does)."""
    return dict((key, (v, after.get(key))) for key, v in before.items() if after.get(key, -1) < v)


def test_restart_with_state_continues_incrementally(hub, tmp_path):
    first = refreshed(Exporter(settings_for(hub, state_dir=str(tmp_path)), clock=FixedClock()))
    before = counters(first)
    assert before and value(parse(first.render()), "koji_builds_per_package", package="bash") == 2
    assert sorted(os.listdir(tmp_path)) == ["counts.json", "tasks.json"]   # no temporary file left

    add_task(hub.state, "build", "default", "CLOSED", create_ts=1, start_ts=2, completion_ts=3)
    hub.reset_counters()
    second = Exporter(settings_for(hub, state_dir=str(tmp_path)), clock=FixedClock())
    # served from the kept state before any hub read
    assert hub.requests == 0
    assert counters(second) == before
    assert hub.requests == 1   # that scrape's own hub read only
    hub.reset_counters()
    refreshed(second)
    # the counts from the last hub event, the tasks from the last id: no full recount or walk
    assert second._counts.kind == "incremental"  # pylint: disable=protected-access
    assert "queryHistory" in hub.calls and hub.calls.get("listPackages") == 1
    # the tasks seen unfinished (4-9), the gap (10) and the new one (12), 3 ids per call; none of
    # the finished ones (1-3, 11) again
    assert hub.calls["getTaskInfo"] == math.ceil((6 + 1 + 1) / 3)
    after = counters(second)
    assert not not_lower(after, before)
    assert value(parse(second.render()), "koji_tasks_total", channel="default", method="build") == \
        before[("koji_tasks_total", frozenset({("channel", "default"), ("method", "build")}))] + 1


def test_without_state_the_walk_starts_over(hub, tmp_path):
    refreshed(Exporter(settings_for(hub, state_dir=str(tmp_path)), clock=FixedClock()))
    hub.reset_counters()
    fresh = refreshed(Exporter(settings_for(hub), clock=FixedClock()))
    assert fresh._counts.kind == "full"  # pylint: disable=protected-access
    assert hub.calls["getTaskInfo"] > 1


@pytest.mark.parametrize("content, message", [
    (b"{not json", "cannot be"),
    (b"\x80\x81", "ignoring the kept state"),
    (json.dumps({"format": 999, "server": "x", "cache": "tasks", "data": {}}).encode(), "format 999"),
    (b"[]", "not a JSON object"),
], ids=["corrupt", "binary", "other-format", "not-an-object"])
def test_a_corrupt_or_foreign_file_is_ignored(hub, tmp_path, caplog, content, message):
    (tmp_path / "tasks.json").write_bytes(content)
    (tmp_path / "counts.json").write_bytes(content)
    with caplog.at_level(logging.INFO, logger="kojiforge_metrics"):
        exporter = Exporter(settings_for(hub, state_dir=str(tmp_path)), clock=FixedClock())
    assert message in caplog.text or "ignoring" in caplog.text
    assert counters(exporter) == {}
    refreshed(exporter)   # and it starts from nothing, then keeps its own state
    assert json.loads((tmp_path / "tasks.json").read_bytes())["server"] == hub.url


def test_another_hubs_state_is_ignored(hub, tmp_path, caplog):
    refreshed(Exporter(settings_for(hub, state_dir=str(tmp_path)), clock=FixedClock()))
    other = Settings("https://other.example.com/kojihub", state_dir=str(tmp_path))
    with caplog.at_level(logging.INFO, logger="kojiforge_metrics"):
        exporter = Exporter(other, clock=FixedClock())
    assert "state of the hub" in caplog.text
    assert exporter._tasks.next_id is None  # pylint: disable=protected-access
    assert exporter._counts.event is None  # pylint: disable=protected-access


def test_a_document_with_bad_data_is_ignored(hub, tmp_path, caplog):
    refreshed(Exporter(settings_for(hub, state_dir=str(tmp_path)), clock=FixedClock()))
    doc = json.loads((tmp_path / "tasks.json").read_bytes())
    doc["data"]["histograms"]["koji_task_duration_seconds"][0][2] = [1, 2]   # too few buckets
    (tmp_path / "tasks.json").write_text(json.dumps(doc))
    with caplog.at_level(logging.INFO, logger="kojiforge_metrics"):
        exporter = Exporter(settings_for(hub, state_dir=str(tmp_path)), clock=FixedClock())
    assert "bucket counts" in caplog.text
    assert exporter._tasks.next_id is None  # pylint: disable=protected-access
    assert exporter._counts.event is not None  # pylint: disable=protected-access   # counts.json was fine


def test_an_unwritable_state_dir_is_logged_not_raised(hub, tmp_path, caplog):
    missing = tmp_path / "missing"
    exporter = Exporter(settings_for(hub, state_dir=str(missing)), clock=FixedClock())
    with caplog.at_level(logging.WARNING, logger="kojiforge_metrics"):
        refreshed(exporter)
    assert "keeping the state of the tasks cache" in caplog.text


class Served:
    """An exporter's WSGI application over HTTP, in a thread (the refresh host)."""

    def __init__(self, exporter):
        self.server = wsgiref.simple_server.make_server(
            "127.0.0.1", 0, make_application(exporter), handler_class=Quiet)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = "http://127.0.0.1:%d/metrics/state" % self.server.server_port

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class Quiet(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass

    def get_environ(self):
        environ = super().get_environ()
        # mounted at /metrics, as mod_wsgi's WSGIScriptAlias does
        environ["SCRIPT_NAME"], environ["PATH_INFO"] = "/metrics", environ["PATH_INFO"][len("/metrics"):]
        return environ


def test_state_endpoint_serves_json_gzipped(hub):
    leader = refreshed(Exporter(settings_for(hub), clock=FixedClock()))
    app = make_application(leader)
    answers = []
    body = b"".join(app({"REQUEST_METHOD": "GET", "PATH_INFO": "/state", "HTTP_ACCEPT_ENCODING": "gzip"},
                        lambda status, headers, exc_info=None: answers.append((status, dict(headers)))))
    status, headers = answers[0]
    assert status == "200 OK" and headers["Content-Encoding"] == "gzip"
    assert headers["Content-Type"] == "application/json"
    doc = json.loads(gzip.decompress(body))
    assert doc["server"] == hub.url and doc["format"] == state.FORMAT
    assert set(doc["caches"]) == {"counts", "tasks"}
    assert doc["caches"]["counts"]["data"]["builds_per_package"] == {"bash": 2, "zsh": 1}
    # what it exposes is the anonymous hub data of /metrics: no session, no certificate
    assert "session" not in json.dumps(doc) and "cert" not in json.dumps(doc)


def test_a_follower_takes_the_refresh_hosts_figures(hub):
    clock = FixedClock()
    leader = refreshed(Exporter(settings_for(hub), clock=clock))
    with Served(leader) as served:
        follower = Exporter(settings_for(hub, refresh_url=served.url), clock=clock)
        hub.reset_counters()
        assert follower.refresh_counts() and follower.refresh_tasks()
        assert hub.requests == 0   # no hub read at all
        ours, theirs = parse(follower.render()), parse(leader.render())
    assert counters(follower) == counters(leader)
    assert series(ours, "koji_builds_per_tag") == series(theirs, "koji_builds_per_tag")
    assert value(ours, "koji_cache_source", cache="tasks", source="refresh_host") == 1
    assert value(ours, "koji_cache_source", cache="counts", source="refresh_host") == 1
    assert value(theirs, "koji_cache_source", cache="tasks", source="hub") == 1


def test_a_follower_refreshes_itself_while_the_refresh_host_is_down_and_follows_again(hub, caplog):
    clock = FixedClock()
    leader = refreshed(Exporter(settings_for(hub), clock=clock))
    with Served(leader) as served:
        follower = Exporter(settings_for(hub, refresh_url=served.url, task_refresh_interval=0.01), clock=clock)
        assert follower.refresh_tasks() and follower.refresh_counts()
        followed = counters(follower)
    # the refresh host is gone: the follower reads the hub itself, incrementally from its copy
    add_task(hub.state, "build", "default", "FAILED", create_ts=1, start_ts=2, completion_ts=3)
    hub.reset_counters()
    with caplog.at_level(logging.WARNING, logger="kojiforge_metrics"):
        assert follower.refresh_tasks()
    assert "did not answer" in caplog.text
    assert hub.calls["getTaskInfo"] == math.ceil((6 + 1 + 1) / 3)   # unfinished, gap, new: no full walk
    alone = counters(follower)
    assert not not_lower(alone, followed) and alone != followed
    assert value(parse(follower.render()), "koji_cache_source", cache="tasks", source="hub") == 1
    # counts: its own refresh waits for count_refresh_interval since the last one
    hub.reset_counters()
    assert follower.refresh_counts()
    assert hub.requests == 0
    # the refresh host answers again, but behind: the follower keeps its own until it catches up
    with Served(leader) as served:
        follower.settings.refresh_url = served.url
        follower._followed = None  # pylint: disable=protected-access
        assert follower.refresh_tasks()
        assert value(parse(follower.render()), "koji_cache_source", cache="tasks", source="hub") == 1
        assert leader.refresh_tasks()
        follower._followed = None  # pylint: disable=protected-access
        hub.reset_counters()
        assert follower.refresh_tasks()
        assert hub.requests == 0
    assert value(parse(follower.render()), "koji_cache_source", cache="tasks", source="refresh_host") == 1
    assert counters(follower) == counters(leader)


def test_a_stale_refresh_host_state_is_not_followed(hub):
    clock = FixedClock()
    leader = refreshed(Exporter(settings_for(hub), clock=clock))
    with Served(leader) as served:
        follower = Exporter(settings_for(hub, refresh_url=served.url), clock=clock)
        clock.now += 3 * follower.settings.task_refresh_interval + 1
        hub.reset_counters()
        assert follower.refresh_tasks()
    assert hub.calls["getTaskInfo"] >= 1
    assert value(parse(follower.render()), "koji_cache_source", cache="tasks", source="hub") == 1


def test_a_refresh_host_of_another_hub_is_not_followed(hub):
    leader = refreshed(Exporter(settings_for(hub), clock=FixedClock()))
    with Served(leader) as served:
        follower = Exporter(Settings(hub.url + "/", timeout=HUB_TIMEOUT, refresh_url=served.url), clock=FixedClock())
        doc, why = follower._followed_state()  # pylint: disable=protected-access
    assert doc is None and "follows the hub" in why


def test_state_round_trip_keeps_every_counter(hub):
    exporter = refreshed(Exporter(settings_for(hub), clock=FixedClock()))
    add_build(hub.state, "zsh", tags=("f40",))
    tasks = exporter._tasks  # pylint: disable=protected-access
    copy, channels = state.tasks_from_data(json.loads(json.dumps(state.tasks_data(tasks, {1: "default"}))),
                                           tasks.buckets)
    assert channels == {1: "default"}
    assert copy.copy_for_collect() == tasks.copy_for_collect()
    assert (copy.next_id, copy.pending, copy.gaps) == (tasks.next_id, tasks.pending, tasks.gaps)
    assert state.not_behind(copy, tasks) and state.not_behind(tasks, copy)
    copy.created[next(iter(copy.created))] -= 1
    assert not state.not_behind(copy, tasks)
