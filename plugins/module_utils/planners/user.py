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
PHASE_PRINCIPALS = 25
PHASE_PERMS = 30
STATUS_NORMAL = 0
STATUS_BLOCKED = 1


def plan_users(conn, users, module):
    names = NameRules(module.params)
    v = Validator()
    v.unique('users', [u['name'] for u in users], 'user')
    names.check(v, 'user', [u['name'] for u in users])
    check_principals(v, names, 'user', users)
    for user in users:
        if user.get('permissions') is not None:
            v.unique('user %s permissions' % user['name'], user['permissions'], 'permission')
    v.check()

    names = [u['name'] for u in users]
    principals = sorted(set(u['krb_principal'] for u in users if u.get('krb_principal')))
    need_perms = any(u.get('permissions') for u in users)
    calls = [('getUser', [n], {}) for n in names]
    calls += [('getUser', [p], {}) for p in principals]
    if need_perms:
        calls.append(('getAllPerms', [], {}))
    values = read_values(conn, calls)
    current = dict(zip(names, values[:len(names)]))
    owners = dict(zip(principals, values[len(names):len(names) + len(principals)]))
    known_perms = set(p['name'] for p in values[-1]) if need_perms else set()
    for user in users:
        for perm in user.get('permissions') or []:
            if perm not in known_perms:
                v.error('user %s: unknown permission %s', user['name'], perm)
        check_principal_owner(v, 'user %s' % user['name'], user.get('krb_principal'),
                              current[user['name']], owners)
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
        add_principal = missing_principal(user.get('krb_principal'), cur)
        if cur is not None and wanted_status == status and not (grant or revoke or add_principal):
            continue
        if 'admin' in revoke:
            lockouts.setdefault(name, []).append('revoke admin from')
        if cur is not None and wanted_status == STATUS_BLOCKED and status != STATUS_BLOCKED:
            lockouts.setdefault(name, []).append('disable')
        after = {'state': 'enabled' if wanted_status == STATUS_NORMAL else 'disabled'}
        if user.get('permissions') is not None:
            after['permissions'] = sorted(user['permissions'])
        if user.get('krb_principal'):
            principals_before = sorted(cur['krb_principals']) if cur else []
            if cur:
                before['krb_principals'] = principals_before
            after['krb_principals'] = sorted(set(principals_before) | set([user['krb_principal']]))
        plan.object_change('user', name, 'create' if cur is None else 'update', before=before,
                           after=after)
        if cur is None:
            plan.add(PHASE_CREATE, 'user', name, 'create user', 'createUser', name,
                     wanted_status, user.get('krb_principal'))
        elif wanted_status != status:
            plan.add(PHASE_STATUS, 'user', name,
                     'enable user' if wanted_status == STATUS_NORMAL else 'disable user',
                     'enableUser' if wanted_status == STATUS_NORMAL else 'disableUser', name)
        if add_principal:
            plan_add_principal(plan, PHASE_PRINCIPALS, 'user', name, name, add_principal)
        for perm in revoke:
            plan.add(PHASE_PERMS, 'user', name, 'revoke %s' % perm, 'revokePermission', name,
                     perm)
        for perm in grant:
            plan.add(PHASE_PERMS, 'user', name, 'grant %s' % perm, 'grantPermission', name,
                     perm)
    if lockouts and not module.check_mode:
        refuse_self_lockout(conn, lockouts)
    return plan


def check_principals(v, names, kind, declarations):
    """The form of every declared Kerberos principal (``krb_principal``), its characters
    (the hub's user name pattern, as for any principal) and that no two declarations of the
    request name the same one."""
    given = []
    for item in declarations:
        principal = item.get('krb_principal')
        if principal is None:
            continue
        where = '%s %r' % (kind, item['name'])
        names.check_value(v, 'user', where, principal, 'Kerberos principal')
        v.krb_principal(where, principal)
        given.append(principal)
    v.unique('%ss' % kind, given, 'Kerberos principal')


def check_principal_owner(v, where, principal, user, owners):
    """A principal belongs to one Koji user: refuse one that another user (or host) has.
    ``user`` is the hub's user the principal is declared for (None: created by this request);
    ``owners`` maps each declared principal to getUser(principal)."""
    owner = owners.get(principal) if principal else None
    if owner is None or principal not in (owner.get('krb_principals') or []):
        return
    if user is None or owner['id'] != user['id']:
        v.error('%s: Kerberos principal %s belongs to user %s already (a principal maps to '
                'one user)', where, principal, owner['name'])


def missing_principal(principal, user):
    """The declared principal when the existing ``user`` (getUser) does not have it yet.
    The user's other principals stay: the modules only add."""
    if not principal or user is None:
        return None
    return principal if principal not in (user.get('krb_principals') or []) else None


def plan_add_principal(plan, phase, obj_type, obj_name, user_info, principal):
    plan.add(phase, obj_type, obj_name, 'add Kerberos principal %s' % principal, 'editUser',
             user_info, krb_principal_mappings=[{'old': None, 'new': principal}])


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
