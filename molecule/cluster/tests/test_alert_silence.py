"""A backup does not page: playbooks/backup.yml silences the alerts of its lock-out window in the
Alertmanager koji_monitoring runs on the hub host, and expires the silence at its end.

The backup runs with koji_backup_locked_tasks holding the hub locked until Prometheus fires
KojiHubUnreachable (the exporter cannot read the locked hub: koji_up 0 for longer than
koji_monitoring_alert_down_for) and Alertmanager holds it as suppressed by the backup's
silence; that file records what both showed. Then: the webhook sink (a receiver of every alert)
got no notification of the silenced alerts during the window nor after the silence expired
(Alertmanager's group_wait and a margin later), and Alertmanager shows the silence expired.

Wall time: about koji_monitoring_alert_down_for plus a scrape and an evaluation for the alert
(the scenario's 5 s intervals), the backup's own minute, group_wait and 15 s after it.
"""

import json
import time

import yaml

from conftest import BUILDER1, BUILDER2, HUB, record_timing, run_playbook
from deployed_koji import http_get, wait_ready

ALERTMANAGER = "http://127.0.0.1:9093"
SINK = "/var/lib/kojiforge-webhook-sink/notifications.jsonl"
# What backup.yml silences (its matchers); the test proves the first fires.
SILENCED = ("KojiHubUnreachable", "KojiMetricsCacheStale", "KojiBuilderSilent", "KojiBuilderNotReady")
# The lock-out is held at most this long for the alert to fire and be suppressed: enough for the
# role's default koji_monitoring_alert_down_for (2m) too.
FIRE_WITHIN = 300
BACKUP_DIR = "/var/tmp/kojiforge-silence-test"


def _alertmanager(hub, path):
    return json.loads(http_get(hub, ALERTMANAGER + path))


def _sink_lines(hub):
    sink = hub.file(SINK)
    return sink.content_string.splitlines() if sink.exists else []


def _duration_seconds(text):
    """Alertmanager's group_wait (30s, 1m, 1m30s...)."""
    total, number = 0, ""
    for char in text:
        if char.isdigit():
            number += char
        else:
            total += int(number) * {"s": 1, "m": 60, "h": 3600}[char]
            number = ""
    return total


def _locked_tasks(record):
    """The tasks backup.yml runs while the hub is locked: wait until the alert fires in Prometheus
    and Alertmanager holds it as suppressed, and record both on the controller."""
    firing = ("{{ silence_test_prometheus.json.data.alerts | selectattr('labels.alertname', 'equalto', "
              "'KojiHubUnreachable') | selectattr('state', 'equalto', 'firing') | list | length > 0 }}")
    suppressed = ("{{ silence_test_alertmanager.json | selectattr('status.state', 'equalto', 'suppressed') "
                  "| list | length > 0 }}")
    return [
        {"name": "Silence test | When the wait started",
         "ansible.builtin.set_fact": {"silence_test_started": "{{ now(utc=true).timestamp() }}"}},
        {"name": "Silence test | Wait until Prometheus fires KojiHubUnreachable",
         "ansible.builtin.uri": {"url": "http://127.0.0.1:9090/api/v1/alerts", "return_content": True},
         "delegate_to": HUB, "register": "silence_test_prometheus", "until": firing,
         "retries": FIRE_WITHIN // 5, "delay": 5},
        {"name": "Silence test | Wait until Alertmanager holds it, suppressed",
         "ansible.builtin.uri": {"url": ALERTMANAGER + "/api/v2/alerts?filter=alertname%3D%22KojiHubUnreachable%22",
                                 "return_content": True},
         "delegate_to": HUB, "register": "silence_test_alertmanager", "until": suppressed,
         "retries": 30, "delay": 2},
        {"name": "Silence test | Record what both showed",
         "ansible.builtin.copy": {
             "dest": record, "mode": "0600",
             "content": "{{ {'waited': now(utc=true).timestamp() - silence_test_started | float,"
                        " 'prometheus': silence_test_prometheus.json.data.alerts,"
                        " 'alertmanager': silence_test_alertmanager.json} | to_json }}"},
         "delegate_to": "localhost", "become": False},
    ]


def test_backup_lockout_alerts_fire_but_do_not_page(hub, tmp_path):
    wait_ready(hub, [BUILDER1, BUILDER2])
    status = _alertmanager(hub, "/api/v2/status")
    group_wait = _duration_seconds(yaml.safe_load(status["config"]["original"])["route"].get("group_wait", "30s"))
    sink_before = len(_sink_lines(hub))
    record = tmp_path / "during-lockout.json"
    tasks = tmp_path / "locked-tasks.yml"
    tasks.write_text(yaml.safe_dump(_locked_tasks(str(record)), sort_keys=False))

    name = "silence-test-%d" % time.time()
    try:
        rc, out, seconds = run_playbook(
            "kojiforge.koji.backup", "-e", json.dumps({
                "koji_backup_locked_tasks": str(tasks), "koji_backup_name": name, "koji_backup_dir": BACKUP_DIR,
                "koji_backup_ca": False, "koji_backup_passphrase": "molecule-silence-test-passphrase",
                "koji_maintenance_silence_backup_duration": "30m"}))
        assert rc == 0, out[-5000:]
        record_timing("backup.yml with the lock-out held until KojiHubUnreachable fired", seconds)
        during = json.loads(record.read_text())
        record_timing("lock-out until KojiHubUnreachable fired and was suppressed", during["waited"])

        # The alert really fired, and Alertmanager suppressed it by the backup's silence.
        assert [a for a in during["prometheus"]
                if a["labels"]["alertname"] == "KojiHubUnreachable" and a["state"] == "firing"], during
        held = [a for a in during["alertmanager"] if a["status"]["state"] == "suppressed"]
        assert held, during["alertmanager"]
        silence_ids = set(held[0]["status"]["silencedBy"])
        silences = [s for s in _alertmanager(hub, "/api/v2/silences") if s["id"] in silence_ids]
        assert [s["comment"] for s in silences] == ["kojiforge.koji backup of %s: the hub locked, builders unable "
                                                    "to check in" % HUB], silences

        # After the backup: expired, and nothing paged (group_wait and a margin after the expiry).
        assert all(s["status"]["state"] == "expired" for s in silences), silences
        time.sleep(group_wait + 15)
        paged = []
        for line in _sink_lines(hub)[sink_before:]:
            notification = json.loads(line)
            paged += [a["labels"] for a in notification.get("alerts", [])
                      if a["labels"].get("alertname") in SILENCED and a.get("status") == "firing"]
        assert paged == [], "the backup paged: %s" % paged
    finally:
        hub.run("rm -rf %s" % BACKUP_DIR)
        wait_ready(hub, [BUILDER1, BUILDER2])
