# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading, validating and planning Koji users (used by the koji_user module)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kojiforge.koji.plugins.module_utils.koji_errors import KojiModuleError
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_names import NameRules
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_plan import Plan
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_reads import read_values
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_validation import Validator

PHASE_CREATE = 10
PHASE_STATUS = 20
PHASE_PERMS = 30
STATUS_NORMAL = 0
STATUS_BLOCKED = 1


def plan_users(conn, users, module):
    names = NameRules(module.params)
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
    if lockouts and not module.check_mode:
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
