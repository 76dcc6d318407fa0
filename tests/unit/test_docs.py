"""The documentation: the generated reference builds, and the guides match the code.

- docs/build.sh (antsibull-docs, lint-collection-docs, Sphinx with warnings as errors) succeeds
  and writes a page for every module and every role of this tree;
- docs/metrics.md lists exactly the metrics metricdefs.py defines, in the generated table;
- every module's RETURN holds the result keys the modules share, as docs/module_returns.py has them;
- every relative link between the guides in docs/ resolves, anchors included.

The lists of modules, roles and metrics come from the tree, so nothing new goes unchecked.
"""

import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
BUILD_SCRIPT = DOCS / "build.sh"


def _load(name):
    spec = importlib.util.spec_from_file_location("docs_" + name, str(DOCS / (name + ".py")))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


metrics_table = _load("metrics_table")
module_returns = _load("module_returns")
check_links = _load("check_links")

MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
# A role that has tasks or an argument spec is deployable and needs a reference page. Roles
# whose names start with "_" are internal (tasks shared through include_role).
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir()
               if p.is_dir() and not p.name.startswith("_")
               and ((p / "meta" / "argument_specs.yml").is_file() or (p / "tasks" / "main.yml").is_file()))
GUIDES = sorted(DOCS.rglob("*.md"))


@pytest.fixture(scope="module", name="build")
def fixture_build(tmp_path_factory):
    """Run docs/build.sh once into a temporary directory; its result and output directory."""
    if importlib.util.find_spec("antsibull_docs") is None:
        pytest.skip("antsibull-docs is not importable: install requirements-dev.txt (make venv)")
    out = tmp_path_factory.mktemp("docs") / "out"
    env = dict(os.environ, DOCS_BUILD_DIR=str(out), VENV=str(pathlib.Path(sys.executable).parent.parent))
    proc = subprocess.run(["bash", str(BUILD_SCRIPT)], cwd=str(ROOT), env=env,
                          capture_output=True, text=True, check=False, timeout=900)
    return proc, out


def _pages(build):
    """The output directory of a build that succeeded (its failure is reported once, below)."""
    proc, out = build
    if proc.returncode != 0:
        pytest.skip("docs/build.sh failed: see test_build_script_succeeds")
    return out


def test_build_script_succeeds(build):
    proc, out = build
    assert proc.returncode == 0, "docs/build.sh failed:\n%s\n%s" % (proc.stdout[-6000:], proc.stderr[-6000:])
    assert (out / "html" / "index.html").is_file()


@pytest.mark.parametrize("module", MODULES)
def test_every_module_has_a_reference_page(build, module):
    out = _pages(build)
    assert (out / "rst" / ("%s_module.rst" % module)).is_file(), "no reference page for module %s" % module
    assert (out / "html" / ("%s_module.html" % module)).is_file(), "no HTML page for module %s" % module


@pytest.mark.parametrize("role", ROLES)
def test_every_role_has_a_reference_page(build, role):
    out = _pages(build)
    assert (out / "rst" / ("%s_role.rst" % role)).is_file(), \
        "no reference page for role %s (has it a meta/argument_specs.yml?)" % role
    assert (out / "html" / ("%s_role.html" % role)).is_file(), "no HTML page for role %s" % role


def test_the_tree_has_modules_and_roles_to_document():
    assert "koji_tag" in MODULES and len(MODULES) >= 5, MODULES
    assert "koji_ca" in ROLES and "koji_monitoring" in ROLES, ROLES


def _metricdefs():
    return metrics_table.load_metricdefs()


def test_metrics_page_lists_exactly_the_defined_metrics():
    defined = [spec.name for spec in _metricdefs().METRICS]
    table = metrics_table.split_guide((DOCS / "metrics.md").read_text(encoding="utf-8"))[1]
    listed = re.findall(r"^\| `(koji_[a-z0-9_]+)` \|", table, re.M)
    assert len(defined) > 20
    assert sorted(set(listed) - set(defined)) == [], "listed in docs/metrics.md but not defined"
    assert sorted(set(defined) - set(listed)) == [], "defined in metricdefs.py but not in docs/metrics.md"
    assert len(listed) == len(set(listed)), "a metric is listed twice"


