#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: koji_user
short_description: Declare Koji users and their permissions
version_added: 0.1.0
description:
  - Creates Koji users (people and service accounts), enables or disables them and sets
    the permissions granted to them directly.
  - Koji cannot delete users; disable one with O(state=disabled).
  - Takes one user (O(name)) or many (O(users)). Unknown permissions fail the whole
    request before anything is written.
  - Creating, enabling and disabling users is not versioned on the hub (no hub event);
    permission changes are.
  - Option names follow C(ktdreyer.koji_ansible.koji_user).
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
    description: Returns the before and after state of every user that changes.
options:
  name:
    description:
      - Name of the user (the CN of its client certificate when certificates are used).
        Mutually exclusive with O(users).
    type: str
  state:
    description:
      - V(enabled) lets the user log in, V(disabled) blocks it. Not set keeps the current
        state (new users are enabled).
    type: str
    choices: [enabled, disabled]
  permissions:
    description:
      - Exact list of permissions granted directly to the user (for example C(admin),
        C(tag), C(target), C(host), C(repo)). Not set keeps the current permissions.
      - Permissions must exist on the hub.
    type: list
    elements: str
  krb_principal:
    description:
      - Kerberos principal that the user logs in with, for example C(releng@EXAMPLE.COM).
      - Given to the hub when the user is created; an existing user that does not have it
        gets it added (C(editUser)). Principals the user has besides are kept; the module
        never removes one.
      - Must have the form C(primary[/instance]@REALM). A principal that another user or host
        has already fails the request before anything is written.
    type: str
  users:
    description:
      - Many users at once, each a dict with the options above.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the user.
        type: str
        required: true
      state:
        description: V(enabled) or V(disabled).
        type: str
        choices: [enabled, disabled]
      permissions:
        description: Exact list of permissions granted directly to the user.
        type: list
        elements: str
      krb_principal:
        description: Kerberos principal of the user, added when missing (see O(krb_principal)).
        type: str
notes:
  - Revoking C(admin) from the user the module logs in as, or disabling it, is refused
    before anything is written (that user is asked from the hub when the module logs in to
    write, so check mode does not report it).
'''

EXAMPLES = r'''
- name: A release engineer with tag and target rights
  kojiforge.koji.koji_user:
    koji: production
    name: releng
    permissions: [tag, target]

- name: Service users from the inventory
  kojiforge.koji.koji_user:
    koji: production
    users:
      - name: kojira
        permissions: [repo]
      - name: kojiweb
      - name: former-admin
        state: disabled
        permissions: []
'''

RETURN = r'''
changes:
  description: What changed (or would change in check mode), per user.
  returned: always
  type: list
  elements: dict
  sample:
    - type: user
      name: kojira
      action: create
      changes: ["create user", "grant repo"]
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
from ansible_collections.kojiforge.koji.plugins.module_utils.planners.user import plan_users


def user_spec(name_required):
    return dict(
        name=dict(type='str', required=name_required),
        state=dict(type='str', choices=['enabled', 'disabled']),
        permissions=dict(type='list', elements='str'),
        krb_principal=dict(type='str'),
    )


USER_KEYS = tuple(user_spec(False))


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(name_argument_spec())
    argument_spec['src'] = dict(type='path')
    argument_spec.update(user_spec(False))
    argument_spec['users'] = dict(type='list', elements='dict', options=user_spec(True))
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[('name', 'users')],
        required_one_of=[('name', 'users')],
        supports_check_mode=True,
    )
    run_module(module, 'users', USER_KEYS, plan_users)


if __name__ == '__main__':
    main()
