# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection to the hub: its options, anonymous sessions for reads, logged-in
sessions for writes, and how a failed request is described."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import traceback

from ansible_collections.kojiforge.koji.plugins.module_utils.koji_errors import KojiModuleError

KOJI_IMPORT_ERROR = None
try:
    import koji
except ImportError:
    koji = None
    KOJI_IMPORT_ERROR = traceback.format_exc()

try:
    from requests.exceptions import Timeout as RequestTimeout  # what koji's client raises
except ImportError:
    RequestTimeout = None

DEFAULT_BATCH_SIZE = 200

# Seconds to wait for the hub's answer to one request (koji's own default is 12 hours, so a
# hub that accepts connections and never answers would hang the task that long).
DEFAULT_TIMEOUT = 120
# Anonymous reads that fail without an answer (a timeout, a dropped connection) are sent
# again this many times, the second retry and later ones READ_RETRY_INTERVAL seconds after
# the previous failure (koji's anon_retry). Writes are never sent again.
DEFAULT_READ_RETRIES = 2
READ_RETRY_INTERVAL = 5

# Writes of independent objects are spread over up to this many logged-in sessions (the
# hub role runs 4 hub processes; kojira and the builders need one).
DEFAULT_WRITE_SESSIONS = 3


def connection_argument_spec():
    """The connection options every module shares (documented in the
    kojiforge.koji.connection doc fragment)."""
    return dict(
        koji=dict(type='str'),
        server=dict(type='str'),
        cert=dict(type='path'),
        serverca=dict(type='path'),
        user=dict(type='str'),
        password=dict(type='str', no_log=True),
        principal=dict(type='str'),
        keytab=dict(type='path'),
        ccache=dict(type='path'),
        authtype=dict(type='str', choices=['ssl', 'password', 'kerberos']),
        batch_size=dict(type='int', default=DEFAULT_BATCH_SIZE),
        write_sessions=dict(type='int', default=DEFAULT_WRITE_SESSIONS),
        timeout=dict(type='int', default=DEFAULT_TIMEOUT),
        read_retries=dict(type='int', default=DEFAULT_READ_RETRIES),
    )


def _option(params, key, default, minimum):
    value = params.get(key)
    if value is None:
        value = default
    if value < minimum:
        raise KojiModuleError('%s must be at least %d' % (key, minimum))
    return value


def _counting_session_class():
    class CountingClientSession(koji.ClientSession):
        """A ClientSession that counts the HTTP requests it sends."""

        requests = 0

        def _sendCall(self, handler, headers, request):
            self.requests += 1
            return super(CountingClientSession, self)._sendCall(handler, headers, request)

    return CountingClientSession


def kerberos_credentials(config):
    """Which Kerberos credentials a login uses, for messages (file names, never content)."""
    parts = []
    if config.get('principal'):
        parts.append('principal %s' % config['principal'])
    if config.get('keytab'):
        parts.append('keytab %s' % config['keytab'])
    if config.get('ccache'):
        parts.append('ticket cache %s' % config['ccache'])
    elif not config.get('keytab'):
        parts.append('the default ticket cache (%s)'
                     % ('KRB5CCNAME=%s' % os.environ['KRB5CCNAME']
                        if os.environ.get('KRB5CCNAME') else 'KRB5CCNAME not set'))
    return ', '.join(parts)


def _ccache_file(ccache):
    """The file a FILE (or untyped) credential cache name stands for, else None."""
    kind, sep, residual = ccache.partition(':')
    if not sep:
        return ccache
    if kind.upper() == 'FILE':
        return residual
    return None  # DIR, KEYRING, KCM, MEMORY...: krb5 tells whether it holds a ticket


def check_kerberos_files(config):
    """Refuse, before the login and so before any write, a keytab that is not a readable
    file, and a file ticket cache that does not exist when no keytab could fill it."""
    keytab = config.get('keytab')
    if keytab:
        if not os.path.isfile(keytab):
            raise KojiModuleError('keytab %s does not exist or is not a file (option keytab); '
                                  'nothing was written' % keytab)
        if not os.access(keytab, os.R_OK):
            raise KojiModuleError('keytab %s is not readable by this user (option keytab); '
                                  'nothing was written' % keytab)
    ccache = config.get('ccache')
    if ccache and not keytab:
        path = _ccache_file(ccache)
        if path is not None and not os.path.exists(path):
            raise KojiModuleError(
                'ticket cache %s does not exist (option ccache): get a ticket first '
                '(kinit) or give a keytab; nothing was written' % ccache)


