# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Koji's inheritance walk and a tag's comps groups, computed from rows read in bulk.

A no-op run over thousands of tags cannot afford a ``getTagGroups(tag, inherit=True)`` per
tag: for each one the hub walks the tag's inheritance with a query per ancestor, then reads
every ancestor's groups. One ``queryHistory(active=True)`` of the ``tag_inheritance``,
``group_config`` and ``group_package_listing`` tables holds all those calls look at; the
functions here follow the hub's own code on those rows (kojihub's
``readFullInheritanceRecurse`` and ``get_tag_groups``, Koji 1.35). Names stand for ids: the
rows carry both and tag and group names are unique.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


def links_by_tag(rows):
    """tag name -> its parent links as ``getInheritanceData`` returns them (ordered by
    priority), from the rows of ``queryHistory(tables=['tag_inheritance'], active=True)``.
    Tags without parents are absent."""
    links = {}
    for row in rows:
        links.setdefault(row['tag.name'], []).append({
            'parent_id': row['parent_id'], 'name': row['parent.name'],
            'priority': row['priority'], 'maxdepth': row['maxdepth'],
            'intransitive': row['intransitive'], 'noconfig': row['noconfig'],
            'pkg_filter': row['pkg_filter'], 'child_id': row['tag_id']})
    for data in links.values():
        data.sort(key=lambda link: link['priority'])
    return links


def full_inheritance(name, links):
    """The names of a tag's ancestors in the order the hub's ``readFullInheritance`` lists
    them (an ancestor may come more than once): depth first by priority, loops pruned,
    intransitive links followed from the tag itself only, ``maxdepth`` carried down, and an
    ancestor met again walked again only when the new path could reach further (deeper, or
    without noconfig, or after a package filter), as the hub does."""
    order = []
    _walk(name, links, order, {name}, {}, None, False, [])
    return order


def full_inheritance_filters(name, links):
    """Like full_inheritance, with each ancestor's package filters: [(name, [pattern, ...])],
    the patterns a package name must all match to be inherited through that path (the
    ``filter`` of ``getFullInheritance``)."""
    order = []
    _walk(name, links, order, {name}, {}, None, False, [], pairs=True)
    return order


def _walk(name, links, order, top, hist, maxdepth, noconfig, pfilter, pairs=False):
    if maxdepth is not None and maxdepth < 1:
        return
    for link in links.get(name, ()):
        parent = link['name']
        if parent in top:
            continue  # a loop: the hub prunes it
        if link['intransitive'] and len(top) > 1:
            continue
        nextdepth = link['maxdepth']
        if nextdepth is None:
            if maxdepth is not None:
                nextdepth = maxdepth - 1
        elif maxdepth is not None:
            nextdepth = min(nextdepth, maxdepth) - 1
        # as in the hub, noconfig stays set for the following links of this tag too
        if link['noconfig']:
            noconfig = True
        filters = list(pfilter)
        if link['pkg_filter']:
            filters.append(link['pkg_filter'])
        if parent in hist and any(_sufficient(previous, nextdepth, noconfig)
                                  for previous in hist[parent]):
            continue
        hist.setdefault(parent, []).append({'nextdepth': nextdepth, 'noconfig': noconfig,
                                            'filter': filters})
        order.append((parent, filters) if pairs else parent)
        _walk(parent, links, order, top | {parent}, hist, nextdepth, noconfig, filters, pairs)


def _sufficient(previous, nextdepth, noconfig):
    """Whether an earlier visit of an ancestor already covered this one (the hub's rule)."""
    last = previous['nextdepth']
    if nextdepth is None:
        if last is not None:
            return False
    elif last is not None and last < nextdepth:
        return False
    if previous['noconfig'] and not noconfig:
        return False
    return not previous['filter']


def group_rows_by_tag(history):
    """(tag name -> group_config rows, tag name -> group_package_listing rows) from
    ``queryHistory(tables=['group_config', 'group_package_listing'], active=True)``."""
    configs = {}
    packages = {}
    for row in history.get('group_config', ()):
        configs.setdefault(row['tag.name'], []).append(row)
    for row in history.get('group_package_listing', ()):
        packages.setdefault(row['tag.name'], []).append(row)
    return configs, packages


def tag_groups(name, ancestors, configs, packages):
    """What ``getTagGroups(name, inherit=True, incl_pkgs=True, incl_reqs=False,
    incl_blocked=True)`` returns: the groups the tag sees (the nearest entry of each group
    wins) and in each the packages its tag list holds for it (the nearest entry wins; none in
    a blocked group), with the tag id of the entry that provides it and whether it blocks."""
    taglist = [name] + list(ancestors)
    groups = {}
    for tag in taglist:
        for row in configs.get(tag, ()):
            groups.setdefault(row['group.name'], row)
    listed = dict((group, {}) for group in groups)
    for tag in taglist:
        for row in packages.get(tag, ()):
            group = groups.get(row['group.name'])
            if group is None or group['blocked']:
                continue  # the tag does not see the group, or blocks it
            listed[row['group.name']].setdefault(row['package'], row)
    result = []
    for group_name, group in sorted(groups.items()):
        result.append({
            'name': group_name, 'group_id': group['group_id'], 'tag_id': group['tag_id'],
            'blocked': group['blocked'],
            'packagelist': [{'package': pkg, 'tag_id': row['tag_id'], 'group_id': row['group_id'],
                             'blocked': row['blocked'], 'type': row['type'],
                             'basearchonly': row['basearchonly'], 'requires': row['requires']}
                            for pkg, row in sorted(listed[group_name].items())]})
    return result
