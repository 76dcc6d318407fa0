"""The per-version option sets of test_koji_versions.py and the defaults of
test_koji_hub_repo_options.py, checked against Koji's own release trees at test time, and hub.conf
and web.conf rendered per version and OS against them.

Those files hold the option sets as data, written from Koji's option tables (the hub's config_map
in kojihub/kojixmlrpc.py, the web's cfgmap in www/kojiweb/wsgi_publisher.py). Here the tables of
the 1.34.3 and 1.35.3 release archives (the folder testbed/koji-source.sh reads: KOJI_SOURCE_DIR,
else ../shared/koji-source beside the repository; skipped where it is not) are parsed with Python's
ast, nothing of them is copied or run, and the data must be equal to them: an option added,
renamed or dropped upstream, or a mistyped one in the data, fails here. The samples each release
ships (kojihub/app/hub.conf, www/conf/web.conf) are read too: they may name only options of the
table, except web.conf's HiddenUsers, which the web never reads (WEB_READ_BY_NOBODY).

1.36's source cannot be had here: its sets are 1.35.3's with the changes its release and
migration notes name (https://docs.pagure.org/koji/release_notes/release_notes_1.36/):
RepoLagWindow gone from the hub, DisableURLSessions defaulting to true, the web on Jinja2
templates with no web.conf option named as changed. That is what is checked for 1.36, from the
parsed 1.35.3 tables.
"""

import ast
import configparser
import os
import pathlib
import re
import tarfile

import pytest

from test_koji_hub_repo_options import REPO_DEFAULTS, SCHEDULER_DEFAULTS
from test_koji_versions import (HUB_CONF, HUB_SECRETS, VERSIONS, WEB_CONF, WEB_READ_BY_NOBODY, WEB_SECRETS,
                                _render)

ROOT = pathlib.Path(__file__).resolve().parents[3]
KOJI_SOURCE_DIR = pathlib.Path(os.environ.get("KOJI_SOURCE_DIR") or ROOT.parent / "shared" / "koji-source")
RELEASES = ["1.34.3", "1.35.3"]
OS_FAMILIES = ["RedHat", "Debian"]


def koji_archive(version):
    """Koji VERSION's release archive, or skip the test."""
    archive = KOJI_SOURCE_DIR / ("koji-%s.tar.gz" % version)
    if not archive.is_file():
        pytest.skip("Koji %s's release archive is not on this machine (%s)" % (version, archive))
    return archive


def _member_text(version, path):
    with tarfile.open(str(koji_archive(version))) as tar:
        handle = tar.extractfile("koji-%s/%s" % (version, path))
        return handle.read().decode("utf-8")


def _option_table(version, path, name):
    """{option: default} of the list of [option, type, default] rows assigned to NAME in PATH."""
    tree = ast.parse(_member_text(version, path))
    tables = [node.value for node in ast.walk(tree)
              if isinstance(node, ast.Assign) and isinstance(node.value, ast.List)
              and any(isinstance(target, ast.Name) and target.id == name for target in node.targets)]
    assert len(tables) == 1, "%s: %d tables named %s" % (path, len(tables), name)
    rows = [[_value(cell) for cell in row.elts] for row in tables[0].elts]
    assert rows and all(len(row) == 3 for row in rows), path
    return {option: default for option, _type, default in rows}


