"""The Grafana dashboard's queries as Grafana sends them to Prometheus.

Every target of every panel (rows' nested panels included) with Grafana's variables expanded:
the dashboard's template variables (`$job`, from a `label_values()` query), and the built-in
`$__interval`, `$__rate_interval`, `$__range`. Used by test_dashboard_queries.py on the
cluster's real Prometheus and by tests/unit/test_dashboard_queries.py, which checks offline
that it handles every panel of the dashboard.
"""

import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[3]
DASHBOARD = ROOT / "roles" / "koji_monitoring" / "files" / "kojiforge-koji-dashboard.json"

# $name, ${name}, ${name:format}, and the deprecated [[name]].
VARIABLE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\$(\w+)|\[\[(\w+)\]\]")
LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(.+?)\s*,\s*)?([a-zA-Z_]\w*)\s*\)\s*$")
# What Grafana's Prometheus data source escapes in a value put into a regex matcher
# (a variable with "multi" or "includeAll" set).
REGEX_SPECIAL = re.compile(r"([\\^$*+?.()|{}\[\]])")


class Target:
    """One query of one panel."""

    # pylint: disable=too-few-public-methods

    def __init__(self, panel, target):
        self.panel = panel["title"]
        self.panel_id = panel["id"]
        self.panel_type = panel["type"]
        self.ref_id = target["refId"]
        self.expr = target["expr"]
        self.instant = bool(target.get("instant")) and not target.get("range", False)

    @property
    def name(self):
        """How a failure names it: the panel's title and the query's refId."""
        return "%s (panel %d, query %s)" % (self.panel, self.panel_id, self.ref_id)


def load(path=DASHBOARD):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def panels(dashboard):
    """Every panel, those of collapsed rows (kept in the row's "panels") included."""
    found = []
    for panel in dashboard.get("panels", ()):
        found.append(panel)
        found.extend(panel.get("panels", ()))
    return found


def targets(dashboard):
    """Every query Grafana runs: the targets of every panel, hidden ones left out."""
    return [Target(panel, target) for panel in panels(dashboard)
            for target in panel.get("targets", ()) if not target.get("hide")]


def variable_query(variable):
    """(series selector or None, label) of a query variable's `label_values()` query."""
    query = variable.get("query")
    text = query.get("query") if isinstance(query, dict) else query
    match = LABEL_VALUES.match(text or "")
    if not match:
        raise ValueError("template variable %s: %r is not a label_values() query this test can run"
                         % (variable["name"], text))
    return match.group(1), match.group(2)


def query_variables(dashboard):
    """{name: variable} of the template variables that expressions can use: the query
    variables (a data source variable only picks the data source)."""
    found = {}
    for variable in dashboard.get("templating", {}).get("list", ()):
        if variable["type"] == "datasource":
            continue
        if variable["type"] != "query":
            raise ValueError("template variable %s: type %r is not expanded by this test"
                             % (variable["name"], variable["type"]))
        variable_query(variable)
        found[variable["name"]] = variable
    return found


def variable_text(variable, values):
    """A variable's values as Grafana's Prometheus data source writes them into a query: one
    value as it is, unless the variable may hold several (multi or includeAll), where each is
    regex-escaped and several are joined as (a|b)."""
    if not values:
        raise ValueError("template variable %s has no value" % variable["name"])
    if not (variable.get("multi") or variable.get("includeAll")):
        return values[0]
    escaped = [REGEX_SPECIAL.sub(r"\\\1", value) for value in values]
    return escaped[0] if len(escaped) == 1 else "(%s)" % "|".join(escaped)


def _duration(seconds):
    return "%ds" % max(1, int(round(seconds)))


def builtins(interval, scrape_interval, range_seconds):
    """Grafana's built-in variables for a query whose points are `interval` seconds apart
    over `range_seconds`, on a data source scraped every `scrape_interval` seconds.
    $__rate_interval is max($__interval + scrape interval, 4 x scrape interval)."""
    interval = max(interval, scrape_interval)
    return {
        "__interval": _duration(interval),
        "__interval_ms": str(int(interval * 1000)),
        "__rate_interval": _duration(max(interval + scrape_interval, 4 * scrape_interval)),
        "__range": _duration(range_seconds),
        "__range_s": str(int(range_seconds)),
        "__range_ms": str(int(range_seconds * 1000)),
    }


def expand(expr, values):
    """expr with every variable replaced by its text from `values` ({name: text}); a
    variable without a value is an error, not left in the query."""
    def replace(match):
        name = next(group for group in (match.group(1), match.group(3), match.group(4)) if group)
        if name not in values:
            raise KeyError("variable $%s has no value (known: %s)" % (name, ", ".join(sorted(values))))
        return values[name]
    return VARIABLE.sub(replace, expr)
