# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading, validating and planning Koji hosts (used by the koji_host module)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kojiforge.koji.plugins.module_utils.koji_names import NameRules
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_params import (
    same_arches, split_arches,
)
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_plan import Plan
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_reads import read_values
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_validation import Validator
from ansible_collections.kojiforge.koji.plugins.module_utils.planners.user import (
    check_principal_owner, check_principals, missing_principal, plan_add_principal,
)

PHASE_ADD = 10
PHASE_EDIT = 20
PHASE_PRINCIPALS = 25
PHASE_CHANNELS_OUT = 30
PHASE_CHANNELS_IN = 40


def plan_hosts(conn, hosts, module):
    names = NameRules(module.params)
    v = Validator()
    v.unique('hosts', [h['name'] for h in hosts], 'host')
    names.check(v, 'host', [h['name'] for h in hosts])
    for host in hosts:
        where = 'host %s' % host['name']
        if host.get('arches') is not None:
            host['arches'] = v.arches(where, split_arches(host['arches']))
        if host.get('capacity') is not None and not host['capacity'] > 1:
            v.error('%s: capacity must be above 1 (got %s)', where, host['capacity'])
        if host.get('state') is not None:
            if host.get('enabled') is not None:
                v.error('%s: give enabled or state, not both', where)
            host['enabled'] = host['state'] == 'enabled'
        if host.get('channels') is not None:
            v.unique(where + ' channels', host['channels'], 'channel')
    check_principals(v, names, 'host', hosts)
    v.check()

    names = [h['name'] for h in hosts]
    channel_names = sorted(set(c for h in hosts for c in h.get('channels') or []))
    current = dict(zip(names, read_values(conn, [('getHost', [n], {}) for n in names])))
    with_channels = [h['name'] for h in hosts
                     if h.get('channels') is not None and current[h['name']]]
    # a host logs in as its user, which holds its Kerberos principals
    with_principal = [h['name'] for h in hosts
                      if h.get('krb_principal') and current[h['name']]]
    principals = sorted(set(h['krb_principal'] for h in hosts if h.get('krb_principal')))
    calls = [('getChannel', [c], {}) for c in channel_names]
    calls += [('listChannels', [], {'hostID': current[n]['id']}) for n in with_channels]
    calls += [('getUser', [current[n]['user_id']], {}) for n in with_principal]
    calls += [('getUser', [p], {}) for p in principals]
    values = read_values(conn, calls)
    channels = dict(zip(channel_names, values[:len(channel_names)]))
    values = values[len(channel_names):]
    memberships = dict((n, sorted(c['name'] for c in chans))
                       for n, chans in zip(with_channels, values[:len(with_channels)]))
    values = values[len(with_channels):]
    host_users = dict(zip(with_principal, values[:len(with_principal)]))
    owners = dict(zip(principals, values[len(with_principal):]))
    for host in hosts:
        where = 'host %s' % host['name']
        for channel in host.get('channels') or []:
            if not channels.get(channel):
                v.error('%s: unknown channel %s (declare it with kojiforge.koji.koji_channel '
                        'first)', where, channel)
        if current[host['name']] is None and not host.get('arches'):
            v.error('%s: arches are required to add a host', where)
        check_principal_owner(v, where, host.get('krb_principal'),
                              host_users.get(host['name']), owners)
    v.check()

    plan = Plan()
    for host in hosts:
        name = host['name']
        cur = current[name]
        if cur is None:
            before = {}
            state = {'arches': host['arches'], 'capacity': 2.0, 'description': None,
                     'comment': None, 'enabled': True}
            member_of = ['default']
        else:
            state = {'arches': split_arches(cur['arches']) or [],
                     'capacity': cur['capacity'], 'description': cur['description'],
                     'comment': cur['comment'], 'enabled': cur['enabled']}
            member_of = memberships.get(name, [])
            before = dict(state, arches=sorted(state['arches']))
            if name in memberships:
                before['channels'] = member_of
        edits = {}
        if host.get('arches') is not None and not same_arches(state['arches'], host['arches']):
            edits['arches'] = ' '.join(host['arches'])
        if host.get('capacity') is not None and float(host['capacity']) != state['capacity']:
            edits['capacity'] = float(host['capacity'])
        for key in ('description', 'comment'):
            if host.get(key) is not None and host[key] != state[key]:
                edits[key] = host[key]
        toggle = host.get('enabled') is not None and host['enabled'] != state['enabled']
        leave, join = [], []
        if host.get('channels') is not None:
            # A host added now is in `default` because addHost puts it there, not because
            # someone chose it: it is in exactly the declared channels either way.
            if cur is None or host.get('purge_channels', True) is not False:
                leave = sorted(set(member_of) - set(host['channels']))
            join = sorted(set(host['channels']) - set(member_of))
        add_principal = missing_principal(host.get('krb_principal'), host_users.get(name))
        if cur is not None and not (edits or toggle or leave or join or add_principal):
            continue
        after = dict(state, arches=sorted(host['arches'] if host.get('arches') is not None
                                          else state['arches']))
        for key, value in edits.items():
            if key != 'arches':
                after[key] = value
        if host.get('enabled') is not None:
            after['enabled'] = host['enabled']
        if host.get('channels') is not None:
            after['channels'] = sorted(set(member_of) - set(leave) | set(join))
        if host.get('krb_principal'):
            principals_before = sorted(host_users[name]['krb_principals']) if cur else []
            if cur is not None:
                before['krb_principals'] = principals_before
            after['krb_principals'] = sorted(set(principals_before)
                                             | set([host['krb_principal']]))
        plan.object_change('host', name, 'create' if cur is None else 'update', before=before,
                           after=after)
        if cur is None:
            plan.add(PHASE_ADD, 'host', name, 'add host (arches %s)' % ' '.join(host['arches']),
                     'addHost', name, host['arches'], host.get('krb_principal'))
            edits.pop('arches', None)
        if edits:
            plan.add(PHASE_EDIT, 'host', name, 'set %s' % ', '.join(sorted(edits)), 'editHost',
                     name, **edits)
        if toggle:
            plan.add(PHASE_EDIT, 'host', name,
                     'enable host' if host['enabled'] else 'disable host',
                     'enableHost' if host['enabled'] else 'disableHost', name)
        if add_principal:
            plan_add_principal(plan, PHASE_PRINCIPALS, 'host', name, cur['user_id'],
                               add_principal)
        for channel in leave:
            plan.add(PHASE_CHANNELS_OUT, 'host', name, 'remove from channel %s' % channel,
                     'removeHostFromChannel', name, channel)
        for channel in join:
            plan.add(PHASE_CHANNELS_IN, 'host', name, 'add to channel %s' % channel,
                     'addHostToChannel', name, channel)
    return plan
