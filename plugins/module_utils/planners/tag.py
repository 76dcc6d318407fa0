# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading, validating and planning Koji tags (used by the koji_tag module)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kojiforge.koji.plugins.module_utils.koji_names import NameRules
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_params import (
    same_arches, split_arches,
)
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_plan import Plan
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_reads import (
    BULK_MIN_NAMES, BULK_RATIO, Reads, lookup_by_name,
)
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_validation import Validator
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_inheritance import (
    full_inheritance, group_rows_by_tag, links_by_tag, tag_groups,
)

# phases of a tag plan: tags exist before inheritance links them, links before
# package listings (so inherited entries are seen), deletions last
PHASE_TAG = 10
PHASE_INHERITANCE = 20
PHASE_REPOS = 30
PHASE_PACKAGES = 40
# a tag's own listing of a package that a parent starts blocking in the same run: after the
# block, so that the hub sees the block and stores the listing (see _blocked_above)
PHASE_PACKAGES_UNDER_BLOCKS = 45
PHASE_GROUPS = 50
PHASE_DELETE = 90

TAG_ATTRS = ('arches', 'perm', 'locked', 'maven_support', 'maven_include_all')
USER_TYPES = (0, 1, 2)  # koji.USERTYPES: NORMAL, HOST, GROUP (listUsers takes one at a time)
MAX_ANCESTOR_ROUNDS = 20


def _rule_key(rule):
    return (rule['priority'], rule['maxdepth'], bool(rule['intransitive']),
            bool(rule['noconfig']), rule['pkg_filter'] or '')


def _normalize_rules(rules):
    result = []
    for rule in rules or []:
        result.append({'parent': rule['parent'], 'priority': rule['priority'],
                       'maxdepth': rule.get('maxdepth'),
                       'intransitive': bool(rule.get('intransitive')),
                       'noconfig': bool(rule.get('noconfig')),
                       'pkg_filter': rule.get('pkg_filter') or ''})
    return sorted(result, key=lambda r: r['priority'])


def _current_rules(data):
    return sorted([{'parent': link['name'], 'priority': link['priority'],
                    'maxdepth': link['maxdepth'], 'intransitive': bool(link['intransitive']),
                    'noconfig': bool(link['noconfig']), 'pkg_filter': link['pkg_filter'] or ''}
                   for link in data], key=lambda r: r['priority'])


def _arch_string(arches):
    return ' '.join(arches) if arches else ''


def _check_repo_extra(v, where, extra):
    """The repo settings Koji 1.35's hub reads from a tag's extra, which it would take silently
    in another type: any non-empty value of repo.auto (the string 'false' too) turns automatic
    regeneration on, and a repo.lag that is not an integer is ignored."""
    if 'repo.auto' in extra and not isinstance(extra['repo.auto'], bool):
        v.error('%s: extra repo.auto must be true or false, not %r', where, extra['repo.auto'])
    lag = extra.get('repo.lag')
    if 'repo.lag' in extra and (isinstance(lag, bool) or not isinstance(lag, int)):
        v.error('%s: extra repo.lag must be a whole number of seconds, not %r', where, lag)


