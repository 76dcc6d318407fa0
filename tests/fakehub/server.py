"""A fake Koji hub: a threaded XML-RPC server on 127.0.0.1 that the real koji client
library (koji.ClientSession, its multicall, password and SSL-certificate login) talks to.

    hub = FakeHub()                      # plain HTTP, password login
    hub = FakeHub(tls=True)              # HTTPS, certificate login (hub.certs has the files)
    hub.start(); ...; hub.stop()         # or use it as a context manager

``hub.url`` is the hub URL, ``hub.state`` the data (see state.py), ``hub.requests`` the
number of HTTP requests served, ``hub.calls`` how many times each method was called
(multiCall entries counted one by one), ``hub.write_log`` every call that changed
something.
"""

import inspect
import os
import secrets
import ssl
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xmlrpc.client import Fault, loads

import koji
from koji.xmlrpcplus import dumps

from .api import HubAPI
from .kerberos import principal_from_header
from .state import CallContext, HubState


class HubSession(koji.ClientSession):
    """The koji.ClientSession that ``FakeHub.session()`` returns: the same client, except that
    dropping it never calls the hub.

    koji.ClientSession.__del__ logs a logged-in session out: an HTTP request, with the
    session's timeout (koji's default is 12 hours). A session that raised a koji error is kept
    alive by a reference cycle (the error, its traceback, the frame of _callMethod holding both
    the error and the session), so it is only freed by the garbage collector, in whichever
    thread happens to allocate at that moment: possibly a request thread of this very hub,
    which then holds the hub's lock while it waits for the logout that needs that lock. The
    hub stops answering (the exporter tests saw their count refresh wait out its timeout, and
    a retry too). Call ``logout()`` explicitly to end a session on the hub.
    """

    def __del__(self):
        # no logout: the hub keeps the session, as the real hub keeps a session nobody logged
        # out of until it expires; the client's sockets close when they are freed
        pass


