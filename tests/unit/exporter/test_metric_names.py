"""Every metric the alert rules and the Grafana dashboard use is one the exporter serves.

The served names come from the exporter itself: a scrape of the seeded fake hub (every family
has samples there, see test_exporter.py), not from a list kept here.
"""

import importlib.util
import json
import re

import pytest
import yaml

from exporter_support import HUB_TIMEOUT, ROOT, parse

from kojiforge_metrics import metricdefs

DASHBOARD = ROOT / "roles" / "koji_monitoring" / "files" / "kojiforge-koji-dashboard.json"
METRIC = re.compile(r"\bkoji_[a-z0-9_]+\b")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
RATED = re.compile(r"\b(?:rate|increase|irate)\(\s*(koji_[a-z0-9_]+)")


def _render_rules_module():
    spec = importlib.util.spec_from_file_location(
        "render_rules", str(ROOT / "tests" / "promtool" / "render_rules.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rule_expressions():
    rules = yaml.safe_load(_render_rules_module().render_rules_text())
    return dict((rule.get("alert") or rule.get("record"), rule["expr"])
                for group in rules["groups"] for rule in group["rules"])


def dashboard():
    with open(DASHBOARD, encoding="utf-8") as handle:
        return json.load(handle)


def dashboard_expressions():
    found = {}
    for panel in dashboard()["panels"]:
        for target in panel.get("targets", ()):
            found["%s/%s" % (panel["title"], target["refId"])] = target["expr"]
    return found


def used_names(expressions):
    """{metric name: [where]} for every koji_* metric named outside string literals."""
    used = {}
    for where, expr in expressions.items():
        for name in METRIC.findall(STRING.sub('""', expr)):
            used.setdefault(name, []).append(where)
    return used


@pytest.fixture(name="served", scope="module")
def fixture_served():
    # a module-scoped scrape of a seeded hub (the function-scoped fixtures cannot be used here)
    from exporter_support import FixedClock, seed  # pylint: disable=import-outside-toplevel
    from kojiforge_metrics.exporter import Exporter  # pylint: disable=import-outside-toplevel
    from kojiforge_metrics.settings import Settings  # pylint: disable=import-outside-toplevel
    from fakehub import FakeHub  # pylint: disable=import-outside-toplevel
    from fakehub.api_tasks import TaskAPI  # pylint: disable=import-outside-toplevel
    with FakeHub(extra_handlers=[TaskAPI()]) as hub:
        seed(hub.state, hub.session())
        exporter = Exporter(Settings(hub.url, timeout=HUB_TIMEOUT), clock=FixedClock())
        assert exporter.refresh_counts() and exporter.refresh_tasks()
        return set(name for name, _labels in parse(exporter.render()))


def test_the_scrape_serves_what_the_exporter_declares(served):
    assert served == metricdefs.served_sample_names()


@pytest.mark.parametrize("source", ["rules", "dashboard"])
def test_used_metrics_are_served(source, served):
    expressions = rule_expressions() if source == "rules" else dashboard_expressions()
    used = used_names(expressions)
    assert used, "no koji_* metric found in the %s: the scan is broken" % source
    unknown = dict((name, where) for name, where in used.items() if name not in served)
    assert unknown == {}


@pytest.mark.parametrize("source", ["rules", "dashboard"])
def test_rate_and_increase_only_on_counters(source):
    expressions = rule_expressions() if source == "rules" else dashboard_expressions()
    monotonic = set()
    for spec in metricdefs.METRICS:
        if spec.kind == metricdefs.COUNTER:
            monotonic.add(spec.name)
        elif spec.kind == metricdefs.HISTOGRAM:
            monotonic.update(spec.sample_names())
    for where, expr in expressions.items():
        for name in RATED.findall(expr):
            assert name in monotonic, "%s: rate/increase over the gauge %s" % (where, name)


def test_the_dashboard_covers_what_the_issue_asks_for():
    used = used_names(dashboard_expressions())
    for name in ("koji_hosts_enabled", "koji_hosts_ready", "koji_builders_update",
                 "koji_task_load", "koji_hosts_capacity",
                 "koji_enabled_hosts_task_load_per_channel", "koji_enabled_hosts_capacity_per_channel",
                 "koji_waiting_tasks", "koji_in_progress_tasks",
                 "koji_task_succeed_total", "koji_task_errors_total", "koji_tasks_total"):
        assert name in used, name


def test_dashboard_is_provisionable():
    dash = dashboard()
    assert dash["uid"] == "kojiforge-koji"
    assert "id" not in dash or dash["id"] is None
    variables = dict((v["name"], v) for v in dash["templating"]["list"])
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    ids = [panel["id"] for panel in dash["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dash["panels"]:
        for target in panel.get("targets", ()):
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
