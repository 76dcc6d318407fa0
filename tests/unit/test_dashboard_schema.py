"""koji_monitoring's Grafana dashboard checked against Grafana's dashboard schema.

Grafana cannot be installed from our package sources, but its schema can: the
grafana-foundation-sdk package on PyPI (requirements-dev.txt pins the build for Grafana 11.6) holds
Python models that Grafana's code generator (cog) writes from Grafana's own CUE schemas: the
dashboard kind (dashboard, panels, rows, grid positions, data source references, template
variables, annotations, links), each core panel plugin's options and field config (stat, table,
timeseries, bargauge, ...), and each data source's query (prometheus).

The SDK validates nothing itself: its ``from_json`` copies every field it knows without looking at
its type and drops the others. So this test walks the dashboard along the models: a field the
model does not have is an error (a misspelt key is silently ignored by Grafana), a field whose
value is not of the model's type is an error (a string where the schema says integer, a value
outside an enum), and so is a field the schema gives without ``?``. The last is stricter than
Grafana, which fills in the defaults of such fields: the dashboard file spells out every setting,
as Grafana's own export does, so that its look does not change with Grafana's defaults.
Panel options are checked against the model of the panel's type, targets against the model of
their data source's type.
"""

import copy
import enum
import functools
import json
import pathlib
import re
import types
import typing

import pytest
from grafana_foundation_sdk.cog import plugins, runtime, variants
from grafana_foundation_sdk.models import dashboard as schema

ROOT = pathlib.Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "roles" / "koji_monitoring" / "files" / "kojiforge-koji-dashboard.json"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")

plugins.register_default_plugins()
RUNTIME = runtime.Runtime()
_MARK = object()


@functools.lru_cache(maxsize=None)
def json_fields(cls):
    """{JSON key: (attribute, type)} of a model class. The models name their attributes in
    Python's style (gridPos is grid_pos, type is type_val): the key of each attribute is the
    one the model's own to_json writes it under."""
    hints = typing.get_type_hints(cls)
    instance = cls.__new__(cls)
    for attribute in hints:
        setattr(instance, attribute, None)
    fields = {}
    for attribute, hint in hints.items():
        setattr(instance, attribute, _MARK)
        keys = [key for key, value in instance.to_json().items() if value is _MARK]
        assert len(keys) == 1, "%s.%s: to_json writes it under %r" % (cls.__name__, attribute, keys)
        fields[keys[0]] = (attribute, hint)
        setattr(instance, attribute, None)
    return fields


def _optional(hint):
    return typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in typing.get_args(hint)


def _is_model(hint):
    return isinstance(hint, type) and callable(getattr(hint, "to_json", None))


def _tag(cls):
    """The values of a model's "type" field when the schema fixes it (a row's is "row")."""
    hint = json_fields(cls).get("type", (None, None))[1]
    return typing.get_args(hint) if typing.get_origin(hint) is typing.Literal else None


_SCALARS = {
    bool: (lambda value: isinstance(value, bool), "a boolean"),
    int: (lambda value: isinstance(value, int) and not isinstance(value, bool), "an integer"),
    float: (lambda value: isinstance(value, (int, float)) and not isinstance(value, bool), "a number"),
    str: (lambda value: isinstance(value, str), "a string"),
}


