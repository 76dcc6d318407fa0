# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading, validating and planning Koji channels (used by the koji_channel module)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kojiforge.koji.plugins.module_utils.koji_names import NameRules
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_plan import Plan
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_reads import read_values
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_validation import Validator

PHASE_CHANNEL = 10
PHASE_STATE = 20
PHASE_MEMBERS = 30


def plan_channels(conn, channels, module):
    names = NameRules(module.params)
    v = Validator()
    v.unique('channels', [c['name'] for c in channels], 'channel')
    names.check(v, 'channel', [c['name'] for c in channels])
    for channel in channels:
        if channel.get('purge_hosts') and channel.get('hosts') is None:
            v.error('channel %s: purge_hosts needs hosts', channel['name'])
    v.check()

    names = [c['name'] for c in channels]
    host_names = sorted(set(h for c in channels for h in c.get('hosts') or []))
    current = dict(zip(names, read_values(conn, [('getChannel', [n], {}) for n in names])))
    members_of = [n for n in names
                  if current[n] and dict(zip(names, channels))[n].get('hosts') is not None]
    calls = [('getHost', [h], {}) for h in host_names]
    calls += [('listHosts', [], {'channelID': current[n]['id']}) for n in members_of]
    values = read_values(conn, calls)
    hosts = dict(zip(host_names, values[:len(host_names)]))
    members = dict((n, sorted(h['name'] for h in hosts_))
                   for n, hosts_ in zip(members_of, values[len(host_names):]))
    for channel in channels:
        for host in channel.get('hosts') or []:
            if not hosts.get(host):
                v.error('channel %s: unknown host %s', channel['name'], host)
    v.check()

    plan = Plan()
    for channel in channels:
        name = channel['name']
        cur = current[name]
        before = {}
        if cur:
            before = {'description': cur['description'], 'comment': cur['comment'],
                      'enabled': cur['enabled']}
            if name in members:
                before['hosts'] = members[name]
        after = dict(before)
        for key in ('description', 'comment', 'enabled'):
            if channel.get(key) is not None:
                after[key] = channel[key]
        current_members = members.get(name, [])
        if channel.get('hosts') is not None:
            wanted = set(channel['hosts'])
            if channel.get('purge_hosts'):
                after['hosts'] = sorted(wanted)
            else:
                after['hosts'] = sorted(wanted | set(current_members))
        if cur is None:
            plan.object_change('channel', name, 'create', before={}, after=after)
            plan.add(PHASE_CHANNEL, 'channel', name, 'create channel', 'addChannel', name,
                     description=channel.get('description'))
            if channel.get('comment') is not None:
                plan.add(PHASE_CHANNEL, 'channel', name, 'set comment', 'editChannel', name,
                         comment=channel['comment'])
        else:
            if after == before:
                continue
            plan.object_change('channel', name, 'update', before=before, after=after)
            edits = dict((key, channel[key]) for key in ('description', 'comment')
                         if channel.get(key) is not None and channel[key] != cur[key])
            if edits:
                plan.add(PHASE_CHANNEL, 'channel', name, 'set %s' % ', '.join(sorted(edits)),
                         'editChannel', name, **edits)
        enabled = cur['enabled'] if cur else True
        if channel.get('enabled') is not None and channel['enabled'] != enabled:
            plan.add(PHASE_STATE, 'channel', name,
                     'enable channel' if channel['enabled'] else 'disable channel',
                     'enableChannel' if channel['enabled'] else 'disableChannel', name)
        will_be_enabled = channel['enabled'] if channel.get('enabled') is not None else enabled
        for host in sorted(set(after.get('hosts', [])) - set(current_members)):
            # force: adding a host to a disabled channel is otherwise refused
            plan.add(PHASE_MEMBERS, 'channel', name, 'add host %s' % host, 'addHostToChannel',
                     host, name, force=not will_be_enabled)
        for host in sorted(set(current_members) - set(after.get('hosts', current_members))):
            plan.add(PHASE_MEMBERS, 'channel', name, 'remove host %s' % host,
                     'removeHostFromChannel', host, name)
    return plan
