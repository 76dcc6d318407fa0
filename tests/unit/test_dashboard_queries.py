"""The cluster scenario's dashboard query test, checked offline on every panel of the dashboard.

molecule/cluster/tests/test_dashboard_queries.py runs each panel's query on the real Prometheus,
which only the cluster scenario has. Its extraction and variable expansion
(molecule/cluster/tests/dashboard_queries.py) are checked here: every query of the dashboard is
found, every variable in it is expanded, the expanded query is PromQL that promtool accepts, and
it names only metrics that the exporter serves (kojiforge_metrics.metricdefs) or that the alert
rules record.
"""

import importlib.util
import json
import pathlib
import re
import shutil
import subprocess

import pytest
import yaml

from kojiforge_metrics import metricdefs

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROMTOOL = shutil.which("promtool")


def _module(name, path):
    spec = importlib.util.spec_from_file_location(name, str(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


queries = _module("dashboard_queries", ROOT / "molecule" / "cluster" / "tests" / "dashboard_queries.py")
render_rules = _module("render_rules", ROOT / "tests" / "promtool" / "render_rules.py")

DASHBOARD = queries.load()
# What the cluster test would get from Prometheus for the variables, and a 2 h range in 30 s steps
# on a data source scraped every 5 s (the scenario's interval).
VALUES = {"job": "koji"}
BUILTINS = queries.builtins(30, 5, 7200)
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
# A name right before a selector's braces or a range, or any koji_ name: what PromQL reads as a metric.
SELECTED = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?=\{|\[)")
KOJI_NAME = re.compile(r"\bkoji_[a-z0-9_]+\b")
# PromQL's words that can stand before a brace or bracket without being a metric.
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "offset"}


def expanded():
    values = dict(VALUES, **BUILTINS)
    return [(target, queries.expand(target.expr, values)) for target in queries.targets(DASHBOARD)]


def known_metrics():
    rules = yaml.safe_load(render_rules.render_rules_text())
    recorded = {rule["record"] for group in rules["groups"] for rule in group["rules"] if "record" in rule}
    return metricdefs.served_sample_names() | recorded


def _every_expr(node):
    """Every "expr" anywhere in the dashboard outside its template variables, found without the
    helper's idea of where panels and targets are."""
    if isinstance(node, dict):
        found = [node["expr"]] if "expr" in node and not node.get("hide") else []
        for key, value in node.items():
            if key != "templating":
                found += _every_expr(value)
        return found
    if isinstance(node, list):
        return [expr for item in node for expr in _every_expr(item)]
    return []


def test_every_query_of_the_dashboard_is_extracted():
    found = [target.expr for target in queries.targets(DASHBOARD)]
    assert found, "no query extracted"
    assert sorted(found) == sorted(_every_expr(DASHBOARD))
    named = [target.name for target in queries.targets(DASHBOARD)]
    assert len(named) == len(set(named)), "two queries with the same panel and refId"


def test_nested_panels_of_a_collapsed_row_are_extracted():
    dashboard = json.loads(json.dumps(DASHBOARD))
    row = next(panel for panel in dashboard["panels"] if panel["type"] == "row")
    inner = next(panel for panel in dashboard["panels"] if panel.get("targets"))
    dashboard["panels"].remove(inner)
    row["collapsed"], row["panels"] = True, [inner]
    assert sorted(t.expr for t in queries.targets(dashboard)) == sorted(t.expr for t in queries.targets(DASHBOARD))


def test_every_variable_is_expanded():
    used = set()
    for target in queries.targets(DASHBOARD):
        used.update(next(g for g in match.groups() if g) for match in queries.VARIABLE.finditer(target.expr))
    # the dashboard does use variables, and the expansion knows each of them
    assert "job" in used and "__rate_interval" in used, used
    assert used <= set(queries.query_variables(DASHBOARD)) | set(BUILTINS), used
    for target, expr in expanded():
        assert "$" not in expr and "[[" not in expr, (target.name, expr)


def test_an_unknown_variable_is_an_error():
    with pytest.raises(KeyError, match=r"\$nosuch"):
        queries.expand('koji_up{job=~"$nosuch"}', dict(VALUES, **BUILTINS))
    assert queries.expand('koji_up{job=~"${job}"}[$__rate_interval]', dict(VALUES, **BUILTINS)) == \
        'koji_up{job=~"koji"}[35s]'


def test_the_template_variables_are_queries_the_test_can_run():
    variables = queries.query_variables(DASHBOARD)
    assert set(variables) == {"job"}
    assert queries.variable_query(variables["job"]) == ("koji_up", "job")
    # includeAll: each value regex-escaped, several joined as Grafana's Prometheus data source does
    assert queries.variable_text(variables["job"], ["koji"]) == "koji"
    assert queries.variable_text(variables["job"], ["koji", "koji.b"]) == r"(koji|koji\.b)"
    with pytest.raises(ValueError, match="label_values"):
        queries.variable_query({"name": "x", "type": "query", "query": {"query": "up"}})
    with pytest.raises(ValueError, match="custom"):
        queries.query_variables({"templating": {"list": [{"name": "x", "type": "custom", "query": "a,b"}]}})


def test_builtin_intervals_follow_grafana():
    # $__rate_interval = max($__interval + scrape interval, 4 x scrape interval)
    assert queries.builtins(30, 5, 7200)["__rate_interval"] == "35s"
    assert queries.builtins(5, 5, 600)["__rate_interval"] == "20s"
    assert queries.builtins(60, 15, 86400)["__rate_interval"] == "75s"
    # $__interval is never below the scrape interval
    assert queries.builtins(1, 5, 600)["__interval"] == "5s"
    assert queries.builtins(30, 5, 7200)["__range"] == "7200s"


def test_expanded_queries_name_only_served_or_recorded_metrics():
    known = known_metrics()
    for target, expr in expanded():
        bare = STRING.sub('""', expr)
        names = set(KOJI_NAME.findall(bare)) | (set(SELECTED.findall(bare)) - KEYWORDS)
        assert names, (target.name, expr)
        assert sorted(names - known) == [], "%s names metrics nothing defines: %s" % (target.name, expr)


def test_the_metric_check_catches_an_unknown_name():
    bare = STRING.sub('""', 'rate(koji_tasks_totl{job=~"koji"}[35s]) + up{job="x"}')
    names = set(KOJI_NAME.findall(bare)) | (set(SELECTED.findall(bare)) - KEYWORDS)
    assert names - known_metrics() == {"koji_tasks_totl", "up"}


@pytest.mark.skipif(PROMTOOL is None, reason="promtool not found on PATH (apt-get install prometheus)")
def test_expanded_queries_parse(tmp_path):
    """promtool checks each expanded query as the expression of a recording rule."""
    rules = [{"record": "dashboard:panel%d:%s" % (target.panel_id, target.ref_id), "expr": expr}
             for target, expr in expanded()]
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8")
    result = subprocess.run([PROMTOOL, "check", "rules", path.name], cwd=str(tmp_path), capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    # and promtool does refuse a query the expansion got wrong
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": [
        {"record": "dashboard:broken", "expr": 'rate(koji_tasks_total{job=~"koji"}[$__rate_interval])'}]}]}),
        encoding="utf-8")
    result = subprocess.run([PROMTOOL, "check", "rules", path.name], cwd=str(tmp_path), capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode != 0, result.stdout