class SchemaCheck:
    """The errors of a JSON value against a model type: a list of "path: what is wrong"."""

    def __init__(self):
        self.errors = []

    def value(self, value, hint, path, context):
        # pylint: disable=too-many-return-statements
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if hint in (object, typing.Any):
            return
        if origin in (typing.Union, types.UnionType):
            self._union(value, args, path, context)
            return
        if origin is typing.Literal:
            if value not in args:
                self.errors.append("%s: %r is not one of %r" % (path, value, list(args)))
            return
        if origin in (list, dict):
            self._collection(value, origin, args, path, context)
            return
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            allowed = [member.value for member in hint]
            if not _SCALARS[int if issubclass(hint, int) else str][0](value) or value not in allowed:
                self.errors.append("%s: %r is not one of %r" % (path, value, allowed))
            return
        if hint in _SCALARS:
            if not _SCALARS[hint][0](value):
                self.errors.append("%s: %r is not %s" % (path, value, _SCALARS[hint][1]))
            return
        if hint is variants.Dataquery:
            self._query(value, path, context)
            return
        if _is_model(hint):
            self.model(value, hint, path, context)
            return
        self.errors.append("%s: the check has no rule for the schema type %r" % (path, hint))

    def _union(self, value, args, path, context):
        if value is None and type(None) in args:
            return
        choices = [arg for arg in args if arg is not type(None)]
        if isinstance(value, dict) and all(_is_model(arg) for arg in choices) and len(choices) > 1:
            # a panel: a RowPanel when its type is "row", else a Panel
            tagged = [arg for arg in choices if _tag(arg) and value.get("type") in _tag(arg)]
            chosen = tagged or [arg for arg in choices if not _tag(arg)]
            if len(chosen) == 1:
                self.model(value, chosen[0], path, context)
                return
        results = []
        for choice in choices:
            check = SchemaCheck()
            check.value(value, choice, path, context)
            if not check.errors:
                return
            results.append(check.errors)
        if len(results) == 1:
            self.errors.extend(results[0])
        else:
            self.errors.append("%s: %r is none of %s" % (path, value, [getattr(c, "__name__", str(c)) for c in choices]))

    def _collection(self, value, origin, args, path, context):
        if origin is list:
            if not isinstance(value, list):
                self.errors.append("%s: %r is not a list" % (path, value))
                return
            for index, item in enumerate(value):
                self.value(item, args[0], "%s[%d]" % (path, index), context)
            return
        if not isinstance(value, dict):
            self.errors.append("%s: %r is not an object" % (path, value))
            return
        for key, item in value.items():
            self.value(item, args[1], "%s.%s" % (path, key), context)

    def _query(self, value, path, context):
        """A target: the query model of its data source's type (its own, else the panel's)."""
        own = value.get("datasource") if isinstance(value, dict) else None
        kind = (own or {}).get("type") if isinstance(own, dict) else None
        kind = kind or context.get("datasource")
        config = RUNTIME.dataquery_variants.get(kind)
        if config is None:
            self.errors.append("%s: no query schema for the data source type %r" % (path, kind))
            return
        self.model(value, config.from_json_hook.__self__, path, context)

    def model(self, value, cls, path, context):
        if not isinstance(value, dict):
            self.errors.append("%s: %r is not an object (%s)" % (path, value, cls.__name__))
            return
        fields = json_fields(cls)
        for key in sorted(set(value) - set(fields)):
            self.errors.append("%s: %s has no field %r" % (path, cls.__name__, key))
        for key, (_attribute, hint) in fields.items():
            if key not in value:
                if not _optional(hint):
                    self.errors.append("%s: %s requires %r" % (path, cls.__name__, key))
                continue
            where = "%s.%s" % (path, key)
            if cls is schema.Panel and key == "options":
                self._plugin(value, "options_from_json_hook", value[key], where)
            elif cls is schema.FieldConfig and key == "custom" and "panel" in context:
                self._plugin(context["panel"], "field_config_from_json_hook", value[key], where)
            elif cls is schema.Panel:
                source = value.get("datasource")
                inner = dict(context, panel=value, datasource=source.get("type") if isinstance(source, dict) else None)
                self.value(value[key], hint, where, inner)
            else:
                self.value(value[key], hint, where, context)

    def _plugin(self, panel, hook, value, path):
        """Options or custom field config: the model of the panel plugin."""
        config = RUNTIME.panelcfg_config(panel.get("type", ""))
        if config is None or getattr(config, hook) is None:
            self.errors.append("%s: no schema for the panel type %r" % (path, panel.get("type")))
            return
        self.model(value, getattr(config, hook).__self__, path, {})


def schema_errors(dashboard):
    check = SchemaCheck()
    check.model(dashboard, schema.Dashboard, "dashboard", {})
    return check.errors


def load():
    with open(DASHBOARD, encoding="utf-8") as handle:
        return json.load(handle)


def every_panel(dashboard):
    return [inner for panel in dashboard["panels"] for inner in [panel] + panel.get("panels", [])]


def test_the_dashboard_matches_grafanas_schema():
    assert schema_errors(load()) == []


def test_the_schema_version_is_one_the_schema_knows():
    """Grafana migrates a dashboard of an older schemaVersion on load; a newer one than the
    schema checked here would be checked against the wrong schema."""
    version = load()["schemaVersion"]
    assert 36 <= version <= schema.Dashboard().schema_version, version


def test_every_panel_type_and_data_source_has_a_schema():
    """The walk checks options and targets only where the SDK has their models: make sure it
    has them for every panel of ours (a panel of a plugin it does not know would be an error
    too, this says which)."""
    for panel in every_panel(load()):
        if panel["type"] != "row":
            assert RUNTIME.panelcfg_config(panel["type"]) is not None, panel["type"]
        for target in panel.get("targets", ()):
            assert target["datasource"]["type"] in RUNTIME.dataquery_variants, panel["title"]


def test_data_source_references_name_the_datasource_variable():
    """Every panel, target and query variable uses the Prometheus data source the user picks
    in the "datasource" variable: no data source uid of someone's Grafana in the file."""
    dashboard = load()
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    for panel in every_panel(dashboard):
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE, (panel["title"], target["refId"])
    for variable in variables.values():
        if variable["type"] == "query":
            assert variable["datasource"] == DATASOURCE, variable["name"]


