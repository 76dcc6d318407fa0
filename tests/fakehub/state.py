"""The data a fake Koji hub holds, and the helpers that seed and look it up.

Everything lives in plain dicts guarded by one lock: the server holds the lock for the
whole of one HTTP request, so a multiCall is handled as one transaction, the way the
real hub handles it.

Events follow the real hub: a call that writes to one of Koji's *versioned* tables
(tags, inheritance, package lists, groups, external repos, targets, host config,
host channels, user permissions) gets one new event; a call that writes only to
unversioned tables (channels, users) or that changes nothing gets none.
"""

import copy
import threading
import time

import koji

DEFAULT_PERMISSIONS = (
    ('admin', 'Full administrator access. Perform all actions.'),
    ('appliance', 'Create appliance builds - deprecated.'),
    ('dist-repo', 'Create a dist-repo.'),
    ('host', 'Add, remove, enable, disable hosts and channels.'),
    ('image', 'Start image tasks.'),
    ('image-import', 'Import image archives.'),
    ('livecd', 'Start livecd tasks.'),
    ('maven-import', 'Import maven archives.'),
    ('repo', 'Manage repos: newRepo, repoExpire, repoDelete, repoProblem.'),
    ('sign', 'Import RPM signatures and write signed RPMs.'),
    ('tag', 'Manage packages in tags: add, block, remove, and clone tags.'),
    ('target', 'Add, edit, and remove targets.'),
    ('win-admin', 'Trigger Windows builds.'),
    ('win-import', 'Import win archives.'),
    ('draft-promoter', 'Promote draft builds.'),
)

DEFAULT_CHANNELS = ('default', 'createrepo', 'maven', 'livecd', 'appliance', 'vm', 'image',
                    'livemedia')


class CallContext(object):
    """Per-call bookkeeping: the logged-in user and the event of this call, if any."""

    def __init__(self, user_id=None, authtype=None):
        self.user_id = user_id
        self.authtype = authtype
        self.event_id = None
        self.changed = False


