"""koji_monitoring's Alertmanager (koji_monitoring_alertmanager_*): its configuration per receiver
type, checked by the real amtool (check-config, and `config routes test` for where each severity
goes), Prometheus wired to it or not, and the role's task files run on this machine (connection
local, a `systemctl` that records its calls): the files and their modes, no secret in the output
even with --diff -v, a second run that changes nothing, a check-mode run that writes nothing, bad
receivers stopped by the preflight before anything is written.

tests/alertmanager/ runs a real Alertmanager on such a configuration and receives its notifications.
"""

import json
import os
import pathlib
import re
import shutil
import stat
import subprocess
import sys

import pytest
import yaml

from role_templating import load_yaml, walk_tasks
from test_koji_monitoring_prometheus import (COLLECTIONS, FAKE_SYSTEMCTL, PLATFORMS, ROLE, _render, _value,
                                             needs_collection)

AMTOOL = "/usr/bin/amtool"
SLACK_URL = "https://mattermost.example.com/hooks/s3cr3t-slack-hook"
WEBHOOK_URL = "https://hooks.example.com/s3cr3t-generic-hook"
SMTP_PASSWORD = "s3cr3t-smtp-password"
RECEIVERS = [
    {"name": "chat", "type": "slack", "url": SLACK_URL, "channel": "#koji", "username": "alertmanager"},
    {"name": "mail", "type": "email", "to": "koji-admins@example.com", "from": "alertmanager@example.com",
     "smarthost": "smtp.example.com:587", "auth_username": "alertmanager", "auth_password": SMTP_PASSWORD},
    {"name": "hook", "type": "webhook", "url": WEBHOOK_URL, "send_resolved": False},
]
SECRETS = [SLACK_URL, WEBHOOK_URL, SMTP_PASSWORD, "s3cr3t"]


def _amtool():
    if not os.access(AMTOOL, os.X_OK):
        pytest.fail("%s is missing: testbed/prepare.sh installs it (Debian's prometheus-alertmanager)" % AMTOOL)
    return AMTOOL


def _config(tmp_path, **overrides):
    """The rendered alertmanager.yml, written to tmp_path: (path, parsed)."""
    text = _render("Debian", "alertmanager.yml.j2", **overrides)
    path = tmp_path / "alertmanager.yml"
    path.write_text(text)
    return path, yaml.safe_load(text)


