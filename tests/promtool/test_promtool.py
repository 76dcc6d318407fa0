"""promtool checks of koji_monitoring's alert rules, rendered with the role's defaults.

`promtool check rules` validates the rendered file; `promtool test rules` runs the cases of
koji_alerts_test.yml (one or more per alert, among them an overloaded builder that must not be
reported not ready and a dead builder that must). promtool comes with Debian's `prometheus`
package; without it these tests are skipped, saying so.
"""

import json
import pathlib
import shutil
import subprocess

import pytest
import yaml

from render_rules import DASHBOARD, RULES_NAME, render_rules, render_rules_text

HERE = pathlib.Path(__file__).resolve().parent
CASES = HERE / "koji_alerts_test.yml"
# The builder alerts' channel label, with the rules rendered for these builders' channels.
CHANNEL_CASES = HERE / "koji_alerts_channels_test.yml"
CHANNELS = {"koji_monitoring_builder_channels": {"b1": "default", "b2": "default", "b3": "image"}}
PROMTOOL = shutil.which("promtool")

needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool not found on PATH (apt-get install prometheus, or a Prometheus release archive)",
)


def _run(*args, cwd):
    return subprocess.run([PROMTOOL] + list(args), cwd=str(cwd), capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture(name="rules_dir")
def fixture_rules_dir(tmp_path):
    render_rules(tmp_path)
    shutil.copy(CASES, tmp_path / CASES.name)
    return tmp_path


@needs_promtool
def test_rules_are_valid(rules_dir):
    result = _run("check", "rules", RULES_NAME, cwd=rules_dir)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_rule_cases_pass(rules_dir):
    result = _run("test", "rules", CASES.name, cwd=rules_dir)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_builder_alerts_carry_the_channel_of_their_host(tmp_path):
    render_rules(tmp_path, CHANNELS)
    shutil.copy(CHANNEL_CASES, tmp_path / CHANNEL_CASES.name)
    result = _run("check", "rules", RULES_NAME, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    result = _run("test", "rules", CHANNEL_CASES.name, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_without_channels_the_rules_have_no_channel_join():
    """The default rules are unchanged: no recorded channel, no join."""
    text = render_rules_text()
    assert "kojiforge_builder_channel" not in text
    assert "group_left" not in text
    with_channels = yaml.safe_load(render_rules_text(CHANNELS))
    assert with_channels["groups"][0]["name"] == "koji-builder-channels"
    assert [(r["labels"]["host"], r["labels"]["channel"]) for r in with_channels["groups"][0]["rules"]] == [
        ("b1", "default"), ("b2", "default"), ("b3", "image")]


def test_every_alert_has_a_case():
    rules = yaml.safe_load(render_rules_text())
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"] if "alert" in rule}
    cases = yaml.safe_load(CASES.read_text(encoding="utf-8"))
    tested = {check["alertname"] for test in cases["tests"] for check in test.get("alert_rule_test", [])
              if check.get("exp_alerts")}
    assert sorted(alerts - tested) == [], "alerts without a firing promtool case"
    assert sorted(tested - alerts) == [], "promtool cases for alerts that do not exist"


@needs_promtool
def test_dashboard_queries_are_valid_promql(tmp_path):
    """Each dashboard query, with Grafana's variables filled in, as a recording rule."""
    with open(DASHBOARD, encoding="utf-8") as handle:
        dashboard = json.load(handle)
    rules = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", ()):
            expr = target["expr"].replace("$__rate_interval", "5m").replace("$job", "koji")
            rules.append({"record": "dashboard:panel%d:%s" % (panel["id"], target["refId"]), "expr": expr})
    assert rules
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8")
    result = _run("check", "rules", path.name, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
