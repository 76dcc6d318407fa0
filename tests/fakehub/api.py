"""The hub calls a fake Koji hub answers, with the real hub's arguments, result shapes,
checks and errors (koji 1.35), for the objects the kojiforge.koji modules manage.

Every public method here is an XML-RPC method of the fake hub. ``self.ctx`` is the
context of the current call (logged-in user, event). Handlers check everything they
can before they change anything, so a call that raises leaves the state untouched
(the real hub rolls such a call back to its savepoint).
"""

import copy
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


class HubAPI(object):

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

    # ---- tags -------------------------------------------------------------------------
    def getTag(self, tagInfo, strict=False, event=None, blocked=False):
        tag = self._tag(tagInfo, strict=strict)
        return self.state.tag_info(tag) if tag else None

    def getTagID(self, info, strict=False, create=False):
        tag = self._tag(info, strict=strict)
        return tag['id'] if tag else None

    def listTags(self, build=None, package=None, perms=True, queryOpts=None, pattern=None):
        if build is not None:
            raise koji.GenericError('No such build: %s' % build)
        result = []
        pkg_id = None
        if package is not None:
            pkg_id = self.state.find_package_id(package)
            if pkg_id is None:
                raise koji.GenericError('No such package: %s' % package)
        for tag in self.state.tags.values():
            info = {'id': tag['id'], 'name': tag['name'], 'arches': tag['arches'],
                    'locked': tag['locked'], 'maven_support': tag['maven_support'],
                    'maven_include_all': tag['maven_include_all']}
            if perms:
                perm = self.state.perms.get(tag['perm_id']) if tag['perm_id'] else None
                info['perm_id'] = tag['perm_id']
                info['perm'] = perm['name'] if perm else None
            if pkg_id is not None:
                entry = self.state.tag_packages.get(tag['id'], {}).get(pkg_id)
                if entry is None:
                    continue
                info.update({'owner_id': entry['owner_id'],
                             'owner_name': self.state.users[entry['owner_id']]['name'],
                             'blocked': entry['blocked'],
                             'extra_arches': entry['extra_arches']})
            if pattern is not None and not re.match(
                    '^' + re.escape(pattern).replace(r'\*', '.*').replace(r'\?', '.') + '$',
                    tag['name'], re.I):
                continue
            result.append(info)
        return apply_query_opts(result, queryOpts)

    def createTag(self, name, parent=None, arches=None, perm=None, locked=False,
                  maven_support=False, maven_include_all=False, extra=None):
        self._assert_perm('tag')
        verify_name(name)
        arches = parse_arches(arches, strict=True, allow_none=True)
        if maven_support or maven_include_all:
            raise koji.GenericError('Maven support not enabled')
        if self.state.find_tag(name):
            raise koji.GenericError("A tag with the name '%s' already exists" % name)
        parent_id = None
        if parent:
            ptag = self.state.find_tag(parent)
            if not ptag:
                raise koji.GenericError("Parent tag '%s' could not be found" % parent)
            parent_id = ptag['id']
        perm_id = None
        if perm is not None:
            p = self.state.find_perm(perm)
            if not p:
                raise koji.GenericError('No such permission: %s' % perm)
            perm_id = p['id']
        self._write()
        tid = self.state.add_tag(name, arches=arches, locked=bool(locked),
                                 extra=extra or {})
        self.state.tags[tid]['perm_id'] = perm_id
        if parent_id:
            self.state.inheritance[tid][parent_id] = {
                'priority': 0, 'maxdepth': None, 'intransitive': False, 'noconfig': False,
                'pkg_filter': ''}
        return tid

    def editTag2(self, tagInfo, **kwargs):
        self._assert_perm('tag')
        if kwargs.get('maven_support') or kwargs.get('maven_include_all'):
            raise koji.GenericError('Maven support not enabled')
        tag = self._tag(tagInfo)
        if 'perm' in kwargs and 'perm_id' not in kwargs:
            kwargs['perm_id'] = kwargs['perm']
        if kwargs.get('perm_id') is not None:
            p = self.state.find_perm(kwargs['perm_id'])
            if not p:
                raise koji.GenericError('No such permission: %s' % kwargs['perm_id'])
            kwargs['perm_id'] = p['id']
        name = kwargs.get('name')
        if name and name != tag['name']:
            verify_name(name)
            if self.state.find_tag(name):
                raise koji.GenericError('Name %s already taken by tag %s'
                                        % (name, self.state.find_tag(name)['id']))
        if kwargs.get('arches') and kwargs['arches'] != tag['arches']:
            kwargs['arches'] = parse_arches(kwargs['arches'], strict=True, allow_none=True)
        extra = kwargs.get('extra')
        removed = set(kwargs.get('block_extra') or []) | set(kwargs.get('remove_extra') or [])
        if extra is not None:
            conflicts = removed.intersection(set(extra))
            if conflicts:
                raise koji.GenericError("Can not both add/update and remove tag-extra: '%s'"
                                        % conflicts.pop())
        missing = [k for k in kwargs.get('remove_extra') or [] if k not in tag['extra']]
        if missing:
            raise koji.GenericError("Tag: %s doesn't have extra: %s"
                                    % (tag['name'], ', '.join(missing)))
        # all checks passed: apply
        wrote = False
        if name and name != tag['name']:
            tag['name'] = name
            self.state.reindex()
        for key in ('perm_id', 'arches', 'locked', 'maven_support', 'maven_include_all'):
            if key in kwargs and tag[key] != kwargs[key]:
                tag[key] = kwargs[key]
                wrote = True
        for key, value in (extra or {}).items():
            if key not in tag['extra'] or tag['extra'][key] != value:
                tag['extra'][key] = copy.deepcopy(value)
                wrote = True
        for key in kwargs.get('block_extra') or []:
            tag['extra'].pop(key, None)
            wrote = True
        for key in kwargs.get('remove_extra') or []:
            del tag['extra'][key]
            wrote = True
        if wrote:
            self._write()
        return None

    def deleteTag(self, tagInfo):
        self._assert_perm('tag')
        tag = self._tag(tagInfo)
        tid = tag['id']
        self._write()
        del self.state.tags[tid]
        self.state.inheritance.pop(tid, None)
        for links in self.state.inheritance.values():
            links.pop(tid, None)
        for target_id in [t['id'] for t in self.state.targets.values()
                          if tid in (t['build_tag'], t['dest_tag'])]:
            del self.state.targets[target_id]
        for table in (self.state.tag_packages, self.state.tag_external_repos,
                      self.state.tag_groups, self.state.group_packages):
            table.pop(tid, None)

    # ---- inheritance ------------------------------------------------------------------
    def _inheritance_list(self, tid):
        links = []
        for parent_id, link in self.state.inheritance.get(tid, {}).items():
            entry = dict(link)
            entry.update({'parent_id': parent_id, 'child_id': tid,
                          'name': self.state.tags[parent_id]['name']})
            links.append(entry)
        return sorted(links, key=lambda link: link['priority'])

    def getInheritanceData(self, tag, event=None):
        tid = self._tag(tag)['id']
        return self._inheritance_list(tid)

    def setInheritanceData(self, tag, data, clear=False):
        self._assert_perm('tag')
        tid = self._tag(tag)['id']
        fields = ('parent_id', 'priority', 'maxdepth', 'intransitive', 'noconfig',
                  'pkg_filter')
        if isinstance(data, dict):
            data = [data]
        for link in data:
            check = ('parent_id',) if link.get('delete link') else fields
            for field in check:
                if field not in link:
                    raise koji.GenericError('No value for %s' % field)
            self._tag(link['parent_id'])
        current = dict((pid, dict(link, parent_id=pid))
                       for pid, link in self.state.inheritance.get(tid, {}).items())
        updates = {}
        for link in data:
            pid = link['parent_id']
            orig = current.get(pid)
            if link.get('delete link'):
                if orig:
                    updates[pid] = None
            elif not orig or clear:
                updates[pid] = link
            elif any(orig[f] != link[f] for f in fields):
                updates[pid] = link
        if clear:
            for pid in current:
                if pid not in updates and not any(link['parent_id'] == pid for link in data):
                    updates[pid] = None
        if not updates:
            return None
        final = dict(current)
        for pid, link in updates.items():
            if link is None:
                final.pop(pid, None)
            else:
                final[pid] = link
        priorities = {}
        for pid, link in final.items():
            priorities.setdefault(link['priority'], []).append(pid)
        for pri, dups in priorities.items():
            if len(dups) > 1:
                raise koji.GenericError('Multiple parent tags (%r) cannot have the same '
                                        'priority value (%d) on child tag %d'
                                        % (sorted(dups), pri, tid))
        self._write()
        self.state.inheritance[tid] = dict(
            (pid, dict((f, link[f]) for f in fields if f != 'parent_id'))
            for pid, link in final.items())
        return None

    def getFullInheritance(self, tag, event=None, reverse=False):
        tid = self._tag(tag)['id']
        result = []
        for parent_id, filters in self.state.full_inheritance(tid):
            result.append({'parent_id': parent_id, 'name': self.state.tags[parent_id]['name'],
                           'filter': filters})
        return result

    # ---- history ----------------------------------------------------------------------
    HISTORY_TABLES = ('tag_inheritance', 'tag_packages', 'tag_listing', 'group_config',
                      'group_package_listing')

    def _history_names(self, table, row):
        """The name fields the hub joins into a history row (tags and packages never vanish)."""
        named = {'tag.name': self.state.tags.get(row['tag_id'], {}).get('name')}
        if table == 'tag_inheritance':
            named['parent.name'] = self.state.tags.get(row['parent_id'], {}).get('name')
        elif table == 'tag_packages':
            named['package.name'] = self.state.packages[row['package_id']]
        elif table.startswith('group_'):
            named['group.name'] = self.state.groups[row['group_id']]
        else:
            build = self.state.extra['tasks'].builds[row['build_id']]
            named.update({'name': self.state.packages[build['package_id']],
                          'version': build['version'], 'release': build['release'],
                          'epoch': None, 'build.state': build['state']})
        return named

    def queryHistory(self, tables=None, queryOpts=None, **kwargs):
        """The hub's query_history for tag_inheritance, tag_packages, tag_listing, group_config
        and group_package_listing, filtered by ``afterEvent`` (created or revoked after it),
        ``active`` and ``tag`` (an id, a name or a dict with either, as the hub's get_tag_id; an
        unknown one raises as there; in tag_inheritance the tag may be the child or the parent);
        a dict of table name -> rows
        with create_event/revoke_event/active and the table's fields. ``queryOpts`` applies to
        each table on its own: with countOnly each table's value is its number of rows."""
        unsupported = set(kwargs) - {'afterEvent', 'active', 'tag'}
        if unsupported:
            raise koji.GenericError('the fake hub does not filter history by %s' % ', '.join(sorted(unsupported)))
        tables = self.HISTORY_TABLES if tables is None else tables
        for table in tables:
            if table not in self.HISTORY_TABLES:
                raise koji.GenericError('No such history table (in the fake hub): %s' % table)
        tag_id = None
        if 'tag' in kwargs and tables:
            # the hub looks the tag up for each table that has a tag column (all of these)
            tag = self.state.find_tag(kwargs['tag'])
            if tag is None:
                raise koji.GenericError('No such entry in table tag: %s' % (kwargs['tag'],))
            tag_id = tag['id']
        self.state.sync_history(self.state.event_id)
        after = kwargs.get('afterEvent')
        result = {}
        for table in tables:
            rows = []
            for row in self.state.history.get(table, ()):
                if after is not None and not (row['create_event'] > after or (row['revoke_event'] or 0) > after):
                    continue
                if 'active' in kwargs and kwargs['active'] is not None and bool(row['active']) != bool(kwargs['active']):
                    continue
                if tag_id is not None and tag_id not in (row['tag_id'], row.get('parent_id')):
                    continue
                out = dict(row, creator_id=1, revoker_id=1 if row['revoke_event'] else None,
                           create_ts=self.state.events[row['create_event']],
                           revoke_ts=self.state.events.get(row['revoke_event']))
                out.update(self._history_names(table, row))
                rows.append(out)
            result[table] = apply_query_opts(rows, queryOpts)
        return result

    # ---- external repos ----------------------------------------------------------------
    def createExternalRepo(self, name, url):
        self._assert_perm('admin')
        verify_name(name)
        if self.state.find_external_repo(name):
            raise koji.GenericError('An external repo named "%s" already exists' % name)
        self._write()
        rid = self.state.add_external_repo(name, url)
        return dict(self.state.external_repos[rid])

    def listExternalRepos(self, info=None, url=None, event=None, queryOpts=None):
        repos = [dict(self.state.external_repos[rid]) for rid in sorted(self.state.external_repos)]
        if info is not None:
            found = self.state.find_external_repo(info)
            repos = [r for r in repos if found and r['id'] == found['id']]
        if url:
            repos = [r for r in repos if r['url'] == url]
        return apply_query_opts(repos, queryOpts)

    def getExternalRepo(self, info, strict=False, event=None):
        repo = self._repo(info, strict=strict)
        return dict(repo) if repo else None

    def editExternalRepo(self, info, name=None, url=None):
        self._assert_perm('admin')
        repo = self._repo(info)
        if name and name != repo['name']:
            verify_name(name)
            other = self.state.find_external_repo(name)
            if other:
                raise koji.GenericError('name "%s" is already taken by external repo %i'
                                        % (name, other['id']))
        wrote = False
        if name and name != repo['name']:
            repo['name'] = name
            self.state.reindex()
        if url and url != repo['url']:
            if not url.endswith('/'):
                url += '/'
            repo['url'] = url
            wrote = True
        if wrote:
            self._write()
        return None

    def deleteExternalRepo(self, info):
        self._assert_perm('admin')
        repo = self._repo(info)
        self._write()
        for links in self.state.tag_external_repos.values():
            links.pop(repo['id'], None)
        del self.state.external_repos[repo['id']]

    def getTagExternalRepos(self, tag_info=None, repo_info=None, event=None):
        tag_id = self._tag(tag_info)['id'] if tag_info else None
        repo_id = self._repo(repo_info)['id'] if repo_info else None
        result = []
        for tid, links in self.state.tag_external_repos.items():
            if tag_id is not None and tid != tag_id:
                continue
            for rid, link in links.items():
                if repo_id is not None and rid != repo_id:
                    continue
                repo = self.state.external_repos[rid]
                result.append({'external_repo_id': rid, 'external_repo_name': repo['name'],
                               'priority': link['priority'], 'tag_id': tid,
                               'tag_name': self.state.tags[tid]['name'], 'url': repo['url'],
                               'merge_mode': link['merge_mode'], 'arches': link['arches']})
        return sorted(result, key=lambda r: r['priority'])

    def addExternalRepoToTag(self, tag_info, repo_info, priority, merge_mode='koji',
                             arches=None):
        self._assert_perm('tag')
        if merge_mode is None:
            merge_mode = 'koji'
        if merge_mode not in REPO_MERGE_MODES:
            raise koji.GenericError('No such merge mode: %s' % merge_mode)
        tag = self._tag(tag_info)
        repo = self._repo(repo_info)
        if arches is not None:
            arches = parse_arches(arches, strict=True)
        try:
            priority = int(priority)
        except (TypeError, ValueError):
            raise koji.ParameterError('Invalid type for value %r: %s, expected type int'
                                      % (priority, type(priority)))
        links = self.state.tag_external_repos.setdefault(tag['id'], {})
        if repo['id'] in links:
            raise koji.GenericError('tag %s already associated with external repo %s'
                                    % (tag['name'], repo['name']))
        if [link for link in links.values() if link['priority'] == priority]:
            raise koji.GenericError('tag %s already associated with an external repo at '
                                    'priority %i' % (tag['name'], priority))
        self._write()
        links[repo['id']] = {'priority': priority, 'merge_mode': merge_mode, 'arches': arches}

    def removeExternalRepoFromTag(self, tag_info, repo_info):
        self._assert_perm('tag')
        tag = self._tag(tag_info)
        repo = self._repo(repo_info)
        links = self.state.tag_external_repos.get(tag['id'], {})
        if repo['id'] not in links:
            raise koji.GenericError('external repo %s not associated with tag %s'
                                    % (repo['name'], tag['name']))
        self._write()
        del links[repo['id']]

    def editTagExternalRepo(self, tag_info, repo_info, priority=None, merge_mode=None,
                            arches=None):
        self._assert_perm('tag')
        tag = self._tag(tag_info)
        repo = self._repo(repo_info)
        links = self.state.tag_external_repos.get(tag['id'], {})
        if repo['id'] not in links:
            raise koji.GenericError('external repo %s not associated with tag %s'
                                    % (repo['name'], tag['name']))
        link = links[repo['id']]
        if arches is not None:
            arches = parse_arches(arches, strict=True)
        data = {}
        for key, val in (('priority', priority), ('merge_mode', merge_mode),
                         ('arches', arches)):
            if val is not None and val != link[key]:
                data[key] = val
        if not data:
            return False
        for key in ('priority', 'merge_mode', 'arches'):
            data.setdefault(key, link[key])
        if data['merge_mode'] not in REPO_MERGE_MODES:
            raise koji.GenericError('No such merge mode: %s' % data['merge_mode'])
        if [other for rid, other in links.items()
                if rid != repo['id'] and other['priority'] == data['priority']]:
            raise koji.GenericError('tag %s already associated with an external repo at '
                                    'priority %i' % (tag['name'], data['priority']))
        self._write()
        links[repo['id']] = data
        return True

    # ---- package lists ------------------------------------------------------------------
    def _package_listing(self, tag_id, inherited):
        """pkg id -> entry dict (with tag_id), nearest tag first, like readPackageList."""
        result = {}
        for pid, entry in self.state.tag_packages.get(tag_id, {}).items():
            result[pid] = dict(entry, tag_id=tag_id)
        if not inherited:
            return result
        for parent_id, filters in self.state.full_inheritance(tag_id):
            for pid, entry in self.state.tag_packages.get(parent_id, {}).items():
                if pid in result:
                    continue
                name = self.state.packages[pid]
                if any(re.match(pat, name) is None for pat in filters):
                    continue
                result[pid] = dict(entry, tag_id=parent_id)
        return result

    def _package_row(self, pid, entry, with_owners=True):
        row = {'package_id': pid, 'package_name': self.state.packages[pid],
               'tag_id': entry['tag_id'], 'tag_name': self.state.tags[entry['tag_id']]['name'],
               'extra_arches': entry['extra_arches'], 'blocked': entry['blocked']}
        if with_owners:
            row['owner_id'] = entry['owner_id']
            row['owner_name'] = self.state.users[entry['owner_id']]['name']
        return row

    def listPackages(self, tagID=None, userID=None, pkgID=None, prefix=None, inherited=False,
                     with_dups=False, event=None, queryOpts=None, with_owners=True,
                     with_blocked=True):
        if tagID is None and userID is None and pkgID is None:
            rows = [{'package_id': pid, 'package_name': name}
                    for pid, name in sorted(self.state.packages.items())]
        else:
            owner_id = self._user(userID)['id'] if userID is not None else None
            pkg_id = None
            if pkgID is not None:
                pkg_id = self.state.find_package_id(pkgID)
                if pkg_id is None:
                    raise koji.GenericError('No such package: %s' % pkgID)
            if tagID is not None:
                tag_ids = [self._tag(tagID)['id']]
            else:
                tag_ids = list(self.state.tags)
            rows = []
            for tid in tag_ids:
                listing = self._package_listing(tid, inherited and tagID is not None)
                for pid, entry in sorted(listing.items()):
                    if pkg_id is not None and pid != pkg_id:
                        continue
                    if owner_id is not None and entry['owner_id'] != owner_id:
                        continue
                    if not with_blocked and entry['blocked']:
                        continue
                    rows.append(self._package_row(pid, entry, with_owners))
            if tagID is None and not with_dups:
                # the hub keys its answer by package: one row per package, the last one read
                rows = list(dict((row['package_id'], row) for row in rows).values())
        if prefix:
            rows = [r for r in rows if r['package_name'].lower().startswith(prefix.lower())]
        return apply_query_opts(rows, queryOpts)

    def getPackage(self, info, strict=False, create=False):
        pid = self.state.find_package_id(info)
        if pid is None:
            if strict:
                raise koji.GenericError('No such package: %s' % info)
            return None
        return {'id': pid, 'name': self.state.packages[pid]}

    def packageListAdd(self, taginfo, pkginfo, owner=None, block=None, extra_arches=None,
                       force=False, update=False):
        tag = self._tag(taginfo)
        pid = self.state.find_package_id(pkginfo)
        if pid is None and not isinstance(pkginfo, str):
            raise koji.GenericError('No such package: %s' % pkginfo)
        owner_id = self._user(owner)['id'] if owner is not None else None
        self._assert_login()
        self._assert_perm('tag')  # the default package_list policy: admin or tag perm
        if extra_arches is not None:
            extra_arches = parse_arches(extra_arches, strict=True, allow_none=True)
        previous = self._package_listing(tag['id'], True).get(pid) if pid else None
        if previous is None:
            block = bool(block)
            if update and not force:
                raise koji.GenericError('cannot update: tag %s has no data for package %s'
                                        % (tag['name'], pkginfo))
            changed = True
            changed_owner = False
        else:
            if owner_id is None:
                owner_id = previous['owner_id']
            changed_owner = previous['owner_id'] != owner_id
            block = previous['blocked'] if block is None else bool(block)
            if extra_arches is None:
                extra_arches = previous['extra_arches']
            changed = previous['blocked'] != block or previous['extra_arches'] != extra_arches
            if not changed and not changed_owner and not force:
                return None
            if previous['blocked'] and not block and not force:
                raise koji.GenericError('package %s is blocked in tag %s'
                                        % (self.state.packages[pid], tag['name']))
        if owner_id is None:
            if force:
                owner_id = self.ctx.user_id
            else:
                raise koji.GenericError('owner not specified')
        if pid is None:
            pid = self.state.ensure_package(pkginfo)
        if not (previous is None or changed or changed_owner):
            return None  # forced, but nothing to store: the hub writes nothing either
        self._write()
        listing = self.state.tag_packages.setdefault(tag['id'], {})
        if previous is None or changed:
            listing[pid] = {'owner_id': owner_id, 'blocked': block,
                            'extra_arches': extra_arches}
        elif changed_owner:
            if pid in listing:
                listing[pid]['owner_id'] = owner_id
            # an owner change on an inherited entry is stored on the hub in
            # tag_package_owners only and does not show in this tag's listing
        return None

    def packageListRemove(self, taginfo, pkginfo, force=False):
        tag = self._tag(taginfo)
        pid = self.state.find_package_id(pkginfo)
        if pid is None:
            raise koji.GenericError('No such package: %s' % pkginfo)
        self._assert_login()
        self._assert_perm('tag')
        # the hub revokes whatever matches, and so writes an event even if nothing does
        self._write()
        self.state.tag_packages.get(tag['id'], {}).pop(pid, None)
        return None

    def packageListBlock(self, taginfo, pkginfo, force=False):
        tag = self._tag(taginfo)
        pid = self.state.find_package_id(pkginfo)
        if pid is None:
            raise koji.GenericError('No such package: %s' % pkginfo)
        if pid not in self._package_listing(tag['id'], True):
            raise koji.GenericError('Package %s is not in tag listing for %s'
                                    % (self.state.packages[pid], tag['name']))
        return self.packageListAdd(taginfo, pkginfo, block=True, force=force)

    def packageListUnblock(self, taginfo, pkginfo, force=False):
        tag = self._tag(taginfo)
        pid = self.state.find_package_id(pkginfo)
        if pid is None:
            raise koji.GenericError('No such package: %s' % pkginfo)
        self._assert_login()
        self._assert_perm('tag')
        previous = self._package_listing(tag['id'], True).get(pid)
        if previous is None:
            raise koji.GenericError('no data (blocked or otherwise) for package %s in tag %s'
                                    % (self.state.packages[pid], tag['name']))
        if not previous['blocked']:
            raise koji.GenericError('package %s NOT blocked in tag %s'
                                    % (self.state.packages[pid], tag['name']))
        self._write()
        listing = self.state.tag_packages.setdefault(tag['id'], {})
        entry = {'owner_id': previous['owner_id'], 'blocked': False,
                 'extra_arches': previous['extra_arches']}
        if previous['tag_id'] != tag['id']:
            listing[pid] = entry
        else:
            del listing[pid]
            after = self._package_listing(tag['id'], True).get(pid)
            if after is None or after['blocked']:
                listing[pid] = entry
        return None

    def packageListSetOwner(self, taginfo, pkginfo, owner, force=False):
        return self.packageListAdd(taginfo, pkginfo, owner=owner, force=force, update=True)

    def packageListSetArches(self, taginfo, pkginfo, arches, force=False):
        return self.packageListAdd(taginfo, pkginfo, extra_arches=arches, force=force,
                                   update=True)

    # ---- comps groups ------------------------------------------------------------------
    def _tag_groups(self, tag_id, inherit=True):
        """group id -> group dict incl. 'packagelist' dict, nearest tag first."""
        tag_ids = [tag_id]
        if inherit:
            tag_ids += [link[0] for link in self.state.full_inheritance(tag_id)]
        groups = {}
        for tid in tag_ids:
            for gid, cfg in self.state.tag_groups.get(tid, {}).items():
                if gid not in groups:
                    group = dict(cfg)
                    group.update({'group_id': gid, 'tag_id': tid,
                                  'name': self.state.groups[gid]})
                    groups[gid] = group
        for group in groups.values():
            group['packagelist'] = {}
        for tid in tag_ids:
            for gid, pkgs in self.state.group_packages.get(tid, {}).items():
                if gid not in groups or groups[gid]['blocked']:
                    continue
                for pkg, cfg in pkgs.items():
                    if pkg not in groups[gid]['packagelist']:
                        entry = dict(cfg)
                        entry.update({'group_id': gid, 'tag_id': tid, 'package': pkg})
                        groups[gid]['packagelist'][pkg] = entry
        return groups

    def getTagGroups(self, tag, event=None, inherit=True, incl_pkgs=True, incl_reqs=True,
                     incl_blocked=False):
        tid = self._tag(tag)['id']
        groups = list(self._tag_groups(tid, inherit).values())
        for group in groups:
            pkgs = list(group['packagelist'].values())
            if not incl_blocked:
                pkgs = [p for p in pkgs if not p['blocked']]
            if incl_pkgs:
                group['packagelist'] = pkgs
            else:
                del group['packagelist']
            if incl_reqs:
                group['grouplist'] = []
        if not incl_blocked:
            groups = [g for g in groups if not g['blocked']]
        return groups

    def groupListAdd(self, taginfo, grpinfo, block=False, force=False, **opts):
        self._assert_perm('tag')
        tag = self._tag(taginfo)
        gid = self.state.find_group_id(grpinfo)
        opts['blocked'] = bool(block)
        opts = dict((k, v) for k, v in opts.items() if k in GROUP_FIELDS)
        previous = self._tag_groups(tag['id']).get(gid) if gid else None
        if previous is not None:
            if previous['blocked'] and not force:
                raise koji.GenericError('group %s is blocked in tag %s'
                                        % (self.state.groups[gid], tag['name']))
            changed = False
            for field in GROUP_FIELDS:
                if field in opts:
                    if opts[field] != previous[field]:
                        changed = True
                else:
                    opts[field] = previous[field]
            if not changed:
                return None
        if gid is None:
            gid = self.state.ensure_group(grpinfo)
        opts.setdefault('display_name', self.state.groups[gid])
        opts.setdefault('biarchonly', False)
        opts.setdefault('exported', True)
        opts.setdefault('uservisible', True)
        for field in ('is_default', 'description', 'langonly'):
            opts.setdefault(field, None)
        self._write()
        self.state.tag_groups.setdefault(tag['id'], {})[gid] = opts
        return None

    def groupListRemove(self, taginfo, grpinfo, force=False):
        self._assert_perm('tag')
        tag = self._tag(taginfo)
        gid = self.state.find_group_id(grpinfo)
        if gid is None:
            raise koji.GenericError('No such group: %s' % grpinfo)
        groups = self.state.tag_groups.get(tag['id'], {})
        if gid not in groups:
            if not force:
                raise koji.GenericError('No group: %s found for tag: %s'
                                        % (self.state.groups[gid], tag['name']))
            return None
        self._write()
        del groups[gid]
        return None

    def groupListBlock(self, taginfo, grpinfo):
        return self.groupListAdd(taginfo, grpinfo, block=True)

    def groupPackageListBlock(self, taginfo, grpinfo, pkg_name):
        return self.groupPackageListAdd(taginfo, grpinfo, pkg_name, block=True)

    def groupPackageListAdd(self, taginfo, grpinfo, pkg_name, block=False, force=False,
                            **opts):
        self._assert_perm('tag')
        tag = self._tag(taginfo)
        gid = self.state.find_group_id(grpinfo)
        if gid is None:
            raise koji.GenericError('No such group: %s' % grpinfo)
        grp = self._tag_groups(tag['id']).get(gid)
        if grp is None:
            raise koji.GenericError('group %s not present in tag %s'
                                    % (self.state.groups[gid], tag['name']))
        if grp['blocked']:
            raise koji.GenericError('group %s is blocked in tag %s'
                                    % (self.state.groups[gid], tag['name']))
        block = bool(block)
        fields = ('type', 'basearchonly', 'requires')
        opts = dict((k, v) for k, v in opts.items() if k in fields)
        previous = grp['packagelist'].get(pkg_name)
        if previous is not None:
            if previous['blocked'] and not force:
                raise koji.GenericError('package %s blocked in group %s, tag %s'
                                        % (pkg_name, self.state.groups[gid], tag['name']))
            changed = block
            for field in fields:
                if field in opts:
                    changed = changed or opts[field] != previous[field]
                else:
                    opts[field] = previous[field]
            if not changed and not force:
                return None
        opts.setdefault('type', 'mandatory')
        opts.setdefault('basearchonly', None)
        opts.setdefault('requires', None)
        opts['blocked'] = block
        self._write()
        self.state.group_packages.setdefault(tag['id'], {}).setdefault(gid, {})[pkg_name] = opts
        return None

    def groupPackageListRemove(self, taginfo, grpinfo, pkg_name):
        self._assert_perm('tag')
        tag = self._tag(taginfo)
        gid = self.state.find_group_id(grpinfo)
        if gid is None:
            raise koji.GenericError('No such group: %s' % grpinfo)
        pkgs = self.state.group_packages.get(tag['id'], {}).get(gid, {})
        # the hub revokes whatever matches, and writes an event even if nothing does
        self._write()
        pkgs.pop(pkg_name, None)
        return None

    # ---- build targets ------------------------------------------------------------------
    def _target_info(self, target):
        return {'id': target['id'], 'name': target['name'],
                'build_tag': target['build_tag'], 'dest_tag': target['dest_tag'],
                'build_tag_name': self.state.tags[target['build_tag']]['name'],
                'dest_tag_name': self.state.tags[target['dest_tag']]['name']}

    def getBuildTargets(self, info=None, event=None, buildTagID=None, destTagID=None,
                        queryOpts=None):
        result = []
        found = self.state.find_target(info) if info else None
        build_id = dest_id = None
        if buildTagID is not None:
            tag = self.state.find_tag(buildTagID)
            build_id = tag['id'] if tag else -1
        if destTagID is not None:
            tag = self.state.find_tag(destTagID)
            dest_id = tag['id'] if tag else -1
        for target in [self.state.targets[tid] for tid in sorted(self.state.targets)]:
            if info and (not found or found['id'] != target['id']):
                continue
            if build_id is not None and target['build_tag'] != build_id:
                continue
            if dest_id is not None and target['dest_tag'] != dest_id:
                continue
            result.append(self._target_info(target))
        return apply_query_opts(result, queryOpts)

    def getBuildTarget(self, info, event=None, strict=False):
        targets = self.getBuildTargets(info=info)
        if len(targets) == 1:
            return targets[0]
        if strict:
            raise koji.GenericError('No such build target: %s' % info)
        return None

    def createBuildTarget(self, name, build_tag, dest_tag):
        self._assert_perm('target')
        verify_name(name)
        if self.state.find_target(name):
            raise koji.GenericError("A build target with the name '%s' already exists" % name)
        btag = self.state.find_tag(build_tag)
        if not btag:
            raise koji.GenericError("build tag '%s' does not exist" % build_tag)
        dtag = self.state.find_tag(dest_tag)
        if not dtag:
            raise koji.GenericError("destination tag '%s' does not exist" % dest_tag)
        self._write()
        tid = self.state._next_id('target')
        self.state.targets[tid] = {'id': tid, 'name': name, 'build_tag': btag['id'],
                                   'dest_tag': dtag['id']}
        return None

    def editBuildTarget(self, buildTargetInfo, name, build_tag, dest_tag):
        self._assert_perm('target')
        verify_name(name)
        target = self.state.find_target(buildTargetInfo)
        if not target:
            raise koji.GenericError('No such build target: %s' % buildTargetInfo)
        btag = self.state.find_tag(build_tag)
        if not btag:
            raise koji.GenericError("build tag '%s' does not exist" % build_tag)
        dtag = self.state.find_tag(dest_tag)
        if not dtag:
            raise koji.GenericError("destination tag '%s' does not exist" % dest_tag)
        if target['name'] != name:
            other = self.state.find_target(name)
            if other:
                raise koji.GenericError('name "%s" is already taken by build target %i'
                                        % (name, other['id']))
        # the hub revokes and re-inserts the config even when nothing changed
        self._write()
        target.update({'name': name, 'build_tag': btag['id'], 'dest_tag': dtag['id']})
        self.state.reindex()
        return None

    def deleteBuildTarget(self, buildTargetInfo):
        self._assert_perm('target')
        target = self.state.find_target(buildTargetInfo)
        if not target:
            raise koji.GenericError('No such build target: %s' % buildTargetInfo)
        self._write()
        del self.state.targets[target['id']]
        return None

    # ---- channels -----------------------------------------------------------------------
    def getChannel(self, channelInfo, strict=False):
        channel = self.state.find_channel(channelInfo)
        if channel is None:
            if strict:
                raise koji.GenericError('No such channel: %s' % (channelInfo,))
            return None
        return self.state.channel_info(channel)

    def listChannels(self, hostID=None, event=None, enabled=None):
        if hostID:
            if isinstance(hostID, str):
                hostID = self._host(hostID)['id']
            ids = self.state.host_channels.get(hostID, set())
            channels = [self.state.channels[cid] for cid in sorted(ids)]
        elif event:
            raise koji.GenericError('list_channels with event and not host is not allowed.')
        else:
            channels = [self.state.channels[cid] for cid in sorted(self.state.channels)]
        if enabled is not None:
            channels = [c for c in channels if bool(c['enabled']) == bool(enabled)]
        return [self.state.channel_info(c) for c in channels]

    def addChannel(self, channel_name, description=None):
        self._assert_perm('admin')
        verify_name(channel_name)
        if description is not None and not isinstance(description, str):
            raise koji.ParameterError('Channel description must be a string')
        dup = self.state.find_channel(channel_name)
        if dup:
            raise koji.GenericError('channel %(name)s already exists (id=%(id)i)' % dup)
        self._touch()
        return self.state.add_channel(channel_name, description=description)

    def editChannel(self, channelInfo, **kw):
        self._assert_perm('admin')
        channel = self.state.find_channel(channelInfo)
        if channel is None:
            raise koji.GenericError('No such channel: %s' % (channelInfo,))
        changes = [f for f in ('description', 'comment', 'name')
                   if f in kw and kw[f] != channel[f]]
        if not changes:
            return False
        if kw.get('name'):
            verify_name(kw['name'])
            dup = self.state.find_channel(kw['name'])
            if dup:
                raise koji.GenericError('channel %(name)s already exists (id=%(id)i)' % dup)
        for field in ('description', 'comment'):
            if field in kw and not isinstance(kw[field], str):
                raise koji.ParameterError('Invalid type for value %r' % (kw[field],))
        self._touch()
        for field in changes:
            channel[field] = kw[field]
        self.state.reindex()
        return True

    def _set_channel_enabled(self, channelname, enabled, comment):
        self._assert_perm('host')
        channel = self.state.find_channel(channelname)
        if not channel:
            raise koji.GenericError('No such channel: %s' % channelname)
        self._touch()
        channel['enabled'] = enabled
        if comment is not None:
            channel['comment'] = comment

    def enableChannel(self, channelname, comment=None):
        self._set_channel_enabled(channelname, True, comment)

    def disableChannel(self, channelname, comment=None):
        self._set_channel_enabled(channelname, False, comment)

    def removeChannel(self, channel_name, force=False):
        raise koji.GenericError('Invalid method: removeChannel')

    # ---- hosts ----------------------------------------------------------------------
    def getHost(self, hostInfo, strict=False, event=None):
        host = self._host(hostInfo, strict=strict)
        return self.state.host_info(host) if host else None

    def listHosts(self, arches=None, channelID=None, ready=None, enabled=None, userID=None,
                  queryOpts=None):
        hosts = [self.state.hosts[hid] for hid in sorted(self.state.hosts)]
        if arches is not None:
            if not arches:
                raise koji.GenericError('arches option cannot be empty')
            if not isinstance(arches, (list, tuple)):
                arches = [arches]
            hosts = [h for h in hosts if set((h['arches'] or '').split()) & set(arches)]
        if channelID is not None:
            channel = self.state.find_channel(channelID)
            if channel is None:
                raise koji.GenericError('No such channels: %s' % (channelID,))
            hosts = [h for h in hosts
                     if channel['id'] in self.state.host_channels.get(h['id'], ())]
        if ready is not None:
            hosts = [h for h in hosts if bool(h['ready']) == bool(ready)]
        if enabled is not None:
            hosts = [h for h in hosts if bool(h['enabled']) == bool(enabled)]
        if userID is not None:
            uid = self._user(userID)['id']
            hosts = [h for h in hosts if h['user_id'] == uid]
        return apply_query_opts([self.state.host_info(h) for h in hosts], queryOpts)

    def addHost(self, hostname, arches, krb_principal=None, force=False):
        self._assert_perm('host')
        verify_name(hostname)
        verify_name(hostname, USER_NAME_RE)
        arches = parse_arches(' '.join(arches), strict=True)
        if self.state.find_host(hostname):
            raise koji.GenericError('host already exists: %s' % hostname)
        default = self.state.find_channel('default')
        if default is None:
            raise koji.GenericError('No default channel')
        user = self.state.find_user(hostname)
        if user and user['usertype'] != koji.USERTYPES['HOST']:
            if not (force and user['usertype'] == koji.USERTYPES['NORMAL']):
                raise koji.GenericError('user %s already exists and it is not a host'
                                        % hostname)
        self._write()
        if user:
            user['usertype'] = koji.USERTYPES['HOST']
            uid = user['id']
        else:
            uid = self.state.add_user(hostname, usertype=koji.USERTYPES['HOST'],
                                      krb_principal=krb_principal)
        hid = self.state._next_id('host')
        self.state.hosts[hid] = {'id': hid, 'user_id': uid, 'name': hostname,
                                 'update_ts': None, 'ready': False, 'task_load': 0.0,
                                 'arches': arches, 'capacity': 2.0, 'description': None,
                                 'comment': None, 'enabled': True}
        self.state.host_channels[hid] = set([default['id']])
        return hid

    def editHost(self, hostInfo, **kw):
        self._assert_perm('host')
        host = self._host(hostInfo)
        changes = [f for f in ('arches', 'capacity', 'description', 'comment')
                   if f in kw and kw[f] != host[f]]
        if not changes:
            return False
        for field in changes:
            if field in ('description', 'comment', 'arches') and not isinstance(kw[field], str):
                raise koji.ParameterError('Invalid type for value %r' % (kw[field],))
        if 'capacity' in changes and float(kw['capacity']) <= 1:
            raise koji.GenericError('new row for relation "host_config" violates check '
                                    'constraint "host_config_capacity_check"')
        self._write()
        for field in changes:
            host[field] = float(kw[field]) if field == 'capacity' else kw[field]
        return True

    def _set_host_enabled(self, hostname, enabled):
        self._assert_perm('host')
        host = self.state.find_host(hostname)
        if not host:
            raise koji.GenericError('host does not exist: %s' % hostname)
        self._write()
        host['enabled'] = enabled

    def enableHost(self, hostname):
        self._set_host_enabled(hostname, True)

    def disableHost(self, hostname):
        self._set_host_enabled(hostname, False)

    def addHostToChannel(self, hostname, channel_name, create=False, force=False):
        self._assert_perm('host')
        host = self.state.find_host(hostname)
        if host is None:
            raise koji.GenericError('host does not exist: %s' % hostname)
        if create:
            verify_name(channel_name)
        channel = self.state.find_channel(channel_name)
        if channel is None and not create:
            raise koji.GenericError('channel does not exist: %s' % channel_name)
        if channel is not None:
            if not force and not channel['enabled']:
                raise koji.GenericError('channel %s is disabled' % channel_name)
            if channel['id'] in self.state.host_channels[host['id']]:
                raise koji.GenericError('host %s is already subscribed to the %s channel'
                                        % (hostname, channel_name))
            cid = channel['id']
        else:
            cid = self.state.add_channel(channel_name)
        self._write()
        self.state.host_channels[host['id']].add(cid)

    def removeHostFromChannel(self, hostname, channel_name):
        self._assert_perm('host')
        host = self.state.find_host(hostname)
        if host is None:
            raise koji.GenericError('host does not exist: %s' % hostname)
        channel = self.state.find_channel(channel_name)
        if channel is None:
            raise koji.GenericError('channel does not exist: %s' % channel_name)
        if channel['id'] not in self.state.host_channels[host['id']]:
            raise koji.GenericError('host %s is not subscribed to the %s channel'
                                    % (hostname, channel_name))
        self._write()
        self.state.host_channels[host['id']].discard(channel['id'])

    # ---- users and permissions ---------------------------------------------------------
    def getUser(self, userInfo=None, strict=False, krb_princs=True, groups=False):
        if userInfo is None:
            userInfo = self.ctx.user_id
            if userInfo is None:
                raise koji.GenericError('No user provided')
        user = self.state.find_user(userInfo)
        if user is None:
            if strict:
                raise koji.GenericError('No such user: %r' % (userInfo,))
            return None
        info = {'id': user['id'], 'name': user['name'], 'status': user['status'],
                'usertype': user['usertype']}
        if krb_princs:
            info['krb_principals'] = list(user['krb_principals'])
        if groups:
            info['groups'] = []
        return info

    def listUsers(self, userType=0, prefix=None, queryOpts=None, perm=None,
                  inherited_perm=False):
        users = [self.state.users[uid] for uid in sorted(self.state.users)
                 if self.state.users[uid]['usertype'] == userType]
        if prefix:
            users = [u for u in users if u['name'].startswith(prefix)]
        if perm:
            p = self.state.find_perm(perm)
            if not p:
                raise koji.GenericError('No such permission: %s' % perm)
            users = [u for u in users if p['id'] in self.state.user_perms.get(u['id'], ())]
        return apply_query_opts([self.getUser(u['id']) for u in users], queryOpts)

    def createUser(self, username, status=None, krb_principal=None):
        self._assert_perm('admin')
        verify_name(username, USER_NAME_RE)
        if self.state.find_user(username):
            raise koji.GenericError('user already exists: %s' % username)
        if krb_principal and self.state.find_user(krb_principal):
            raise koji.GenericError('user with this Kerberos principal already exists: %s'
                                    % krb_principal)
        if status is None:
            status = koji.USER_STATUS['NORMAL']
        if koji.USER_STATUS.get(status) is None:
            raise koji.GenericError('Invalid status: %s' % status)
        self._touch()
        return self.state.add_user(username, status=status, krb_principal=krb_principal)

    def _set_user_status(self, username, status):
        user = self.state.find_user(username)
        if not user:
            raise koji.GenericError('No such user: %s' % username)
        self._assert_perm('admin')
        if user['status'] != status:
            self._touch()
            user['status'] = status

    def enableUser(self, username):
        self._set_user_status(username, koji.USER_STATUS['NORMAL'])

    def disableUser(self, username):
        self._set_user_status(username, koji.USER_STATUS['BLOCKED'])

    def getUserPerms(self, userID=None, with_groups=True):
        user = self.getUser(userID, strict=True)
        return sorted(self.state.perms[p]['name']
                      for p in self.state.user_perms.get(user['id'], ()))

    def grantPermission(self, userinfo, permission, create=False, description=None):
        self._assert_perm('admin')
        if create:
            verify_name(permission)
        if description is not None and not create:
            raise koji.GenericError('Description should be specified only with create.')
        user = self._user(userinfo)
        perm = self.state.find_perm(permission)
        if perm is None and not create:
            raise koji.GenericError('No such permission: %s' % permission)
        if perm and perm['id'] in self.state.user_perms.setdefault(user['id'], set()):
            raise koji.GenericError('user %s already has permission: %s'
                                    % (userinfo, perm['name']))
        pid = perm['id'] if perm else self.state.ensure_perm(permission, description)
        self._write()
        self.state.user_perms[user['id']].add(pid)

    def revokePermission(self, userinfo, permission):
        self._assert_perm('admin')
        user = self._user(userinfo)
        perm = self.state.find_perm(permission)
        if perm is None:
            raise koji.GenericError('No such permission: %s' % permission)
        if perm['id'] not in self.state.user_perms.get(user['id'], set()):
            raise koji.GenericError('user %s does not have permission: %s'
                                    % (userinfo, perm['name']))
        self._write()
        self.state.user_perms[user['id']].discard(perm['id'])


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