def _check_config(path):
    return subprocess.run([_amtool(), "check-config", str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)


def _route(path, *labels):
    """amtool's receiver(s) for an alert with these labels (name=value)."""
    proc = subprocess.run([_amtool(), "config", "routes", "test", "--config.file=%s" % path] + list(labels),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.strip()


# ----- the configuration, rendered and checked by amtool -----

@pytest.mark.parametrize("receiver,key,expected", [
    (RECEIVERS[0], "slack_configs", {"api_url": SLACK_URL, "channel": "#koji", "username": "alertmanager",
                                     "send_resolved": True}),
    (RECEIVERS[1], "email_configs", {"to": "koji-admins@example.com", "from": "alertmanager@example.com",
                                     "smarthost": "smtp.example.com:587", "auth_username": "alertmanager",
                                     "auth_password": SMTP_PASSWORD, "require_tls": True, "send_resolved": True}),
    (RECEIVERS[2], "webhook_configs", {"url": WEBHOOK_URL, "send_resolved": False}),
], ids=["slack", "email", "webhook"])
def test_each_receiver_type_renders_a_configuration_amtool_accepts(tmp_path, receiver, key, expected):
    path, config = _config(tmp_path, koji_monitoring_alertmanager_receivers=[receiver])
    by_name = {r["name"]: r for r in config["receivers"]}
    assert sorted(by_name) == sorted([receiver["name"], "kojiforge-nobody"])
    assert list(by_name["kojiforge-nobody"]) == ["name"]  # a receiver without configs notifies nobody
    configs = by_name[receiver["name"]][key]
    assert len(configs) == 1
    for name, value in expected.items():
        assert configs[0][name] == value, configs
    assert config["route"]["receiver"] == receiver["name"]  # the first receiver is the default
    proc = _check_config(path)
    assert proc.returncode == 0, proc.stdout
    assert "SUCCESS" in proc.stdout, proc.stdout


def test_the_slack_message_lists_each_alerts_summary_as_alertmanager_templates_it(tmp_path):
    _path, config = _config(tmp_path, koji_monitoring_alertmanager_receivers=[RECEIVERS[0]])
    slack = config["receivers"][1]["slack_configs"][0]
    # Left for Alertmanager's own templating, not expanded by Ansible.
    assert slack["text"] == "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}"
    assert slack["title"] == '{{ template "slack.default.title" . }}'


def test_amtool_rejects_a_route_to_an_unknown_receiver(tmp_path):
    """The check the role's template task runs (validate) does fail on a broken configuration."""
    path, _config_data = _config(tmp_path, koji_monitoring_alertmanager_receivers=[RECEIVERS[2]],
                                 koji_monitoring_alertmanager_routes=[{"matchers": ['severity="critical"'],
                                                                       "receiver": "pager"}])
    proc = _check_config(path)
    assert proc.returncode != 0, proc.stdout
    assert "pager" in proc.stdout, proc.stdout


def test_no_receiver_gives_a_valid_configuration_that_notifies_nobody(tmp_path):
    path, config = _config(tmp_path)
    assert config["receivers"] == [{"name": "kojiforge-nobody"}]
    assert config["route"]["receiver"] == "kojiforge-nobody"
    assert _check_config(path).returncode == 0
    assert _route(path, "alertname=KojiBuilderSilent", "severity=critical") == "kojiforge-nobody"


def test_critical_and_warning_reach_people_and_info_does_not(tmp_path):
    path, _config_data = _config(tmp_path, koji_monitoring_alertmanager_receivers=RECEIVERS)
    assert _route(path, "alertname=KojiBuilderSilent", "severity=critical", "host=b1") == "chat"
    assert _route(path, "alertname=KojiBuilderNotReady", "severity=warning", "host=b1") == "chat"
    assert _route(path, "alertname=KojiBuilderOverloaded", "severity=info", "host=b1") == "kojiforge-nobody"


def test_routes_default_and_info_receivers_follow_the_variables(tmp_path):
    routes = [{"matchers": ['severity="critical"'], "receiver": "mail"},
              {"matchers": ['alertname="KojiCertificateExpiresSoon"'], "receiver": "hook"}]
    path, config = _config(tmp_path, koji_monitoring_alertmanager_receivers=RECEIVERS,
                           koji_monitoring_alertmanager_routes=routes,
                           koji_monitoring_alertmanager_default_receiver="hook",
                           koji_monitoring_alertmanager_info_receiver="chat")
    assert config["route"]["receiver"] == "hook"
    assert _check_config(path).returncode == 0
    assert _route(path, "alertname=KojiBuilderSilent", "severity=critical") == "mail"
    assert _route(path, "alertname=KojiCertificateExpiresSoon", "severity=warning") == "hook"
    assert _route(path, "alertname=KojiBuilderNotReady", "severity=warning") == "hook"
    assert _route(path, "alertname=KojiBuilderOverloaded", "severity=info") == "chat"


def test_grouping_and_inhibition_for_koji(tmp_path):
    _path, config = _config(tmp_path, koji_monitoring_alertmanager_receivers=RECEIVERS,
                            koji_monitoring_alertmanager_group_wait="5s",
                            koji_monitoring_alertmanager_extra_inhibit_rules=[
                                {"source_matchers": ['alertname="SiteDown"'], "target_matchers": ['severity="warning"']}])
    route = config["route"]
    assert route["group_by"] == ["alertname", "job", "channel"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == ("5s", "5m", "4h")
    rules = config["inhibit_rules"]
    assert rules[0] == {"source_matchers": ['alertname=~"KojiHubUnreachable|KojiMetricsDown"'],
                        "target_matchers": ['alertname=~"KojiBuilder.+|KojiChannel.+"'], "equal": ["job"]}
    assert rules[1]["source_matchers"] == ['alertname="KojiBuilderOverloaded"']
    assert rules[-1]["source_matchers"] == ['alertname="SiteDown"']
    assert len(rules) == 3


# ----- Prometheus wired to it -----

def _alerting(**overrides):
    return yaml.safe_load(_render("Debian", "prometheus.yml.j2", **overrides)).get("alerting")


@pytest.mark.parametrize("overrides,targets", [
    ({}, None),
    ({"koji_monitoring_prometheus_alertmanagers": ["am.example.com:9093"]}, ["am.example.com:9093"]),
    ({"koji_monitoring_alertmanager_enabled": True}, ["127.0.0.1:9093"]),
    ({"koji_monitoring_alertmanager_enabled": True, "koji_monitoring_alertmanager_listen_address": "0.0.0.0:9193"},
     ["127.0.0.1:9193"]),
    ({"koji_monitoring_alertmanager_enabled": True, "koji_monitoring_alertmanager_listen_address": ":9093"},
     ["127.0.0.1:9093"]),
    ({"koji_monitoring_alertmanager_enabled": True, "koji_monitoring_alertmanager_listen_address": "[::]:9093"},
     ["[::1]:9093"]),
    ({"koji_monitoring_alertmanager_enabled": True, "koji_monitoring_alertmanager_listen_address": "[::1]:9094"},
     ["[::1]:9094"]),
    ({"koji_monitoring_alertmanager_enabled": True, "koji_monitoring_alertmanager_listen_address": "192.0.2.7:9093",
      "koji_monitoring_prometheus_alertmanagers": ["am.example.com:9093"]}, ["am.example.com:9093", "192.0.2.7:9093"]),
], ids=["none", "site-only", "local", "wildcard", "empty-host", "wildcard-v6", "loopback-v6", "site-and-ours"])
def test_prometheus_sends_its_alerts_to_our_alertmanager_and_the_sites(overrides, targets):
    alerting = _alerting(**overrides)
    if targets is None:
        assert alerting is None
    else:
        assert alerting == {"alertmanagers": [{"static_configs": [{"targets": targets}]}]}


@pytest.mark.parametrize("os_family,binary,unit,packages", [
    ("Debian", "/usr/bin/prometheus-alertmanager", "prometheus-alertmanager.service", ["prometheus-alertmanager"]),
    ("RedHat", "/usr/bin/alertmanager", "alertmanager.service", []),
])
def test_the_dropin_starts_a_single_alertmanager_with_the_roles_options(os_family, binary, unit, packages):
    assert _value(os_family, "koji_monitoring_alertmanager_packages") == packages
    assert _value(os_family, "__koji_monitoring_alertmanager_dropin_file") == "/etc/systemd/system/%s.d/kojiforge.conf" % unit
    lines = _render(os_family, "alertmanager_dropin.conf.j2").splitlines()
    assert [line for line in lines if line.startswith("ExecStart=")] == [
        "ExecStart=",
        "ExecStart=%s --config.file=/etc/prometheus/alertmanager.yml --storage.path=/var/lib/prometheus/alertmanager"
        " --web.listen-address=127.0.0.1:9093 --cluster.listen-address=" % binary]
    assert "EnvironmentFile=" in lines and "User=prometheus" in lines and "Group=prometheus" in lines


def test_every_task_that_handles_the_configuration_logs_nothing_and_shows_no_diff():
    tasks = [task for name in ("alertmanager.yml", "alertmanager_install.yml", "preflight.yml")
             for task in walk_tasks(load_yaml(ROLE / "tasks" / name))]
    writers = [task for task in tasks if (task.get("ansible.builtin.template") or {}).get("src") == "alertmanager.yml.j2"]
    assert len(writers) == 1
    writer = writers[0]
    assert writer.get("no_log") is True and writer.get("diff") is False, writer
    assert writer["ansible.builtin.template"]["mode"] == "0640"
    assert writer["ansible.builtin.template"]["group"] == "{{ __koji_monitoring_group }}"
    assert writer["ansible.builtin.template"]["validate"] == "{{ koji_monitoring_alertmanager_amtool }} check-config %s"


# ----- the task files, run on this machine -----

def _run_tasks(tmp_path, run, overrides=None, check=False, platform="Debian_12"):
    """set_vars, preflight and alertmanager.yml of the role, as root on this machine (the package is
    there), the paths under tmp_path/host, with --diff and -v: (process, systemctl calls, files)."""
    work = tmp_path / run
    work.mkdir()
    host = tmp_path / "host"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    systemctl = bin_dir / "systemctl"
    systemctl.write_text(FAKE_SYSTEMCTL % (work / "systemctl.log"))
    systemctl.chmod(systemctl.stat().st_mode | stat.S_IEXEC)
    extra = {
        "koji_monitoring_alertmanager_enabled": True,
        "koji_monitoring_alertmanager_receivers": RECEIVERS,
        "koji_monitoring_prometheus_config_dir": str(host / "etc" / "prometheus"),
        "koji_monitoring_alertmanager_storage_path": str(host / "var" / "lib" / "alertmanager"),
        "__koji_monitoring_alertmanager_dropin_file": str(host / "etc" / "systemd" / "kojiforge.conf"),
    }
    extra.update(overrides or {})
    (work / "extra.json").write_text(json.dumps(extra))
    # configure.yml, which runs before in the role, has made it.
    (host / "etc" / "prometheus").mkdir(parents=True, exist_ok=True)
    facts = PLATFORMS[platform]
    tasks = [{"name": "Pretend to be the platform",
              "ansible.builtin.set_fact": dict({"ansible_" + k: v for k, v in facts.items()}, cacheable=True)}]
    tasks += [{"name": "Run %s" % name, "ansible.builtin.include_role": {
        "name": "kojiforge.koji.koji_monitoring", "tasks_from": name + ".yml"}}
        for name in ("set_vars", "preflight", "alertmanager")]
    (work / "playbook.yml").write_text(yaml.safe_dump([{"name": "Alertmanager", "hosts": "all", "gather_facts": False,
                                                        "tasks": tasks}]))
    (work / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_FORCE_COLOR="false", ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(work / "ansible-tmp"), ANSIBLE_REMOTE_TEMP=str(work / "ansible-remote-tmp"),
               PATH="%s:%s" % (bin_dir, os.environ["PATH"]))
    cmd = [str(pathlib.Path(sys.executable).with_name("ansible-playbook")), "-v", "--diff",
           "-i", str(work / "inventory.yml"), "-e", "@%s" % (work / "extra.json"), str(work / "playbook.yml")]
    proc = subprocess.run(cmd + (["--check"] if check else []), cwd=str(work), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    log = work / "systemctl.log"
    calls = log.read_text().splitlines() if log.exists() else []
    files = sorted(str(p.relative_to(host)) for p in host.rglob("*") if p.is_file()) if host.exists() else []
    return proc, calls, files


def _changed(proc):
    return int(re.search(r"changed=(\d+)", proc.stdout[proc.stdout.rindex("PLAY RECAP"):]).group(1))


def _as_root_with_amtool():
    if os.geteuid() != 0:
        pytest.skip("the files are owned by group prometheus: needs root")
    _amtool()
    if shutil.which("getent") is None or subprocess.run(["getent", "passwd", "prometheus"], check=False,
                                                        stdout=subprocess.DEVNULL).returncode != 0:
        pytest.fail("no user prometheus: testbed/prepare.sh installs prometheus-alertmanager, which creates it")


@needs_collection
def test_the_configuration_is_written_private_without_its_secrets_in_the_output_and_once(tmp_path):
    _as_root_with_amtool()
    proc, calls, files = _run_tasks(tmp_path, "first")
    assert proc.returncode == 0, proc.stdout
    assert files == ["etc/prometheus/alertmanager.yml", "etc/systemd/kojiforge.conf"], proc.stdout
    for secret in SECRETS:
        assert secret not in proc.stdout
    config = tmp_path / "host" / "etc" / "prometheus" / "alertmanager.yml"
    info = config.stat()
    assert stat.S_IMODE(info.st_mode) == 0o640
    assert (info.st_uid, info.st_gid) == (0, int(subprocess.check_output(["getent", "group", "prometheus"],
                                                                         universal_newlines=True).split(":")[2]))
    assert SLACK_URL in config.read_text()
    data = tmp_path / "host" / "var" / "lib" / "alertmanager"
    assert stat.S_IMODE(data.stat().st_mode) == 0o750
    # systemd re-reads the drop-in before the start; the handlers restart, then reload.
    assert calls[0] == "daemon-reload", calls
    assert "restart prometheus-alertmanager.service" in calls, calls
    assert "reload prometheus-alertmanager.service" in calls, calls

    proc, calls, _files = _run_tasks(tmp_path, "second")
    assert proc.returncode == 0, proc.stdout
    assert _changed(proc) == 0, proc.stdout
    assert [call for call in calls if call.split()[0] not in ("show", "is-enabled", "is-active")] == [], calls

    # A changed receiver: the configuration is rewritten and Alertmanager reloaded, not restarted.
    changed = [dict(RECEIVERS[2], url=WEBHOOK_URL + "-rotated")]
    proc, calls, _files = _run_tasks(tmp_path, "third", {"koji_monitoring_alertmanager_receivers": changed})
    assert proc.returncode == 0, proc.stdout
    assert _changed(proc) == 2, proc.stdout  # the file and the reload handler
    assert "rotated" not in proc.stdout
    assert [call for call in calls if call.split()[0] not in ("show", "is-enabled", "is-active")] == [
        "reload prometheus-alertmanager.service"], calls


@needs_collection
def test_a_configuration_amtool_refuses_is_not_put_in_place(tmp_path):
    _as_root_with_amtool()
    # group_wait is not checked by the preflight; Alertmanager refuses it.
    proc, _calls, files = _run_tasks(tmp_path, "bad", {"koji_monitoring_alertmanager_group_wait": "soon"})
    assert proc.returncode != 0, proc.stdout
    assert "etc/prometheus/alertmanager.yml" not in files, proc.stdout
    for secret in SECRETS:
        assert secret not in proc.stdout


@needs_collection
def test_a_check_mode_run_writes_nothing(tmp_path):
    _as_root_with_amtool()
    proc, calls, files = _run_tasks(tmp_path, "check", check=True)
    assert proc.returncode == 0, proc.stdout
    assert files == [], proc.stdout
    assert [call for call in calls if call.split()[0] not in ("show", "is-enabled", "is-active")] == [], calls
    assert _changed(proc) > 0, proc.stdout
    for secret in SECRETS:
        assert secret not in proc.stdout


@needs_collection
@pytest.mark.parametrize("platform,overrides,message", [
    ("Debian_12", {"koji_monitoring_alertmanager_receivers": [{"name": "chat", "type": "mattermost", "url": SLACK_URL}]},
     "(not: chat (mattermost))"),
    ("Debian_12", {"koji_monitoring_alertmanager_receivers": [{"name": "chat", "type": "slack"}]}, "(not: chat (slack))"),
    ("Debian_12", {"koji_monitoring_alertmanager_receivers": [{"name": "mail", "type": "email", "to": "a@example.com",
                                                              "auth_password": SMTP_PASSWORD}]}, "(not: mail (email))"),
    ("Debian_12", {"koji_monitoring_alertmanager_default_receiver": "pager"}, "(unknown: pager)"),
    ("Debian_12", {"koji_monitoring_alertmanager_routes": [{"matchers": ['severity="critical"'], "receiver": "pager"}]},
     "(unknown: pager)"),
    ("Debian_12", {"koji_monitoring_alertmanager_receivers": RECEIVERS + [RECEIVERS[0]]}, "a unique name"),
    ("Debian_12", {"koji_monitoring_alertmanager_listen_address": "localhost"}, "(it is 'localhost')"),
    ("Debian_12", {"koji_monitoring_manage_prometheus": False}, "needs koji_monitoring_manage_prometheus"),
    ("RedHat_9", {}, "EL9 has none in BaseOS, AppStream or EPEL): set koji_monitoring_alertmanager_packages"),
    ("Debian_12", {"koji_monitoring_builder_channels": {"b1.example.com": ["default", "image"]}},
     "maps each builder's Koji host name to one channel name"),
], ids=["unknown-type", "no-url", "email-incomplete", "unknown-default", "unknown-route", "duplicate", "address",
        "unmanaged-prometheus", "el9-no-package", "channels-list"])
def test_bad_settings_stop_before_anything_is_written(tmp_path, platform, overrides, message):
    proc, calls, files = _run_tasks(tmp_path, "bad", overrides, platform=platform)
    assert proc.returncode != 0, proc.stdout
    assert message in " ".join(proc.stdout.split()), proc.stdout
    assert (files, calls) == ([], []), proc.stdout
    for secret in SECRETS:
        assert secret not in proc.stdout


@needs_collection
def test_el9_with_a_package_named_passes_the_preflight(tmp_path):
    _as_root_with_amtool()
    proc, _calls, files = _run_tasks(tmp_path, "el9", {"koji_monitoring_alertmanager_packages": ["alertmanager"]},
                                     platform="RedHat_9")
    assert proc.returncode == 0, proc.stdout
    assert "etc/prometheus/alertmanager.yml" in files
