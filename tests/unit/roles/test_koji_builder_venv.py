"""What Debian does not package for kojid goes into kojid's own virtualenv, not the system Python.

- The packages are installed with Ansible's pip module into /opt/kojiforge/kojid-venv, from the
  wheels the controller downloaded (no index), never with --break-system-packages.
- kojid's unit puts the virtualenv's site-packages on PYTHONPATH (kojid restarts itself by exec'ing
  /usr/sbin/kojid with the system Python, which keeps the environment); EL builders get no such line.
- The two probes the tasks run on the builder are run here for real: where a virtualenv keeps its
  packages (compared with a virtualenv made here), and which packages pip put into the system Python.
"""

import json
import os
import pathlib
import subprocess
import sys
import venv

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from role_templating import TEMPLATE_OVERRIDES, load_yaml as _yaml, trust_as_template, trusted

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "koji_builder"
SITE = "/opt/kojiforge/kojid-venv/lib/python3.11/site-packages"


def _install_tasks():
    return _yaml(ROLE / "tasks" / "install.yml")


def _task(name):
    found = [task for task in _install_tasks() if task.get("name") == name]
    assert len(found) == 1, "%d tasks named %r" % (len(found), name)
    return found[0]


def _variables(os_family, extra=None):
    variables = dict(_yaml(ROLE / "defaults" / "main.yml"))
    variables.update(_yaml(ROLE / "vars" / "main.yml"))
    variables.update(_yaml(ROLE / "vars" / ("%s.yml" % os_family)))
    variables.update({
        "inventory_hostname": "builder1.koji.example.com",
        "groups": {"all": ["builder1.koji.example.com"], "koji_hub": ["hub.koji.example.com"]},
        "ansible_facts": {"os_family": os_family, "fqdn": "builder1.koji.example.com"},
        "ansible_managed": "Ansible managed",
        "group_names": ["koji_builders"],
        "__koji_builder_venv_site": {"stdout": SITE + "\n"},
    })
    variables.update(extra or {})
    return trusted(variables)


def _render(os_family, value, extra=None):
    return Templar(loader=DataLoader(), variables=_variables(os_family, extra)).template(trusted(value))


def _unit(os_family):
    text = (ROLE / "templates" / "kojid.service.j2").read_text(encoding="utf-8")
    templar = Templar(loader=DataLoader(), variables=_variables(os_family))
    return templar.template(trust_as_template(text), overrides=TEMPLATE_OVERRIDES)


def test_debian_lists_multilib_for_the_virtualenv_and_no_system_pip():
    debian = _yaml(ROLE / "vars" / "Debian.yml")
    assert debian["__koji_builder_pip_packages"] == ["python-multilib==1.3"]
    assert "python3-venv" in debian["__koji_builder_packages"]
    assert "python3-pip" not in debian["__koji_builder_packages"]
    assert _yaml(ROLE / "vars" / "RedHat.yml")["__koji_builder_pip_packages"] == []


def test_the_packages_go_into_kojids_virtualenv_from_the_controllers_wheels():
    args = _render("Debian", _task("Install the Python packages the distribution lacks into kojid's virtualenv")["ansible.builtin.pip"])
    assert args["virtualenv"] == "/opt/kojiforge/kojid-venv"
    assert args["virtualenv_command"] == "/usr/bin/python3 -m venv" and args["virtualenv_site_packages"] is True
    assert args["name"] == ["python-multilib==1.3"]
    assert set(args["extra_args"].split()) == {"--no-index", "--no-deps", "--find-links=/var/cache/kojiforge/wheels"}
    assert "executable" not in args, args


def test_nothing_is_installed_with_break_system_packages():
    for task in _install_tasks():
        pip = task.get("ansible.builtin.pip")
        text = yaml.safe_dump(task)
        if "break-system-packages" in text:
            # Only the removal of what earlier versions of the role installed.
            assert pip is not None and pip.get("state") == "absent", task["name"]
        if pip is not None and pip.get("state", "present") != "absent":
            assert "virtualenv" in pip and "executable" not in pip, task["name"]


def test_the_old_system_copy_goes_only_once_kojid_runs_with_the_virtualenv():
    task = _task("Remove what earlier versions installed into the system Python")
    variables = {"__koji_builder_system_pip": {"stdout": json.dumps({"installed": ["python-multilib"], "kojid_uses_venv": False})}}
    templar = Templar(loader=DataLoader(), variables=_variables("Debian", variables))
    assert [templar.template(trust_as_template("{{ %s }}" % condition)) for condition in task["when"]] == [True, True, False]
    assert _render("Debian", task["ansible.builtin.pip"]["name"], variables) == ["python-multilib"]


def test_the_probes_get_the_names_without_version_pins():
    argv = _render("Debian", _task("Look for the Python packages earlier versions installed into the system Python")["ansible.builtin.command"]["argv"])
    assert argv[0] == "/usr/bin/python3" and argv[1] == "-c"
    assert argv[3:] == [SITE, "python-multilib"], argv[3:]


def test_the_debian_unit_puts_the_virtualenv_on_pythonpath():
    unit = _unit("Debian")
    assert "\nEnvironment=PYTHONPATH=%s\n" % SITE in unit, unit
    assert unit.index("Environment=PYTHONPATH=") < unit.index("ExecStart=/usr/sbin/kojid ")


def test_the_el_unit_has_no_pythonpath():
    variables = _variables("RedHat")
    variables.pop("__koji_builder_venv_site")  # the EL run reads no virtualenv
    text = (ROLE / "templates" / "kojid.service.j2").read_text(encoding="utf-8")
    unit = Templar(loader=DataLoader(), variables=variables).template(trust_as_template(text), overrides=TEMPLATE_OVERRIDES)
    assert "PYTHONPATH" not in unit and "ExecStart=/usr/sbin/kojid " in unit, unit


def test_the_site_query_names_the_directory_a_virtualenv_uses(tmp_path):
    home = tmp_path / "kojid-venv"
    query = _variables("Debian")["__koji_builder_venv_site_query"]
    before = subprocess.run([sys.executable, "-c", query, str(home)], capture_output=True, text=True, check=True).stdout.strip()
    venv.EnvBuilder(system_site_packages=True, with_pip=False, symlinks=True).create(home)
    actual = subprocess.run([str(home / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert before == actual, (before, actual)
    after = subprocess.run([sys.executable, "-c", query, str(home)], capture_output=True, text=True, check=True).stdout.strip()
    assert after == actual


def _fake_dist(site, name, version, installer):
    info = site / ("%s-%s.dist-info" % (name.replace("-", "_"), version))
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version), encoding="utf-8")
    if installer is not None:
        (info / "INSTALLER").write_text(installer + "\n", encoding="utf-8")


@pytest.mark.parametrize("installer,found", [("pip", ["python-multilib"]), ("debian", []), (None, [])])
def test_the_system_probe_finds_only_what_pip_installed(tmp_path, installer, found):
    site = tmp_path / "dist-packages"
    _fake_dist(site, "python-multilib", "1.3", installer)
    _fake_dist(site, "other-package", "2.0", "pip")
    query = _variables("Debian")["__koji_builder_system_pip_query"]
    env = dict(os.environ, PYTHONPATH=str(site), PATH=str(tmp_path))  # no systemctl: no kojid runs
    out = subprocess.run([sys.executable, "-c", query, SITE, "python_multilib"],
                         capture_output=True, text=True, check=True, env=env).stdout
    assert json.loads(out) == {"installed": found, "kojid_uses_venv": False}
