#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: koji_target
short_description: Declare Koji build targets
version_added: 0.1.0
description:
  - Creates, updates and deletes Koji build targets (a build tag whose buildroot builds
    run in, and a destination tag builds land in).
  - Takes one target (O(name)) or many (O(targets)); many are read and written in a few
    multicall requests. Targets naming a tag that does not exist fail the whole request
    before anything is written.
  - Option names follow C(ktdreyer.koji_ansible.koji_target).
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
    description: Returns the before and after tags of every target that changes.
options:
  name:
    description:
      - Name of the target. Mutually exclusive with O(targets).
    type: str
  build_tag:
    description:
      - Tag whose buildroot builds of this target use. Required when O(state=present).
    type: str
  dest_tag:
    description:
      - Tag completed builds are tagged into. Required when O(state=present).
    type: str
  state:
    description:
      - V(present) creates or updates the target, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  targets:
    description:
      - Many targets at once, each a dict with the options above.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the target.
        type: str
        required: true
      build_tag:
        description: Build tag of the target.
        type: str
      dest_tag:
        description: Destination tag of the target.
        type: str
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
seealso:
  - module: kojiforge.koji.koji_tag
'''

EXAMPLES = r'''
- name: A build target
  kojiforge.koji.koji_target:
    koji: production
    name: el9-candidate
    build_tag: el9-build
    dest_tag: el9-candidate

- name: Many targets in one task
  kojiforge.koji.koji_target:
    koji: production
    targets: "{{ koji_targets }}"

- name: Remove a target
  kojiforge.koji.koji_target:
    koji: production
    name: el8-candidate
    state: absent
'''

RETURN = r'''
changes:
  description: What changed (or would change in check mode), per target.
  returned: always
  type: list
  elements: dict
  sample:
    - type: target
      name: el9-candidate
      action: create
      changes: ["create (build tag el9-build, destination tag el9-candidate)"]
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
from ansible_collections.kojiforge.koji.plugins.module_utils.planners.target import plan_targets


def target_spec(name_required):
    return dict(
        name=dict(type='str', required=name_required),
        build_tag=dict(type='str'),
        dest_tag=dict(type='str'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
    )


TARGET_KEYS = tuple(target_spec(False))


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(name_argument_spec())
    argument_spec['src'] = dict(type='path')
    argument_spec.update(target_spec(False))
    argument_spec['targets'] = dict(type='list', elements='dict', options=target_spec(True))
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[('name', 'targets')],
        required_one_of=[('name', 'targets')],
        supports_check_mode=True,
    )
    run_module(module, 'targets', TARGET_KEYS, plan_targets)


if __name__ == '__main__':
    main()
