"""Tags and their inheritance: getTag, listTags, createTag, editTag2, deleteTag,
getInheritanceData, setInheritanceData, getFullInheritance.

A mixin of the fake hub's HubAPI (api.py)."""

import copy
import re

import koji

from .api_common import apply_query_opts, parse_arches, verify_name


class TagCalls(object):

    # ---- tags -------------------------------------------------------------------------
    def getTag(self, tagInfo, strict=False, event=None, blocked=False):
        tag = self._tag(tagInfo, strict=strict)
        if not tag:
            return None
        info = self.state.tag_info(tag)
        if blocked:
            # the hub's get_tag_extra(blocked=True): key -> (blocked, value); the fake holds no
            # blocked keys (editTag2's block_extra removes the key)
            info['extra'] = dict((key, (False, value)) for key, value in info['extra'].items())
        return info

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
                      self.state.tag_groups, self.state.group_packages, self.state.group_reqs):
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
