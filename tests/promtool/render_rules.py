"""Render koji_monitoring's alert rules template with the role's defaults, as the role does.

Used by the promtool tests here and by tests/unit/exporter/test_metric_names.py, so both test
the file Prometheus would load rather than a copy of it.
"""

import pathlib

import jinja2
import yaml
from ansible.plugins.filter.core import comment, to_json, to_nice_yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLE = ROOT / "roles" / "koji_monitoring"
RULES_TEMPLATE = ROLE / "templates" / "koji_alerts.rules.yml.j2"
RULES_NAME = "koji_alerts.rules.yml"
DASHBOARD = ROLE / "files" / "kojiforge-koji-dashboard.json"


def role_defaults():
    """The role's defaults/main.yml, as a dict."""
    with open(ROLE / "defaults" / "main.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def render_rules_text(overrides=None):
    """The rules file's text, rendered like ansible.builtin.template does (trim_blocks)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(RULES_TEMPLATE.parent)),
        trim_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update({"comment": comment, "to_json": to_json, "to_nice_yaml": to_nice_yaml})
    variables = role_defaults()
    variables.update(overrides or {})
    variables["ansible_managed"] = "Ansible managed"
    return env.get_template(RULES_TEMPLATE.name).render(**variables)


def render_rules(directory, overrides=None):
    """Write the rendered rules file into ``directory``; returns its path."""
    path = pathlib.Path(directory) / RULES_NAME
    path.write_text(render_rules_text(overrides), encoding="utf-8")
    return path
