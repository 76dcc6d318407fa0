"""koji_monitoring runs Prometheus the same way on EL9 (EPEL's golang-github-prometheus) and on
Debian 12: a systemd drop-in of the role resets the package unit's start command, reload command and
environment files and gives every option, so nothing depends on how EL9's unit or argument file
looks (no EL9 host runs here).

- Rendered with Ansible's Templar from the role's defaults, vars/main.yml and the platform's
  vars/<os_family>.yml: the packages, the drop-in with each platform's paths, the listen address
  split into host and port (the port goes to the firewall unless the host is a loopback one).
- The role's own task files run for real on this machine (connection local, EL9 or Debian facts
  injected, every path under a temporary directory) with a `systemctl` that records its calls and
  answers as for a running service: the files written, systemd told to re-read the drop-in before the
  start and Prometheus restarted after it, nothing at all on the second run; a first check-mode run,
  without Prometheus or promtool installed, writes nothing and fails nothing; bad input stops in the
  preflight.
- The firewall include of tasks/service.yml, through test_firewall.py's runner (fake firewalld module).
"""

import json
import os
import pathlib
import re
import stat
import subprocess
import sys

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from role_templating import fake_posix_collection, include_of, trust_as_template, trusted
from test_firewall import FAKE_FIREWALLD, _opened, _run as _run_firewall

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "koji_monitoring"
COLLECTIONS = ROOT / "build" / "collections"
TEMPLATE_OVERRIDES = {"trim_blocks": True, "lstrip_blocks": False, "keep_trailing_newline": True}

PLATFORMS = {
    "RedHat_9": {"os_family": "RedHat", "distribution": "Rocky", "distribution_major_version": "9"},
    "Debian_12": {"os_family": "Debian", "distribution": "Debian", "distribution_major_version": "12"},
}
EXPECTED = {
    "RedHat": {"packages": ["golang-github-prometheus"], "storage": "/var/lib/prometheus/data", "legacy": ""},
    "Debian": {"packages": ["prometheus"], "storage": "/var/lib/prometheus/metrics2", "legacy": "/etc/default/prometheus"},
}

needs_collection = pytest.mark.skipif(not (COLLECTIONS / "ansible_collections" / "kojiforge" / "koji").exists(),
                                      reason="run `make collection-link` first")


# ----- rendered with the Templar -----

def _role_variables(os_family, **overrides):
    loader = DataLoader()
    variables = {}
    for path in (ROLE / "defaults" / "main.yml", ROLE / "vars" / "main.yml", ROLE / "vars" / ("%s.yml" % os_family)):
        variables.update(trusted(loader.load_from_file(str(path)) or {}))
    variables.update({"groups": {"koji_web": ["web.koji.example.com"], "koji_hub": ["hub.koji.example.com"]},
                      "ansible_managed": "Ansible managed", "ansible_facts": {"os_family": os_family}})
    variables.update(overrides)
    return Templar(loader=loader, variables=trusted(variables))


def _render(os_family, template, **overrides):
    text = (ROLE / "templates" / template).read_text(encoding="utf-8")
    return _role_variables(os_family, **overrides).template(trust_as_template(text), overrides=TEMPLATE_OVERRIDES)


def _value(os_family, name, **overrides):
    return _role_variables(os_family, **overrides).template(trust_as_template("{{ %s }}" % name))


@pytest.mark.parametrize("os_family", sorted(EXPECTED))
def test_each_platform_installs_its_package_and_the_dropin_gives_every_start_option(os_family):
    expected = EXPECTED[os_family]
    assert _value(os_family, "__koji_monitoring_packages") == expected["packages"]
    assert _value(os_family, "__koji_monitoring_legacy_args_file") == expected["legacy"]
    assert _value(os_family, "__koji_monitoring_dropin_file") == "/etc/systemd/system/prometheus.service.d/kojiforge.conf"
    lines = _render(os_family, "prometheus_dropin.conf.j2").splitlines()
    assert lines[0].startswith("#")
    assert "[Service]" in lines
    # Each list option is first emptied, so the package's own entries are gone, then set once.
    assert [line for line in lines if line.startswith("ExecStart=")] == [
        "ExecStart=",
        "ExecStart=/usr/bin/prometheus --config.file=/etc/prometheus/prometheus.yml --storage.tsdb.path=%s"
        " --web.listen-address=0.0.0.0:9090 --storage.tsdb.retention.time=30d" % expected["storage"],
    ]
    assert [line for line in lines if line.startswith("ExecReload=")] == ["ExecReload=", "ExecReload=/bin/kill -HUP $MAINPID"]
    assert [line for line in lines if line.startswith("EnvironmentFile=")] == ["EnvironmentFile="]
    assert "User=prometheus" in lines and "Group=prometheus" in lines