def test_variables_used_are_defined():
    dashboard = load()
    defined = {v["name"] for v in dashboard["templating"]["list"]}
    for panel in every_panel(dashboard):
        for target in panel.get("targets", ()):
            for match in VARIABLE.finditer(target["expr"]):
                name = next(group for group in match.groups() if group)
                assert name.startswith("__") or name in defined, (panel["title"], name)


def test_grid_positions_do_not_overlap():
    """Grafana's grid is 24 wide; two panels on the same cells would be drawn over each other."""
    taken = {}
    for panel in every_panel(load()):
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in taken, "%r overlaps %r" % (panel["title"], taken[(x, y)])
                taken[(x, y)] = panel["title"]


def _panel(dashboard, kind):
    return next(panel for panel in dashboard["panels"] if panel["type"] == kind)


def _set(path, value):
    def change(dashboard):
        node = dashboard
        for key in path[:-1]:
            node = node[key] if not callable(key) else key(node)
        node[path[-1]] = value
    return change


def _delete(path):
    def change(dashboard):
        node = dashboard
        for key in path[:-1]:
            node = node[key] if not callable(key) else key(node)
        del node[path[-1]]
    return change


def _stat(node):
    return _panel(node, "stat")


def _timeseries(node):
    return _panel(node, "timeseries")


def _row(node):
    return _panel(node, "row")


BROKEN = {
    "gridPos x a string": (_set([_stat, "gridPos", "x"], "0"), r"panels\[\d+\]\.gridPos\.x: '0' is not an integer"),
    "gridPos without h": (_delete([_stat, "gridPos", "h"]), r"gridPos: GridPos requires 'h'"),
    "gridPos a list": (_set([_stat, "gridPos"], [4, 4, 0, 0]), r"gridPos: \[4, 4, 0, 0\] is not an object"),
    "misspelt panel key": (_set([_stat, "gridpos"], {}), r"Panel has no field 'gridpos'"),
    "datasource a name": (_set([_stat, "datasource"], "Prometheus"), r"\.datasource: 'Prometheus' is not an object"),
    "target expr a number": (_set([_stat, "targets", 0, "expr"], 1), r"targets\[0\]\.expr: 1 is not a string"),
    "target without expr": (_delete([_stat, "targets", 0, "expr"]), r"targets\[0\]: Dataquery requires 'expr'"),
    "target format unknown": (_set([_stat, "targets", 0, "format"], "tabel"), r"targets\[0\]\.format: 'tabel'"),
    "target of an unknown data source": (_set([_stat, "targets", 0, "datasource"], {"type": "nosuch", "uid": "x"}),
                                         r"no query schema for the data source type 'nosuch'"),
    "stat graphMode unknown": (_set([_stat, "options", "graphMode"], "sparkline"),
                               r"options\.graphMode: 'sparkline' is not one of"),
    "legend placement unknown": (_set([_timeseries, "options", "legend", "placement"], "top"),
                                 r"legend\.placement: 'top' is not one of"),
    "custom field config misspelt": (_set([_timeseries, "fieldConfig", "defaults", "custom"], {"drawstyle": "bars"}),
                                     r"custom: GraphFieldConfig has no field 'drawstyle'"),
    "row without its panels": (_delete([_row, "panels"]), r"RowPanel requires 'panels'"),
    "variable type misspelt": (_set(["templating", "list", 1, "type"], "querry"),
                               r"templating\.list\[1\]\.type: 'querry' is not one of"),
    "variable refresh out of range": (_set(["templating", "list", 1, "refresh"], 7),
                                      r"templating\.list\[1\]\.refresh: 7 is not one of"),
    "variable current empty": (_set(["templating", "list", 1, "current"], {}), r"VariableOption requires 'text'"),
    "schemaVersion a string": (_set(["schemaVersion"], "39"), r"schemaVersion: '39' is not an integer"),
    "no schemaVersion": (_delete(["schemaVersion"]), r"Dashboard requires 'schemaVersion'"),
    "graphTooltip out of range": (_set(["graphTooltip"], 3), r"graphTooltip: 3 is not one of"),
    "an unknown panel type": (_set([_stat, "type"], "nosuchpanel"), r"no schema for the panel type 'nosuchpanel'"),
}


@pytest.mark.parametrize("fault", sorted(BROKEN))
def test_the_check_finds_a_broken_dashboard(fault):
    change, expected = BROKEN[fault]
    dashboard = copy.deepcopy(load())
    change(dashboard)
    errors = schema_errors(dashboard)
    assert [error for error in errors if re.search(expected, error)], errors
