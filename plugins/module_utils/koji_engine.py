# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared engine of the kojiforge.koji object modules.

Every module follows the same four steps:

1. read the current state of every object the task names, in a few multicall
   batches (``read_many``), anonymously;
2. compute the difference between what was asked for and what is there, and
   validate the WHOLE request (``Validator``): a request that fails validation
   writes nothing;
3. put the writes into a ``Plan``, each in a numbered phase (external repos
   before tags, parents before children, inheritance after both exist...);
4. unless in check mode, log in and run the plan phase by phase, each phase in
   multicall batches. The hub runs each batch as one transaction in which a
   refused call does not undo its neighbours, so a refusal stops the plan after
   that batch and is reported with what was already applied; a re-run converges.
   The writes of a phase made only of calls on independent objects (package
   listings, groups, inheritance of different tags...) are spread over several
   logged-in sessions (``write_sessions``); each object's writes stay on one
   session, in order (see ``schedule_writes``).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import threading
import traceback

try:
    from urllib.parse import urlparse
except ImportError:  # pragma: no cover - Python 2 is not supported, keep sanity quiet
    from urlparse import urlparse

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
MAX_ERRORS_IN_MSG = 10

# Read batches are sent on up to this many anonymous sessions at once: the hub serves
# requests in several processes, and the client parses one answer while the hub computes
# the next. Writes stay on one session, in order.
READ_WORKERS = 3

# Looking many objects up by name: when a request names at least BULK_MIN_NAMES objects
# and the hub holds at most BULK_RATIO times as many of that kind, one listing call
# (listTags, getBuildTargets...) costs less than a call per name.
BULK_MIN_NAMES = 50
BULK_RATIO = 4

# Writes of independent objects are spread over up to this many logged-in sessions (the
# hub role runs 4 hub processes; kojira and the builders need one).
DEFAULT_WRITE_SESSIONS = 3

# Hub calls that touch only the object they name, so that the writes of a phase made only
# of them may run on several sessions at once, each object's writes on one session, in
# order. A call missing here (deletes, hosts, channels, users, permissions) makes its
# phase run on one session.
PARALLEL_METHODS = frozenset((
    'createTag', 'editTag2', 'setInheritanceData',
    'addExternalRepoToTag', 'editTagExternalRepo', 'removeExternalRepoFromTag',
    'packageListAdd', 'packageListBlock', 'packageListUnblock', 'packageListRemove',
    'packageListSetOwner',
    'groupListAdd', 'groupListRemove', 'groupPackageListAdd', 'groupPackageListRemove',
    'createBuildTarget', 'editBuildTarget',
))

# Calls with which the hub inserts a package or group name the first time it is used.
# Two transactions inserting the same new name race (one is refused), so in a parallel
# phase the first call naming each of them runs in a round of its own (where every call
# names a different one), before the rest: {method: (kind, index of the name argument)}.
NAME_CREATING = {
    'packageListAdd': ('package', 1),
    'packageListBlock': ('package', 1),
    'groupListAdd': ('group', 1),
}

# Architecture names Koji deployments use. Koji itself only rejects characters
# outside [a-zA-Z0-9_-]; a typo such as "x86-64" would be accepted by the hub
# and silently never match a builder, so the modules check names against this list.
KNOWN_ARCHES = frozenset((
    'noarch', 'src', 'nosrc',
    'i386', 'i486', 'i586', 'i686', 'athlon', 'geode', 'x86_64', 'amd64', 'ia32e',
    'aarch64', 'arm64', 'armv5tel', 'armv5tejl', 'armv6l', 'armv6hl', 'armv7l', 'armv7hl',
    'armv7hnl', 'armhfp',
    'ppc', 'ppc64', 'ppc64le', 'ppc64p7', 'ppc64pseries', 'ppc64iseries',
    's390', 's390x', 'riscv64', 'loongarch64', 'ia64', 'mips', 'mipsel', 'mips64',
    'mips64el', 'sparc', 'sparcv9', 'sparc64', 'alpha', 'sh4',
))
ARCH_CHARS = re.compile(r'^[a-zA-Z0-9_\-]+$')
URL_SCHEMES = ('http', 'https', 'ftp', 'file')


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