def test_the_dropin_follows_the_variables_and_the_service_name():
    variables = {"koji_monitoring_prometheus_listen_address": "127.0.0.1:9191", "koji_monitoring_prometheus_retention": "1y",
                 "koji_monitoring_prometheus_config_dir": "/srv/prometheus", "koji_monitoring_prometheus_service": "prom.service"}
    lines = _render("RedHat", "prometheus_dropin.conf.j2", **variables).splitlines()
    assert ("ExecStart=/usr/bin/prometheus --config.file=/srv/prometheus/prometheus.yml --storage.tsdb.path=/var/lib/prometheus/data"
            " --web.listen-address=127.0.0.1:9191 --storage.tsdb.retention.time=1y") in lines
    assert _value("RedHat", "__koji_monitoring_dropin_file", **variables) == "/etc/systemd/system/prom.service.d/kojiforge.conf"


def test_debians_old_argument_file_is_emptied_and_says_why():
    text = _render("Debian", "prometheus.default.j2")
    assert text.startswith("#")
    assert text.splitlines()[-1] == 'ARGS=""'
    assert "/etc/systemd/system/prometheus.service.d/kojiforge.conf" in text
    assert "--web.listen-address" not in text


@pytest.mark.parametrize("address,host,port,local", [
    ("0.0.0.0:9090", "0.0.0.0", "9090", False),
    (":9090", "", "9090", False),
    ("[::]:9090", "::", "9090", False),
    ("192.0.2.5:9091", "192.0.2.5", "9091", False),
    ("prometheus.koji.example.com:9090", "prometheus.koji.example.com", "9090", False),
    ("127.0.0.1:9090", "127.0.0.1", "9090", True),
    ("127.0.1.1:9090", "127.0.1.1", "9090", True),
    ("[::1]:9092", "::1", "9092", True),
    ("localhost:9090", "localhost", "9090", True),
])
def test_the_listen_address_gives_the_port_and_whether_it_is_loopback_only(address, host, port, local):
    variables = {"koji_monitoring_prometheus_listen_address": address}
    assert _value("Debian", "__koji_monitoring_listen_host", **variables) == host
    assert _value("Debian", "__koji_monitoring_listen_port", **variables) == port
    assert _value("Debian", "__koji_monitoring_listen_local", **variables) is local


# ----- the firewall include of tasks/service.yml -----

def _firewall_include():
    return include_of(ROLE / "tasks" / "service.yml", "firewall.yml")


def _role_play_vars(**overrides):
    variables = {}
    for path in (ROLE / "defaults" / "main.yml", ROLE / "vars" / "main.yml"):
        variables.update(yaml.safe_load(path.read_text()))
    variables.update(overrides)
    return variables


def _rich_rule(family, network, port):
    return _opened(rich_rule='rule family="%s" source address="%s" port port="%s" protocol="tcp" accept' % (family, network, port))


@needs_collection
@pytest.mark.parametrize("overrides,asks,rules", [
    ({}, True, [_rich_rule("ipv4", "0.0.0.0/0", 9090), _rich_rule("ipv6", "::/0", 9090)]),
    ({"koji_monitoring_prometheus_listen_address": ":9091", "koji_monitoring_prometheus_allowed_networks": ["192.0.2.0/24"]},
     True, [_rich_rule("ipv4", "192.0.2.0/24", 9091)]),
    ({"koji_monitoring_prometheus_listen_address": "127.0.0.1:9090"}, False, []),
    ({"koji_monitoring_prometheus_listen_address": "[::1]:9090"}, False, []),
    ({"koji_monitoring_firewalld_enabled": False}, False, []),
    ({"koji_monitoring_prometheus_allowed_networks": []}, False, []),
], ids=["everyone", "port-and-network", "loopback", "loopback-v6", "switched-off", "no-network"])
def test_prometheus_port_is_opened_when_it_listens_beyond_the_loopback(tmp_path, overrides, asks, rules):
    proc, calls, opened = _run_firewall(tmp_path, [_firewall_include()], extra_vars=_role_play_vars(**overrides))
    assert proc.returncode == 0, proc.stdout
    assert calls == (["is-active firewalld"] if asks else []), proc.stdout
    assert opened == rules, proc.stdout