class FakeHub(object):

    def __init__(self, extra_handlers=(), tls=False, certdir=None, admin_user='admin',
                 admin_password='admin-password', fault_hook=None):
        """``extra_handlers``: objects whose public methods become hub methods; each is
        called as ``method(state, *args, **kwargs)`` with the shared HubState.
        ``tls``: serve HTTPS with certificates generated in ``certdir`` (a temporary
        directory by default); ``self.certs`` then names the CA, server and client files.
        ``fault_hook(method, args, kwargs)``: called before each call; return an
        exception instance to make the hub refuse that call (to test mid-batch failures).
        """
        self.state = HubState()
        self.api = HubAPI(self.state)
        self.admin_user = admin_user
        self.admin_password = admin_password
        self.state.add_user(admin_user, password=admin_password, perms=['admin'])
        self.fault_hook = fault_hook
        self.requests = 0
        self.calls = {}
        self.write_log = []
        self._count_lock = threading.Lock()
        self.methods = {}
        for name, func in inspect.getmembers(self.api, predicate=inspect.ismethod):
            if not name.startswith('_'):
                self.methods[name] = func
        self.methods['login'] = self._login
        self.methods['sslLogin'] = self._ssl_login
        self.methods['logout'] = self._logout
        self.methods['subsession'] = self._subsession
        for handler in extra_handlers:
            for name, func in inspect.getmembers(handler, predicate=inspect.ismethod):
                if name.startswith('_'):
                    continue
                if name in self.methods:
                    raise ValueError('hub method %s is already defined' % name)
                self.methods[name] = self._bind_extra(func)
        self.tls = tls
        self.certs = None
        if tls:
            from .certs import make_certs
            self.certs = make_certs(certdir, admin_user)
        self._server = None
        self._thread = None
        self._local = threading.local()

    def _bind_extra(self, func):
        def call(*args, **kwargs):
            return func(self.state, *args, **kwargs)
        return call

    # ---- lifecycle --------------------------------------------------------------------
    def start(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def do_POST(self):
                hub._handle(self)

        self._server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self._server.daemon_threads = True
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.certs['server_cert'], self.certs['server_key'])
            context.load_verify_locations(self.certs['ca'])
            context.verify_mode = ssl.CERT_OPTIONAL
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def url(self):
        scheme = 'https' if self.tls else 'http'
        return '%s://localhost:%d/kojihub' % (scheme, self.port)

    def reset_counters(self):
        with self._count_lock:
            self.requests = 0
            self.calls = {}

    def session(self, login=True):
        """A koji session (HubSession) on this hub, logged in as the admin unless login=False.

        Dropping it does not log it out (see HubSession): call ``logout()`` for that."""
        if self.tls:
            session = HubSession(self.url, {'serverca': self.certs['ca'],
                                            'cert': self.certs['admin_pem']})
            if login:
                session.ssl_login()
        else:
            session = HubSession(self.url, {'user': self.admin_user,
                                            'password': self.admin_password})
            if login:
                session.login()
        return session

    # ---- request handling -----------------------------------------------------------------
    def _handle(self, handler):
        length = int(handler.headers.get('Content-Length', 0))
        body = handler.rfile.read(length)
        with self._count_lock:
            self.requests += 1
        try:
            params, method = loads(body, use_builtin_types=True)
        except Exception as exc:  # malformed request
            self._reply(handler, dumps(Fault(1, 'bad request: %s' % exc),
                                       methodresponse=1, allow_none=1))
            return
        with self.state.lock:
            ctx = self._context(handler, method)
            self._local.handler = handler
            try:
                if isinstance(ctx, Fault):
                    raise ctx
                if method == 'multiCall':
                    result = self._multicall(ctx, params[0])
                else:
                    result = self._call(ctx, method, params)
                response = dumps((result,), methodresponse=1, allow_none=1)
            except Fault as fault:
                response = dumps(fault, methodresponse=1, allow_none=1)
            except koji.GenericError as exc:
                response = dumps(Fault(exc.faultCode, str(exc)), methodresponse=1, allow_none=1)
            except Exception as exc:
                traceback.print_exc(file=sys.stderr)
                response = dumps(Fault(1, '%s: %s' % (type(exc).__name__, exc)),
                                 methodresponse=1, allow_none=1)
        self._reply(handler, response)

    @staticmethod
    def _reply(handler, response):
        data = response.encode('utf-8')
        handler.send_response(200)
        handler.send_header('Content-Type', 'text/xml')
        handler.send_header('Content-Length', str(len(data)))
        handler.send_header('Koji-Version', '1.35.3')
        handler.end_headers()
        handler.wfile.write(data)

    def _context(self, handler, method):
        sid = handler.headers.get('Koji-Session-Id')
        if sid is None:
            return CallContext()
        key = handler.headers.get('Koji-Session-Key')
        sess = self.state.sessions.get(int(sid))
        if sess is None or sess['key'] != key:
            return Fault(koji.AuthError.faultCode, 'Invalid session or bad credentials')
        return CallContext(sess['user_id'], sess['authtype'])

    def _multicall(self, ctx, calls):
        results = []
        for call in calls:
            call_ctx = CallContext(ctx.user_id, ctx.authtype)
            try:
                result = self._call(call_ctx, call['methodName'], call['params'])
            except Fault as fault:
                results.append({'faultCode': fault.faultCode, 'faultString': fault.faultString})
            except koji.GenericError as exc:
                results.append({'faultCode': exc.faultCode, 'faultString': str(exc)})
            except Exception as exc:
                results.append({'faultCode': 1, 'faultString': '%s: %s'
                                % (type(exc).__name__, exc)})
            else:
                results.append([result])
        return results

    def _call(self, ctx, method, params):
        with self._count_lock:
            self.calls[method] = self.calls.get(method, 0) + 1
        func = self.methods.get(method)
        if func is None:
            raise koji.GenericError('Invalid method: %s' % method)
        args, kwargs = koji.decode_args(*params)
        if self.fault_hook is not None:
            refusal = self.fault_hook(method, args, kwargs)
            if refusal is not None:
                raise refusal
        self.api._set_ctx(ctx)
        ctx.changed = False
        event_before = self.state.event_id
        try:
            result = func(*args, **kwargs)
        except TypeError as exc:
            raise koji.ParameterError(str(exc))
        finally:
            if self.state.event_id != event_before:
                self.state.sync_history(self.state.event_id)
        if ctx.changed:
            self.write_log.append((method, args, kwargs))
        return result

    # ---- authentication -------------------------------------------------------------------
    def _new_session(self, user_id, authtype):
        user = self.state.users[user_id]
        if user['status'] != koji.USER_STATUS['NORMAL']:
            raise koji.AuthError('logins by %s are not allowed' % user['name'])
        sid = len(self.state.sessions) + 1
        key = '%s-%s' % (sid, secrets.token_hex(8))
        self.state.sessions[sid] = {'key': key, 'user_id': user_id, 'authtype': authtype}
        return {'session-id': sid, 'session-key': key, 'header-auth': True}

    def _login(self, user, password, opts=None, renew=False, exclusive=False):
        if not isinstance(password, str) or not password:
            raise koji.AuthError('invalid username or password')
        if self.state.passwords.get(user) != password:
            raise koji.AuthError('invalid username or password')
        return self._new_session(self.state.find_user(user)['id'], koji.AUTHTYPES['NORMAL'])

    def _ssl_login(self, proxyuser=None, proxyauthtype=None, renew=False, exclusive=False):
        handler = self._local.handler
        principal = principal_from_header(handler.headers.get('Authorization'))
        if principal is not None:
            # a Kerberos login (kerberos.py): the principal Apache would have authenticated
            user = self.state.find_user(principal)
            if user is None or principal not in user['krb_principals']:
                raise koji.AuthError('Unknown Kerberos principal: %s' % principal)
            return self._new_session(user['id'], koji.AUTHTYPES['GSSAPI'])
        cert = None
        if hasattr(handler.connection, 'getpeercert'):
            cert = handler.connection.getpeercert()
        if not cert:
            raise koji.AuthError('could not verify client: no client certificate')
        subject = dict(item[0] for item in cert['subject'])
        name = subject.get('commonName')
        user = self.state.find_user(name)
        if user is None:
            raise koji.AuthError('Unknown user: %s' % name)
        return self._new_session(user['id'], koji.AUTHTYPES['SSL'])

    def _logout(self, session_id=None):
        sid = self._local.handler.headers.get('Koji-Session-Id')
        if sid is not None:
            self.state.sessions.pop(int(sid), None)

    def _subsession(self):
        raise koji.GenericError('subsessions are not supported by the fake hub')


def main():
    """Run a fake hub in the foreground (for trying things by hand)."""
    hub = FakeHub(tls=bool(os.environ.get('FAKEHUB_TLS'))).start()
    print('fake hub at %s (admin / %s)' % (hub.url, hub.admin_password))
    if hub.certs:
        print('certificates: %s' % hub.certs)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        hub.stop()


if __name__ == '__main__':
    main()
