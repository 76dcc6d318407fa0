"""The collection artifact builds, installs, and everything in it resolves by FQCN.

The lists of roles and modules come from this tree, so a new role or module is checked without
editing this file. Tests, scenarios, the test bed and the doc and lint tooling stay out of the
artifact (galaxy.yml build_ignore); the license it declares ships in it, and its links point at
the project, not at a placeholder.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent


def _tool(name):
    path = BIN / name
    return str(path) if path.exists() else shutil.which(name)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("artifact")
    subprocess.run([_tool("ansible-galaxy"), "collection", "build", "--output-path", str(work), str(ROOT)],
                   check=True, capture_output=True, text=True)
    artifacts = list(work.glob("kojiforge-koji-*.tar.gz"))
    assert len(artifacts) == 1, artifacts
    dest = work / "installed"
    subprocess.run([_tool("ansible-galaxy"), "collection", "install", "--offline", "--force", "-n", "-p", str(dest),
                    str(artifacts[0])], check=True, capture_output=True, text=True)
    return artifacts[0], dest


def _doc(dest, *args):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(dest))
    proc = subprocess.run([_tool("ansible-doc"), "--json"] + list(args), env=env,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _artifact_names(artifact):
    with tarfile.open(artifact) as tar:
        return tar.getnames()


def test_artifact_leaves_out_tests_and_scenarios(installed):
    names = _artifact_names(installed[0])
    assert "galaxy.yml" not in names and "MANIFEST.json" in names
    excluded_dirs = ("tests/", "molecule/", "testbed/", ".ci/", ".config/", "build/", ".venv/",
                     "inventories/local/", "changelogs/fragments/")
    for excluded in excluded_dirs:
        assert not [n for n in names if n.startswith(excluded)], "%s is in the artifact" % excluded
    excluded_files = ("Makefile", "requirements-dev.txt", ".ansible-lint", ".gitignore",
                      "docs/build.sh", "docs/check_links.py", "docs/metrics_table.py")
    for excluded in excluded_files:
        assert excluded not in names, "%s is in the artifact" % excluded


def test_artifact_has_what_users_need(installed):
    names = _artifact_names(installed[0])
    for needed in ("LICENSE", "README.md", "meta/runtime.yml", "changelogs/changelog.yaml",
                   "playbooks/site.yml", "inventories/example/hosts.yml", "docs/index.md"):
        assert needed in names, "%s is not in the artifact" % needed


def test_license_file_matches_galaxy_yml():
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))
    assert galaxy["license"] == ["GPL-3.0-or-later"], "LICENSE holds the GPL 3 text: update both together"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "GNU GENERAL PUBLIC LICENSE" in text and "Version 3, 29 June 2007" in text


def test_galaxy_yml_links_point_at_the_project():
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))
    for key in ("repository", "documentation", "homepage", "issues"):
        assert galaxy[key].startswith("https://github.com/kojiforge/koji"), (key, galaxy[key])


def test_modules_resolve_by_fqcn(installed):
    dest = installed[1]
    modules = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
    if not modules:
        pytest.skip("the collection has no modules yet")
    for module in modules:
        doc = _doc(dest, "-t", "module", "kojiforge.koji.%s" % module)
        assert "kojiforge.koji.%s" % module in doc


def test_roles_resolve_by_fqcn(installed):
    dest = installed[1]
    roles = sorted(p.parent.parent.name for p in (ROOT / "roles").glob("*/meta/argument_specs.yml"))
    assert roles, "the collection has no documented roles"
    for role in roles:
        doc = _doc(dest, "-t", "role", "kojiforge.koji.%s" % role)
        assert "kojiforge.koji.%s" % role in doc
