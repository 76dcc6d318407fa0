"""The fake hub itself: Koji's semantics the modules and tests rely on."""

import gc
import threading
import weakref

import koji
import pytest

from fakehub import FakeHub
from fakehub.certs import make_client_cert


def test_events_one_per_writing_call_none_for_reads_or_unversioned(hub):
    s = hub.hub.session()
    start = hub.event()
    with s.multicall(strict=False) as m:
        m.createTag('a')
        m.createTag('b')
        m.getTag('a')
    assert hub.event() == start + 2
    s.addChannel('unversioned')   # channels are not versioned on the hub
    s.createUser('someone')       # neither are users
    assert hub.event() == start + 2
    s.editHost  # attribute access only
    assert hub.hub.write_log[-1][0] == 'createUser'


def test_multicall_fault_does_not_undo_neighbours(hub):
    s = hub.hub.session()
    with s.multicall(strict=False) as m:
        ok1 = m.createTag('x')
        bad = m.createTag('x')
        ok2 = m.createTag('y')
    assert isinstance(ok1.result, int) and isinstance(ok2.result, int)
    with pytest.raises(koji.GenericError):
        bad.result
    assert sorted(t['name'] for t in s.listTags()) == ['x', 'y']


def test_a_dropped_session_freed_in_a_request_thread_does_not_stall_the_hub(hub):
    """A logged-in session that raised a koji error is kept by a reference cycle (the error's
    traceback holds _callMethod's frame, which holds the error and the session): only the
    garbage collector frees it, in whichever thread allocates then. koji's ClientSession.__del__
    logs out over HTTP: in a request thread of the same hub, that thread would wait, holding the
    hub's lock, for a logout that needs the lock, and the hub would answer nobody again."""
    fake = hub.hub
    collected_in = []

    def collect(method, args, kwargs):
        if not collected_in:
            collected_in.append(threading.current_thread().name)
            gc.collect()   # what any allocation in this request thread may start

    gc.disable()
    try:
        session = fake.session()
        with pytest.raises(koji.GenericError):
            session.getTag('no-such-tag', strict=True)
        dropped = weakref.ref(session)
        del session
        assert dropped() is not None, 'the session is no longer kept by a cycle: nothing tested'
        fake.fault_hook = collect
        anon = koji.ClientSession(fake.url, {'timeout': 10, 'max_retries': 0, 'anon_retry': False})
        assert anon.getLastEvent()['id'] >= 1
    finally:
        fake.fault_hook = None
        gc.enable()
    assert dropped() is None
    assert collected_in and collected_in[0] != threading.current_thread().name


def test_koji_semantics(hub):
    s = hub.hub.session()
    repo = s.createExternalRepo('r', 'http://example.org/$arch')
    assert repo['url'] == 'http://example.org/$arch/'
    hid = s.addHost('b1.example.com', ['x86_64'])
    assert [c['name'] for c in s.listChannels(hostID=hid)] == ['default']
    with pytest.raises(koji.GenericError, match='already subscribed'):
        s.addHostToChannel('b1.example.com', 'default')
    with pytest.raises(koji.GenericError, match='not subscribed'):
        s.removeHostFromChannel('b1.example.com', 'createrepo')
    assert s.editHost('b1.example.com', enabled=False) is False  # ignored, as on the hub
    assert s.getHost('b1.example.com')['enabled'] is True
    with pytest.raises(koji.GenericError):
        s.removeChannel('default')
    anon = hub.anon
    with pytest.raises(koji.ActionNotAllowed):
        anon.createTag('nope')


def test_host_status_seeding_and_listing_shapes(hub):
    hub.state.add_host('b1.example.com', arches=['x86_64', 'i686'], capacity=4, ready=True,
                       task_load=1.5, update_ts=1700000000.0, channels=['default', 'image'])
    host = hub.anon.listHosts(channelID='image', ready=True)[0]
    assert set(host) == {'id', 'user_id', 'name', 'update_ts', 'ready', 'task_load', 'arches',
                         'capacity', 'description', 'comment', 'enabled'}
    assert (host['task_load'], host['capacity'], host['update_ts']) == (1.5, 4.0, 1700000000.0)
    hub.state.set_host_status('b1.example.com', ready=False, task_load=0)
    assert hub.anon.listHosts(ready=True) == []
    assert [c['name'] for c in hub.anon.listChannels(hostID='b1.example.com', enabled=True)] == \
        ['default', 'image']


