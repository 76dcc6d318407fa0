# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading a whole hub into the declarations the object modules take (koji_export).

Everything is read anonymously in two rounds of multicall batches: the listings of every
kind (tags, targets, external repos, channels, hosts, users, permissions, every tag's
external repos, and the hub's active inheritance and comps group rows with one
``queryHistory`` each), then what is read per object (a tag's ``extra``, package listings
per owner or per tag, members of each channel, users of each permission). The declarations
hold only what differs from what the modules do by default, in a stable order, so that two
exports of the same hub are identical.

What a declaration cannot express, or what the modules would not recreate as it is on a new
hub, is kept in the declaration where the modules would otherwise change the hub, and
reported (``unsupported``): blocked tag extra, package extra arches, comps group options, requirements and
blocks, listings that repeat what the tag inherits (Koji stores no listing that changes
nothing, so a new hub may not hold them), user groups, more than one Kerberos principal,
permissions Koji does not create itself, names, arches, URLs and package filters the modules
refuse.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import fnmatch
import re

from ansible_collections.kojiforge.koji.plugins.module_utils.koji_inheritance import (
    full_inheritance_filters, group_rows_by_tag, links_by_tag,
)
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_params import split_arches
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_reads import Reads
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_validation import Validator
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_yaml import dump

# The object kinds, in the order playbooks/config.yml applies them.
KINDS = ('external_repos', 'channels', 'users', 'hosts', 'tags', 'targets')

# The permissions a new hub has (Koji 1.35's schema): others must be created before users or
# tags that name them can be declared.
KOJI_PERMISSIONS = frozenset((
    'admin', 'appliance', 'dist-repo', 'draft-promoter', 'host', 'image', 'image-import',
    'livecd', 'maven-import', 'repo', 'sign', 'tag', 'target', 'win-admin', 'win-import'))

USER_NORMAL, USER_HOST, USER_GROUP = 0, 1, 2  # koji.USERTYPES
USER_BLOCKED = 1  # koji.USER_STATUS
HOST_CAPACITY = 2.0  # what addHost gives a new host
# What groupListAdd and groupPackageListAdd store when given no options (kojihub's
# _grplist_add and _grp_pkg_add); display_name defaults to the group's name.
GROUP_DEFAULTS = (('exported', True), ('is_default', None), ('uservisible', True),
                  ('description', None), ('langonly', None), ('biarchonly', False))
GROUP_PACKAGE_DEFAULTS = (('type', 'mandatory'), ('basearchonly', None), ('requires', None))


def _flatten(rows):
    """listPackages(with_dups=True) by owner: a flat list (older hubs nest a list per package)."""
    flat = []
    for row in rows:
        if isinstance(row, list):
            flat.extend(row)
        else:
            flat.append(row)
    return flat


def _unblocked_extra(extra):
    """getTag(blocked=True)'s extra: key -> (blocked, value); (values, blocked keys)."""
    values, blocked = {}, []
    for key, pair in extra.items():
        if isinstance(pair, (list, tuple)) and len(pair) == 2 and isinstance(pair[0], bool):
            if pair[0]:
                blocked.append(key)
                continue
            pair = pair[1]
        values[key] = pair
    return values, sorted(blocked)