def test_metrics_table_is_the_generated_one():
    """Types, labels and help texts too: python3 docs/metrics_table.py rewrites it."""
    table = metrics_table.split_guide((DOCS / "metrics.md").read_text(encoding="utf-8"))[1]
    assert table == metrics_table.render(_metricdefs())


def test_metrics_table_check_fails_on_a_stale_table(monkeypatch, tmp_path):
    stale = tmp_path / "metrics.md"
    stale.write_text("# m\n%s\n| `koji_up` | gauge | none | every scrape | x |\n%s\n"
                     % (metrics_table.BEGIN, metrics_table.END), encoding="utf-8")
    monkeypatch.setattr(metrics_table, "GUIDE", stale)
    assert metrics_table.main(["--check"]) == 1
    assert metrics_table.main([]) == 0
    assert metrics_table.main(["--check"]) == 0


def test_every_module_returns_the_shared_keys_as_written_once():
    """A doc fragment cannot hold RETURN: python3 docs/module_returns.py rewrites them."""
    assert module_returns.main(["--check"]) == 0
    for path in module_returns.modules():
        body = module_returns.RETURN_BLOCK.search(path.read_text(encoding="utf-8")).group("body")
        assert yaml.safe_load(body)["changes"]["returned"] == "always"
        assert body.endswith(module_returns.SHARED)


def test_module_returns_check_fails_on_a_drifted_module(monkeypatch, tmp_path):
    source = (ROOT / "plugins" / "modules" / "koji_target.py").read_text(encoding="utf-8")
    drifted = tmp_path / "koji_target.py"
    drifted.write_text(source.replace("  description: On a hub refusal, the calls that were not sent.",
                                      "  description: The calls not sent."), encoding="utf-8")
    monkeypatch.setattr(module_returns, "MODULES", tmp_path)
    assert module_returns.main(["--check"]) == 1
    assert module_returns.main([]) == 0
    assert module_returns.main(["--check"]) == 0
    assert drifted.read_text(encoding="utf-8") == source


@pytest.mark.parametrize("guide", GUIDES, ids=[str(g.relative_to(DOCS)) for g in GUIDES])
def test_relative_links_resolve(guide):
    assert check_links.broken_links(guide) == []


PLAYBOOK = re.compile(r"playbooks/([a-z_]+)\.yml")
NOT_YET = re.compile(r"not yet|planned|until it exists", re.I)
PLANNED_PAGE = re.compile(r"\A# [^\n]*\n+> \*\*Planned, not yet implemented\.\*\*")


def _blocks(text):
    """Paragraphs of a Markdown page, with each table row a block of its own."""
    blocks = []
    for paragraph in re.split(r"\n\s*\n", text):
        rows = [line for line in paragraph.splitlines() if line.lstrip().startswith("|")]
        blocks.extend(rows)
        rest = "\n".join(line for line in paragraph.splitlines() if not line.lstrip().startswith("|"))
        if rest.strip():
            blocks.append(rest)
    return blocks


def missing_playbooks_not_marked(text):
    """Playbooks a page names that are not in the tree, where the page does not say so."""
    if PLANNED_PAGE.match(text):
        return []  # the whole page is marked planned under its title
    found = []
    for block in _blocks(text):
        for name in PLAYBOOK.findall(block):
            if not (ROOT / "playbooks" / (name + ".yml")).is_file() and not NOT_YET.search(block):
                found.append(name)
    return found


# The guides this check covers: the other pages belong to the roles' authors (hub.md,
# builders.md, roles/, testbed.md), who keep them true to their own roles.
OWN_GUIDES = [g for g in GUIDES if g.name in (
    "index.md", "architecture.md", "aws.md", "scale-out.md", "metrics.md", "modules.md",
    "backup-restore.md", "upgrading.md")]


@pytest.mark.parametrize("guide", OWN_GUIDES, ids=[g.name for g in OWN_GUIDES])
def test_playbooks_not_in_the_tree_are_marked_not_implemented(guide):
    assert missing_playbooks_not_marked(guide.read_text(encoding="utf-8")) == []


