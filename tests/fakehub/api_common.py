"""What every call of the fake hub (api.py) shares: the call context (logged-in user, event),
permission checks, object lookups, the hub's name and arch rules, queryOpts, and the calls that
are about the hub itself (versions, events, the session)."""

import re
import threading
import time

import koji

ARCH_RE = re.compile(r'^[a-zA-Z0-9_\-]*$')
NAME_RE = re.compile(r'^[A-Za-z0-9/_.+-]+$')  # the hub's default RegexNameInternal
USER_NAME_RE = re.compile(r'^[A-Za-z0-9/_.@-]+$')  # and RegexUserName
REPO_MERGE_MODES = ('koji', 'simple', 'bare')
GROUP_FIELDS = ('exported', 'display_name', 'is_default', 'uservisible', 'description',
                'langonly', 'biarchonly', 'blocked')


def parse_arches(arches, strict=False, allow_none=False):
    """Normalise arches the way the hub does (space-separated string)."""
    if allow_none and arches is None:
        arches = []
    if not isinstance(arches, list):
        if not strict:
            arches = arches.replace(',', ' ')
        arches = arches.split()
    for arch in arches:
        if not ARCH_RE.match(arch):
            raise koji.GenericError("Architecture can be only [a-zA-Z0-9_-]")
    return ' '.join(arches)


def verify_name(name, pattern=NAME_RE):
    if not isinstance(name, str) or not pattern.match(name):
        raise koji.GenericError("Name %r doesn't match the allowed pattern" % (name,))


class CommonCalls(object):

    def __init__(self, state):
        self.state = state
        self._local = threading.local()

    # ---- call context ---------------------------------------------------------------
    @property
    def ctx(self):
        return self._local.ctx

    def _set_ctx(self, ctx):
        self._local.ctx = ctx

    def _perms(self):
        uid = self.ctx.user_id
        if uid is None:
            return set()
        return set(self.state.perms[p]['name'] for p in self.state.user_perms.get(uid, ()))

    def _assert_perm(self, name):
        perms = self._perms()
        if name in perms or 'admin' in perms:
            return
        msg = '%s permission required' % name
        if self.ctx.user_id is not None:
            msg += ' (logged in as %s)' % self.state.users[self.ctx.user_id]['name']
        else:
            msg += ' (user not logged in)'
        raise koji.ActionNotAllowed(msg)

    def _assert_login(self):
        if self.ctx.user_id is None:
            raise koji.ActionNotAllowed('you must be logged in for this operation')

    def _write(self):
        """The current call writes versioned data: it gets an event."""
        self.state.versioned_write(self.ctx)
        self.ctx.changed = True

    def _touch(self):
        """The current call writes unversioned data (channels, users): no event."""
        self.ctx.changed = True

    def _tag(self, info, strict=True):
        tag = self.state.find_tag(info)
        if tag is None and strict:
            raise koji.GenericError('No such tagInfo: %r' % (info,))
        return tag

    def _repo(self, info, strict=True):
        repo = self.state.find_external_repo(info)
        if repo is None and strict:
            raise koji.GenericError('No such repo: %s' % (info,))
        return repo

    def _user(self, info, strict=True):
        user = self.state.find_user(info)
        if user is None and strict:
            raise koji.GenericError('No such user: %r' % (info,))
        return user

    def _host(self, info, strict=True):
        host = self.state.find_host(info)
        if host is None and strict:
            raise koji.GenericError('Invalid hostInfo: %s' % (info,))
        return host

    # ---- versions, events, session ----------------------------------------------------
    def getAPIVersion(self):
        return koji.API_VERSION

    def getKojiVersion(self):
        return '1.35.3'

    def getLastEvent(self, before=None, strict=True):
        if before is not None:
            candidates = [eid for eid, ts in self.state.events.items() if ts < before]
            if not candidates:
                if strict:
                    raise koji.GenericError('There are no events before %r' % before)
                return None
            eid = max(candidates)
            return {'id': eid, 'ts': self.state.events[eid]}
        return self.state.last_event()

    def getLoggedInUser(self):
        if self.ctx.user_id is None:
            return None
        user = self.getUser(self.ctx.user_id)
        user['authtype'] = self.ctx.authtype
        return user

    def hasPerm(self, perm, strict=False):
        if strict and not self.state.find_perm(perm):
            raise koji.GenericError('No such permission %s defined' % perm)
        perms = self._perms()
        return perm in perms

    def getPerms(self):
        return sorted(self._perms())

    def getAllPerms(self):
        return [dict(self.state.perms[pid]) for pid in sorted(self.state.perms)]

    def echo(self, *args):
        return list(args)


def apply_query_opts(rows, queryOpts):
    """The subset of the hub's queryOpts the fake supports: order, offset, limit,
    countOnly."""
    if not queryOpts:
        return rows
    order = queryOpts.get('order')
    if order:
        reverse = order.startswith('-')
        key = order.lstrip('-')
        rows = sorted(rows, key=lambda r: (r.get(key) is None, r.get(key)), reverse=reverse)
    offset = queryOpts.get('offset')
    if offset:
        rows = rows[offset:]
    limit = queryOpts.get('limit')
    if limit is not None:
        rows = rows[:limit]
    if queryOpts.get('countOnly'):
        return len(rows)
    return rows


def now():
    return time.time()