def _value(node):
    """A table cell: a literal, or arithmetic on literals (1.35.3 writes `24 * 60`)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Add)):
        left, right = _value(node.left), _value(node.right)
        return left * right if isinstance(node.op, ast.Mult) else left + right
    return ast.literal_eval(node)


def hub_table(version):
    return _option_table(version, "kojihub/kojixmlrpc.py", "config_map" if version >= "1.35" else "cfgmap")


def web_table(version):
    return _option_table(version, "www/kojiweb/wsgi_publisher.py", "cfgmap")


def _sample_options(version, path):
    """The options a shipped sample names, set or commented out (`#Name = value`)."""
    return set(re.findall(r"^#? ?([A-Za-z_][A-Za-z0-9_]*) ?=", _member_text(version, path), re.MULTILINE))


@pytest.mark.parametrize("version", RELEASES)
def test_the_hub_option_set_is_the_releases_own(version):
    assert VERSIONS[version][0] == set(hub_table(version))


@pytest.mark.parametrize("version", RELEASES)
def test_the_web_option_set_is_the_releases_own(version):
    assert VERSIONS[version][1] == set(web_table(version))


@pytest.mark.parametrize("version", RELEASES)
def test_the_shipped_samples_name_only_what_the_release_reads(version):
    assert _sample_options(version, "kojihub/app/hub.conf") - set(hub_table(version)) == set()
    assert _sample_options(version, "www/conf/web.conf") - set(web_table(version)) == WEB_READ_BY_NOBODY


def test_1_36_is_1_35_with_what_its_notes_change():
    hub, web = hub_table("1.35.3"), web_table("1.35.3")
    assert "RepoLagWindow" in hub
    assert VERSIONS["1.36.1"][0] == set(hub) - {"RepoLagWindow"}
    assert VERSIONS["1.36.1"][1] == set(web)
    # the default 1.36 turns to true, false before it: the role writes it for every version
    assert hub["DisableURLSessions"] is False


@pytest.mark.parametrize("version", RELEASES)
def test_the_role_defaults_are_the_releases_defaults(version):
    """The scheduler and repo defaults the role writes (test_koji_hub_repo_options.py's data) are
    the release's table defaults, for every option the release reads."""
    table = hub_table(version)
    expected = dict(SCHEDULER_DEFAULTS, **REPO_DEFAULTS)
    compared = {name: str(table[name]) for name in expected if name in table}
    assert compared == {name: value for name, value in expected.items() if name in table}
    assert set(SCHEDULER_DEFAULTS) <= set(table)


def _parsed(text):
    parser = configparser.RawConfigParser()
    parser.optionxform = str
    parser.read_string(text)
    return parser


@pytest.mark.parametrize("os_family", OS_FAMILIES)
@pytest.mark.parametrize("version", RELEASES)
def test_rendered_files_against_the_releases_tables(os_family, version):
    """hub.conf and web.conf (with their conf.d secrets files) rendered for VERSION on OS_FAMILY
    write only options of that release's parsed tables."""
    hub = set(_parsed(_render(os_family, version, HUB_CONF)).options("hub"))
    hub |= set(_parsed(_render(os_family, version, HUB_SECRETS)).options("hub"))
    assert hub - set(hub_table(version)) == set()
    web = set(_parsed(_render(os_family, version, WEB_CONF, koji_web_hidden_users=[3])).options("web"))
    web |= set(_parsed(_render(os_family, version, WEB_SECRETS)).options("web"))
    assert web - set(web_table(version)) == WEB_READ_BY_NOBODY


@pytest.mark.parametrize("os_family", OS_FAMILIES)
@pytest.mark.parametrize("version,lag_window", [("1.34.3", False), ("1.35.3", True), ("1.36.1", False)])
def test_repo_lag_window_and_url_sessions_per_version(os_family, version, lag_window):
    """RepoLagWindow only for 1.35, even when the inventory sets it; DisableURLSessions true
    (1.36's default, written for every version) in every hub.conf."""
    hub = _parsed(_render(os_family, version, HUB_CONF, koji_hub_repo_lag_window=1234))
    assert hub.getboolean("hub", "DisableURLSessions") is True
    assert hub.has_option("hub", "RepoLagWindow") is lag_window
    if lag_window:
        assert hub.get("hub", "RepoLagWindow") == "1234"
    # the repo queue since 1.35
    assert hub.has_option("hub", "RepoQueueUser") is (version != "1.34.3")


@pytest.mark.parametrize("os_family", OS_FAMILIES)
@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_web_conf_is_the_same_for_every_version(os_family, version):
    """No web.conf option changed across 1.34-1.36: the rendered file is the same for each
    version (only its header may differ), and its values are the inventory's."""
    rendered = _parsed(_render(os_family, version, WEB_CONF, koji_web_site_name="site-%s" % version))
    reference = _parsed(_render(os_family, "1.35.3", WEB_CONF, koji_web_site_name="site-%s" % version))
    assert dict(rendered.items("web")) == dict(reference.items("web"))
    assert rendered.get("web", "SiteName") == "site-%s" % version
    assert rendered.get("web", "LibPath") == "/usr/share/koji-web/lib"
