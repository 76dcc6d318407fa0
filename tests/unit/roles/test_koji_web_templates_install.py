"""koji-web's page templates reach the host whatever the Koji version: Cheetah (*.chtml) up to
Koji 1.35, Jinja2 (*.j2) since 1.36, whose release notes say kojiweb moved to Jinja2 templates.

The source install (_common's kojiforge-install-koji.sh) copies kojiweb's tree with its
install_tree function: here that function, cut from the rendered script, runs for real in bash on
trees in a temporary directory (nothing else of the script runs: it writes under /usr). The
synthetic tree stands for 1.36's kojiweb, whose source we cannot get (its templates' names and
place are known only from the notes: `.j2` files in kojiweb's tree); the 1.34.3 and 1.35.3 trees
are Koji's own, read from the release archives testbed/koji-source.sh uses, when they are here. And koji_web installs the
template engines from the distribution when Koji comes from source (python3-jinja2 for 1.36).
"""

import re
import shutil
import subprocess
import tarfile

import pytest
from ansible.template import Templar

from role_templating import trust_as_template
from test_koji_option_tables import koji_archive
from test_templates_render import ROLES, TEMPLATE_OVERRIDES, _variables

INSTALL_SCRIPT = ROLES / "_common" / "templates" / "kojiforge-install-koji.sh.j2"
BASH = shutil.which("bash")


def _install_tree_function(os_family):
    """The install_tree function of the rendered script, as bash source."""
    loader, variables = _variables(os_family)
    script = Templar(loader=loader, variables=variables).template(
        trust_as_template(INSTALL_SCRIPT.read_text(encoding="utf-8")), overrides=TEMPLATE_OVERRIDES)
    found = re.search(r"^install_tree\(\) \{.*?^\}\n", script, re.MULTILINE | re.DOTALL)
    assert found, "the rendered install script has no install_tree function"
    return found.group(0)


def _install_tree(os_family, src, dest):
    """Run the rendered install_tree SRC DEST in bash, from SRC's parent (as the script does from
    the unpacked tree's top): the installed files, relative to DEST."""
    program = "set -euo pipefail\n%s\ninstall_tree %s %s\n" % (_install_tree_function(os_family), src.name, dest)
    proc = subprocess.run([BASH, "-c", program], cwd=str(src.parent), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert proc.returncode == 0, proc.stdout
    return {str(path.relative_to(dest)) for path in dest.rglob("*") if path.is_file()}


def _write(root, names):
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# %s\n" % name)


@pytest.mark.skipif(BASH is None, reason="needs bash")
@pytest.mark.parametrize("os_family", ["RedHat", "Debian"])
def test_jinja2_and_cheetah_templates_are_installed(os_family, tmp_path):
    """A kojiweb tree as 1.36 ships it (Jinja2 .j2 templates, some in a subdirectory) and as 1.35
    did (.chtml): every template and module is installed, the build files are not."""
    src = tmp_path / "kojiweb"
    templates = {"index.html.j2", "taskinfo.html.j2", "includes/header.html.j2", "buildinfo.chtml",
                 "includes/footer.chtml"}
    code = {"index.py", "wsgi_publisher.py"}
    _write(src, templates | code | {"Makefile", "includes/Makefile", "notes.txt"})
    dest = tmp_path / "usr-share-koji-web" / "scripts"
    installed = _install_tree(os_family, src, dest)
    assert installed == templates | code
    # a second install replaces the tree as a whole: a template removed upstream does not linger
    (src / "taskinfo.html.j2").unlink()
    assert _install_tree(os_family, src, dest) == (templates | code) - {"taskinfo.html.j2"}


@pytest.mark.skipif(BASH is None, reason="needs bash")
@pytest.mark.parametrize("version", ["1.34.3", "1.35.3"])
def test_kojis_own_web_tree_is_installed_as_its_makefiles_do(version, tmp_path):
    """Koji's www/kojiweb and www/lib/kojiweb Makefiles install *.py and *.chtml (FILES =
    $(wildcard *.py *.chtml), with includes/): install_tree installs exactly those files."""
    archive = koji_archive(version)
    top = tmp_path / "unpacked"
    with tarfile.open(str(archive)) as tar:
        members = [m for m in tar.getmembers()
                   if m.isfile() and re.match(r"koji-[^/]+/www/(kojiweb|lib)/", m.name)]
        tar.extractall(str(top), members=members)  # nosec: Koji's release tree, read-only input
    www = top / ("koji-%s" % version) / "www"
    for tree, dest_name in ((www / "kojiweb", "scripts"), (www / "lib", "lib")):
        shipped = {str(path.relative_to(tree)) for path in tree.rglob("*")
                   if path.is_file() and path.suffix in (".py", ".chtml")}
        assert shipped, "no web files in %s" % tree
        installed = _install_tree("Debian", tree, tmp_path / "koji-web" / dest_name)
        assert installed == shipped, tree


def _web_packages(os_family, method):
    loader, variables = _variables(os_family)
    variables["koji_install_method"] = method
    return Templar(loader=loader, variables=variables).template(trust_as_template("{{ __koji_web_packages }}"))


@pytest.mark.parametrize("os_family,method", [("Debian", "auto"), ("Debian", "source"), ("RedHat", "source")])
def test_a_source_install_gets_the_template_engines(os_family, method):
    packages = _web_packages(os_family, method)
    assert "python3-jinja2" in packages  # Koji 1.36's templates
    assert "python3-cheetah" in packages  # Koji 1.34 and 1.35's


@pytest.mark.parametrize("method", ["auto", "package"])
def test_el_packages_bring_their_own_engines(method):
    """On EL the koji-web package requires its template engine: nothing is added beside it."""
    assert _web_packages("RedHat", method) == []
