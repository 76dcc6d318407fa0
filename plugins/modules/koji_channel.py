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
  sample: 4
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
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_names import name_argument_spec
from ansible_collections.kojiforge.koji.plugins.module_utils.planners.channel import plan_channels


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
    run_module(module, 'channels', CHANNEL_KEYS, plan_channels)


if __name__ == '__main__':
    main()
