"""inventories/example documents every public variable of every role.

A user copies that inventory to start a site: a variable missing there is one they will not
know about. A variable counts when it is set, or shown commented out (`# name: value`), in any
file of the inventory.
"""

import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "inventories" / "example"
ROLES = sorted(p.parent.parent.name for p in (ROOT / "roles").glob("*/meta/argument_specs.yml")
               if not p.parent.parent.name.startswith("_"))


def _inventory_text():
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(INVENTORY.rglob("*.yml")))


def _options(role):
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    return sorted(specs["argument_specs"]["main"].get("options") or {})


@pytest.mark.parametrize("role", ROLES)
def test_every_public_variable_is_in_the_example_inventory(role):
    text = _inventory_text()
    missing = [name for name in _options(role)
               if not re.search(r"^\s*(#\s*)?%s:" % re.escape(name), text, re.MULTILINE)]
    assert missing == [], "not in inventories/example: %s" % ", ".join(missing)


def test_example_inventory_parses_as_yaml():
    for path in sorted(INVENTORY.rglob("*.yml")):
        yaml.safe_load(path.read_text(encoding="utf-8"))
