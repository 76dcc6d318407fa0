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
    With O(purge_channels=false), O(channels) are only added, and the channels an existing
    host was put in by hand stay (a host added by the module is still in exactly
    O(channels), the hub's automatic C(default) is not kept unless declared).
  - Every option that is set is enforced, so O(arches), O(capacity), O(description) and
    O(comment) changed by hand are set back. Leave an option out to keep what the hub has.
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
      - Exact list of channels the host is in (with O(purge_channels=false), channels the
        host must be in besides any others). The channels must exist (see
        M(kojiforge.koji.koji_channel)). Not set keeps the current membership.
    type: list
    elements: str
  purge_channels:
    description:
      - Take the host out of the channels not named in O(channels). V(false) only adds it
        to O(channels) and leaves it in the others, such as channels an administrator added
        it to by hand. Only used with O(channels).
      - A host the module adds is in exactly O(channels) either way.
    type: bool
    default: true
  krb_principal:
    description:
      - Kerberos principal the host's kojid logs in with, for example
        C(compile/builder1.example.com@EXAMPLE.COM) (the hub's C(HostPrincipalFormat)).
      - Given to the hub when the host is added; when the Koji user of an existing host (a
        host logs in as its user) does not have it, it is added (C(editUser)). Principals
        the host has besides are kept; the module never removes one.
      - Must have the form C(primary[/instance]@REALM). A principal that another user or host
        has already fails the request before anything is written.
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
        description: Exact list of channels the host is in (see O(hosts[].purge_channels)).
        type: list
        elements: str
      purge_channels:
        description: Take the host out of the channels not named in O(hosts[].channels).
        type: bool
        default: true
      krb_principal:
        description: Kerberos principal of the host, added when missing (see O(krb_principal)).
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

- name: Put a builder in the image channel, keeping the channels it was given by hand
  kojiforge.koji.koji_host:
    koji: production
    name: builder3.example.com
    channels: [image]
    purge_channels: false

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
from ansible_collections.kojiforge.koji.plugins.module_utils.planners.host import plan_hosts


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
        purge_channels=dict(type='bool', default=True),
        krb_principal=dict(type='str'),
    )


HOST_KEYS = tuple(host_spec(False))


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
    run_module(module, 'hosts', HOST_KEYS, plan_hosts)


if __name__ == '__main__':
    main()
