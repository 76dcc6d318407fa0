#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: koji_channel
short_description: Declare Koji channels
version_added: 0.1.0
description:
  - Creates Koji channels and sets their description, comment and enabled state.
  - Hosts own their channel membership (see M(kojiforge.koji.koji_host)), so declaring
    a channel never removes a builder that was added through the inventory. O(hosts)
    adds the hosts named to the channel; only with O(purge_hosts=true) are other
    members removed.
  - Current hubs cannot delete channels, so there is no C(state=absent); disable a
    channel with O(enabled=false).
  - Takes one channel (O(name)) or many (O(channels)).
  - Channel changes are not versioned on the hub; they create no hub event.
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
    description: Returns the before and after state of every channel that changes.
options:
  name:
    description:
      - Name of the channel. Mutually exclusive with O(channels).
    type: str
  description:
    description:
      - Description of the channel.
    type: str
  comment:
    description:
      - Comment on the channel (for example why it is disabled).
    type: str
  enabled:
    description:
      - Whether tasks are assigned to the channel's hosts. Not set keeps the current state
        (new channels are enabled).
    type: bool
  hosts:
    description:
      - Hosts that must be members of the channel. They must exist
        (see M(kojiforge.koji.koji_host)).
    type: list
    elements: str
  purge_hosts:
    description:
      - Also remove members not named in O(hosts). Only with O(hosts).
    type: bool
    default: false
  channels:
    description:
      - Many channels at once, each a dict with the options above.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the channel.
        type: str
        required: true
      description:
        description: Description of the channel.
        type: str
      comment:
        description: Comment on the channel.
        type: str
      enabled:
        description: Whether the channel is enabled.
        type: bool
      hosts:
        description: Hosts that must be members.
        type: list
        elements: str
      purge_hosts:
        description: Also remove members not named in O(channels[].hosts).
        type: bool
        default: false
seealso:
  - module: kojiforge.koji.koji_host
'''

EXAMPLES = r'''
- name: A channel for image builds
  kojiforge.koji.koji_channel:
    koji: production
    name: image
    description: Builders with enough disk and memory for image builds

- name: Channels from the inventory
  kojiforge.koji.koji_channel:
    koji: production
    channels: "{{ koji_channels }}"

- name: Exactly these hosts in the createrepo channel
  kojiforge.koji.koji_channel:
    koji: production
    name: createrepo
    hosts: [builder-cr1.example.com, builder-cr2.example.com]
    purge_hosts: true
'''

RETURN = r'''
changes:
  description: What changed (or would change in check mode), per channel.
  returned: always
  type: list
  elements: dict
  sample:
    - type: channel
      name: image
      action: create
      changes: ["create channel"]
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
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_params import objects_from_params
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_plan import Plan
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_reads import read_values
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_validation import Validator
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_names import (
    NameRules, name_argument_spec,
)

PHASE_CHANNEL = 10
PHASE_STATE = 20
PHASE_MEMBERS = 30


def channel_spec(name_required):
    return dict(
        name=dict(type='str', required=name_required),
        description=dict(type='str'),
        comment=dict(type='str'),
        enabled=dict(type='bool'),
        hosts=dict(type='list', elements='str'),
        purge_hosts=dict(type='bool', default=False),
    )


CHANNEL_KEYS = tuple(channel_spec(False))


def plan_channels(conn, channels, names):
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


def handle(module, conn):
    return plan_channels(conn, objects_from_params(module.params, 'channels', CHANNEL_KEYS),
                         NameRules(module.params))


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(name_argument_spec())
    argument_spec['src'] = dict(type='path')
    argument_spec.update(channel_spec(False))
    argument_spec['channels'] = dict(type='list', elements='dict', options=channel_spec(True))
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[('name', 'channels')],
        required_one_of=[('name', 'channels')],
        supports_check_mode=True,
    )
    run_module(module, handle)


if __name__ == '__main__':
    main()
