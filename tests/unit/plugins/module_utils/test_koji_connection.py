"""The connection: profiles and options, its checks."""

import pytest

from ansible_collections.kojiforge.koji.plugins.module_utils.koji_connection import KojiConnection
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_errors import KojiModuleError


def test_connection_needs_a_server(monkeypatch, tmp_path):
    monkeypatch.setenv('HOME', str(tmp_path))
    monkeypatch.delenv('KOJI_PROFILE', raising=False)
    with pytest.raises(KojiModuleError):
        KojiConnection({'koji': 'no-such-profile-anywhere'})


def test_profile_is_read_and_explicit_options_win(monkeypatch, tmp_path, hub):
    confdir = tmp_path / '.koji'
    confdir.mkdir()
    (confdir / 'config').write_text(
        '[kojitest]\nserver = %s\nauthtype = password\n'
        '[other]\nserver = http://elsewhere.invalid/kojihub\n' % hub.hub.url)
    monkeypatch.setenv('HOME', str(tmp_path))
    overridden = KojiConnection({'koji': 'other', 'server': hub.hub.url})
    assert overridden.config['server'] == hub.hub.url
    conn = KojiConnection({'koji': 'kojitest', 'user': 'admin',
                           'password': hub.hub.admin_password})
    assert conn.config['server'] == hub.hub.url
    assert conn.config['authtype'] == 'password'
    assert conn.session.getAPIVersion() == 1
    conn.ensure_logged_in()
    assert conn.session.getLoggedInUser()['name'] == 'admin'
    assert conn.requests == 3  # getAPIVersion, login, getLoggedInUser
    conn.logout()


def test_write_sessions_must_be_positive():
    with pytest.raises(KojiModuleError) as exc:
        KojiConnection({'server': 'http://hub.invalid/kojihub', 'write_sessions': 0})
    assert 'write_sessions' in exc.value.msg
