"""Kerberos (GSSAPI) login: keytab, ticket cache, default cache; what is checked before the
login and what a failed login says. Runs koji's real gssapi_login against the fake hub over
HTTPS, with requests-gssapi's auth replaced by fakehub.kerberos (no KDC)."""

import koji
import pytest

from ansible_collections.kojiforge.koji.plugins.module_utils.koji_connection import KojiConnection
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_errors import KojiModuleError

from fakehub import FakeHub
from fakehub import kerberos
from fakehub.runner import run

PRINCIPAL = 'koji-admin@EXAMPLE.COM'


@pytest.fixture
def krbhub(tmp_path, monkeypatch):
    monkeypatch.delenv('KRB5CCNAME', raising=False)
    monkeypatch.delenv('KRB5_CLIENT_KTNAME', raising=False)
    logins = kerberos.install(monkeypatch)
    certdir = tmp_path / 'certs'
    certdir.mkdir()
    with FakeHub(tls=True, certdir=str(certdir)) as fake:
        fake.state.add_user('koji-admin', perms=['admin'], krb_principal=PRINCIPAL)
        fake.logins = logins
        yield fake


def connection(fake, **options):
    params = {'server': fake.url, 'serverca': fake.certs['ca'], 'authtype': 'kerberos'}
    params.update(options)
    return KojiConnection(params)


def logged_in_user(conn):
    conn.ensure_logged_in()
    try:
        return conn.session.getLoggedInUser()['name']
    finally:
        conn.logout()


def test_keytab_and_principal(krbhub, tmp_path):
    keytab = tmp_path / 'admin.keytab'
    keytab.write_bytes(b'\x05\x02not-a-real-keytab')
    conn = connection(krbhub, principal=PRINCIPAL, keytab=str(keytab))
    assert logged_in_user(conn) == 'koji-admin'
    assert krbhub.logins == [{'principal': PRINCIPAL, 'keytab': str(keytab), 'ccache': None}]
    # writes are never resent: the session is back to no retries after the login
    assert conn.session.opts['max_retries'] == 0


def test_ticket_cache_given_or_default(krbhub, tmp_path, monkeypatch):
    cache = tmp_path / 'krb5cc_1000'
    cache.write_text(PRINCIPAL + '\n')  # the fake krb5 reads the principal from it
    for ccache in ('FILE:%s' % cache, str(cache)):
        assert logged_in_user(connection(krbhub, ccache=ccache)) == 'koji-admin'
        assert krbhub.logins[-1] == {'principal': None, 'keytab': None, 'ccache': ccache}
    monkeypatch.setenv('KRB5CCNAME', 'FILE:%s' % cache)
    assert logged_in_user(connection(krbhub)) == 'koji-admin'
    assert krbhub.logins[-1]['ccache'] == 'FILE:%s' % cache


def test_ccache_from_the_profile_when_koji_reads_it(krbhub, tmp_path, monkeypatch):
    cache = tmp_path / 'krb5cc_profile'
    cache.write_text(PRINCIPAL + '\n')
    profile = {'server': krbhub.url, 'serverca': krbhub.certs['ca'], 'authtype': 'kerberos',
               'ccache': 'FILE:%s' % cache}
    monkeypatch.setattr(koji, 'read_config', lambda name: dict(profile))
    conn = KojiConnection({'koji': 'krb'})
    assert conn.config['ccache'] == 'FILE:%s' % cache
    assert logged_in_user(conn) == 'koji-admin'
    other = tmp_path / 'krb5cc_option'
    other.write_text(PRINCIPAL + '\n')
    assert KojiConnection({'koji': 'krb', 'ccache': str(other)}).config['ccache'] == str(other)


def test_missing_keytab_or_ticket_cache_fails_before_the_login(krbhub, tmp_path):
    with pytest.raises(KojiModuleError) as exc:
        connection(krbhub, principal=PRINCIPAL,
                   keytab=str(tmp_path / 'missing.keytab')).ensure_logged_in()
    assert exc.value.msg == ('keytab %s does not exist or is not a file (option keytab); '
                             'nothing was written' % (tmp_path / 'missing.keytab'))
    with pytest.raises(KojiModuleError) as exc:
        connection(krbhub, ccache='FILE:%s' % (tmp_path / 'krb5cc_none')).ensure_logged_in()
    assert 'ticket cache FILE:%s does not exist (option ccache)' % (tmp_path / 'krb5cc_none') \
        in exc.value.msg
    assert krbhub.logins == [] and 'sslLogin' not in krbhub.calls
    # a keytab fills a ticket cache that does not exist yet; other cache types are krb5's
    keytab = tmp_path / 'admin.keytab'
    keytab.write_bytes(b'kt')
    assert logged_in_user(connection(krbhub, principal=PRINCIPAL, keytab=str(keytab),
                                     ccache=str(tmp_path / 'krb5cc_new'))) == 'koji-admin'


def test_a_failed_login_names_the_credentials_not_their_content(krbhub, tmp_path):
    cache = tmp_path / 'krb5cc_stranger'
    cache.write_text('stranger@EXAMPLE.COM\n')
    with pytest.raises(KojiModuleError) as exc:
        connection(krbhub, ccache=str(cache)).ensure_logged_in()
    assert exc.value.msg.startswith('cannot log in to %s (kerberos as ticket cache %s): '
                                    % (krbhub.url, cache))
    assert 'Unknown Kerberos principal: stranger@EXAMPLE.COM' in exc.value.msg
    keytab = tmp_path / 'other.keytab'
    keytab.write_bytes(b'SECRET-KEY-MATERIAL')
    with pytest.raises(KojiModuleError) as exc:
        connection(krbhub, principal='other@EXAMPLE.COM', keytab=str(keytab)).ensure_logged_in()
    assert ('(kerberos as principal other@EXAMPLE.COM, keytab %s)' % keytab) in exc.value.msg
    assert 'SECRET' not in exc.value.msg
    with pytest.raises(KojiModuleError) as exc:
        connection(krbhub).ensure_logged_in()
    assert '(kerberos as the default ticket cache (KRB5CCNAME not set))' in exc.value.msg


def test_a_module_writes_with_a_keytab_and_check_mode_needs_none(krbhub, tmp_path):
    keytab = tmp_path / 'admin.keytab'
    args = {'server': krbhub.url, 'serverca': krbhub.certs['ca'], 'authtype': 'kerberos',
            'principal': PRINCIPAL, 'keytab': str(keytab), 'name': 'releng'}
    # check mode does not log in: a keytab that is not there yet does not matter
    assert run('koji_user', args, check_mode=True)['changed']
    result = run('koji_user', args)
    assert result.get('failed') and 'keytab %s does not exist' % keytab in result['msg']
    assert krbhub.session(login=False).getUser('releng') is None
    keytab.write_bytes(b'kt')
    result = run('koji_user', dict(args, krb_principal='releng@EXAMPLE.COM'))
    assert result['changed'] and not result.get('failed'), result
    assert krbhub.session(login=False).getUser('releng@EXAMPLE.COM')['name'] == 'releng'
    assert result['invocation']['module_args']['keytab'] == str(keytab)
