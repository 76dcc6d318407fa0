"""koji_external_repo, including mirrorlist resolution served by a local HTTP server."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class MirrorServer(object):
    """Serves whatever text is in ``self.body`` (a mirrorlist) at any path."""

    def __init__(self):
        self.body = ''
        self.paths = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.paths.append(self.path)
                data = server.body.encode()
                self.send_response(200 if server.body is not None else 404)
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = 'http://127.0.0.1:%d' % self.httpd.server_address[1]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def mirrors():
    server = MirrorServer()
    yield server
    server.stop()


def test_url_create_noop_trailing_slash(hub):
    result = hub.run('koji_external_repo', name='alma9', url='https://m.example.org/alma/9/$arch/os')
    assert result['changed'] and not result.get('failed')
    assert hub.anon.getExternalRepo('alma9')['url'] == 'https://m.example.org/alma/9/$arch/os/'
    mark = hub.mark()
    # the hub appended '/': the same declaration must not be a change
    again = hub.run('koji_external_repo', name='alma9', url='https://m.example.org/alma/9/$arch/os')
    assert again['changed'] is False
    hub.assert_unchanged(mark)


def test_url_change_check_mode_diff_and_absent(hub):
    hub.state.add_external_repo('r', 'http://old.example.org/$arch/')
    mark = hub.mark()
    check = hub.run('koji_external_repo', check_mode=True, diff=True, name='r',
                    url='http://new.example.org/$arch/')
    assert check['changed'] is True
    assert check['diff'][0]['before'] == {'url': 'http://old.example.org/$arch/'}
    assert check['diff'][0]['after'] == {'url': 'http://new.example.org/$arch/'}
    hub.assert_unchanged(mark)
    assert hub.run('koji_external_repo', name='r', url='http://new.example.org/$arch/')['changed']
    assert hub.anon.getExternalRepo('r')['url'] == 'http://new.example.org/$arch/'
    assert hub.event() == mark[0] + 1
    assert hub.run('koji_external_repo', name='r', state='absent')['changed']
    assert hub.anon.getExternalRepo('r') is None


def test_mirrorlist_keeps_current_url_while_listed_and_moves_when_not(hub, mirrors):
    mirrors.body = ('# mirrorlist\n'
                    'https://a.example.org/almalinux/9.4/BaseOS/x86_64/os/\n'
                    'https://b.example.org/almalinux/9.4/BaseOS/x86_64/os/\n')
    mirrorlist = mirrors.url + '/mirrorlist/9/baseos?arch=$arch'
    first = hub.run('koji_external_repo', name='baseos', mirrorlist=mirrorlist)
    assert not first.get('failed'), first
    assert mirrors.paths[-1] == '/mirrorlist/9/baseos?arch=x86_64'
    assert hub.anon.getExternalRepo('baseos')['url'] == \
        'https://a.example.org/almalinux/9.4/BaseOS/$arch/os/'
    assert first['urls'] == {'baseos': 'https://a.example.org/almalinux/9.4/BaseOS/$arch/os/'}

    # the mirror server now prefers b, but a is still listed: keep a, no write
    mirrors.body = ('https://b.example.org/almalinux/9.4/BaseOS/x86_64/os/\n'
                    'https://a.example.org/almalinux/9.4/BaseOS/x86_64/os/\n')
    mark = hub.mark()
    kept = hub.run('koji_external_repo', name='baseos', mirrorlist=mirrorlist)
    assert kept['changed'] is False
    hub.assert_unchanged(mark)

    # a is gone from the list: move to the first mirror listed
    mirrors.body = ('https://c.example.org/almalinux/9.4/BaseOS/x86_64/os/\n'
                    'https://b.example.org/almalinux/9.4/BaseOS/x86_64/os/\n')
    moved = hub.run('koji_external_repo', name='baseos', mirrorlist=mirrorlist)
    assert moved['changed'] is True
    assert hub.anon.getExternalRepo('baseos')['url'] == \
        'https://c.example.org/almalinux/9.4/BaseOS/$arch/os/'


def test_metalink_and_arch_option(hub, mirrors):
    mirrors.body = ('<?xml version="1.0"?>\n<metalink version="3.0" xmlns="http://www.metalinker.org/">'
                    '<files><file name="repomd.xml"><resources>'
                    '<url protocol="https" type="https">https://m.example.org/epel/9/Everything/'
                    'aarch64/repodata/repomd.xml</url></resources></file></files></metalink>')
    result = hub.run('koji_external_repo', name='epel9', arch='aarch64',
                     mirrorlist=mirrors.url + '/metalink?repo=epel-9&arch=$basearch')
    assert not result.get('failed'), result
    assert mirrors.paths[-1] == '/metalink?repo=epel-9&arch=aarch64'
    assert hub.anon.getExternalRepo('epel9')['url'] == \
        'https://m.example.org/epel/9/Everything/$arch/'


@pytest.mark.parametrize('repo, message', [
    ({'name': 'r', 'url': 'htp://x'}, 'malformed URL'),
    ({'name': 'r', 'url': 'http:///path-only'}, 'no host'),
    ({'name': 'r', 'url': 'http://x/a b'}, 'white space'),
    ({'name': 'r'}, 'exactly one of url or mirrorlist'),
    ({'name': 'r', 'mirrorlist': 'not a url'}, 'malformed URL'),
])
def test_bad_input_fails_and_writes_nothing(hub, repo, message):
    mark = hub.mark()
    result = hub.run('koji_external_repo', repos=[repo, {'name': 'fine', 'url': 'http://ok/'}])
    assert result.get('failed') is True
    assert message in result['msg']
    hub.assert_unchanged(mark)
    assert hub.anon.getExternalRepo('fine') is None


def test_unusable_mirrorlist_fails_and_writes_nothing(hub, mirrors):
    mirrors.body = '# no mirrors at all\n'
    mark = hub.mark()
    result = hub.run('koji_external_repo', repos=[
        {'name': 'fine', 'url': 'http://ok/'},
        {'name': 'broken', 'mirrorlist': mirrors.url + '/empty'}])
    assert result.get('failed') is True
    assert 'lists no usable mirror' in result['msg']
    hub.assert_unchanged(mark)
    assert hub.anon.getExternalRepo('fine') is None


def test_url_and_mirrorlist_are_exclusive(hub):
    result = hub.run('koji_external_repo', name='r', url='http://x/', mirrorlist='http://y/')
    assert result.get('failed')
    assert 'mutually exclusive' in result['msg']
