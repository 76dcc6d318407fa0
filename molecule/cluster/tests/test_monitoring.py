"""Monitoring against the real hub: koji-web serves /metrics from its own mod_wsgi process,
Prometheus (koji_monitoring, on the hub host) scrapes it, and what its HTTP API shows follows the
builders: koji_hosts_ready is 1 for each running builder and turns 0 when kojid stops."""

import pathlib
import re

import pytest

from conftest import BUILDER1, BUILDER2, HUB, READY_TIMEOUT, hub_call, wait_for
from deployed_koji import prometheus, ready_by_host


def test_metrics_served_by_koji_web(hub):
    """/metrics on the web's TLS site, verified against the Koji CA, answers from a hub it reaches."""
    cmd = hub.run("curl -fsS --cacert /etc/pki/koji/koji-ca.crt https://%s/metrics" % HUB)
    assert cmd.rc == 0, cmd.stderr
    text = cmd.stdout
    assert re.search(r"^koji_up 1(\.0)?$", text, re.M), text[:2000]
    assert "# TYPE koji_hosts_ready gauge" in text
    for builder in (BUILDER1, BUILDER2):
        assert re.search(r'^koji_hosts_ready\{host="%s"\} 1(\.0)?$' % re.escape(builder), text, re.M), text[:4000]
    # One dedicated daemon process of one process, apart from koji-web's (its user: below).
    processes = hub.run("ps -eo args").stdout.splitlines()
    assert len([p for p in processes if p.startswith("koji-metrics")]) == 1, processes
    assert len([p for p in processes if p.startswith("(wsgi:koji-web)")]) >= 1, processes
    config = hub.file("/etc/kojiweb/metrics.conf")
    assert config.contains("^server = https://%s/kojihub$" % re.escape(HUB))


def test_exporter_installed_as_a_package_in_its_virtualenv(hub):
    """The exporter is the kojiforge-metrics wheel in /opt/kojiforge/metrics-venv (the collection's
    version), the metrics process imports it from there, and no copy of earlier versions is left."""
    venv = "/opt/kojiforge/metrics-venv"
    galaxy = (pathlib.Path(__file__).resolve().parents[3] / "galaxy.yml").read_text(encoding="utf-8")
    version = re.search(r"^version: *(\S+)$", galaxy, re.M).group(1)
    show = hub.run("%s/bin/python -m pip show kojiforge-metrics" % venv)
    assert show.rc == 0, show.stderr
    assert re.search(r"^Version: %s$" % re.escape(version), show.stdout, re.M), show.stdout
    location = re.search(r"^Location: (\S+)$", show.stdout, re.M).group(1)
    assert hub.file("%s/kojiforge_metrics/wsgi.py" % location).is_file
    assert hub.file("%s/wheels/kojiforge_metrics-%s-py3-none-any.whl" % (venv, version)).is_file
    assert not hub.file("/usr/share/kojiforge-metrics").exists
    site = hub.file("/etc/%s/kojiforge/kojiweb.d/metrics.conf" % ("httpd" if hub.file("/etc/httpd").exists else "apache2"))
    assert "python-path=%s" % location in site.content_string
    # The metrics user imports it as the daemon does (system site-packages give prometheus_client).
    cmd = hub.run("runuser -u koji-metrics -- %s/bin/python -c 'import kojiforge_metrics.wsgi, kojiforge_metrics; "
                  "print(kojiforge_metrics.__file__)'" % venv)
    assert cmd.rc == 0, cmd.stderr
    assert cmd.stdout.strip().startswith(location + "/kojiforge_metrics/"), cmd.stdout


def test_metrics_process_runs_as_its_own_user(hub):
    """The /metrics process runs as koji-metrics, which reads its configuration and the CA
    certificate but no key: not kojiweb.pem, the web's proxy certificate that can act as any
    Koji user (the Apache user can read it)."""
    processes = [line.split(None, 1) for line in hub.run("ps -eo user:32,args --no-headers").stdout.splitlines()]
    metrics = [(user, args) for user, args in processes if args.startswith("koji-metrics")]
    assert [user for user, _args in metrics] == ["koji-metrics"], metrics

    def readable(path):
        return hub.run("runuser -u koji-metrics -- test -r %s" % path).rc == 0

    assert readable("/etc/kojiweb/metrics.conf")
    assert readable("/etc/pki/koji/koji-ca.crt")
    assert not readable("/etc/kojiweb/web.conf")
    assert not readable("/etc/kojiweb/web.conf.d/kojiforge-secrets.conf")
    secrets = hub.run("find /etc/pki/koji -name '*.key' -o -name '*.pem'").stdout.split()
    assert "/etc/pki/koji/kojiweb.pem" in secrets, secrets
    assert [path for path in secrets if readable(path)] == []
    passwd = hub.run("getent passwd koji-metrics").stdout.strip().split(":")
    assert passwd[6] in ("/usr/sbin/nologin", "/sbin/nologin"), passwd


