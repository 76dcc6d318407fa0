#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: koji_host
short_description: Declare Koji build hosts and their channels
version_added: 0.1.0
description:
  - Adds Koji build hosts (builders) and sets their arches, capacity, description,
    comment, enabled state and channel membership.
  - The hub puts a new host in channel C(default); O(channels) is the exact list of
    channels the host must be in, so leave C(default) out to take the host out of it.
  - Koji cannot delete hosts; disable one with O(enabled=false).
  - Takes one host (O(name)) or many (O(hosts)). Unknown channels and bad arches fail
    the whole request before anything is written.
  - Option names follow C(ktdreyer.koji_ansible.koji_host); O(state) is accepted as
    that module spells O(enabled).
author:
  - kojiforge.koji contributors (@kojiforge)
extends_documentation_fragment:
  - kojiforge.koji.connection
  - kojiforge.koji.names
  - kojiforge.koji.objects_src
attributes:
  check_mode:
    support: full
    description: Decided from reads only; nothing is written.
  diff_mode:
    support: full
    description: Returns the before and after state of every host that changes.
options:
  name:
    description:
      - Name of the host, normally its FQDN (the CN of its certificate). Mutually
        exclusive with O(hosts).
    type: str
  arches:
    description:
      - Arches the host builds for. Required to add a host. Compared as a set.
    type: list
    elements: str
  capacity:
    description:
      - Task weight the host takes at once. Must be above 1.
    type: float
  description:
    description:
      - Description of the host.
    type: str
  comment:
    description:
      - Comment on the host (for example why it is disabled).
    type: str
  enabled:
    description:
      - Whether the host takes tasks. Not set keeps the current state (new hosts are
        enabled). Mutually exclusive with O(state).
    type: bool
  state:
    description:
      - V(enabled) or V(disabled), the C(ktdreyer.koji_ansible) spelling of O(enabled).
    type: str
    choices: [enabled, disabled]
  channels:
    description:
      - Exact list of channels the host is in. The channels must exist (see
        M(kojiforge.koji.koji_channel)). Not set keeps the current membership.
    type: list
    elements: str
  krb_principal:
    description:
      - Kerberos principal of a new host (only used when the host is added).
    type: str
  hosts:
    description:
      - Many hosts at once, each a dict with the options above.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the host.
        type: str
        required: true
      arches:
        description: Arches the host builds for.
        type: list
        elements: str
      capacity:
        description: Task weight the host takes at once.
        type: float
      description:
        description: Description of the host.
        type: str
      comment:
        description: Comment on the host.
        type: str
      enabled:
        description: Whether the host takes tasks.
        type: bool
      state:
        description: V(enabled) or V(disabled).
        type: str
        choices: [enabled, disabled]
      channels:
        description: Exact list of channels the host is in.
        type: list
        elements: str
      krb_principal:
        description: Kerberos principal of a new host.
        type: str
seealso:
  - module: kojiforge.koji.koji_channel
'''

EXAMPLES = r'''
- name: Register a builder
  kojiforge.koji.koji_host:
    koji: production
    name: builder1.example.com
    arches: [x86_64]
    capacity: 8.0
    channels: [default, createrepo]

- name: Take a builder out of service
  kojiforge.koji.koji_host:
    koji: production
    name: builder2.example.com
    enabled: false
    comment: disk replacement, ticket 1234
'''

RETURN = r'''
changes:
  description: What changed (or would change in check mode), per host.
  returned: always
  type: list
  elements: dict
  sample:
    - type: host
      name: builder1.example.com
      action: create
      changes: ["add host (arches x86_64)", "add to channel createrepo"]
requests:
  description: Number of HTTP requests the module sent to the hub.
  returned: always
  type: int
applied:
  description: On a hub refusal, the calls that were made before it.
  returned: failure
  type: list
  elements: dict
refused:
  description: On a hub refusal, the refused calls and the hub's error.
  returned: failure
  type: list
  elements: dict
not_applied:
  description: On a hub refusal, the calls that were not sent.
  returned: failure
  type: list
  elements: dict
errors:
  description: On a validation failure, every problem found (nothing was written).
  returned: failure
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kojiforge.koji.plugins.module_utils.koji_connection import (
    connection_argument_spec,
)
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_module_runner import run_module
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_params import (
    objects_from_params, same_arches, split_arches,
)
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_plan import Plan
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_reads import read_values
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_validation import Validator
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_names import (
    NameRules, name_argument_spec,
)

PHASE_ADD = 10
PHASE_EDIT = 20
PHASE_CHANNELS_OUT = 30
PHASE_CHANNELS_IN = 40


def host_spec(name_required):
    return dict(
        name=dict(type='str', required=name_required),
        arches=dict(type='list', elements='str'),
        capacity=dict(type='float'),
        description=dict(type='str'),
        comment=dict(type='str'),
        enabled=dict(type='bool'),
        state=dict(type='str', choices=['enabled', 'disabled']),
        channels=dict(type='list', elements='str'),
        krb_principal=dict(type='str'),
    )


HOST_KEYS = tuple(host_spec(False))


def plan_hosts(conn, hosts, names):
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
    v.check()

    names = [h['name'] for h in hosts]
    channel_names = sorted(set(c for h in hosts for c in h.get('channels') or []))
    current = dict(zip(names, read_values(conn, [('getHost', [n], {}) for n in names])))
    with_channels = [h['name'] for h in hosts
                     if h.get('channels') is not None and current[h['name']]]
    calls = [('getChannel', [c], {}) for c in channel_names]
    calls += [('listChannels', [], {'hostID': current[n]['id']}) for n in with_channels]
    values = read_values(conn, calls)
    channels = dict(zip(channel_names, values[:len(channel_names)]))
    memberships = dict((n, sorted(c['name'] for c in chans))
                       for n, chans in zip(with_channels, values[len(channel_names):]))
    for host in hosts:
        where = 'host %s' % host['name']
        for channel in host.get('channels') or []:
            if not channels.get(channel):
                v.error('%s: unknown channel %s (declare it with kojiforge.koji.koji_channel '
                        'first)', where, channel)
        if current[host['name']] is None and not host.get('arches'):
            v.error('%s: arches are required to add a host', where)
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
            leave = sorted(set(member_of) - set(host['channels']))
            join = sorted(set(host['channels']) - set(member_of))
        if cur is not None and not (edits or toggle or leave or join):
            continue
        after = dict(state, arches=sorted(host['arches'] if host.get('arches') is not None
                                          else state['arches']))
        for key, value in edits.items():
            if key != 'arches':
                after[key] = value
        if host.get('enabled') is not None:
            after['enabled'] = host['enabled']
        if host.get('channels') is not None:
            after['channels'] = sorted(host['channels'])
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
        for channel in leave:
            plan.add(PHASE_CHANNELS_OUT, 'host', name, 'remove from channel %s' % channel,
                     'removeHostFromChannel', name, channel)
        for channel in join:
            plan.add(PHASE_CHANNELS_IN, 'host', name, 'add to channel %s' % channel,
                     'addHostToChannel', name, channel)
    return plan


def handle(module, conn):
    return plan_hosts(conn, objects_from_params(module.params, 'hosts', HOST_KEYS),
                      NameRules(module.params))


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(name_argument_spec())
    argument_spec['src'] = dict(type='path')
    argument_spec.update(host_spec(False))
    argument_spec['hosts'] = dict(type='list', elements='dict', options=host_spec(True))
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[('name', 'hosts'), ('enabled', 'state')],
        required_one_of=[('name', 'hosts')],
        supports_check_mode=True,
    )
    run_module(module, handle)


if __name__ == '__main__':
    main()
