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
      - Kerberos principal of a new user (only used when the user is created).
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
        description: Kerberos principal of a new user.
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
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_errors import KojiModuleError
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_module_runner import run_module
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_params import objects_from_params
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_plan import Plan
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_reads import read_values
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_validation import Validator
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_names import (
    NameRules, name_argument_spec,
)

PHASE_CREATE = 10
PHASE_STATUS = 20
PHASE_PERMS = 30
STATUS_NORMAL = 0
STATUS_BLOCKED = 1


def user_spec(name_required):
    return dict(
        name=dict(type='str', required=name_required),
        state=dict(type='str', choices=['enabled', 'disabled']),
        permissions=dict(type='list', elements='str'),
        krb_principal=dict(type='str'),
    )


USER_KEYS = tuple(user_spec(False))


def plan_users(conn, users, names, check_mode=False):
    v = Validator()
    v.unique('users', [u['name'] for u in users], 'user')
    names.check(v, 'user', [u['name'] for u in users])
    for user in users:
        if user.get('krb_principal') is not None:
            names.check_value(v, 'user', 'user %r' % user['name'], user['krb_principal'],
                              'Kerberos principal')
        if user.get('permissions') is not None:
            v.unique('user %s permissions' % user['name'], user['permissions'], 'permission')
    v.check()

    names = [u['name'] for u in users]
    need_perms = any(u.get('permissions') for u in users)
    calls = [('getUser', [n], {}) for n in names]
    if need_perms:
        calls.append(('getAllPerms', [], {}))
    values = read_values(conn, calls)
    current = dict(zip(names, values[:len(names)]))
    known_perms = set(p['name'] for p in values[len(names)]) if need_perms else set()
    for user in users:
        for perm in user.get('permissions') or []:
            if perm not in known_perms:
                v.error('user %s: unknown permission %s', user['name'], perm)
    v.check()
    with_perms = [u['name'] for u in users
                  if u.get('permissions') is not None and current[u['name']]]
    perms = dict(zip(with_perms, read_values(
        conn, [('getUserPerms', [current[n]['id']], {'with_groups': False})
               for n in with_perms])))

    plan = Plan()
    lockouts = {}  # user -> what the plan would take from it that an administrator needs
    for user in users:
        name = user['name']
        cur = current[name]
        status = cur['status'] if cur else STATUS_NORMAL
        granted = sorted(perms.get(name, []))
        before = {}
        if cur:
            before = {'state': 'enabled' if status == STATUS_NORMAL else 'disabled'}
            if name in perms:
                before['permissions'] = granted
        wanted_status = status
        if user.get('state') is not None:
            wanted_status = STATUS_NORMAL if user['state'] == 'enabled' else STATUS_BLOCKED
        grant, revoke = [], []
        if user.get('permissions') is not None:
            grant = sorted(set(user['permissions']) - set(granted))
            revoke = sorted(set(granted) - set(user['permissions']))
        if cur is not None and wanted_status == status and not (grant or revoke):
            continue
        if 'admin' in revoke:
            lockouts.setdefault(name, []).append('revoke admin from')
        if cur is not None and wanted_status == STATUS_BLOCKED and status != STATUS_BLOCKED:
            lockouts.setdefault(name, []).append('disable')
        after = {'state': 'enabled' if wanted_status == STATUS_NORMAL else 'disabled'}
        if user.get('permissions') is not None:
            after['permissions'] = sorted(user['permissions'])
        plan.object_change('user', name, 'create' if cur is None else 'update', before=before,
                           after=after)
        if cur is None:
            plan.add(PHASE_CREATE, 'user', name, 'create user', 'createUser', name,
                     wanted_status, user.get('krb_principal'))
        elif wanted_status != status:
            plan.add(PHASE_STATUS, 'user', name,
                     'enable user' if wanted_status == STATUS_NORMAL else 'disable user',
                     'enableUser' if wanted_status == STATUS_NORMAL else 'disableUser', name)
        for perm in revoke:
            plan.add(PHASE_PERMS, 'user', name, 'revoke %s' % perm, 'revokePermission', name,
                     perm)
        for perm in grant:
            plan.add(PHASE_PERMS, 'user', name, 'grant %s' % perm, 'grantPermission', name,
                     perm)
    if lockouts and not check_mode:
        refuse_self_lockout(conn, lockouts)
    return plan


def refuse_self_lockout(conn, lockouts):
    """The modules' own administrator keeps admin and stays enabled: taking either away
    would lock the collection out of the hub (and koji_db's bootstrap would grant it back
    on its next run). Who that is, the hub says once logged in, which a write needs anyway;
    check mode does not log in, so this is decided on the real run."""
    conn.ensure_logged_in()
    me = conn.call('getLoggedInUser')
    if me and me['name'] in lockouts:
        raise KojiModuleError(
            'user %s: refusing to %s the user this module is logged in as, which would lock '
            'it out of the hub; nothing was changed (do it as another administrator)'
            % (me['name'], ' and '.join(lockouts[me['name']])))


def handle(module, conn):
    return plan_users(conn, objects_from_params(module.params, 'users', USER_KEYS),
                      NameRules(module.params), module.check_mode)


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
    run_module(module, handle)


if __name__ == '__main__':
    main()
