"""Package listings of tags: listPackages, packageListAdd, block, unblock, remove, owners.

A mixin of the fake hub's HubAPI (api.py)."""

import re

import koji

from .api_common import apply_query_opts, parse_arches


class PackageCalls(object):

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
