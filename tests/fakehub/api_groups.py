"""Comps groups of tags and their packages.

A mixin of the fake hub's HubAPI (api.py)."""

import koji

from .api_common import GROUP_FIELDS


class GroupCalls(object):

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

    def groupReqListAdd(self, taginfo, grpinfo, reqinfo, block=False, force=False, **opts):
        """A group's requirement of another group (kojihub's grp_req_add), in the tag itself;
        inherited requirements are not followed (only getTagGroups's incl_reqs would need them,
        and the fake answers it with none)."""
        self._assert_perm('tag')
        tag = self._tag(taginfo)
        gid = self.state.find_group_id(grpinfo)
        req_id = self.state.find_group_id(reqinfo)
        if gid is None or req_id is None:
            raise koji.GenericError('No such group: %s' % (grpinfo if gid is None else reqinfo))
        grp = self._tag_groups(tag['id']).get(gid)
        if grp is None:
            raise koji.GenericError('group %s not present in tag %s'
                                    % (self.state.groups[gid], tag['name']))
        if grp['blocked']:
            raise koji.GenericError('group %s is blocked in tag %s'
                                    % (self.state.groups[gid], tag['name']))
        entry = {'blocked': bool(block), 'type': opts.get('type', 'mandatory'),
                 'is_metapkg': bool(opts.get('is_metapkg', False))}
        reqs = self.state.group_reqs.setdefault(tag['id'], {}).setdefault(gid, {})
        if reqs.get(req_id) == entry and not force:
            return None
        self._write()
        reqs[req_id] = entry
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