DROPIN = "/etc/systemd/system/prometheus.service.d/kojiforge.conf"


def test_prometheus_runs_with_the_options_of_the_roles_dropin(hub):
    """koji_monitoring owns how Prometheus starts, on Debian as on EL9: its systemd drop-in resets
    the package unit's ExecStart (and ExecReload, EnvironmentFile) and gives every option; the
    running process has exactly those, Debian's data directory is kept, and the argument file where
    the options used to be is emptied."""
    dropin = hub.file(DROPIN)
    assert dropin.is_file
    lines = dropin.content_string.splitlines()
    starts = [line for line in lines if line.startswith("ExecStart=")]
    assert starts[0] == "ExecStart=", lines
    argv = starts[1][len("ExecStart="):].split()
    assert argv == ["/usr/bin/prometheus", "--config.file=/etc/prometheus/prometheus.yml",
                    "--storage.tsdb.path=/var/lib/prometheus/metrics2", "--web.listen-address=0.0.0.0:9090",
                    "--storage.tsdb.retention.time=30d"], lines
    assert "EnvironmentFile=" in lines and "ExecReload=" in lines, lines

    show = hub.run("systemctl show -p DropInPaths -p NeedDaemonReload -p ActiveState -p MainPID -p ExecStart prometheus")
    assert show.rc == 0, show.stderr
    props = dict(line.split("=", 1) for line in show.stdout.splitlines() if "=" in line)
    assert DROPIN in props["DropInPaths"].split(), props
    assert props["NeedDaemonReload"] == "no", props
    assert props["ActiveState"] == "active", props
    # systemd's one ExecStart is the drop-in's (the package's "$ARGS" is gone).
    assert "argv[]=%s ;" % " ".join(argv) in props["ExecStart"], props
    pid = props["MainPID"]
    running = hub.run("tr '\\0' '\\n' < /proc/%s/cmdline" % pid)
    assert running.rc == 0, running.stderr
    assert running.stdout.splitlines() == argv, running.stdout
    assert hub.run("ps -o user= -p %s" % pid).stdout.strip() == "prometheus"

    data = hub.file("/var/lib/prometheus/metrics2")
    assert data.is_directory and data.user == "prometheus"
    assert hub.file("/var/lib/prometheus/metrics2/wal").is_directory
    assert hub.file("/etc/default/prometheus").content_string.splitlines()[-1] == 'ARGS=""'
    # And Prometheus says it runs with them (its own view of its flags).
    flags = prometheus(hub, "/api/v1/status/flags")
    assert {name: flags.get(name) for name in ("config.file", "storage.tsdb.path", "web.listen-address",
                                               "storage.tsdb.retention.time")} == {
        "config.file": "/etc/prometheus/prometheus.yml", "storage.tsdb.path": "/var/lib/prometheus/metrics2",
        "web.listen-address": "0.0.0.0:9090", "storage.tsdb.retention.time": "30d"}, flags


def _targets_up(hub, job):
    """The Prometheus targets of JOB, once they are all up (waits up to two minutes)."""
    def all_up():
        targets = prometheus(hub, "/api/v1/targets")["activeTargets"]
        found = [t for t in targets if t["labels"].get("job") == job]
        return found if found and all(t["health"] == "up" for t in found) else None
    return wait_for("the %s job's targets up in Prometheus" % job, all_up, timeout=120)


def _alerting_rules(hub):
    groups = prometheus(hub, "/api/v1/rules")["groups"]
    return {rule["name"] for group in groups for rule in group["rules"] if rule["type"] == "alerting"}


def test_prometheus_scrapes_the_web_target(hub):
    targets = _targets_up(hub, "koji")
    assert [t["scrapeUrl"] for t in targets] == ["https://%s:443/metrics" % HUB]
    alerts = _alerting_rules(hub)
    assert {"KojiBuilderNotReady", "KojiBuilderSilent", "KojiMetricsDown"} <= alerts, alerts