class KojiConnection:
    """An anonymous session on the hub that logs in only when asked to write."""

    def __init__(self, params):
        if koji is None:
            raise KojiModuleError('the koji client library is required (python3-koji or '
                                  '"pip install koji")', exception=KOJI_IMPORT_ERROR)
        batch = params.get('batch_size') or DEFAULT_BATCH_SIZE
        if batch < 1:
            raise KojiModuleError('batch_size must be at least 1')
        self.batch = batch
        workers = params.get('write_sessions')
        if workers is None:
            workers = DEFAULT_WRITE_SESSIONS
        if workers < 1:
            raise KojiModuleError('write_sessions must be at least 1')
        self.write_workers = workers
        self.timeout = _option(params, 'timeout', DEFAULT_TIMEOUT, 1)
        retries = _option(params, 'read_retries', DEFAULT_READ_RETRIES, 0)
        self.config = self._config(params)
        if not self.config.get('server'):
            raise KojiModuleError('no hub URL: set "server", or a "koji" profile that '
                                  'names one')
        self.opts = koji.grab_session_options(self.config)
        # every request (logins too) waits at most timeout seconds; anonymous sessions send a
        # request that got no answer again (reads only: ensure_logged_in stops it for writes)
        self.opts.update({'timeout': self.timeout, 'auth_timeout': self.timeout,
                          'anon_retry': True, 'max_retries': retries,
                          'retry_interval': READ_RETRY_INTERVAL})
        self.session = _counting_session_class()(self.config['server'], self.opts)
        self.read_sessions = [self.session]
        self.write_sessions = [self.session]

    @staticmethod
    def _config(params):
        profile = params.get('koji')
        if not profile and not params.get('server'):
            profile = os.environ.get('KOJI_PROFILE', 'koji')
        config = {}
        if profile:
            try:
                config = dict(koji.read_config(profile))
            except koji.ConfigurationError as exc:
                raise KojiModuleError('cannot read koji profile %s: %s' % (profile, exc))
        # a profile's ccache is read when the koji library knows the key (1.35 does not)
        for key in ('server', 'cert', 'serverca', 'user', 'password', 'principal', 'keytab',
                    'ccache', 'authtype'):
            if params.get(key) is not None:
                config[key] = params[key]
        for key in ('cert', 'serverca', 'keytab'):
            if config.get(key):
                config[key] = os.path.expanduser(config[key])
        return config

    @property
    def requests(self):
        # both lists start with the main session
        return sum(session.requests for session in self.read_sessions + self.write_sessions[1:])

    def _nth_session(self, sessions, index):
        while len(sessions) <= index:
            sessions.append(_counting_session_class()(self.config['server'], dict(self.opts)))
        return sessions[index]

    def reader(self, index):
        """The index-th session for parallel reads (the main one first; the others are
        anonymous sessions of their own, made on first use)."""
        return self._nth_session(self.read_sessions, index)

    def ensure_logged_in(self, session=None):
        session = self.session if session is None else session
        if session.logged_in:
            return
        # koji resends a logged-in session's calls after a failure too, trusting the hub to
        # refuse a repeat of one it already ran: a write batch that timed out may still be
        # running there, so writes are sent once and a failure is reported instead
        session.opts['max_retries'] = 0
        config = self.config
        authtype = config.get('authtype')
        if not authtype:
            if config.get('cert') and os.path.isfile(config['cert']):
                authtype = 'ssl'
            elif config.get('user') and config.get('password'):
                authtype = 'password'
            else:
                authtype = 'kerberos'
        try:
            if authtype == 'ssl':
                session.ssl_login(config.get('cert'), None, config.get('serverca'))
            elif authtype == 'password':
                session.opts['user'] = config.get('user')
                session.opts['password'] = config.get('password')
                if not session.login():
                    raise KojiModuleError('password login to %s failed' % config['server'])
            else:
                check_kerberos_files(config)
                # koji's gssapi_login tries sslLogin max_retries times (not 1 + max_retries
                # as other calls do): with 0 it would never send it
                session.opts['max_retries'] = 1
                try:
                    session.gssapi_login(principal=config.get('principal'),
                                         keytab=config.get('keytab'),
                                         ccache=config.get('ccache'))
                finally:
                    session.opts['max_retries'] = 0
        except KojiModuleError:
            raise
        except Exception as exc:
            used = ''
            if authtype == 'kerberos':
                used = ' as %s' % kerberos_credentials(config)
            raise KojiModuleError('cannot log in to %s (%s%s): %s'
                                  % (config['server'], authtype, used, self.describe(exc)))

    def describe(self, exc):
        """The text of a failed request; a timeout says so, and which option sets it."""
        if RequestTimeout is not None and isinstance(exc, RequestTimeout):
            return ('the hub did not answer within %s seconds (option timeout): %s'
                    % (self.timeout, exc))
        return str(exc)

    def writer(self, index):
        """The index-th logged-in session for parallel writes (the main one first; the
        others are sessions of their own, logged in on first use)."""
        session = self._nth_session(self.write_sessions, index)
        self.ensure_logged_in(session)
        return session

    def logout(self):
        for session in self.write_sessions:
            if session.logged_in:
                try:
                    session.logout()
                except Exception:
                    pass  # the session expires on the hub anyway

    def call(self, method, *args, **kwargs):
        try:
            return getattr(self.session, method)(*args, **kwargs)
        except Exception as exc:
            raise KojiModuleError('%s failed: %s' % (method, self.describe(exc)))