def test_extra_handlers_get_the_state():
    class Extra(object):
        def countTags(self, state, prefix=''):
            return len([t for t in state.tags.values() if t['name'].startswith(prefix)])

    with FakeHub(extra_handlers=[Extra()]) as fake:
        fake.state.add_tag('f1')
        fake.state.add_tag('g1')
        assert fake.session(login=False).countTags(prefix='f') == 1
    with pytest.raises(ValueError):
        FakeHub(extra_handlers=[type('Clash', (), {'getTag': lambda self, state: 1})()])


def test_certificate_login_and_module_over_tls(tmp_path):
    from fakehub.runner import run
    with FakeHub(tls=True, certdir=str(tmp_path)) as fake:
        s = fake.session()
        assert s.getLoggedInUser()['name'] == 'admin'
        assert fake.calls.get('sslLogin') == 1
        stranger = make_client_cert(fake.certs, 'stranger')
        other = koji.ClientSession(fake.url, {'serverca': fake.certs['ca'], 'cert': stranger})
        with pytest.raises(koji.AuthError):
            other.ssl_login()
        args = {'server': fake.url, 'cert': fake.certs['admin_pem'],
                'serverca': fake.certs['ca'], 'name': 'over-tls'}
        result = run('koji_tag', args)
        assert result['changed'] and not result.get('failed'), result
        assert fake.session(login=False).getTag('over-tls')['name'] == 'over-tls'


def test_edituser_maps_kerberos_principals_like_the_hub(hub):
    s = hub.hub.session()
    hub.state.add_user('alice', krb_principal='alice@OLD.EXAMPLE.COM')
    hub.state.add_user('bob', krb_principal='bob@EXAMPLE.COM')
    start = hub.event()
    s.editUser('alice', krb_principal_mappings=[{'old': None, 'new': 'alice@EXAMPLE.COM'}])
    assert s.getUser('alice')['krb_principals'] == ['alice@OLD.EXAMPLE.COM',
                                                    'alice@EXAMPLE.COM']
    assert s.getUser('alice@EXAMPLE.COM')['name'] == 'alice'  # a principal finds its user
    assert hub.event() == start  # the users tables are not versioned
    assert hub.hub.write_log[-1][0] == 'editUser'
    refusals = [
        ([{'old': None, 'new': 'alice@EXAMPLE.COM'}], 'Cannot add existing Kerberos principals'),
        ([{'old': 'nobody@EXAMPLE.COM', 'new': None}],
         'Cannot remove non-existent Kerberos principals'),
        ([{'old': 'a@X', 'new': 'a@X'}], 'conflicts between added and removed'),
        ([{'old': None, 'new': 'bob@EXAMPLE.COM'}], 'duplicate key value'),
        ([{'old': None, 'new': 'has space@EXAMPLE.COM'}], 'does not match RegexUserName'),
    ]
    for mappings, error in refusals:
        with pytest.raises(koji.GenericError) as exc:
            s.editUser('alice', krb_principal_mappings=mappings)
        assert error in str(exc.value)
    with pytest.raises(koji.GenericError, match='No such user'):
        s.editUser('nobody', krb_principal_mappings=[{'old': None, 'new': 'n@EXAMPLE.COM'}])
    with pytest.raises(koji.ActionNotAllowed):
        hub.anon.editUser('alice', krb_principal_mappings=[{'old': None, 'new': 'z@X'}])
    s.editUser('alice', krb_principal_mappings=[{'old': 'alice@OLD.EXAMPLE.COM', 'new': None}])
    assert s.getUser('alice')['krb_principals'] == ['alice@EXAMPLE.COM']
    assert hub.state.users[hub.state.find_user('bob')['id']]['krb_principals'] == [
        'bob@EXAMPLE.COM']


def test_kerberos_login_over_tls(tmp_path, monkeypatch):
    from fakehub import kerberos
    logins = kerberos.install(monkeypatch)
    with FakeHub(tls=True, certdir=str(tmp_path)) as fake:
        fake.state.add_user('svc', krb_principal='svc@EXAMPLE.COM')
        session = koji.ClientSession(fake.url, {'serverca': fake.certs['ca']})
        session.gssapi_login(principal='svc@EXAMPLE.COM')
        assert session.getLoggedInUser()['name'] == 'svc'
        assert session.getLoggedInUser()['authtype'] == koji.AUTHTYPES['GSSAPI']
        stranger = koji.ClientSession(fake.url, {'serverca': fake.certs['ca']})
        with pytest.raises(koji.GSSAPIAuthError, match='Unknown Kerberos principal'):
            stranger.gssapi_login(principal='stranger@EXAMPLE.COM')
        assert [login['principal'] for login in logins] == [
            'svc@EXAMPLE.COM', 'stranger@EXAMPLE.COM']