def test_hosts_ready_follows_kojid(hub, builder2):
    wait_for("koji_hosts_ready 1 for both builders in Prometheus",
             lambda: all(ready_by_host(hub).get(b) == 1.0 for b in (BUILDER1, BUILDER2)), timeout=READY_TIMEOUT)
    stopped = builder2.run("systemctl stop kojid")
    assert stopped.rc == 0, stopped.stderr
    try:
        # kojid tells the hub it is no longer ready as it shuts down, but only once it has freed
        # its tasks: when the hub refuses to free one that has just finished ("Cannot free task,
        # state is CLOSED"), that update never comes, and the hub's scheduler marks the silent
        # host not ready after ReadyTimeout (180 s). Either way the next scrape shows it.
        def builder2_not_ready():
            values = ready_by_host(hub)
            return values if values.get(BUILDER2) == 0.0 else None

        try:
            values = wait_for("koji_hosts_ready 0 for the stopped builder2", builder2_not_ready, timeout=300)
        except pytest.fail.Exception:
            # Which link of the chain held the old value: the hub, the exporter or Prometheus.
            print("hub:", [(h["name"], h["ready"]) for h in hub_call(hub, "listHosts")])
            page = hub.run("curl -sS --cacert /etc/pki/koji/koji-ca.crt https://%s/metrics" % HUB).stdout
            print("exporter:", [line for line in page.splitlines()
                                if line.startswith(("koji_up", "koji_hosts_ready", "koji_scrape_duration"))])
            print("prometheus:", prometheus(hub, "/api/v1/targets")["activeTargets"])
            print("kojid:", builder2.run("tail -n 20 /var/log/kojid.log; systemctl status kojid --no-pager").stdout)
            raise
        assert BUILDER1 in values, values
    finally:
        started = builder2.run("systemctl start kojid")
        assert started.rc == 0, started.stderr
    wait_for("koji_hosts_ready back to 1 for builder2",
             lambda: ready_by_host(hub).get(BUILDER2) == 1.0, timeout=READY_TIMEOUT)


def test_certificate_end_dates_are_scraped_and_their_alerts_loaded(hub):
    """The CA host (the hub) serves when every Koji certificate and the CRL end, on its TLS site;
    Prometheus scrapes that (job koji_certificates), has the expiry alerts loaded, and a fresh
    deployment fires none of them."""
    cmd = hub.run("curl -fsS -D /dev/stderr --cacert /etc/pki/koji/koji-ca.crt https://%s/kojiforge-ca/metrics" % HUB)
    assert cmd.rc == 0, cmd.stderr
    assert re.search(r"^content-type: text/plain; version=0\.0\.4", cmd.stderr, re.M | re.I), cmd.stderr
    text = cmd.stdout
    assert re.search(r'^kojiforge_crl_next_update_timestamp_seconds\{host="%s"\} \d+$' % re.escape(HUB), text, re.M), text
    ends = dict(re.findall(r'^kojiforge_certificate_not_after_timestamp_seconds\{(.*)\} (\d+)$', text, re.M))
    for host, name in [(HUB, n) for n in ("koji-ca", "hub", "web", "kojiweb", "kojira", "admin")] + \
            [(BUILDER1, "kojid"), (BUILDER2, "kojid")]:
        assert [labels for labels in ends if 'host="%s"' % host in labels and 'name="%s"' % name in labels], \
            (host, name, text)

    targets = _targets_up(hub, "koji_certificates")
    assert [t["scrapeUrl"] for t in targets] == ["https://%s:443/kojiforge-ca/metrics" % HUB]
    alerts = _alerting_rules(hub)
    assert {"KojiCertificateExpiresSoon", "KojiCrlExpiresSoon", "KojiCertificateMetricsDown"} <= alerts, alerts
    scraped = prometheus(hub, "/api/v1/query", query="kojiforge_certificate_not_after_timestamp_seconds")["result"]
    assert len(scraped) >= 8, scraped
    soon = prometheus(hub, "/api/v1/query", query=(
        "kojiforge_certificate_not_after_timestamp_seconds - time() < 14 * 86400"
        " or kojiforge_crl_next_update_timestamp_seconds - time() < 14 * 86400"))["result"]
    assert soon == [], soon