class KojiModuleError(Exception):
    """A failure to report through fail_json, with extra result keys."""

    def __init__(self, msg, **extra):
        super(KojiModuleError, self).__init__(msg)
        self.msg = msg
        self.extra = extra


def _counting_session_class():
    class CountingClientSession(koji.ClientSession):
        """A ClientSession that counts the HTTP requests it sends."""

        requests = 0

        def _sendCall(self, handler, headers, request):
            self.requests += 1
            return super(CountingClientSession, self)._sendCall(handler, headers, request)

    return CountingClientSession


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
        for key in ('server', 'cert', 'serverca', 'user', 'password', 'principal', 'keytab',
                    'authtype'):
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
                session.gssapi_login(principal=config.get('principal'),
                                     keytab=config.get('keytab'))
        except KojiModuleError:
            raise
        except Exception as exc:
            raise KojiModuleError('cannot log in to %s (%s): %s'
                                  % (config['server'], authtype, self.describe(exc)))

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


class CallResult:
    """The result of one call in a multicall: ``value`` or ``error``."""

    def __init__(self, value=None, error=None):
        self.value = value
        self.error = error

    @property
    def ok(self):
        return self.error is None


def _run_batch(session, calls):
    with session.multicall(strict=False) as multi:
        virtual = [getattr(multi, method)(*args, **kwargs) for method, args, kwargs in calls]
    results = []
    for call in virtual:
        try:
            results.append(CallResult(value=call.result))
        except Exception as exc:
            results.append(CallResult(error=exc))
    return results