# ----- the role's task files, run on this machine -----

FAKE_SYSTEMCTL = """#!/bin/sh
echo "$*" >> "%s"
case "$1" in
  show) printf 'Id=%%s\\nLoadState=loaded\\nActiveState=active\\nSubState=running\\n' "$2" ;;
  is-enabled) echo enabled ;;
  is-active) echo inactive; exit 3 ;;
esac
exit 0
"""


def _run_role(tmp_path, platform, run, overrides=None, check=False):
    """set_vars, preflight, configure and service of the role, on this machine as PLATFORM, with the
    paths moved under tmp_path/host. Returns the process, the systemctl calls and the host's files."""
    work = tmp_path / run
    work.mkdir()
    host = tmp_path / "host"
    bin_dir = tmp_path / "bin"
    if not bin_dir.exists():
        bin_dir.mkdir()
        fake_posix_collection(tmp_path / "fake", FAKE_FIREWALLD)
    systemctl = bin_dir / "systemctl"
    systemctl.write_text(FAKE_SYSTEMCTL % (work / "systemctl.log"))
    systemctl.chmod(systemctl.stat().st_mode | stat.S_IEXEC)
    facts = PLATFORMS[platform]
    extra = {
        "koji_monitoring_prometheus_config_dir": str(host / "etc" / "prometheus"),
        "__koji_monitoring_dropin_file": str(host / "etc" / "systemd" / "system" / "prometheus.service.d" / "kojiforge.conf"),
        "koji_monitoring_scrape_ca_file": "",
        "koji_monitoring_web_hosts": ["web.koji.example.com"],
        "koji_monitoring_certificates_host": "hub.koji.example.com",
    }
    if facts["os_family"] == "Debian":
        # Debian has /etc/default (the file the package ships in it is not there: a first run).
        (host / "etc" / "default").mkdir(parents=True, exist_ok=True)
        extra["__koji_monitoring_legacy_args_file"] = str(host / "etc" / "default" / "prometheus")
    extra.update(overrides or {})
    (work / "extra.json").write_text(json.dumps(extra))
    tasks = [{"name": "Pretend to be the platform",
              "ansible.builtin.set_fact": dict({"ansible_" + k: v for k, v in facts.items()}, cacheable=True)}]
    tasks += [{"name": "Run %s" % name, "ansible.builtin.include_role": {
        "name": "kojiforge.koji.koji_monitoring", "tasks_from": name + ".yml"}}
        for name in ("set_vars", "preflight", "configure", "service")]
    (work / "playbook.yml").write_text(yaml.safe_dump([{"name": "Monitoring", "hosts": "all", "gather_facts": False,
                                                        "tasks": tasks}]))
    (work / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH="%s:%s" % (tmp_path / "fake", COLLECTIONS),
               ANSIBLE_FORCE_COLOR="false", ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(work / "ansible-tmp"),
               ANSIBLE_REMOTE_TEMP=str(work / "ansible-remote-tmp"), PATH="%s:%s" % (bin_dir, os.environ["PATH"]))
    cmd = [str(pathlib.Path(sys.executable).with_name("ansible-playbook")), "-i", str(work / "inventory.yml"),
           "-e", "@%s" % (work / "extra.json"), str(work / "playbook.yml")] + (["--check"] if check else [])
    proc = subprocess.run(cmd, cwd=str(work), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    log = work / "systemctl.log"
    calls = log.read_text().splitlines() if log.exists() else []
    files = sorted(str(p.relative_to(host)) for p in host.rglob("*") if p.is_file()) if host.exists() else []
    return proc, calls, files


def _changed(proc):
    return int(re.search(r"changed=(\d+)", proc.stdout[proc.stdout.rindex("PLAY RECAP"):]).group(1))


@needs_collection
@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_the_dropin_is_read_before_the_start_prometheus_restarts_and_a_second_run_changes_nothing(tmp_path, platform):
    family = PLATFORMS[platform]["os_family"]
    proc, calls, files = _run_role(tmp_path, platform, "first")
    assert proc.returncode == 0, proc.stdout
    dropin = "etc/systemd/system/prometheus.service.d/kojiforge.conf"
    legacy = ["etc/default/prometheus"] if family == "Debian" else []
    assert files == sorted([dropin, "etc/prometheus/prometheus.yml", "etc/prometheus/kojiforge/koji_alerts.rules.yml",
                            "etc/prometheus/kojiforge/koji_scrape_job.yml", "etc/prometheus/kojiforge/koji_web_targets.yml"]
                           + legacy), proc.stdout
    host = tmp_path / "host"
    exec_start = [line for line in (host / dropin).read_text().splitlines() if line.startswith("ExecStart=/")]
    assert exec_start == ["ExecStart=/usr/bin/prometheus --config.file=%s/etc/prometheus/prometheus.yml --storage.tsdb.path=%s"
                          " --web.listen-address=0.0.0.0:9090 --storage.tsdb.retention.time=30d"
                          % (host, EXPECTED[family]["storage"])]
    if legacy:
        assert (host / legacy[0]).read_text().splitlines()[-1] == 'ARGS=""'
    # systemd re-reads the units before anything else is asked of it, the handler restarts.
    assert calls[0] == "daemon-reload", calls
    assert "start prometheus.service" not in calls, calls  # it runs already (the fake says so)
    assert "restart prometheus.service" in calls, calls
    assert calls.index("restart prometheus.service") > calls.index("is-active firewalld"), calls

    proc, calls, _files = _run_role(tmp_path, platform, "second")
    assert proc.returncode == 0, proc.stdout
    assert _changed(proc) == 0, proc.stdout
    assert [call for call in calls if call.split()[0] not in ("show", "is-enabled", "is-active")] == [], calls


@needs_collection
def test_a_first_check_mode_run_without_prometheus_writes_nothing_and_does_not_fail(tmp_path):
    """No package yet, so no promtool: the validating templates must not run it in check mode (the
    same run for real fails on the missing promtool, so the validation is there)."""
    missing = {"__koji_monitoring_promtool": str(tmp_path / "not-installed" / "promtool")}
    proc, calls, files = _run_role(tmp_path, "RedHat_9", "check", overrides=missing, check=True)
    assert proc.returncode == 0, proc.stdout
    assert files == [], proc.stdout
    assert [call for call in calls if call.split()[0] not in ("show", "is-enabled", "is-active")] == [], calls
    assert _changed(proc) > 0, proc.stdout

    proc, _calls, _files = _run_role(tmp_path, "RedHat_9", "real", overrides=missing)
    assert proc.returncode != 0, proc.stdout
    assert "%s check rules " % missing["__koji_monitoring_promtool"] in proc.stdout, proc.stdout


@needs_collection
@pytest.mark.parametrize("overrides,message", [
    ({"koji_monitoring_prometheus_listen_address": "0.0.0.0"}, "must be HOST:PORT, [IPV6]:PORT or :PORT (it is '0.0.0.0')"),
    ({"koji_monitoring_prometheus_retention": "30 days"}, "such as 30d or 1y (it is '30 days')"),
    ({"koji_monitoring_prometheus_allowed_networks": ["192.0.2.1", "192.0.2.0/24"]}, "ADDRESS/PREFIX (not 192.0.2.1)"),
    ({"koji_monitoring_prometheus_config_dir": "/etc/prom etheus"}, "koji_monitoring_prometheus_config_dir an absolute path"),
])
def test_bad_start_options_stop_before_anything_is_written(tmp_path, overrides, message):
    proc, calls, files = _run_role(tmp_path, "Debian_12", "bad", overrides=overrides)
    assert proc.returncode != 0, proc.stdout
    assert message in " ".join(proc.stdout.split()), proc.stdout
    assert (files, calls) == ([], []), proc.stdout
