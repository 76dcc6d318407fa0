"""A real Alertmanager (Debian's /usr/bin/prometheus-alertmanager, which testbed/prepare.sh
installs) runs on the configuration koji_monitoring renders, with a generic webhook receiver
pointing at a Python HTTP sink of this test and a short group_wait. Alerts are posted through its
v2 API as Prometheus would post them; the sink receives the notifications:

- the hub down (KojiHubUnreachable of a job) gives one notification, not one per builder that
  then looks silent: the builder alerts of that job are inhibited; the same builder alerts of a
  job whose hub is up do notify (so the inhibition, not a slow run, held them back);
- builder alerts of different channels arrive in separate notifications, those of one channel in one;
- an alert of severity info reaches no receiver, while a warning posted with it does.
"""

import json
import os
import pathlib
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "unit" / "roles"))
from test_koji_monitoring_prometheus import _render  # noqa: E402  pylint: disable=wrong-import-position

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
GROUP_WAIT = "1s"
# After the expected notifications have arrived, how long the sink keeps listening for any other.
QUIET_SECONDS = 6
TIMEOUT = 60


class _Sink(BaseHTTPRequestHandler):
    received = None  # set per server

    def do_POST(self):  # noqa: N802  pylint: disable=invalid-name
        length = int(self.headers.get("Content-Length", "0"))
        self.server.received.append(json.loads(self.rfile.read(length).decode("utf-8")))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url):
    with urllib.request.urlopen(url, timeout=5) as answer:
        return answer.read().decode("utf-8")