class TagPlanner:

    def __init__(self, conn, tags, names, check_mode=False):
        self.conn = conn
        self.tags = tags
        self.names = names
        self.check_mode = check_mode
        self.v = Validator()
        self.plan = Plan()
        self.info = {}          # name -> getTag() of existing tags read
        self.ids = {}           # name -> id (existing, and created during execution)
        self.inheritance = {}   # name -> getInheritanceData() of existing tags read
        self.bulk_links = False  # whether self.inheritance holds every tag of the hub
        self.listing_owners = []  # user ids whose listings are read (instead of per tag)
        self.repos = {}         # external repo name -> info
        self.tag_repos = {}
        self.listings = {}
        self.groups = {}
        self.owners = {}
        self.perms = None
        self.dependents = {}    # tag to delete -> (links of its children, targets using it)

    # ---- step 1: validate what can be validated without the hub --------------------------
    def check_request(self):
        v = self.v
        names = [tag['name'] for tag in self.tags]
        v.unique('tags', names, 'tag')
        self.names.check(v, 'tag', names)
        self.declared = dict((tag['name'], tag) for tag in self.tags)
        self.present = set(t['name'] for t in self.tags if t.get('state', 'present') == 'present')
        self.absent = set(names) - self.present
        for tag in self.tags:
            where = 'tag %s' % tag['name']
            if tag['name'] in self.absent:
                continue
            if tag.get('arches') is not None:
                tag['arches'] = v.arches(where, split_arches(tag['arches']))
            rules = tag.get('inheritance')
            if rules is not None:
                v.unique(where + ' inheritance', [r['parent'] for r in rules], 'parent')
                v.unique(where + ' inheritance', [r['priority'] for r in rules], 'priority')
                for rule in rules:
                    if rule['parent'] == tag['name']:
                        v.error('%s: a tag cannot inherit from itself', where)
                    if rule['priority'] < 0:
                        v.error('%s: inheritance priority %s is negative', where,
                                rule['priority'])
                    if rule.get('maxdepth') is not None and rule['maxdepth'] < 0:
                        v.error('%s: maxdepth %s of parent %s is negative', where,
                                rule['maxdepth'], rule['parent'])
                    if rule.get('pkg_filter'):
                        # the hub stores any string and fails every read through the link
                        v.regex('%s: pkg_filter of the link to parent %s' % (where, rule['parent']),
                                rule['pkg_filter'])
                    if rule['parent'] in self.absent:
                        v.error('%s: parent %s is declared absent in the same request',
                                where, rule['parent'])
            repos = tag.get('external_repos')
            if repos is not None:
                v.unique(where + ' external_repos', [r['repo'] for r in repos], 'repo')
                v.unique(where + ' external_repos', [r['priority'] for r in repos],
                         'priority')
                for repo in repos:
                    if repo.get('arches') is not None:
                        repo['arches'] = v.arches('%s external repo %s' % (where, repo['repo']),
                                                  split_arches(repo['arches']))
            packages = tag.get('packages')
            if packages is not None:
                if not isinstance(packages, dict):
                    v.error('%s: packages must be a dict of owner: [package, ...]', where)
                    tag['packages'] = packages = {}
                wanted = {}
                for owner, pkgs in packages.items():
                    if isinstance(pkgs, str):
                        pkgs = [pkgs]
                    for pkg in pkgs or []:
                        if pkg in wanted and wanted[pkg] != owner:
                            v.error('%s: package %s has two owners (%s, %s)', where, pkg,
                                    wanted[pkg], owner)
                        wanted[pkg] = owner
                tag['_packages'] = wanted
            blocked = tag.get('blocked_packages')
            if blocked is not None and tag.get('_packages'):
                for pkg in sorted(set(blocked) & set(tag['_packages'])):
                    v.error('%s: package %s is both listed and blocked', where, pkg)
            groups = tag.get('groups')
            if groups is not None:
                if not isinstance(groups, dict):
                    v.error('%s: groups must be a dict of group: [package, ...]', where)
                    tag['groups'] = {}
                else:
                    tag['groups'] = dict((name, list(pkgs or []))
                                         for name, pkgs in groups.items())
            if tag.get('extra') is not None and not isinstance(tag['extra'], dict):
                v.error('%s: extra must be a dict', where)
            elif tag.get('extra'):
                _check_repo_extra(v, where, tag['extra'])

    # ---- step 2: read ----------------------------------------------------------------------
    def read(self):
        referenced = set()
        repo_names = set()
        owners = set()
        need_perms = False
        for tag in self.tags:
            if tag['name'] in self.absent:
                continue
            for rule in tag.get('inheritance') or []:
                referenced.add(rule['parent'])
            for repo in tag.get('external_repos') or []:
                repo_names.add(repo['repo'])
            owners.update((tag.get('_packages') or {}).values())
            if tag.get('perm'):
                need_perms = True
        tag_names = sorted(set(self.declared) | referenced)
        found = lookup_by_name(self.conn, tag_names, 'getTag', 'listTags')
        self.bulk = any(info is not None and 'extra' not in info for info in found.values())
        # many package listings to read: perhaps in fewer calls, by owner (_owner_listing_call)
        listing_tags = [name for name in sorted(self.present) if found.get(name) is not None
                        and _declares_listing(self.declared[name])]

        reads = Reads()
        # a listing has no extra: read it where the declaration sets extra
        for name in sorted(self.present):
            if (self.declared[name].get('extra') is not None
                    and found.get(name) is not None and 'extra' not in found[name]):
                reads.add(('getTag', [name], {}), _store_found, found, name)
        for name in sorted(repo_names):
            reads.add(('getExternalRepo', [name], {}), _store_found, self.repos, name)
        for name in sorted(owners):
            reads.add(('getUser', [name], {}), _store_found, self.owners, name)
        if need_perms:
            reads.add(('getAllPerms', [], {}), self._take_perms)
        if self.bulk and len(listing_tags) >= BULK_MIN_NAMES:
            reads.add_group([('listUsers', [], {'userType': usertype}) for usertype in USER_TYPES],
                            self._take_users, listing_tags)
        reads.run(self.conn)
        for name in tag_names:
            if found[name]:
                self.info[name] = found[name]
                self.ids[name] = found[name]['id']

        existing = [name for name in sorted(self.present) if name in self.info]
        # with many tags read from a listing, their external repos come from one listing too
        repo_tags = [name for name in existing
                     if self.declared[name].get('external_repos') is not None]
        bulk_repos = self.bulk and len(repo_tags) >= BULK_MIN_NAMES
        # the same for the inheritance links, and for the comps groups: the hub's rows of
        # those tables, from which the groups each tag sees (inherited ones too) follow
        self.bulk_links = self.bulk and len(existing) >= BULK_MIN_NAMES
        group_tags = [name for name in existing if self.declared[name].get('groups') is not None]
        bulk_groups = self.bulk_links and len(group_tags) >= BULK_MIN_NAMES
        # parents that are not declared: their inheritance, for cycle detection
        outside = [name for name in sorted(referenced - set(self.declared)) if name in self.info]
        if bulk_repos:
            reads.add(('getTagExternalRepos', [], {}), self._take_all_tag_repos, repo_tags)
        if self.listing_owners:
            reads.add_group([self._owner_listing_call(user_id) for user_id in self.listing_owners],
                            self._take_owner_listings, existing)
        if self.bulk_links:
            reads.add(('queryHistory', [], {'tables': ['tag_inheritance'], 'active': True}),
                      self._take_all_links, existing + outside)
        if bulk_groups:
            # after the links: the groups a tag sees follow its inheritance
            reads.add(('queryHistory', [], {'tables': ['group_config', 'group_package_listing'],
                                            'active': True}),
                      self._take_all_groups, group_tags)
        for name in existing:
            tag = self.declared[name]
            if not self.bulk_links:
                reads.add(('getInheritanceData', [name], {}), self.inheritance.__setitem__, name)
            if tag.get('external_repos') is not None and not bulk_repos:
                reads.add(('getTagExternalRepos', [name], {}), self.tag_repos.__setitem__, name)
            if _declares_listing(tag) and not self.listing_owners:
                reads.add(self._listing_call(name, inherited=False), self.listings.__setitem__,
                          name)
            if tag.get('groups') is not None and not bulk_groups:
                reads.add(self._groups_call(name, inherit=False), self.groups.__setitem__, name)
        if not self.bulk_links:
            for name in outside:
                reads.add(('getInheritanceData', [name], {}), self.inheritance.__setitem__, name)
        for name in sorted(self.absent):
            if name in self.info:
                reads.add_group(self._dependents_calls(self.ids[name]), self._take_dependents,
                                name)
        reads.run(self.conn)
        self._read_inherited()
        self._read_ancestors()

    def _take_perms(self, perms):
        self.perms = set(perm['name'] for perm in perms)

    def _take_users(self, listing_tags, users):
        user_ids = sorted(set(user['id'] for listed in users for user in listed))
        if len(user_ids) * BULK_RATIO <= len(listing_tags):
            self.listing_owners = user_ids

    def _take_all_tag_repos(self, repo_tags, rows):
        links = {}
        for link in rows:
            links.setdefault(link['tag_name'], []).append(link)
        for name in repo_tags:
            self.tag_repos[name] = sorted(links.get(name, []), key=lambda r: r['priority'])

    def _take_owner_listings(self, existing, answers):
        rows = {}
        for answer in answers:
            for row in _flatten(answer):
                rows.setdefault(row['tag_name'], []).append(row)
        for name in existing:
            if _declares_listing(self.declared[name]):
                self.listings[name] = rows.get(name, [])

    def _take_all_links(self, names, history):
        # every tag's links: tags that are absent have no parents
        self.inheritance = links_by_tag(history['tag_inheritance'])
        for name in names:
            self.inheritance.setdefault(name, [])

    def _take_all_groups(self, group_tags, history):
        configs, packages = group_rows_by_tag(history)
        for name in group_tags:
            self.groups[name] = tag_groups(name, full_inheritance(name, self.inheritance),
                                           configs, packages)

    def _take_dependents(self, name, answers):
        history, as_build_tag, as_dest_tag = answers
        tag_id = self.ids[name]
        children = [row for row in history['tag_inheritance'] if row['parent_id'] == tag_id]
        targets = dict((target['id'], target) for target in as_build_tag + as_dest_tag)
        self.dependents[name] = (sorted(children, key=lambda row: row['tag.name']),
                                 sorted(targets.values(), key=lambda t: t['name']))

    @staticmethod
    def _owner_listing_call(user_id):
        """Every listing a user owns, in every tag: when the hub has far fewer users than
        the request has tags with listings, a call per user (all of them, so that listings
        whose owner the declaration does not name are seen too) replaces a call per tag."""
        return ('listPackages', [], {'userID': user_id, 'with_dups': True,
                                     'with_owners': True, 'with_blocked': True})

    @staticmethod
    def _dependents_calls(tag_id):
        """What deleting a tag takes with it on the hub: the links of the tags inheriting
        from it (the active inheritance rows naming it, as child or parent) and the build
        targets using it."""
        return [('queryHistory', [], {'tables': ['tag_inheritance'], 'tag': tag_id,
                                      'active': True}),
                ('getBuildTargets', [], {'buildTagID': tag_id}),
                ('getBuildTargets', [], {'destTagID': tag_id})]

    def _listing_call(self, name, inherited):
        return ('listPackages', [], {'tagID': self.ids[name], 'inherited': inherited,
                                     'with_owners': True, 'with_blocked': True})

    def _groups_call(self, name, inherit):
        return ('getTagGroups', [name], {'inherit': inherit, 'incl_pkgs': True,
                                         'incl_reqs': False, 'incl_blocked': True})

    def _read_inherited(self):
        """Direct listings and groups were read first (small answers); read what the
        tag inherits only for tags where a declared package, block or group is not
        set directly on the tag. A converged site needs no inherited reads."""
        reads = Reads()
        for name, rows in sorted(self.listings.items()):
            tag = self.declared[name]
            direct = dict((row['package_name'], row['blocked']) for row in rows)
            wanted = tag.get('_packages') or {}
            blocked = tag.get('blocked_packages') or []
            if (any(direct.get(pkg) is not False for pkg in wanted)
                    or any(direct.get(pkg) is not True for pkg in blocked)):
                reads.add(self._listing_call(name, inherited=True), self.listings.__setitem__,
                          name)
        for name, groups in sorted(self.groups.items()):
            current = dict((g['name'], set(p['package'] for p in g['packagelist']
                                           if not p['blocked']))
                           for g in groups if not g['blocked'])
            wanted = self.declared[name]['groups']
            if any(group not in current or set(pkgs) - current[group]
                   for group, pkgs in wanted.items()):
                reads.add(self._groups_call(name, inherit=True), self.groups.__setitem__, name)
        reads.run(self.conn)

    def _read_ancestors(self):
        """Follow undeclared ancestors until their inheritance is known (few rounds:
        one per level of undeclared ancestry). Not needed when every tag's links were read."""
        if self.bulk_links:
            return
        for _round in range(MAX_ANCESTOR_ROUNDS):
            missing = set()
            for name, data in self.inheritance.items():
                if name in self.declared and self.declared[name].get('inheritance') is not None:
                    continue
                for link in data:
                    if link['name'] not in self.inheritance and link['name'] not in self.declared:
                        missing.add(link['name'])
            if not missing:
                return
            reads = Reads()
            for name in sorted(missing):
                reads.add(('getInheritanceData', [name], {}), self.inheritance.__setitem__, name)
            reads.run(self.conn)

    # ---- step 3: validate against the hub --------------------------------------------------
    def check_references(self):
        v = self.v
        will_exist = set(self.info) | self.present
        listed_somewhere = set()
        for tag in self.tags:
            listed_somewhere.update(tag.get('_packages') or {})
        for tag in self.tags:
            name = tag['name']
            where = 'tag %s' % name
            if name in self.absent:
                continue
            for rule in tag.get('inheritance') or []:
                if rule['parent'] not in will_exist:
                    v.error('%s: unknown parent tag %s', where, rule['parent'])
            for repo in tag.get('external_repos') or []:
                if repo['repo'] not in self.repos:
                    v.error('%s: unknown external repo %s (declare it with '
                            'kojiforge.koji.koji_external_repo first)', where, repo['repo'])
            for pkg, owner in sorted((tag.get('_packages') or {}).items()):
                if owner not in self.owners:
                    v.error('%s: unknown user %s (owner of package %s)', where, owner, pkg)
            if tag.get('perm') and self.perms is not None and tag['perm'] not in self.perms:
                v.error('%s: unknown permission %s', where, tag['perm'])
            if tag.get('blocked_packages'):
                listing = set(row['package_name'] for row in self.listings.get(name, []))
                for pkg in tag['blocked_packages']:
                    if pkg not in listing and pkg not in listed_somewhere:
                        v.error('%s: cannot block package %s: it is not listed in the tag '
                                'or its parents', where, pkg)
        self._check_cycles()
        self._check_dependents()

    def _dropped_links(self, name):
        """The links to a tag to delete that this run does not remove anyway: those of
        children that are not deleted too nor declared without it."""
        dropped = []
        for row in self.dependents[name][0]:
            child = self.declared.get(row['tag.name'])
            if child is not None and (child['name'] in self.absent or (
                    child.get('inheritance') is not None
                    and name not in [rule['parent'] for rule in child['inheritance']])):
                continue
            dropped.append(row)
        return dropped

    def _check_dependents(self):
        for name, (_links, targets) in sorted(self.dependents.items()):
            if self.declared[name].get('force_delete'):
                continue
            links = self._dropped_links(name)
            found = []
            if links:
                found.append('tags inheriting from it: %s'
                             % ', '.join(row['tag.name'] for row in links))
            if targets:
                found.append('build targets using it: %s'
                             % ', '.join(target['name'] for target in targets))
            if found:
                self.v.error('tag %s: not deleted, other objects depend on it (%s); remove '
                             'them first, or set force_delete to delete it with the hub '
                             'removing those links and targets', name, '; '.join(found))

    def _parents(self, name):
        tag = self.declared.get(name)
        if tag is not None and name in self.absent:
            return []
        if tag is not None and tag.get('inheritance') is not None:
            return [rule['parent'] for rule in tag['inheritance']]
        return [link['name'] for link in self.inheritance.get(name, [])]

    def _check_cycles(self):
        state = {}
        reported = set()

        def visit(name, path):
            state[name] = 1
            path.append(name)
            for parent in self._parents(name):
                if state.get(parent) == 1:
                    cycle = path[path.index(parent):] + [parent]
                    key = frozenset(cycle)
                    if key not in reported:
                        reported.add(key)
                        self.v.error('inheritance cycle: %s', ' -> '.join(cycle))
                elif parent not in state:
                    visit(parent, path)
            path.pop()
            state[name] = 2

        for name in sorted(self.present):
            if name not in state:
                visit(name, [])

    # ---- step 4: plan ----------------------------------------------------------------------
    def build_plan(self):
        self._blocks = self._declared_blocks()
        for name in self._parents_first():
            tag = self.declared[name]
            if name in self.absent:
                if name in self.info:
                    self.plan.object_change('tag', name, 'delete', before=self._before(tag),
                                            after={})
                    self.plan.add(PHASE_DELETE, 'tag', name, 'delete tag', 'deleteTag', name)
                    for row in self._dropped_links(name):
                        self.plan.note('tag', name, 'removes the inheritance link of tag %s '
                                       '(priority %s)' % (row['tag.name'], row['priority']),
                                       action='delete')
                    for target in self.dependents[name][1]:
                        self.plan.note('tag', name, 'deletes build target %s' % target['name'],
                                       action='delete')
                continue
            self._plan_tag(tag)
            self._plan_inheritance(tag)
            self._plan_repos(tag)
            self._plan_packages(tag)
            self._plan_groups(tag)
        return self.plan

    def _declared_blocks(self):
        """Declared tag -> (every package its blocked_packages names, the ones it does not
        block yet): what the tags below it will inherit blocked once this run is done."""
        blocks = {}
        for name, tag in self.declared.items():
            if name in self.absent or not tag.get('blocked_packages'):
                continue
            tag_id = self.ids.get(name)
            done = set(row['package_name'] for row in self.listings.get(name, [])
                       if row['tag_id'] == tag_id and row['blocked'])
            blocks[name] = (set(tag['blocked_packages']), set(tag['blocked_packages']) - done)
        return blocks

    def _blocked_above(self, name, pkg):
        """A declared tag above this one (by the inheritance this run leaves) that blocks the
        package from this run on: one that starts blocking it, or, for a tag this run creates,
        any that declares the block. The hub does not store a listing that changes nothing,
        so a tag that lists the package only by inheritance, or that does not exist yet,
        would lose it to that block: its own listing is written after the block instead
        (PHASE_PACKAGES_UNDER_BLOCKS), with force, which the hub skips when nothing changes.
        Koji's maxdepth and package filters are not followed here: the extra call then just
        changes nothing."""
        if not self._blocks:
            return None
        new_tag = name not in self.info
        seen = set([name])
        todo = list(self._parents(name))
        while todo:
            parent = todo.pop(0)
            if parent in seen:
                continue
            seen.add(parent)
            declared, starting = self._blocks.get(parent, ((), ()))
            if pkg in (declared if new_tag else starting):
                return parent
            todo.extend(self._parents(parent))
        return None

    def _parents_first(self):
        order = []
        seen = set()

        def visit(name):
            if name in seen:
                return
            seen.add(name)
            for parent in self._parents(name):
                if parent in self.declared:
                    visit(parent)
            order.append(name)

        for tag in self.tags:
            visit(tag['name'])
        return order

    def _before(self, tag):
        name = tag['name']
        info = self.info.get(name)
        if info is None:
            return {}
        before = {'arches': sorted(split_arches(info['arches']) or []), 'perm': info['perm'],
                  'locked': info['locked'], 'maven_support': info['maven_support'],
                  'maven_include_all': info['maven_include_all']}
        if 'extra' in info:  # not in a listTags row, read only where extra is declared
            before['extra'] = info['extra']
        if name in self.inheritance:
            before['inheritance'] = _current_rules(self.inheritance[name])
        if name in self.tag_repos:
            before['external_repos'] = [
                {'repo': r['external_repo_name'], 'priority': r['priority'],
                 'merge_mode': r['merge_mode'], 'arches': split_arches(r['arches'])}
                for r in self.tag_repos[name]]
        if name in self.listings:
            direct = [r for r in self.listings[name] if r['tag_id'] == info['id']]
            owners = {}
            for row in direct:
                if not row['blocked']:
                    owners.setdefault(row['owner_name'], []).append(row['package_name'])
            before['packages'] = dict((o, sorted(p)) for o, p in owners.items())
            before['blocked_packages'] = sorted(r['package_name'] for r in direct
                                                if r['blocked'])
        if name in self.groups:
            before['groups'] = dict(
                (g['name'], sorted(p['package'] for p in g['packagelist'] if not p['blocked']))
                for g in self.groups[name] if not g['blocked'])
        return before

    def _after(self, tag, before):
        after = dict(before)
        for key in TAG_ATTRS + ('extra',):
            if tag.get(key) is not None:
                after[key] = sorted(tag[key]) if key == 'arches' else tag[key]
        if tag.get('inheritance') is not None:
            after['inheritance'] = _normalize_rules(tag['inheritance'])
        if tag.get('external_repos') is not None:
            after['external_repos'] = [
                {'repo': r['repo'], 'priority': r['priority'], 'merge_mode': r.get('merge_mode'),
                 'arches': r.get('arches')}
                for r in sorted(tag['external_repos'], key=lambda r: r['priority'])]
        if tag.get('packages') is not None:
            owners = {}
            for pkg, owner in tag['_packages'].items():
                owners.setdefault(owner, []).append(pkg)
            after['packages'] = dict((o, sorted(p)) for o, p in owners.items())
        if tag.get('blocked_packages') is not None:
            after['blocked_packages'] = sorted(tag['blocked_packages'])
        if tag.get('groups') is not None:
            after['groups'] = dict((g, sorted(p)) for g, p in tag['groups'].items())
        return after

    def _plan_tag(self, tag):
        name = tag['name']
        info = self.info.get(name)
        before = self._before(tag)
        after = self._after(tag, before)
        if info is None:
            obj = self.plan.object_change('tag', name, 'create', before={}, after=after)
            kwargs = {}
            if tag.get('arches') is not None:
                kwargs['arches'] = _arch_string(tag['arches'])
            for key in ('perm', 'locked', 'maven_support', 'maven_include_all', 'extra'):
                if tag.get(key) is not None:
                    kwargs[key] = tag[key]

            def remember(tag_id, name=name):
                self.ids[name] = tag_id

            self.plan.add(PHASE_TAG, 'tag', name, 'create tag', 'createTag', name,
                          _on_result=remember, **kwargs)
            return obj
        edits = {}
        if tag.get('arches') is not None and not same_arches(info['arches'], tag['arches']):
            edits['arches'] = _arch_string(tag['arches'])
        if tag.get('perm') is not None and (tag['perm'] or None) != info['perm']:
            edits['perm'] = tag['perm'] or None
        for key in ('locked', 'maven_support', 'maven_include_all'):
            if tag.get(key) is not None and bool(tag[key]) != bool(info[key]):
                edits[key] = tag[key]
        if tag.get('extra') is not None:
            changed_extra = dict((k, v) for k, v in tag['extra'].items()
                                 if k not in info['extra'] or info['extra'][k] != v)
            removed = sorted(k for k in info['extra'] if k not in tag['extra'])
            if changed_extra:
                edits['extra'] = changed_extra
            if removed:
                edits['remove_extra'] = removed
        if edits:
            self.plan.object_change('tag', name, 'update', before=before, after=after)
            self.plan.add(PHASE_TAG, 'tag', name,
                          'set %s' % ', '.join(sorted(edits)), 'editTag2', name, **edits)
        else:
            # registered lazily: only shows up if a later step changes something
            self._pending_obj = (name, before, after)

    def _obj(self, name):
        """Register the tag as updated (with its before/after) when a sub-step changes."""
        if ('tag', name) not in self.plan.objects:
            _n, before, after = self._pending_obj
            self.plan.object_change('tag', name, 'update', before=before, after=after)

    def _plan_inheritance(self, tag):
        name = tag['name']
        if tag.get('inheritance') is None:
            return
        wanted = dict((r['parent'], r) for r in _normalize_rules(tag['inheritance']))
        current = dict((r['parent'], r) for r in _current_rules(self.inheritance.get(name, [])))
        data = []
        descriptions = []
        for parent, rule in sorted(wanted.items(), key=lambda item: item[1]['priority']):
            cur = current.get(parent)
            if cur is not None and _rule_key(cur) == _rule_key(rule):
                continue
            descriptions.append('%s parent %s (priority %s)'
                                % ('change' if cur else 'add', parent, rule['priority']))
            data.append(self._link(parent, rule))
        current_ids = dict((link['name'], link['parent_id'])
                           for link in self.inheritance.get(name, []))
        for parent in sorted(set(current) - set(wanted)):
            descriptions.append('remove parent %s' % parent)
            data.append({'parent_id': current_ids[parent], 'delete link': True})
        if data:
            self._obj(name)
            self.plan.add(PHASE_INHERITANCE, 'tag', name, '; '.join(descriptions),
                          'setInheritanceData', name, data)

    def _link(self, parent, rule):
        ids = self.ids
        link = {'priority': rule['priority'], 'maxdepth': rule['maxdepth'],
                'intransitive': rule['intransitive'], 'noconfig': rule['noconfig'],
                'pkg_filter': rule['pkg_filter']}
        if parent in ids:
            link['parent_id'] = ids[parent]
            return link
        return _LazyLink(link, parent, ids)

    def _plan_repos(self, tag):
        name = tag['name']
        if tag.get('external_repos') is None:
            return
        current = dict((r['external_repo_name'], r) for r in self.tag_repos.get(name, []))
        removes = []
        adds = []
        for repo in sorted(tag['external_repos'], key=lambda r: r['priority']):
            cur = current.get(repo['repo'])
            merge_mode = repo.get('merge_mode')
            arches = repo.get('arches')
            if cur is not None:
                if merge_mode is None:
                    merge_mode = cur['merge_mode']
                if arches is None:
                    arches = split_arches(cur['arches'])
                if (cur['priority'] == repo['priority'] and cur['merge_mode'] == merge_mode
                        and same_arches(cur['arches'], arches)):
                    continue
                removes.append(repo['repo'])
            adds.append((repo['repo'], repo['priority'], merge_mode or 'koji', arches, cur))
        wanted = set(r['repo'] for r in tag['external_repos'])
        for repo_name in sorted(set(current) - wanted):
            removes.append(repo_name)
        if not (removes or adds):
            return
        self._obj(name)
        changed = set(a[0] for a in adds if a[4] is not None)
        for repo_name in removes:
            if repo_name in changed:
                continue
            self.plan.add(PHASE_REPOS, 'tag', name, 'remove external repo %s' % repo_name,
                          'removeExternalRepoFromTag', name, repo_name)
        for repo_name in removes:
            if repo_name in changed:
                self.plan.add(PHASE_REPOS, 'tag', name,
                              'detach external repo %s to re-add it' % repo_name,
                              'removeExternalRepoFromTag', name, repo_name)
        for repo_name, priority, merge_mode, arches, cur in adds:
            kwargs = {'merge_mode': merge_mode}
            if arches:
                kwargs['arches'] = _arch_string(arches)
            self.plan.add(PHASE_REPOS, 'tag', name,
                          '%s external repo %s (priority %s, merge_mode %s%s)'
                          % ('change' if cur else 'add', repo_name, priority, merge_mode,
                             ', arches %s' % _arch_string(arches) if arches else ''),
                          'addExternalRepoToTag', name, repo_name, priority, **kwargs)

    def _plan_packages(self, tag):
        name = tag['name']
        wanted = tag.get('_packages') if tag.get('packages') is not None else None
        blocked = set(tag['blocked_packages']) if tag.get('blocked_packages') is not None \
            else None
        if wanted is None and blocked is None:
            return
        tag_id = self.ids.get(name)
        direct = {}
        inherited = {}
        for row in self.listings.get(name, []):
            if row['tag_id'] == tag_id:
                direct[row['package_name']] = row
            else:
                inherited[row['package_name']] = row
        calls = []
        late = []

        def add(description, method, *args):
            calls.append((description, method, args))

        for pkg, owner in sorted((wanted or {}).items()):
            d = direct.get(pkg)
            i = inherited.get(pkg)
            blocker = None if d is not None or (i is not None and i['blocked']) \
                else self._blocked_above(name, pkg)
            if d is not None:
                if d['blocked']:
                    add('unblock package %s' % pkg, 'packageListUnblock', name, pkg)
                    if (i is None or i['blocked']) and d['owner_name'] != owner:
                        add('set owner of %s to %s' % (pkg, owner), 'packageListSetOwner',
                            name, pkg, owner)
                elif d['owner_name'] != owner:
                    add('set owner of %s to %s' % (pkg, owner), 'packageListSetOwner', name,
                        pkg, owner)
            elif i is not None and i['blocked']:
                add('unblock inherited package %s' % pkg, 'packageListUnblock', name, pkg)
                if i['owner_name'] != owner:
                    add('set owner of %s to %s' % (pkg, owner), 'packageListSetOwner',
                        name, pkg, owner)
            elif blocker:
                late.append(('list package %s (owner %s) over the block in %s'
                             % (pkg, owner, blocker), pkg, owner))
            elif i is None:
                add('add package %s (owner %s)' % (pkg, owner), 'packageListAdd', name, pkg,
                    owner)
            # else: an inherited, unblocked package is already available in this tag
        for pkg, row in sorted(direct.items()):
            if wanted is not None and pkg in wanted:
                continue
            if blocked is not None and pkg in blocked:
                continue
            if row['blocked']:
                if blocked is None:
                    continue  # blocks are managed by blocked_packages only
                if wanted is not None:
                    add('remove blocked package %s' % pkg, 'packageListRemove', name, pkg)
                else:
                    add('unblock package %s' % pkg, 'packageListUnblock', name, pkg)
            elif wanted is not None:
                add('remove package %s' % pkg, 'packageListRemove', name, pkg)
        for pkg in sorted(blocked or ()):
            d = direct.get(pkg)
            if d is not None and d['blocked']:
                continue
            add('block package %s' % pkg, 'packageListBlock', name, pkg)
        if calls or late:
            self._obj(name)
            for description, method, args in calls:
                self.plan.add(PHASE_PACKAGES, 'tag', name, description, method, *args)
            for description, pkg, owner in late:
                self.plan.add(PHASE_PACKAGES_UNDER_BLOCKS, 'tag', name, description,
                              'packageListAdd', name, pkg, owner, block=False, force=True)

    def _plan_groups(self, tag):
        name = tag['name']
        if tag.get('groups') is None:
            return
        tag_id = self.ids.get(name)
        # blocked entries included: the hub adds a group or package blocked in the tag or
        # above it back only with force (and force would rewrite an entry that is not blocked)
        current = dict((g['name'], g) for g in self.groups.get(name, []))
        calls = []
        for group, pkgs in sorted(tag['groups'].items()):
            cur = current.get(group)
            if cur is None or cur['blocked']:
                calls.append(('%s group %s' % ('unblock' if cur else 'add', group),
                              'groupListAdd', (name, group), {'force': True} if cur else {}))
                cur_pkgs = {}
            else:
                cur_pkgs = dict((p['package'], p) for p in cur['packagelist'])
            for pkg in sorted(set(pkgs)):
                entry = cur_pkgs.get(pkg)
                if entry is None or entry['blocked']:
                    calls.append(('%s %s %s group %s' % ('unblock' if entry else 'add', pkg,
                                                         'in' if entry else 'to', group),
                                  'groupPackageListAdd', (name, group, pkg),
                                  {'force': True} if entry else {}))
            for pkg, entry in sorted(cur_pkgs.items()):
                if entry['tag_id'] == tag_id and not entry['blocked'] and pkg not in pkgs:
                    calls.append(('remove %s from group %s' % (pkg, group),
                                  'groupPackageListRemove', (name, group, pkg), {}))
        for group, cur in sorted(current.items()):
            if cur['tag_id'] == tag_id and not cur['blocked'] and group not in tag['groups']:
                calls.append(('remove group %s' % group, 'groupListRemove', (name, group), {}))
        if calls:
            self._obj(name)
            for description, method, args, kwargs in calls:
                self.plan.add(PHASE_GROUPS, 'tag', name, description, method, *args, **kwargs)


