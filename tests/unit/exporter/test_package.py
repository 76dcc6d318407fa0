"""The exporter as a package: the wheel the koji_web role builds on the controller
(roles/koji_web/files/build_metrics_wheel.py, no build backend) is reproducible, matches what
flit_core builds from pyproject.toml, installs with pip into a virtualenv as the role installs
it, and a reinstall leaves no module of the previous install behind.
"""

import base64
import hashlib
import importlib.util
import json
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
FILES = ROOT / "roles" / "koji_web" / "files"
PROJECT = FILES / "kojiforge-metrics"
BUILDER = FILES / "build_metrics_wheel.py"
VENV_SCRIPT = FILES / "metrics_venv.py"


def _build(project, out):
    proc = subprocess.run([sys.executable, str(BUILDER), str(project), str(out)],
                          check=True, capture_output=True, text=True)
    return json.loads(proc.stdout)


def _metadata(wheel_path):
    with zipfile.ZipFile(wheel_path) as wheel:
        names = sorted(wheel.namelist())
        meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
        headers, _sep, body = wheel.read(meta).decode("utf-8").partition("\n\n")
    fields = sorted(line for line in headers.splitlines() if not line.startswith("Metadata-Version:"))
    return names, fields, body


def test_version_is_the_collections():
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))
    init = (PROJECT / "src" / "kojiforge_metrics" / "__init__.py").read_text(encoding="utf-8")
    assert "__version__ = '%s'" % galaxy["version"] in init


def test_role_wheel_is_reproducible_and_its_record_holds(tmp_path):
    first = _build(PROJECT, tmp_path / "a")
    second = _build(PROJECT, tmp_path / "b")
    data = pathlib.Path(first["path"]).read_bytes()
    assert data == pathlib.Path(second["path"]).read_bytes()
    assert pathlib.Path(first["path"]).name == "kojiforge_metrics-%s-py3-none-any.whl" % first["version"]
    modules = sorted("kojiforge_metrics/" + p.name for p in (PROJECT / "src" / "kojiforge_metrics").glob("*.py"))
    with zipfile.ZipFile(first["path"]) as wheel:
        assert wheel.testzip() is None
        names = wheel.namelist()
        assert sorted(n for n in names if not n.startswith("kojiforge_metrics-")) == modules
        record = next(n for n in names if n.endswith(".dist-info/RECORD"))
        for line in wheel.read(record).decode("utf-8").splitlines():
            name, digest, size = line.rsplit(",", 2)
            if name == record:
                continue
            content = wheel.read(name)
            assert int(size) == len(content)
            assert digest == "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()


@pytest.mark.skipif(importlib.util.find_spec("flit_core") is None,
                    reason="flit_core is not installed (requirements-dev.txt has it)")
def test_role_wheel_matches_flit_core(tmp_path):
    """The same files and metadata fields as the declared backend's wheel (Metadata-Version aside)."""
    from flit_core import buildapi  # pylint: disable=import-outside-toplevel,import-error
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "flit"
    out.mkdir()
    cwd = pathlib.Path.cwd()
    try:
        os.chdir(project)
        flit_name = buildapi.build_wheel(str(out))
    finally:
        os.chdir(cwd)
    ours = _build(PROJECT, tmp_path / "role")
    assert pathlib.Path(ours["path"]).name == flit_name
    assert _metadata(ours["path"]) == _metadata(out / flit_name)


@pytest.fixture(name="metrics_venv", scope="module")
def fixture_metrics_venv(tmp_path_factory):
    """A virtualenv made by the role's script (system site-packages, pip from ensurepip)."""
    home = tmp_path_factory.mktemp("venv") / "metrics-venv"

    def state(check_mode=False):
        proc = subprocess.run([sys.executable, "-c", VENV_SCRIPT.read_text(encoding="utf-8"), str(home),
                               "kojiforge-metrics", str(check_mode)], check=True, capture_output=True, text=True)
        return json.loads(proc.stdout)

    assert state(check_mode=True)["created"] and not home.exists()
    created = state()
    assert created["created"] and created["version"] == ""
    return home, state


def _pip_install(home, wheel):
    # what the role runs
    subprocess.run([str(home / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--no-index",
                    "--force-reinstall", "--disable-pip-version-check", "--no-cache-dir", str(wheel)],
                   check=True, capture_output=True, text=True)


def test_role_wheel_installs_and_imports(metrics_venv, tmp_path):
    home, state = metrics_venv
    built = _build(PROJECT, tmp_path)
    _pip_install(home, built["path"])
    report = state()
    assert not report["created"] and report["version"] == built["version"]
    site = pathlib.Path(report["site_packages"])
    assert (site / "kojiforge_metrics" / "wsgi.py").is_file()
    # prometheus_client and koji come from the host's system site-packages, which this
    # machine's base Python may lack: the package itself is what is checked here.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([str(home / "bin" / "python"), "-c",
                           "import kojiforge_metrics; print(kojiforge_metrics.__file__, kojiforge_metrics.__version__)"],
                          check=True, capture_output=True, text=True, cwd=str(tmp_path), env=env)
    path, version = proc.stdout.split()
    assert version == built["version"]
    assert pathlib.Path(path).parent == site / "kojiforge_metrics"


def test_module_removed_from_the_package_does_not_linger(metrics_venv, tmp_path):
    home, state = metrics_venv
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("__pycache__"))
    (project / "src" / "kojiforge_metrics" / "obsolete.py").write_text("GONE = False\n", encoding="utf-8")
    _pip_install(home, _build(project, tmp_path / "with")["path"])
    site = pathlib.Path(state()["site_packages"])
    assert (site / "kojiforge_metrics" / "obsolete.py").is_file()
    # the same version again, without the module: --force-reinstall uninstalls first
    _pip_install(home, _build(PROJECT, tmp_path / "without")["path"])
    assert not (site / "kojiforge_metrics" / "obsolete.py").exists()
    assert (site / "kojiforge_metrics" / "wsgi.py").is_file()


def test_venv_sees_the_system_site_packages(metrics_venv):
    home, _state = metrics_venv
    cfg = (home / "pyvenv.cfg").read_text(encoding="utf-8")
    assert "include-system-site-packages = true" in cfg
