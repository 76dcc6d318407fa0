"""The collection artifact builds, installs, and everything in it resolves by FQCN.

The lists of roles and modules come from this tree, so a new role or module is checked without
editing this file. Tests and scenarios must stay out of the artifact (galaxy.yml build_ignore).
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile

import pytest

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


def test_artifact_leaves_out_tests_and_scenarios(installed):
    artifact = installed[0]
    with tarfile.open(artifact) as tar:
        names = tar.getnames()
    assert "galaxy.yml" not in names and "MANIFEST.json" in names
    for excluded in ("tests/", "molecule/", "testbed/", ".ci/"):
        assert not [n for n in names if n.startswith(excluded)], "%s is in the artifact" % excluded


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
