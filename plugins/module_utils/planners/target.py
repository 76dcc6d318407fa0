# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading, validating and planning Koji build targets (used by the koji_target module)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kojiforge.koji.plugins.module_utils.koji_names import NameRules
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_plan import Plan
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_reads import lookup_by_name
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_validation import Validator

PHASE_WRITE = 10
PHASE_DELETE = 90


def plan_targets(conn, targets, module):
    names = NameRules(module.params)
    v = Validator()
    v.unique('targets', [t['name'] for t in targets], 'target')
    names.check(v, 'target', [t['name'] for t in targets])
    present = [t for t in targets if t.get('state', 'present') == 'present']
    for target in present:
        for key in ('build_tag', 'dest_tag'):
            if not target.get(key):
                v.error('target %s: %s is required when state is present', target['name'], key)
    v.check()

    names = [t['name'] for t in targets]
    tag_names = sorted(set(t[key] for t in present for key in ('build_tag', 'dest_tag')))
    current = lookup_by_name(conn, names, 'getBuildTarget', 'getBuildTargets')
    tags = lookup_by_name(conn, tag_names, 'getTag', 'listTags')

    for target in present:
        for key in ('build_tag', 'dest_tag'):
            if not tags.get(target[key]):
                v.error('target %s: unknown %s %s', target['name'], key.replace('_', ' '),
                        target[key])
    v.check()

    plan = Plan()
    for target in targets:
        name = target['name']
        cur = current[name]
        before = {'build_tag': cur['build_tag_name'], 'dest_tag': cur['dest_tag_name']} \
            if cur else {}
        if target.get('state', 'present') == 'absent':
            if cur:
                plan.object_change('target', name, 'delete', before=before, after={})
                plan.add(PHASE_DELETE, 'target', name, 'delete target', 'deleteBuildTarget',
                         name)
            continue
        after = {'build_tag': target['build_tag'], 'dest_tag': target['dest_tag']}
        if cur is None:
            plan.object_change('target', name, 'create', before={}, after=after)
            plan.add(PHASE_WRITE, 'target', name,
                     'create (build tag %s, destination tag %s)'
                     % (target['build_tag'], target['dest_tag']),
                     'createBuildTarget', name, target['build_tag'], target['dest_tag'])
        elif before != after:
            plan.object_change('target', name, 'update', before=before, after=after)
            plan.add(PHASE_WRITE, 'target', name,
                     'set build tag %s, destination tag %s'
                     % (target['build_tag'], target['dest_tag']),
                     'editBuildTarget', name, name, target['build_tag'], target['dest_tag'])
    return plan