class HubState(object):
    """All the objects of one fake hub.

    Public attributes (read them, or seed through the add_* helpers):

    ``users``        id -> {id, name, status, usertype, krb_principals}
    ``passwords``    user name -> password (for the ``login`` call)
    ``perms``        id -> {id, name, description}
    ``user_perms``   user id -> set of permission ids
    ``tags``         id -> {id, name, arches, locked, perm_id, maven_support,
                     maven_include_all, extra}
    ``inheritance``  child tag id -> {parent id: {priority, maxdepth, intransitive,
                     noconfig, pkg_filter}}
    ``external_repos``   id -> {id, name, url}
    ``tag_external_repos``  tag id -> {repo id: {priority, merge_mode, arches}}
    ``packages``     id -> name
    ``tag_packages`` tag id -> {package id: {owner_id, blocked, extra_arches}}
    ``groups``       id -> name
    ``tag_groups``   tag id -> {group id: {blocked, exported, display_name, ...}}
    ``group_packages``  tag id -> {group id: {package name: {blocked, type, ...}}}
    ``group_reqs``   tag id -> {group id: {required group id: {blocked, type, is_metapkg}}}
    ``targets``      id -> {id, name, build_tag, dest_tag}
    ``channels``     id -> {id, name, description, enabled, comment}
    ``hosts``        id -> {id, user_id, name, update_ts, ready, task_load, arches,
                     capacity, description, comment, enabled}
    ``host_channels``   host id -> set of channel ids
    ``extra``        free dict for extensions (extra_handlers) to keep their own data
    ``event_id``     id of the newest event; ``events`` id -> timestamp
    """

    def __init__(self):
        self.lock = threading.RLock()
        self._ids = {}
        self._indexes = {}
        self._renames = 0
        self._package_ids = {}
        self._group_ids = {}
        self.event_id = 0
        self.events = {}
        self.users = {}
        self.passwords = {}
        self.perms = {}
        self.user_perms = {}
        self.tags = {}
        self.inheritance = {}
        self.external_repos = {}
        self.tag_external_repos = {}
        self.packages = {}
        self.tag_packages = {}
        self.groups = {}
        self.tag_groups = {}
        self.group_packages = {}
        self.group_reqs = {}
        self.targets = {}
        self.channels = {}
        self.hosts = {}
        self.host_channels = {}
        self.sessions = {}
        self.extra = {}
        # versioned rows of the tables queryHistory answers for: table -> list of row dicts,
        # and table -> {row key: row} of the active ones (see sync_history)
        self.history = {}
        self._history_active = {}
        # the newest event exists from the start, as on a freshly initialised hub
        self._new_event()
        for name, description in DEFAULT_PERMISSIONS:
            pid = self._next_id('perm')
            self.perms[pid] = {'id': pid, 'name': name, 'description': description}
        for name in DEFAULT_CHANNELS:
            self.add_channel(name)

    # ---- ids and events -------------------------------------------------------------
    def _next_id(self, kind):
        self._ids[kind] = self._ids.get(kind, 0) + 1
        return self._ids[kind]

    def _new_event(self):
        self.event_id += 1
        self.events[self.event_id] = time.time()
        return self.event_id

    def versioned_write(self, ctx):
        """Record that the current call writes versioned data (one event per call)."""
        if ctx is not None and ctx.event_id is None:
            # rows seeded since the last sync carry the event that was current then
            self.sync_history(self.event_id)
            ctx.event_id = self._new_event()
        elif ctx is None:
            self.sync_history(self.event_id)
            self._new_event()

    def _versioned_rows(self):
        """The active rows of the history tables, as tuples of (field, value) pairs."""
        rows = {'tag_inheritance': set(), 'tag_packages': set(), 'tag_listing': set(),
                'group_config': set(), 'group_package_listing': set(), 'group_req_listing': set()}
        for child, links in self.inheritance.items():
            for parent, link in links.items():
                rows['tag_inheritance'].add((('tag_id', child), ('parent_id', parent)) + tuple(
                    (k, link[k]) for k in ('priority', 'maxdepth', 'intransitive', 'noconfig', 'pkg_filter')))
        for tag_id, listing in self.tag_packages.items():
            for pkg_id, entry in listing.items():
                rows['tag_packages'].add((('package_id', pkg_id), ('tag_id', tag_id),
                                          ('blocked', entry['blocked']),
                                          ('extra_arches', entry['extra_arches'])))
        for tag_id, groups in self.tag_groups.items():
            for group_id, cfg in groups.items():
                rows['group_config'].add((('group_id', group_id), ('tag_id', tag_id))
                                         + tuple(sorted(cfg.items())))
        for tag_id, groups in self.group_packages.items():
            for group_id, pkgs in groups.items():
                for pkg, cfg in pkgs.items():
                    rows['group_package_listing'].add(
                        (('group_id', group_id), ('tag_id', tag_id), ('package', pkg))
                        + tuple(sorted(cfg.items())))
        for tag_id, groups in self.group_reqs.items():
            for group_id, reqs in groups.items():
                for req_id, cfg in reqs.items():
                    rows['group_req_listing'].add(
                        (('group_id', group_id), ('tag_id', tag_id), ('req_id', req_id))
                        + tuple(sorted(cfg.items())))
        tagged = getattr(self.extra.get('tasks'), 'tagged', {})
        for tag_id, build_ids in tagged.items():
            for build_id in build_ids:
                rows['tag_listing'].add((('build_id', build_id), ('tag_id', tag_id)))
        return rows

    def sync_history(self, event_id):
        """Version what changed since the last sync: new rows created, vanished rows revoked at
        ``event_id``. Called before an event is allocated (seeded rows get the event current
        then), after a call that allocated one, and by queryHistory."""
        for table, keys in self._versioned_rows().items():
            active = self._history_active.setdefault(table, {})
            for key in keys - set(active):
                row = dict(key, create_event=event_id, revoke_event=None, active=True)
                self.history.setdefault(table, []).append(row)
                active[key] = row
            for key in set(active) - keys:
                active.pop(key).update(revoke_event=event_id, active=None)

    def last_event(self):
        return {'id': self.event_id, 'ts': self.events[self.event_id]}

    # ---- seeding helpers (no events, no permission checks) ---------------------------
    def add_user(self, name, password=None, perms=(), status=0, usertype=0,
                 krb_principal=None):
        """Add a user; returns its id. ``perms`` are permission names (created if new)."""
        with self.lock:
            uid = self._next_id('user')
            self.users[uid] = {'id': uid, 'name': name, 'status': status, 'usertype': usertype,
                               'krb_principals': [krb_principal] if krb_principal else []}
            self.user_perms[uid] = set()
            if password is not None:
                self.passwords[name] = password
            for perm in perms:
                self.user_perms[uid].add(self.ensure_perm(perm))
            return uid

    def ensure_perm(self, name, description=None):
        perm = self.find_perm(name)
        if perm:
            return perm['id']
        pid = self._next_id('perm')
        self.perms[pid] = {'id': pid, 'name': name, 'description': description}
        return pid

    def add_channel(self, name, description=None, enabled=True, comment=None):
        with self.lock:
            cid = self._next_id('channel')
            self.channels[cid] = {'id': cid, 'name': name, 'description': description,
                                  'enabled': enabled, 'comment': comment}
            return cid

    def add_host(self, name, arches='x86_64', capacity=2.0, description=None, comment=None,
                 enabled=True, ready=False, task_load=0.0, update_ts=None,
                 channels=('default',), krb_principal=None):
        """Add a builder host with its user (Kerberos principal ``krb_principal``); returns
        the host id.

        ``arches`` is a space-separated string or a list; ``channels`` are names and
        are created if missing; ``ready``, ``task_load`` and ``update_ts`` (seconds
        since the epoch, None for a host that never checked in) seed what kojid
        would report.
        """
        with self.lock:
            if isinstance(arches, (list, tuple)):
                arches = ' '.join(arches)
            uid = self.add_user(name, usertype=koji.USERTYPES['HOST'],
                                krb_principal=krb_principal)
            hid = self._next_id('host')
            self.hosts[hid] = {'id': hid, 'user_id': uid, 'name': name, 'update_ts': update_ts,
                               'ready': ready, 'task_load': float(task_load), 'arches': arches,
                               'capacity': float(capacity), 'description': description,
                               'comment': comment, 'enabled': enabled}
            self.host_channels[hid] = set()
            for channel in channels:
                chan = self.find_channel(channel)
                cid = chan['id'] if chan else self.add_channel(channel)
                self.host_channels[hid].add(cid)
            return hid

    def set_host_status(self, name, ready=None, task_load=None, update_ts=None):
        """Change what kojid would report for a host (ready, task_load, last check-in)."""
        with self.lock:
            host = self.find_host(name)
            if host is None:
                raise KeyError(name)
            if ready is not None:
                host['ready'] = ready
            if task_load is not None:
                host['task_load'] = float(task_load)
            if update_ts is not None:
                host['update_ts'] = update_ts

    def add_tag(self, name, arches=None, perm=None, locked=False, maven_support=False,
                maven_include_all=False, extra=None, parents=()):
        """Add a tag; ``parents`` is a list of (parent name, priority). Returns its id."""
        with self.lock:
            tid = self._next_id('tag')
            perm_id = self.find_perm(perm)['id'] if perm else None
            self.tags[tid] = {'id': tid, 'name': name, 'arches': arches, 'locked': locked,
                              'perm_id': perm_id, 'maven_support': maven_support,
                              'maven_include_all': maven_include_all,
                              'extra': copy.deepcopy(extra or {})}
            self.inheritance[tid] = {}
            for parent, priority in parents:
                self.inheritance[tid][self.find_tag(parent)['id']] = {
                    'priority': priority, 'maxdepth': None, 'intransitive': False,
                    'noconfig': False, 'pkg_filter': ''}
            return tid

    def add_external_repo(self, name, url):
        with self.lock:
            rid = self._next_id('external_repo')
            if not url.endswith('/'):
                url += '/'
            self.external_repos[rid] = {'id': rid, 'name': name, 'url': url}
            return rid

    def add_package(self, tag, package, owner, blocked=False, extra_arches=None):
        with self.lock:
            tag_id = self.find_tag(tag)['id']
            pkg_id = self.ensure_package(package)
            owner_id = self.find_user(owner)['id']
            self.tag_packages.setdefault(tag_id, {})[pkg_id] = {
                'owner_id': owner_id, 'blocked': blocked, 'extra_arches': extra_arches}

    def ensure_package(self, name):
        pid = self._package_ids.get(name)
        if pid is None:
            pid = self._next_id('package')
            self.packages[pid] = name
            self._package_ids[name] = pid
        return pid

    def ensure_group(self, name):
        gid = self._group_ids.get(name)
        if gid is None:
            gid = self._next_id('group')
            self.groups[gid] = name
            self._group_ids[name] = gid
        return gid

    # ---- lookups (name or id, like the hub's name_or_id_clause) ----------------------
    def _find(self, table, info, key='name'):
        if isinstance(info, dict):
            info = info.get('id', info.get(key))
        if isinstance(info, bool):
            return None
        if isinstance(info, int):
            return table.get(info)
        if isinstance(info, str):
            return self._name_index(table, key).get(info)
        raise koji.ParameterError('Invalid name or id value: %r' % (info,))

    def _name_index(self, table, key='name'):
        """name -> object of a table, rebuilt when the table grew, shrank or an object
        was renamed (renames call reindex())."""
        entry = self._indexes.get(id(table))
        if entry is None or entry[0] != len(table) or entry[1] != self._renames:
            index = dict((obj[key], obj) for obj in table.values())
            entry = (len(table), self._renames, index)
            self._indexes[id(table)] = entry
        return entry[2]

    def reindex(self):
        """Call after renaming an object in place."""
        self._renames += 1

    def find_tag(self, info):
        return self._find(self.tags, info)

    def find_user(self, info):
        if isinstance(info, str):
            for user in self.users.values():
                if user['name'] == info or info in user['krb_principals']:
                    return user
            return None
        return self._find(self.users, info)

    def find_perm(self, info):
        return self._find(self.perms, info)

    def find_channel(self, info):
        return self._find(self.channels, info)

    def find_host(self, info):
        return self._find(self.hosts, info)

    def find_external_repo(self, info):
        return self._find(self.external_repos, info)

    def find_target(self, info):
        return self._find(self.targets, info)

    def find_package_id(self, info):
        if isinstance(info, int):
            return info if info in self.packages else None
        return self._package_ids.get(info)

    def find_group_id(self, info):
        if isinstance(info, int):
            return info if info in self.groups else None
        return self._group_ids.get(info)

    # ---- shapes the API returns ------------------------------------------------------
    def tag_info(self, tag):
        perm = self.perms.get(tag['perm_id']) if tag['perm_id'] else None
        info = dict(tag)
        info['perm'] = perm['name'] if perm else None
        info['extra'] = copy.deepcopy(tag['extra'])
        return info

    def host_info(self, host):
        return dict(host)

    def channel_info(self, channel):
        return dict(channel)

    def full_inheritance(self, tag_id):
        """The ordered ancestors of a tag: a list of (parent id, cumulative filters).

        Follows the hub's walk: depth first by priority, loops pruned, intransitive
        links ignored below the root, maxdepth propagated, package filters cumulative, the
        noconfig flag kept for the later links of a tag once one link had it, and a tag met
        again walked again unless an earlier visit reached at least as deep, was not
        noconfig where this one is not, and had no package filter.
        """
        order = []
        visits = {}

        def covered(parent_id, depth, noconfig):
            for old_depth, old_noconfig, old_filters in visits.get(parent_id, ()):
                deep_enough = old_depth is None or (depth is not None and old_depth >= depth)
                if deep_enough and not (old_noconfig and not noconfig) and not old_filters:
                    return True
            return False

        def walk(tid, top, depth_left, filters, noconfig, at_root):
            if depth_left is not None and depth_left < 1:
                return
            links = sorted(self.inheritance.get(tid, {}).items(),
                           key=lambda item: item[1]['priority'])
            for parent_id, link in links:
                if parent_id in top:
                    continue
                if link['intransitive'] and not at_root:
                    continue
                nextdepth = link['maxdepth']
                if nextdepth is None:
                    if depth_left is not None:
                        nextdepth = depth_left - 1
                elif depth_left is not None:
                    nextdepth = min(nextdepth, depth_left) - 1
                noconfig = noconfig or bool(link['noconfig'])
                pfilters = list(filters)
                if link['pkg_filter']:
                    pfilters.append(link['pkg_filter'])
                if covered(parent_id, nextdepth, noconfig):
                    continue
                visits.setdefault(parent_id, []).append((nextdepth, noconfig, pfilters))
                order.append((parent_id, pfilters))
                walk(parent_id, top | {parent_id}, nextdepth, pfilters, noconfig, False)

        walk(tag_id, {tag_id}, None, [], False, True)
        return order