class HubExport:
    """Reads the hub and builds the declarations of the kinds asked for."""

    def __init__(self, conn, kinds, patterns, names):
        self.conn = conn
        self.kinds = [kind for kind in KINDS if kind in kinds]
        self.patterns = list(patterns or [])
        self.names = names
        self.unsupported = []
        self.hub = {}             # the answers of the reads, by what they hold
        self.links = {}           # tag -> its parent links (every tag of the hub)
        self.export_tags = []     # names of the tags exported
        self.listings = {}        # tag -> package -> its own listing row
        self.members = {}         # host -> channels
        self.user_perms = {}      # user -> permissions granted to it directly
        self.group_configs = {}   # tag -> its own comps group rows
        self.group_packages = {}  # tag -> its own comps group package rows
        self.group_reqs = {}      # tag -> its own comps group requirement rows
        self._ancestor_cache = {}
        self._regex = {}

    # ---- selection and reports ------------------------------------------------------------
    def selected(self, name):
        return not self.patterns or any(fnmatch.fnmatchcase(name, pattern)
                                        for pattern in self.patterns)

    def report(self, kind, name, problem):
        self.unsupported.append({'type': kind, 'name': name, 'problem': problem})

    def check_names(self, kind, name):
        """What the modules' name rules (the name_pattern options) refuse, as reports."""
        v = Validator()
        self.names.check(v, kind, [name])
        for error in v.errors:
            self.report(kind.replace(' ', '_'), name, 'the modules refuse it: %s' % error)

    def check_arches(self, kind, name, where, arches):
        v = Validator()
        v.arches(where, arches)
        for error in v.errors:
            self.report(kind, name, 'the modules refuse it: %s' % error)

    # ---- reading ----------------------------------------------------------------------------
    def read(self):
        kinds = set(self.kinds)
        need_users = bool(kinds & set(('users', 'hosts', 'tags')))
        reads = Reads()
        store = self.hub.__setitem__
        reads.add(('getLastEvent', [], {}), store, 'event')
        if kinds & set(('tags', 'targets')):
            reads.add(('listTags', [], {}), store, 'tags')
        if 'targets' in kinds:
            reads.add(('getBuildTargets', [], {}), store, 'targets')
        if 'external_repos' in kinds:
            reads.add(('listExternalRepos', [], {}), store, 'external_repos')
        if kinds & set(('channels', 'hosts')):
            reads.add(('listChannels', [], {}), store, 'channels')
        if 'hosts' in kinds:
            reads.add(('listHosts', [], {}), store, 'hosts')
        if need_users:
            reads.add_group([('listUsers', [], {'userType': usertype})
                             for usertype in (USER_NORMAL, USER_HOST, USER_GROUP)], store, 'users')
        if 'users' in kinds:
            reads.add(('getAllPerms', [], {}), store, 'perms')
        if 'tags' in kinds:
            reads.add(('getTagExternalRepos', [], {}), store, 'tag_repos')
            reads.add(('queryHistory', [], {'tables': ['tag_inheritance'], 'active': True}),
                      store, 'inheritance')
            reads.add(('queryHistory', [], {'tables': ['group_config', 'group_package_listing',
                                                       'group_req_listing'],
                                            'active': True}), store, 'groups')
        reads.run(self.conn)

        if 'tags' in kinds:
            self.links = links_by_tag(self.hub['inheritance']['tag_inheritance'])
            self.export_tags = sorted(tag['name'] for tag in self.hub['tags']
                                      if self.selected(tag['name']))
        reads.add_group([('getTag', [name], {'blocked': True}) for name in self.export_tags],
                        store, 'tag_info')
        if 'tags' in kinds:
            self._add_listing_reads(reads)
        if 'hosts' in kinds:
            channels = sorted(channel['name'] for channel in self.hub['channels'])
            reads.add_group([('listHosts', [], {'channelID': name}) for name in channels],
                            self._take_members, channels)
        if 'users' in kinds:
            perms = sorted(perm['name'] for perm in self.hub['perms'])
            reads.add_group([('listUsers', [], {'userType': USER_NORMAL, 'perm': perm})
                             for perm in perms], self._take_perm_users, perms)
        reads.run(self.conn)
        self.hub['last_event'] = self.conn.call('getLastEvent')

    def _add_listing_reads(self, reads):
        """Package listings: one listPackages per user of the hub (every type, so that a
        listing owned by anyone is seen) when that is fewer calls than one per tag that
        matters (the exported tags and their ancestors, whose listings tell what a tag
        inherits)."""
        wanted = set(self.export_tags)
        for name in self.export_tags:
            wanted.update(ancestor for ancestor, _filters in self._ancestors(name))
        users = [user for listed in self.hub['users'] for user in listed]
        ids = dict((tag['name'], tag['id']) for tag in self.hub['tags'])
        if len(users) <= len(wanted):
            calls = [('listPackages', [], {'userID': user['id'], 'with_dups': True,
                                           'with_owners': True, 'with_blocked': True})
                     for user in sorted(users, key=lambda user: user['id'])]
        else:
            calls = [('listPackages', [], {'tagID': ids[name], 'inherited': False,
                                           'with_owners': True, 'with_blocked': True})
                     for name in sorted(wanted) if name in ids]
        reads.add_group(calls, self._take_listings)

    def _take_listings(self, answers):
        for answer in answers:
            for row in _flatten(answer):
                self.listings.setdefault(row['tag_name'], {})[row['package_name']] = row

    def _take_members(self, channels, answers):
        for channel, hosts in zip(channels, answers):
            for host in hosts:
                self.members.setdefault(host['name'], []).append(channel)

    def _take_perm_users(self, perms, answers):
        for perm, users in zip(perms, answers):
            for user in users:
                self.user_perms.setdefault(user['name'], []).append(perm)

    def _ancestors(self, name):
        """[(ancestor, package filters of the path)] in the hub's order, once per tag."""
        if name not in self._ancestor_cache:
            self._ancestor_cache[name] = full_inheritance_filters(name, self.links)
        return self._ancestor_cache[name]

    # ---- the declarations --------------------------------------------------------------------
    def run(self):
        self.read()
        builders = {'external_repos': self.external_repos, 'channels': self.channels,
                    'users': self.users, 'hosts': self.hosts, 'tags': self.tags,
                    'targets': self.targets}
        declarations = dict((kind, builders[kind]()) for kind in self.kinds)
        order = dict((kind, index) for index, kind in enumerate(KINDS))
        self.unsupported.sort(key=lambda item: (order.get(item['type'] + 's', 9), item['name']))
        return declarations

    def _custom_perm(self, kind, name, perm, what):
        if perm not in KOJI_PERMISSIONS:
            self.report(kind, name, '%s %s is not one of the permissions Koji creates: create it '
                        'on a new hub before applying (koji grant-permission --new)' % (what, perm))

    def external_repos(self):
        result = []
        for repo in sorted(self.hub['external_repos'], key=lambda repo: repo['name']):
            if not self.selected(repo['name']):
                continue
            self.check_names('external repo', repo['name'])
            v = Validator()
            v.url('url', repo['url'])
            for error in v.errors:
                self.report('external_repo', repo['name'], 'the modules refuse it: %s' % error)
            result.append({'name': repo['name'], 'url': repo['url']})
        return result

    def channels(self):
        result = []
        for channel in sorted(self.hub['channels'], key=lambda channel: channel['name']):
            if not self.selected(channel['name']):
                continue
            self.check_names('channel', channel['name'])
            entry = {'name': channel['name']}
            for key in ('description', 'comment'):
                if channel.get(key):
                    entry[key] = channel[key]
            if channel.get('enabled') is False:
                entry['enabled'] = False
            result.append(entry)
        return result

    def _principal(self, kind, user, entry):
        principals = sorted(principal for principal in user.get('krb_principals') or [] if principal)
        if principals:
            entry['krb_principal'] = principals[0]
        if len(principals) > 1:
            self.report(kind, user['name'], 'Kerberos principals %s are not declared: the '
                        'modules give a new %s one principal (%s)'
                        % (', '.join(principals[1:]), kind, principals[0]))

    def users(self):
        normal, _hosts, groups = self.hub['users']
        result = []
        for group in sorted(groups, key=lambda group: group['name']):
            if self.selected(group['name']):
                self.report('user', group['name'], 'a user group: the modules cannot declare '
                            'groups or their members (permissions given through a group are '
                            'not exported either)')
        for user in sorted(normal, key=lambda user: user['name']):
            if not self.selected(user['name']):
                continue
            self.check_names('user', user['name'])
            entry = {'name': user['name']}
            if user['status'] == USER_BLOCKED:
                entry['state'] = 'disabled'
            perms = sorted(self.user_perms.get(user['name'], []))
            if perms:
                entry['permissions'] = perms
            for perm in perms:
                self._custom_perm('user', user['name'], perm, 'permission')
            self._principal('user', user, entry)
            result.append(entry)
        return result

    def hosts(self):
        host_users = dict((user['name'], user) for user in self.hub['users'][USER_HOST])
        result = []
        for host in sorted(self.hub['hosts'], key=lambda host: host['name']):
            if not self.selected(host['name']):
                continue
            name = host['name']
            self.check_names('host', name)
            arches = split_arches(host['arches']) or []
            self.check_arches('host', name, 'host %s' % name, arches)
            entry = {'name': name, 'arches': arches}
            if float(host['capacity']) != HOST_CAPACITY:
                entry['capacity'] = float(host['capacity'])
            for key in ('description', 'comment'):
                if host.get(key):
                    entry[key] = host[key]
            if not host['enabled']:
                entry['enabled'] = False
            channels = sorted(self.members.get(name, []))
            if channels != ['default']:
                entry['channels'] = channels
            if name in host_users:
                self._principal('host', host_users[name], entry)
            result.append(entry)
        return result

    def targets(self):
        result = []
        for target in sorted(self.hub['targets'], key=lambda target: target['name']):
            if not self.selected(target['name']):
                continue
            self.check_names('target', target['name'])
            result.append({'name': target['name'], 'build_tag': target['build_tag_name'],
                           'dest_tag': target['dest_tag_name']})
        return result

    # ---- tags ----------------------------------------------------------------------------------
    def tags(self):
        rows = dict((tag['name'], tag) for tag in self.hub['tags'])
        infos = dict(zip(self.export_tags, self.hub['tag_info']))
        repos = {}
        for link in self.hub['tag_repos']:
            repos.setdefault(link['tag_name'], []).append(link)
        self.group_configs, self.group_packages = group_rows_by_tag(self.hub['groups'])
        for row in self.hub['groups'].get('group_req_listing', ()):
            self.group_reqs.setdefault(row['tag.name'], []).append(row)
        result = []
        for name in self.export_tags:
            tag = rows[name]
            entry = {'name': name}
            self.check_names('tag', name)
            arches = split_arches(tag['arches']) or []
            if arches:
                self.check_arches('tag', name, 'tag %s' % name, arches)
                entry['arches'] = arches
            if tag.get('perm'):
                entry['perm'] = tag['perm']
                self._custom_perm('tag', name, tag['perm'], 'its perm')
            for key in ('locked', 'maven_support', 'maven_include_all'):
                if tag.get(key):
                    entry[key] = True
            extra, blocked = _unblocked_extra((infos.get(name) or {}).get('extra') or {})
            if extra:
                entry['extra'] = dict(sorted(extra.items()))
            for key in blocked:
                self.report('tag', name, 'extra %s is blocked (not inherited): the modules '
                            'cannot declare a blocked key' % key)
            links = self._inheritance(name)
            if links:
                entry['inheritance'] = links
            tag_repos = self._external_repos(name, repos.get(name, []))
            if tag_repos:
                entry['external_repos'] = tag_repos
            packages, blocked_packages = self._packages(name)
            if packages:
                entry['packages'] = packages
            if blocked_packages:
                entry['blocked_packages'] = blocked_packages
            groups = self._groups(name)
            if groups:
                entry['groups'] = groups
            result.append(entry)
        return result

    def _inheritance(self, name):
        result = []
        for link in self.links.get(name, []):
            rule = {'parent': link['name'], 'priority': link['priority']}
            if link['maxdepth'] is not None:
                rule['maxdepth'] = link['maxdepth']
            for key in ('intransitive', 'noconfig'):
                if link[key]:
                    rule[key] = True
            if link['pkg_filter']:
                rule['pkg_filter'] = link['pkg_filter']
                v = Validator()
                v.regex('pkg_filter of the link to parent %s' % link['name'], link['pkg_filter'])
                for error in v.errors:
                    self.report('tag', name, 'the modules refuse it: %s' % error)
            result.append(rule)
        return result

    def _external_repos(self, name, links):
        result = []
        for link in sorted(links, key=lambda link: link['priority']):
            entry = {'repo': link['external_repo_name'], 'priority': link['priority']}
            if link.get('merge_mode') and link['merge_mode'] != 'koji':
                entry['merge_mode'] = link['merge_mode']
            arches = split_arches(link.get('arches'))
            if arches:
                self.check_arches('tag', name, 'tag %s external repo %s'
                                  % (name, link['external_repo_name']), arches)
                entry['arches'] = arches
            result.append(entry)
        return result

    def _matches(self, filters, package):
        for pattern in filters:
            if pattern not in self._regex:
                try:
                    self._regex[pattern] = re.compile(pattern)
                except re.error:
                    self._regex[pattern] = None
            regex = self._regex[pattern]
            if regex is None or regex.match(package) is None:
                return False
        return True

    def _inherited_entry(self, name, package):
        """The entry the tag would see for a package without its own: the nearest
        ancestor's, through the links' package filters (kojihub's readPackageList)."""
        for ancestor, filters in self._ancestors(name):
            row = self.listings.get(ancestor, {}).get(package)
            if row is not None and self._matches(filters, package):
                return ancestor, row
        return None, None

    def _packages(self, name):
        owners = {}
        blocked = []
        for package, row in sorted(self.listings.get(name, {}).items()):
            if row.get('extra_arches'):
                self.report('tag', name, 'package %s has extra arches %s: the modules cannot '
                            'declare them' % (package, row['extra_arches']))
            above, inherited = self._inherited_entry(name, package)
            if row['blocked']:
                blocked.append(package)
                if inherited is None:
                    self.report('tag', name, 'package %s is blocked but not listed in the tag\'s '
                                'parents: Koji refuses such a block on a new hub' % package)
                elif inherited['blocked']:
                    self.report('tag', name, 'package %s is blocked here and in %s above: a new '
                                'hub may not store this block (Koji stores none that changes '
                                'nothing)' % (package, above))
                continue
            owners.setdefault(row['owner_name'], []).append(package)
            if (inherited is not None and not inherited['blocked']
                    and inherited.get('extra_arches') == row.get('extra_arches')):
                self.report('tag', name, 'package %s is listed here and inherited from %s: a new '
                            'hub may not store this listing (Koji stores none that changes '
                            'nothing, whatever its owner)' % (package, above))
        return dict(sorted(owners.items())), blocked

    def _nearest_group_row(self, name, rows_by_tag, match):
        for ancestor, _filters in self._ancestors(name):
            for row in rows_by_tag.get(ancestor, ()):
                if match(row):
                    return ancestor, row
        return None, None

    def _groups(self, name):
        groups = {}
        own_rows = dict((row['group.name'], row) for row in self.group_configs.get(name, ()))
        for group, row in sorted(own_rows.items()):
            if row['blocked']:
                self.report('tag', name, 'comps group %s is blocked: the modules cannot declare '
                            'a blocked group' % group)
                continue
            groups[group] = []
            options = ['%s=%r' % (key, row.get(key)) for key, default in GROUP_DEFAULTS
                       if row.get(key) != default]
            if row.get('display_name') not in (None, group):
                options.insert(0, 'display_name=%r' % row['display_name'])
            if options:
                self.report('tag', name, 'comps group %s has options the modules cannot declare '
                            '(%s)' % (group, ', '.join(options)))
        for row in sorted(self.group_packages.get(name, ()),
                          key=lambda row: (row['group.name'], row['package'])):
            group, package = row['group.name'], row['package']
            if group in own_rows and own_rows[group]['blocked']:
                self.report('tag', name, 'package %s of comps group %s: the group is blocked in '
                            'the tag' % (package, group))
                continue
            if row['blocked']:
                self.report('tag', name, 'package %s is blocked in comps group %s: the modules '
                            'cannot declare a blocked group package' % (package, group))
                continue
            groups.setdefault(group, []).append(package)
            options = ['%s=%r' % (key, row.get(key)) for key, default in GROUP_PACKAGE_DEFAULTS
                       if row.get(key) != default]
            if options:
                self.report('tag', name, 'package %s of comps group %s has options the modules '
                            'cannot declare (%s)' % (package, group, ', '.join(options)))
            above, inherited = self._nearest_group_row(
                name, self.group_packages,
                lambda other: other['group.name'] == group and other['package'] == package)
            if inherited is not None:
                self.report('tag', name, 'package %s of comps group %s is %s %s above: a new hub '
                            'may not store it here' % (package, group, 'blocked in' if
                                                       inherited['blocked'] else 'listed in',
                                                       above))
        for row in sorted(self.group_reqs.get(name, ()),
                          key=lambda row: (row['group.name'], row['req.name'])):
            self.report('tag', name, 'comps group %s %s group %s: the modules cannot declare '
                        'group requirements' % (row['group.name'], 'blocks the requirement of'
                                                if row['blocked'] else 'requires', row['req.name']))
        for group in sorted(own_rows):
            if group not in groups:
                continue
            above, inherited = self._nearest_group_row(
                name, self.group_configs, lambda other: other['group.name'] == group)
            if inherited is None:
                continue
            if inherited['blocked']:
                self.report('tag', name, 'comps group %s is blocked in %s above: the modules add '
                            'it without force on a new hub, which the hub refuses' % (group, above))
            elif not groups[group]:
                self.report('tag', name, 'comps group %s is the tag\'s own and inherited from %s: '
                            'a new hub may not store it here (Koji stores none that changes '
                            'nothing)' % (group, above))
        return dict(sorted(groups.items()))


FILE_HEADER = (
    '# Exported from Koji by kojiforge.koji.koji_export (playbooks/export.yml): one object per\n'
    "# entry, with only what differs from the modules' defaults. Apply with playbooks/config.yml\n"
    "# (koji_<list>_src) or the module's src option.\n")


def as_files(declarations, unsupported):
    """The YAML files playbooks/export.yml writes: <kind>.yml holding {koji_<kind>: list}, and
    unsupported.yml."""
    files = dict(('%s.yml' % kind, dump({'koji_%s' % kind: items}, FILE_HEADER))
                 for kind, items in declarations.items())
    files['unsupported.yml'] = dump({'koji_export_unsupported': unsupported}, FILE_HEADER)
    return files


def export_hub(conn, kinds, patterns, names):
    """Read the hub; returns (declarations by kind, unsupported, event at start, event at end)."""
    export = HubExport(conn, kinds, patterns, names)
    declarations = export.run()
    return declarations, export.unsupported, export.hub['event'], export.hub['last_event']