@pytest.fixture(name="sink")
def fixture_sink():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(name="alertmanager")
def fixture_alertmanager(tmp_path, sink):
    """The API URL of an Alertmanager on the role's configuration, its webhook to the sink."""
    if not os.access(ALERTMANAGER, os.X_OK):
        pytest.fail("%s is missing: testbed/prepare.sh installs it (Debian's prometheus-alertmanager)" % ALERTMANAGER)
    text = _render("Debian", "alertmanager.yml.j2",
                   koji_monitoring_alertmanager_receivers=[
                       {"name": "sink", "type": "webhook", "url": "http://127.0.0.1:%d/" % sink.server_port}],
                   koji_monitoring_alertmanager_group_wait=GROUP_WAIT,
                   koji_monitoring_alertmanager_group_interval="1s")
    config = tmp_path / "alertmanager.yml"
    config.write_text(text)
    port = _free_port()
    log = (tmp_path / "alertmanager.log").open("w")
    proc = subprocess.Popen([ALERTMANAGER, "--config.file=%s" % config, "--storage.path=%s" % (tmp_path / "data"),
                             "--web.listen-address=127.0.0.1:%d" % port, "--cluster.listen-address="],
                            stdout=log, stderr=subprocess.STDOUT)
    url = "http://127.0.0.1:%d" % port
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _get(url + "/-/ready")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("Alertmanager did not start:\n%s" % (tmp_path / "alertmanager.log").read_text())
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def _alert(name, severity, **labels):
    labels = dict(labels, alertname=name, severity=severity)
    return {"labels": labels, "annotations": {"summary": "%s %s" % (name, labels.get("host", labels.get("instance")))},
            "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 5)),
            "endsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))}


def _post(url, alerts):
    request = urllib.request.Request(url + "/api/v2/alerts", data=json.dumps(alerts).encode("utf-8"),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 200


def _wait_then_settle(sink, count):
    """The notifications once `count` have arrived and QUIET_SECONDS have passed without another."""
    deadline = time.monotonic() + TIMEOUT
    while len(sink.received) < count:
        assert time.monotonic() < deadline, "only %d of %d notifications: %r" % (len(sink.received), count, sink.received)
        time.sleep(0.2)
    seen = len(sink.received)
    settle = time.monotonic() + QUIET_SECONDS
    while time.monotonic() < settle:
        if len(sink.received) != seen:
            seen = len(sink.received)
            settle = time.monotonic() + QUIET_SECONDS
        time.sleep(0.2)
    return [n for n in sink.received if n["status"] == "firing"]


def _summary(notification):
    alerts = sorted((a["labels"]["alertname"], a["labels"].get("host", "")) for a in notification["alerts"])
    return (notification["groupLabels"], alerts)


def _latest_per_group(notifications):
    """The last notification of each group. Alertmanager sends a group's whole set of alerts each
    time, and on a loaded machine a batch may reach it as two updates a group_interval apart: the
    last notification is what the group came to, however many it took."""
    latest = {}
    for notification in notifications:
        latest[notification["groupKey"]] = notification
    return list(latest.values())


def test_hub_down_is_one_notification_not_one_per_builder(alertmanager, sink):
    builders = ["b1", "b2", "b3"]
    # The hub goes down first, as it does: the builder alerts' `for` keeps them pending meanwhile.
    _post(alertmanager, [_alert("KojiHubUnreachable", "critical", job="koji", instance="web1:443")])
    first = _wait_then_settle(sink, 1)
    assert [_summary(n) for n in first] == [
        ({"alertname": "KojiHubUnreachable", "job": "koji"}, [("KojiHubUnreachable", "")])], first
    hub = first[0]
    assert hub["receiver"] == "sink"
    assert hub["alerts"][0]["annotations"]["summary"] == "KojiHubUnreachable web1:443"
    # Then its builders look silent; and, the control, so do those of a hub that is up (job
    # koji-up), which must page.
    alerts = [_alert("KojiBuilderSilent", "critical", job="koji", host=b) for b in builders]
    alerts += [_alert("KojiBuilderSilent", "critical", job="koji-up", host=b) for b in builders]
    _post(alertmanager, alerts)
    notifications = _wait_then_settle(sink, len(first) + 1)
    later = [n for n in notifications if n["groupLabels"]["alertname"] != "KojiHubUnreachable"]
    assert [_summary(n) for n in _latest_per_group(later)] == [
        ({"alertname": "KojiBuilderSilent", "job": "koji-up"}, [("KojiBuilderSilent", b) for b in builders]),
    ], notifications
    # Alertmanager holds the hub's builder alerts, inhibited by the hub's.
    held = json.loads(_get(alertmanager + "/api/v2/alerts?filter=job%3D%22koji%22&filter=alertname%3D%22KojiBuilderSilent%22"))
    assert sorted((a["labels"]["host"], a["status"]["state"]) for a in held) == [
        (b, "suppressed") for b in builders], held
    assert all(a["status"]["inhibitedBy"] for a in held), held


def test_builder_alerts_of_different_channels_go_in_separate_notifications(alertmanager, sink):
    alerts = [_alert("KojiBuilderSilent", "critical", job="koji", host="b1", channel="default"),
              _alert("KojiBuilderSilent", "critical", job="koji", host="b2", channel="default"),
              _alert("KojiBuilderSilent", "critical", job="koji", host="b3", channel="image")]
    _post(alertmanager, alerts)
    notifications = _latest_per_group(_wait_then_settle(sink, 2))
    by_channel = {n["groupLabels"].get("channel"): sorted(a["labels"]["host"] for a in n["alerts"]) for n in notifications}
    assert len(notifications) == 2, notifications
    assert by_channel == {"default": ["b1", "b2"], "image": ["b3"]}, notifications


def test_severity_info_reaches_no_receiver(alertmanager, sink):
    alerts = [_alert("KojiBuilderOverloaded", "info", job="koji", host="b1"),
              _alert("KojiBuilderNotReady", "warning", job="koji", host="b2")]
    _post(alertmanager, alerts)
    notifications = _latest_per_group(_wait_then_settle(sink, 1))
    assert [_summary(n) for n in notifications] == [
        ({"alertname": "KojiBuilderNotReady", "job": "koji"}, [("KojiBuilderNotReady", "b2")])], notifications
    # Alertmanager has it, routed to nobody.
    held = json.loads(_get(alertmanager + "/api/v2/alerts?filter=severity%3D%22info%22"))
    assert [(a["labels"]["alertname"], [r["name"] for r in a["receivers"]]) for a in held] == [
        ("KojiBuilderOverloaded", ["kojiforge-nobody"])]


def test_the_configuration_under_test_is_the_roles():
    """The receiver config the tests above rely on comes from the role's template, with its
    grouping (alertname, job, channel) and its inhibition rule."""
    config = yaml.safe_load(_render("Debian", "alertmanager.yml.j2"))
    assert config["route"]["group_by"] == ["alertname", "job", "channel"]
    assert any("KojiHubUnreachable" in r["source_matchers"][0] for r in config["inhibit_rules"])