def read_many(conn, calls):
    """Run read calls [(method, args, kwargs)] in multicall batches; returns CallResults.

    Several batches are in flight at once (READ_WORKERS sessions), their results kept in
    call order. A read the hub refuses (a connection problem, an unknown method) fails
    the module: reads must all succeed before anything can be decided."""
    chunks = [calls[start:start + conn.batch] for start in range(0, len(calls), conn.batch)]
    workers = min(READ_WORKERS, len(chunks))
    if workers <= 1:
        results = []
        for chunk in chunks:
            try:
                results.extend(_run_batch(conn.session, chunk))
            except Exception as exc:
                raise KojiModuleError('reading from the hub failed: %s' % conn.describe(exc))
        return results
    sessions = [conn.reader(index) for index in range(workers)]
    answers = [None] * len(chunks)
    errors = []
    lock = threading.Lock()
    pending = list(range(len(chunks)))

    def work(session):
        while True:
            with lock:
                if not pending or errors:
                    return
                index = pending.pop(0)
            try:
                answers[index] = _run_batch(session, chunks[index])
            except Exception as exc:
                with lock:
                    errors.append(exc)
                return

    threads = [threading.Thread(target=work, args=(session,)) for session in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise KojiModuleError('reading from the hub failed: %s' % conn.describe(errors[0]))
    results = []
    for answer in answers:
        results.extend(answer)
    return results


def read_values(conn, calls):
    """Like read_many, but every call must succeed; returns the values."""
    values = []
    for (method, args, _kwargs), result in zip(calls, read_many(conn, calls)):
        if not result.ok:
            raise KojiModuleError('%s%r failed: %s' % (method, tuple(args), result.error))
        values.append(result.value)
    return values


def lookup_by_name(conn, names, get_method, list_method):
    """Look objects up by name; returns {name: info or None}.

    One ``get_method(name)`` call per name, or, when the names are many and the hub holds
    not many more objects of that kind (a ``countOnly`` query says), one
    ``list_method()`` listing. Listings may carry fewer fields than the single lookup
    (listTags has no ``extra``): callers read what they need on top."""
    names = sorted(set(names))
    if len(names) >= BULK_MIN_NAMES:
        total = read_values(conn, [(list_method, [], {'queryOpts': {'countOnly': True}})])[0]
        if total <= BULK_RATIO * len(names):
            wanted = set(names)
            found = dict((row['name'], row) for row in read_values(conn, [(list_method, [], {})])[0]
                         if row['name'] in wanted)
            return dict((name, found.get(name)) for name in names)
    values = read_values(conn, [(get_method, [name], {}) for name in names])
    return dict(zip(names, values))


class Write:
    """One hub call of a plan. ``args`` may hold callables, resolved just before the
    call is sent (for ids of objects created in an earlier phase)."""

    def __init__(self, phase, obj_type, obj_name, description, method, args, kwargs,
                 on_result=None):
        self.phase = phase
        self.obj_type = obj_type
        self.obj_name = obj_name
        self.description = description
        self.method = method
        self.args = args
        self.kwargs = kwargs
        self.on_result = on_result

    def resolved(self):
        args = [arg() if callable(arg) else arg for arg in self.args]
        kwargs = dict((key, value() if callable(value) else value)
                      for key, value in self.kwargs.items())
        return self.method, args, kwargs

    def summary(self):
        return {'type': self.obj_type, 'name': self.obj_name, 'change': self.description}


class Plan:
    """The writes a request needs, by phase, and what changes per object."""

    def __init__(self):
        self.writes = []
        self.objects = {}
        self.order = []

    def object_change(self, obj_type, name, action, before=None, after=None):
        key = (obj_type, name)
        if key not in self.objects:
            self.objects[key] = {'type': obj_type, 'name': name, 'action': action,
                                 'changes': [], 'before': before, 'after': after}
            self.order.append(key)
        return self.objects[key]

    def add(self, _phase, _type, _name, _summary, _method, *args, **kwargs):
        """Add the hub call ``_method(*args, **kwargs)`` to phase ``_phase``, described
        by ``_summary`` in the changes of object ``_type`` ``_name``. (Underscored
        parameters, so hub keyword arguments such as ``description`` pass through.)"""
        on_result = kwargs.pop('_on_result', None)
        self.writes.append(Write(_phase, _type, _name, _summary, _method, list(args),
                                 kwargs, on_result))
        if (_type, _name) not in self.objects:
            self.object_change(_type, _name, 'update')
        self.objects[(_type, _name)]['changes'].append(_summary)

    def note(self, obj_type, name, description, action='update'):
        """A change that needs no call of its own (e.g. implied by a create)."""
        self.object_change(obj_type, name, action)['changes'].append(description)

    @property
    def changed(self):
        return bool(self.order)

    def changes(self):
        result = []
        for key in self.order:
            obj = self.objects[key]
            result.append({'type': obj['type'], 'name': obj['name'], 'action': obj['action'],
                           'changes': list(obj['changes'])})
        return result

    def diff(self):
        result = []
        for key in self.order:
            obj = self.objects[key]
            label = '%s %s' % (obj['type'], obj['name'])
            result.append({'before_header': label, 'after_header': label,
                           'before': obj['before'] if obj['before'] is not None else {},
                           'after': obj['after'] if obj['after'] is not None else {}})
        return result

    def execute(self, conn):
        """Run the writes phase by phase in multicall batches (see ``schedule_writes``).
        Stops after the first round in which the hub refused a call: the batches already
        in flight on the other sessions of that round finish, nothing later is sent."""
        if not self.writes:
            return
        conn.ensure_logged_in()
        rounds = schedule_writes(self.writes, conn.write_workers)
        applied = []
        for number, lanes in enumerate(rounds):
            failed, errors, sent = _run_round(conn, lanes, applied)
            if not (errors or failed):
                continue
            not_applied = [write.summary() for lane, done in zip(lanes, sent)
                           for write in lane[done:]]
            not_applied += [write.summary() for later in rounds[number + 1:]
                            for lane in later for write in lane]
            if errors:
                raise KojiModuleError(
                    'writing to the hub failed: %s; the calls listed in "applied" were '
                    'made, those of the failed batch (in "not_applied") may have been made '
                    'too, re-run to converge' % conn.describe(errors[0]),
                    changed=bool(applied), applied=applied, not_applied=not_applied)
            raise KojiModuleError(
                'the hub refused %d call(s) (first: %s %s: %s); the calls listed '
                'in "applied" were made, re-run to converge'
                % (len(failed), failed[0]['type'], failed[0]['name'], failed[0]['error']),
                changed=bool(applied), applied=applied, refused=failed,
                not_applied=not_applied)


def schedule_writes(writes, workers):
    """Order a plan's writes into rounds, each a list of lanes (lists of writes), that run
    one after the other; the lanes of a round run at once, each on its own session.

    Phases run in order. A phase with a call outside PARALLEL_METHODS, or a single
    worker, is one round of one lane: every write in plan order. Otherwise the phase
    is split into at most two rounds: first the calls that may create a package or
    group name (NAME_CREATING), one per name, then the rest; in each, the writes are
    dealt to ``workers`` lanes object by object (all writes of an object in one lane, in
    plan order), the lanes kept about equal in length. The only calls moved ahead of
    others of their object are those first uses, and the only order they could break
    is with calls on another package or group of that object."""
    ordered = sorted(writes, key=lambda write: write.phase)  # stable: plan order kept
    rounds = []
    for phase in sorted(set(write.phase for write in ordered)):
        pending = [write for write in ordered if write.phase == phase]
        if workers <= 1 or any(w.method not in PARALLEL_METHODS for w in pending):
            rounds.append([pending])
            continue
        first, rest, named = [], [], set()
        for write in pending:
            creates = NAME_CREATING.get(write.method)
            if creates is not None:
                key = (creates[0], write.args[creates[1]])
                if key not in named:
                    named.add(key)
                    first.append(write)
                    continue
            rest.append(write)
        for part in (first, rest):
            if part:
                rounds.append(_deal(part, workers))
    return rounds


def _deal(writes, workers):
    """Deal writes to at most ``workers`` lanes, all of an object's in one lane."""
    by_object = {}
    order = []
    for write in writes:
        key = (write.obj_type, write.obj_name)
        if key not in by_object:
            by_object[key] = []
            order.append(key)
        by_object[key].append(write)
    lanes = [[] for _lane in range(min(workers, len(order)))]
    for key in sorted(order, key=lambda k: -len(by_object[k])):
        min(lanes, key=len).extend(by_object[key])
    return lanes


def _run_round(conn, lanes, applied):
    """Run the lanes of a round, each in batches on its own logged-in session (the
    main session alone for a single lane). Returns (refused calls, exceptions, number of
    writes sent per lane); appends what the hub applied to ``applied``."""
    failed = []
    errors = []
    sent = [0] * len(lanes)
    lock = threading.Lock()

    def run_lane(index, session):
        lane = lanes[index]
        for start in range(0, len(lane), conn.batch):
            with lock:
                if failed or errors:
                    return
            chunk = lane[start:start + conn.batch]
            try:
                calls = [write.resolved() for write in chunk]
                results = _run_batch(session, calls)
            except Exception as exc:
                with lock:
                    errors.append(exc)
                return
            with lock:
                sent[index] = start + len(chunk)
                for write, result in zip(chunk, results):
                    if result.ok:
                        applied.append(write.summary())
                        if write.on_result is not None:
                            write.on_result(result.value)
                    else:
                        entry = write.summary()
                        entry['error'] = str(result.error)
                        failed.append(entry)

    if len(lanes) == 1:
        run_lane(0, conn.session)
        return failed, errors, sent
    sessions = [conn.writer(index) for index in range(len(lanes))]
    threads = [threading.Thread(target=run_lane, args=(index, session))
               for index, session in enumerate(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failed, errors, sent


class Validator:
    """Collects every problem of a request, so all are reported at once and nothing is
    written when there is any."""

    def __init__(self):
        self.errors = []

    def error(self, msg, *args):
        self.errors.append(msg % args if args else msg)

    def check(self):
        if self.errors:
            if len(self.errors) == 1:
                msg = 'invalid request, nothing was changed: %s' % self.errors[0]
            else:
                shown = '; '.join(self.errors[:MAX_ERRORS_IN_MSG])
                if len(self.errors) > MAX_ERRORS_IN_MSG:
                    shown += '; and %d more (see "errors")' % (len(self.errors) - MAX_ERRORS_IN_MSG)
                msg = ('invalid request, nothing was changed: %d problems: %s'
                       % (len(self.errors), shown))
            raise KojiModuleError(msg, errors=list(self.errors))

    def arches(self, where, arches):
        """Check a list of arch names; returns the list."""
        for arch in arches:
            if not ARCH_CHARS.match(arch):
                self.error('%s: arch %r has characters other than [a-zA-Z0-9_-]', where, arch)
            elif arch not in KNOWN_ARCHES:
                self.error('%s: unknown arch %r (known: %s)', where, arch,
                           ', '.join(sorted(KNOWN_ARCHES)))
        return arches

    def url(self, where, url):
        parsed = urlparse(url or '')
        if parsed.scheme not in URL_SCHEMES:
            self.error('%s: malformed URL %r (scheme must be one of %s)', where, url,
                       ', '.join(URL_SCHEMES))
        elif parsed.scheme != 'file' and not parsed.netloc:
            self.error('%s: malformed URL %r (no host)', where, url)
        elif re.search(r'\s', url):
            self.error('%s: malformed URL %r (contains white space)', where, url)

    def regex(self, where, pattern):
        """Check a regular expression the hub will compile later (with Python's re), when
        a refusal would no longer point at the declaration."""
        try:
            re.compile(pattern)
        except re.error as exc:
            self.error('%s: %r is not a valid regular expression: %s', where, pattern, exc)

    def unique(self, where, items, what):
        seen = set()
        for item in items:
            if item in seen:
                self.error('%s: %s %s is given more than once', where, what, item)
            seen.add(item)


def split_arches(value):
    """Arches from a list or a space/comma-separated string, as a list (order kept)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        items = []
        for item in value:
            items.extend(str(item).replace(',', ' ').split())
        return items
    return str(value).replace(',', ' ').split()


def same_arches(current, wanted):
    """Arches are compared as sets: order is not a change."""
    return set(split_arches(current) or []) == set(wanted or [])


def normalize_url(url):
    """The hub stores external repo URLs with a trailing slash."""
    if url and not url.endswith('/'):
        return url + '/'
    return url


def objects_from_params(params, list_key, item_keys, name_key='name'):
    """A module takes one object (top-level options) or many (a list). Returns the list
    of object dicts."""
    # Copies, so that normalising a declaration does not change the module's params.
    # (A JSON round trip: the params are JSON data, and it is several times faster than
    # copy.deepcopy on a site-sized list.)
    if params.get('src') is not None:
        raise KojiModuleError(
            'src is read on the controller by the action plugin of the module, which did not run: '
            'run the module from a playbook task under its kojiforge.koji name')
    if params.get(list_key) is not None:
        return json.loads(json.dumps(params[list_key]))
    if params.get(name_key) is None:
        raise KojiModuleError('one of "%s" or "%s" is required' % (name_key, list_key))
    return json.loads(json.dumps([dict((key, params.get(key)) for key in item_keys)]))


# Lists longer than this are not echoed back in the result's ``invocation`` (see
# compact_invocation).
INVOCATION_MAX_ITEMS = 20


def compact_invocation(params):
    """The ``invocation`` a result carries, with long lists replaced by their length.

    AnsibleModule echoes every parameter back by default: a site's 2700 tags would travel
    back to the controller, be decoded, copied and tagged there, only to be dropped (they are
    shown with -vvv alone). The caller has them in its variables anyway."""
    args = {}
    for key, value in params.items():
        if isinstance(value, list) and len(value) > INVOCATION_MAX_ITEMS:
            value = '(%d items, not echoed)' % len(value)
        args[key] = value
    return {'module_args': args}


def run_module(module, handler):
    """Common main: build the connection, let ``handler(module, conn)`` return a Plan
    (or a Plan and a dict of extra result keys), execute it unless in check mode, and
    exit with the standard result."""
    invocation = compact_invocation(module.params)
    conn = None
    extra_result = {}
    try:
        conn = KojiConnection(module.params)
        plan = handler(module, conn)
        if isinstance(plan, tuple):
            plan, extra_result = plan
        if not module.check_mode:
            plan.execute(conn)
    except KojiModuleError as exc:
        extra = dict(exc.extra)
        extra.setdefault('changed', False)
        if conn is not None:
            extra['requests'] = conn.requests
            conn.logout()
        module.fail_json(msg=exc.msg, invocation=invocation, **extra)
    conn.logout()
    result = dict(extra_result)
    result.update({'changed': plan.changed, 'changes': plan.changes(),
                   'requests': conn.requests, 'invocation': invocation})
    if module._diff:
        result['diff'] = plan.diff()
    module.exit_json(**result)