def _declares_listing(tag):
    return tag.get('packages') is not None or tag.get('blocked_packages') is not None


def _store_found(table, name, info):
    """Keep what a lookup found (a lookup of a missing object answers None)."""
    if info:
        table[name] = info


def _flatten(rows):
    """listPackages(with_dups=True) rows: a flat list (hubs before 1.26 gave a list per
    package)."""
    flat = []
    for row in rows:
        if isinstance(row, list):
            flat.extend(row)
        else:
            flat.append(row)
    return flat


class _LazyLink:
    """An inheritance link whose parent is created in the same run: its id is known
    only once the createTag call has returned. Resolved by Write.resolved()."""

    def __init__(self, link, parent, ids):
        self.link = link
        self.parent = parent
        self.ids = ids

    def __call__(self):
        link = dict(self.link)
        link['parent_id'] = self.ids[self.parent]
        return link


def resolve_links(data):
    return [link() if callable(link) else link for link in data]


def plan_tags(conn, tags, module):
    """Read, validate and plan a list of tag declarations. Raises KojiModuleError when
    the request is invalid (nothing is written then)."""
    planner = TagPlanner(conn, tags, NameRules(module.params), module.check_mode)
    planner.check_request()
    planner.v.check()
    planner.read()
    planner.check_references()
    planner.v.check()
    plan = planner.build_plan()
    # inheritance data may hold lazy links: resolve them when the call is sent
    for write in plan.writes:
        if write.method == 'setInheritanceData':
            data = write.args[1]
            write.args[1] = (lambda data=data: resolve_links(data))
    return plan
