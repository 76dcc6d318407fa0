"""Users and permissions.

A mixin of the fake hub's HubAPI (api.py)."""

import koji

from .api_common import USER_NAME_RE, apply_query_opts, verify_name


class UserCalls(object):

    # ---- users and permissions ---------------------------------------------------------
    def getUser(self, userInfo=None, strict=False, krb_princs=True, groups=False):
        if userInfo is None:
            userInfo = self.ctx.user_id
            if userInfo is None:
                raise koji.GenericError('No user provided')
        user = self.state.find_user(userInfo)
        if user is None:
            if strict:
                raise koji.GenericError('No such user: %r' % (userInfo,))
            return None
        info = {'id': user['id'], 'name': user['name'], 'status': user['status'],
                'usertype': user['usertype']}
        if krb_princs:
            info['krb_principals'] = list(user['krb_principals'])
        if groups:
            info['groups'] = []
        return info

    def listUsers(self, userType=0, prefix=None, queryOpts=None, perm=None,
                  inherited_perm=False):
        users = [self.state.users[uid] for uid in sorted(self.state.users)
                 if self.state.users[uid]['usertype'] == userType]
        if prefix:
            users = [u for u in users if u['name'].startswith(prefix)]
        if perm:
            p = self.state.find_perm(perm)
            if not p:
                raise koji.GenericError('No such permission: %s' % perm)
            users = [u for u in users if p['id'] in self.state.user_perms.get(u['id'], ())]
        return apply_query_opts([self.getUser(u['id']) for u in users], queryOpts)

    def createUser(self, username, status=None, krb_principal=None):
        self._assert_perm('admin')
        verify_name(username, USER_NAME_RE)
        if self.state.find_user(username):
            raise koji.GenericError('user already exists: %s' % username)
        if krb_principal and self.state.find_user(krb_principal):
            raise koji.GenericError('user with this Kerberos principal already exists: %s'
                                    % krb_principal)
        if status is None:
            status = koji.USER_STATUS['NORMAL']
        if koji.USER_STATUS.get(status) is None:
            raise koji.GenericError('Invalid status: %s' % status)
        self._touch()
        return self.state.add_user(username, status=status, krb_principal=krb_principal)

    def editUser(self, userInfo, name=None, krb_principal_mappings=None):
        # the hub's edit_user: admin only; a rename and/or Kerberos principal changes, each
        # mapping {'old': principal or None, 'new': principal or None}; everything checked
        # before anything changes. The users tables are not versioned: no event.
        self._assert_perm('admin')
        user = self._user(userInfo)
        if name and user['name'] != name:
            if not isinstance(name, str) or not USER_NAME_RE.match(name):
                raise koji.GenericError('Name %s does not match RegexUserName value' % name)
            taken = self.state.find_user(name)
            if taken is not None and taken['name'] == name:
                raise koji.GenericError('Name %s already taken by user %s' % (name, taken['id']))
        added, removed = set(), set()
        for pair in krb_principal_mappings or []:
            if pair.get('old'):
                removed.add(pair['old'])
            new = pair.get('new')
            if new:
                if not isinstance(new, str):
                    raise koji.GenericError('Kerberos principal should be string')
                if not USER_NAME_RE.match(new):
                    raise koji.GenericError('Kerberos principal %s does not match '
                                            'RegexUserName value' % new)
                added.add(new)
        currents = set(user['krb_principals'])
        if added & removed:
            raise koji.GenericError('There are some conflicts between added and removed '
                                    'Kerberos principals: %s' % ', '.join(added & removed))
        if added & currents:
            raise koji.GenericError('Cannot add existing Kerberos principals: %s'
                                    % ', '.join(added & currents))
        if removed - currents:
            raise koji.GenericError('Cannot remove non-existent Kerberos principals: %s'
                                    % ', '.join(removed - currents))
        for principal in added:
            other = self.state.find_user(principal)
            if other is not None and principal in other['krb_principals']:
                # the hub's user_krb_principals.krb_principal is UNIQUE
                raise koji.GenericError(
                    'IntegrityError: duplicate key value violates unique constraint '
                    '"user_krb_principals_krb_principal_key"')
        if name and user['name'] != name:
            self._touch()
            if user['name'] in self.state.passwords:
                self.state.passwords[name] = self.state.passwords.pop(user['name'])
            user['name'] = name
            self.state.reindex()
        if added or removed:
            self._touch()
            user['krb_principals'] = [p for p in user['krb_principals'] if p not in removed]
            user['krb_principals'].extend(sorted(added))

    def _set_user_status(self, username, status):
        user = self.state.find_user(username)
        if not user:
            raise koji.GenericError('No such user: %s' % username)
        self._assert_perm('admin')
        if user['status'] != status:
            self._touch()
            user['status'] = status

    def enableUser(self, username):
        self._set_user_status(username, koji.USER_STATUS['NORMAL'])

    def disableUser(self, username):
        self._set_user_status(username, koji.USER_STATUS['BLOCKED'])

    def getUserPerms(self, userID=None, with_groups=True):
        user = self.getUser(userID, strict=True)
        return sorted(self.state.perms[p]['name']
                      for p in self.state.user_perms.get(user['id'], ()))

    def grantPermission(self, userinfo, permission, create=False, description=None):
        self._assert_perm('admin')
        if create:
            verify_name(permission)
        if description is not None and not create:
            raise koji.GenericError('Description should be specified only with create.')
        user = self._user(userinfo)
        perm = self.state.find_perm(permission)
        if perm is None and not create:
            raise koji.GenericError('No such permission: %s' % permission)
        if perm and perm['id'] in self.state.user_perms.setdefault(user['id'], set()):
            raise koji.GenericError('user %s already has permission: %s'
                                    % (userinfo, perm['name']))
        pid = perm['id'] if perm else self.state.ensure_perm(permission, description)
        self._write()
        self.state.user_perms[user['id']].add(pid)

    def revokePermission(self, userinfo, permission):
        self._assert_perm('admin')
        user = self._user(userinfo)
        perm = self.state.find_perm(permission)
        if perm is None:
            raise koji.GenericError('No such permission: %s' % permission)
        if perm['id'] not in self.state.user_perms.get(user['id'], set()):
            raise koji.GenericError('user %s does not have permission: %s'
                                    % (userinfo, perm['name']))
        self._write()
        self.state.user_perms[user['id']].discard(perm['id'])