def test_unmarked_missing_playbook_is_found():
    text = "# Page\n\nRun `playbooks/no_such_play.yml` now.\n\n| `playbooks/also_missing.yml` | planned |\n"
    assert missing_playbooks_not_marked(text) == ["no_such_play"]
    assert missing_playbooks_not_marked("# Page\n\n> **Planned, not yet implemented.** x\n" + text) == []


YAML_BLOCK = re.compile(r"^( *)```yaml\n(.*?)^\1```", re.S | re.M)


def test_yaml_examples_parse():
    blocks = 0
    for guide in OWN_GUIDES:
        for match in YAML_BLOCK.finditer(guide.read_text(encoding="utf-8")):
            indent = len(match.group(1))
            body = "\n".join(line[indent:] for line in match.group(2).splitlines())
            try:
                yaml.safe_load(body)
            except yaml.YAMLError as exc:
                pytest.fail("%s: a YAML example does not parse: %s" % (guide.name, exc))
            blocks += 1
    assert blocks >= 5, "the guides' YAML examples were not found"


def test_link_checker_finds_broken_links(tmp_path):
    (tmp_path / "b.md").write_text("# Heading one\n\ntext\n", encoding="utf-8")
    page = tmp_path / "a.md"
    page.write_text("[ok](b.md) [anchor](b.md#heading-one) [gone](missing.md) [bad](b.md#nope)\n"
                    "[web](https://example.com/x.md) `[code](missing-too.md)`\n"
                    "```\n[fenced](missing-three.md)\n```\n", encoding="utf-8")
    assert [problem[0] for problem in check_links.broken_links(page)] == ["missing.md", "b.md#nope"]


# Role variables the pages name: a name with a role's prefix (koji_hub_..., kojira_...) must be an
# option of some role's argument spec, or a removed variable the roles refuse with the name of its
# replacement (roles/*/vars/main.yml, __<role>_removed_variables, read by
# roles/_common/tasks/removed_variables.yml). Names ending in "_" are prefixes ("koji_hub_db_*"),
# names followed by a file extension are files (koji_web_targets.yml).
PUBLIC_ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if p.is_dir() and not p.name.startswith("_"))
ROLE_VARIABLE = re.compile(r"\b(?:%s)_[a-z0-9_]*[a-z0-9]\b(?![_.](?:yml|yaml|j2|json|conf|py|md)?\b)"
                           % "|".join(PUBLIC_ROLES))
VARIABLE_PAGES = sorted([ROOT / "README.md"] + list(DOCS.glob("*.md")) + list(DOCS.glob("roles/*.md"))
                        + list((ROOT / "roles").glob("*/README.md")))


def _known_variables():
    known = set()
    for path in (ROOT / "roles").glob("*/meta/argument_specs.yml"):
        for spec in (yaml.safe_load(path.read_text(encoding="utf-8"))["argument_specs"] or {}).values():
            known.update(spec.get("options") or {})
    for path in (ROOT / "roles").glob("*/vars/main.yml"):
        for name, value in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            if name.endswith("_removed_variables") and isinstance(value, dict):
                known.update(value)
    return known


def unknown_variables(text, known):
    """Role variable names in text that no role knows."""
    return sorted(set(ROLE_VARIABLE.findall(text)) - known)


@pytest.mark.parametrize("page", VARIABLE_PAGES, ids=[str(p.relative_to(ROOT)) for p in VARIABLE_PAGES])
def test_every_role_variable_a_page_names_exists(page):
    assert unknown_variables(page.read_text(encoding="utf-8"), _known_variables()) == []


def test_a_variable_that_does_not_exist_is_found():
    known = _known_variables()
    assert "koji_hub_url" in known and "koji_builder_install_method" in known  # an option; a removed one
    text = ("Set `koji_hub_url`, not koji_hub_server_name; kojira_nothing either. The koji_hub_db_* "
            "options, koji_web_targets.yml and __koji_hub_internal are not variables to check.")
    assert unknown_variables(text, known) == ["koji_hub_server_name", "kojira_nothing"]
