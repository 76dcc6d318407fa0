"""koji_user against the fake hub."""


def test_create_grant_revoke_disable(hub):
    mark = hub.mark()
    check = hub.run('koji_user', check_mode=True, name='releng', permissions=['tag', 'target'])
    assert check['changed'] and check['changes'][0]['action'] == 'create'
    hub.assert_unchanged(mark)
    assert hub.run('koji_user', name='releng', permissions=['tag', 'target'])['changed']
    assert sorted(hub.anon.getUserPerms('releng')) == ['tag', 'target']
    mark = hub.mark()
    assert hub.run('koji_user', name='releng', permissions=['target', 'tag'])['changed'] is False
    hub.assert_unchanged(mark)
    result = hub.run('koji_user', diff=True, name='releng', permissions=['repo'],
                     state='disabled')
    assert result['diff'][0]['before'] == {'state': 'enabled', 'permissions': ['tag', 'target']}
    assert result['diff'][0]['after'] == {'state': 'disabled', 'permissions': ['repo']}
    assert hub.anon.getUserPerms('releng') == ['repo']
    assert hub.anon.getUser('releng')['status'] == 1


def test_permissions_not_given_are_left_alone(hub):
    hub.state.add_user('svc', perms=['repo'])
    mark = hub.mark()
    assert hub.run('koji_user', users=[{'name': 'svc'}])['changed'] is False
    hub.assert_unchanged(mark)


def test_unknown_permission_fails_and_writes_nothing(hub):
    mark = hub.mark()
    result = hub.run('koji_user', users=[{'name': 'a', 'permissions': ['tag']},
                                         {'name': 'b', 'permissions': ['superpowers']}])
    assert result.get('failed')
    assert 'unknown permission superpowers' in result['msg']
    hub.assert_unchanged(mark)
    assert hub.anon.getUser('a') is None


def test_the_logged_in_administrator_cannot_be_locked_out(hub):
    hub.state.add_user('other-admin', perms=['admin'])
    mark = hub.mark()
    for change in ({'permissions': ['tag']}, {'state': 'disabled'}):
        result = hub.run('koji_user', users=[dict(change, name='admin'),
                                             {'name': 'newcomer', 'permissions': ['tag']}])
        assert result.get('failed'), result
        assert 'user admin: refusing to %s the user this module is logged in as' % (
            'revoke admin from' if 'permissions' in change else 'disable') in result['msg']
    hub.assert_unchanged(mark)
    assert 'admin' in hub.anon.getUserPerms('admin')
    assert hub.anon.getUser('admin')['status'] == 0
    assert hub.anon.getUser('newcomer') is None
    # another administrator can lose admin, and the check-mode run does not log in
    assert hub.run('koji_user', check_mode=True, name='admin', state='disabled')['changed']
    hub.assert_unchanged(mark)
    result = hub.run('koji_user', name='other-admin', permissions=[], state='disabled')
    assert not result.get('failed') and result['changed']
    assert hub.anon.getUserPerms('other-admin') == []


def test_krb_principal_is_added_to_an_existing_user_and_others_are_kept(hub):
    hub.state.add_user('releng', krb_principal='releng@OLD.EXAMPLE.COM')
    mark = hub.mark()
    check = hub.run('koji_user', check_mode=True, diff=True, name='releng',
                    krb_principal='releng@EXAMPLE.COM')
    assert check['changed'] and check['changes'] == [
        {'type': 'user', 'name': 'releng', 'action': 'update',
         'changes': ['add Kerberos principal releng@EXAMPLE.COM']}]
    assert check['diff'][0]['before']['krb_principals'] == ['releng@OLD.EXAMPLE.COM']
    assert check['diff'][0]['after']['krb_principals'] == [
        'releng@EXAMPLE.COM', 'releng@OLD.EXAMPLE.COM']
    hub.assert_unchanged(mark)
    result = hub.run('koji_user', name='releng', krb_principal='releng@EXAMPLE.COM')
    assert result['changed'] and not result.get('failed'), result
    assert hub.writes_since(mark) == ['editUser']
    assert sorted(hub.anon.getUser('releng')['krb_principals']) == [
        'releng@EXAMPLE.COM', 'releng@OLD.EXAMPLE.COM']
    mark = hub.mark()
    for check_mode in (True, False):
        again = hub.run('koji_user', check_mode=check_mode, name='releng',
                        krb_principal='releng@EXAMPLE.COM')
        assert again['changed'] is False, again
    hub.assert_unchanged(mark)


def test_a_new_user_is_created_with_its_krb_principal(hub):
    result = hub.run('koji_user', diff=True, name='kojira', krb_principal='kojira/hub@EX.COM')
    assert result['changes'][0]['changes'] == ['create user']
    assert result['diff'][0]['after']['krb_principals'] == ['kojira/hub@EX.COM']
    assert hub.anon.getUser('kojira')['krb_principals'] == ['kojira/hub@EX.COM']
    mark = hub.mark()
    assert hub.run('koji_user', name='kojira', krb_principal='kojira/hub@EX.COM')['changed'] \
        is False
    hub.assert_unchanged(mark)


def test_bad_or_taken_krb_principals_fail_before_any_write(hub):
    hub.state.add_user('alice', krb_principal='alice@EXAMPLE.COM')
    hub.state.add_user('bob')
    mark = hub.mark()
    result = hub.run('koji_user', users=[
        {'name': 'newcomer', 'permissions': ['tag']},
        {'name': 'bob', 'krb_principal': 'bob'},
        {'name': 'carol', 'krb_principal': 'carol@'},
        {'name': 'dave', 'krb_principal': 'dave@EXAMPLE.COM@X'},
        {'name': 'erin', 'krb_principal': 'erin @EXAMPLE.COM'},
    ])
    assert result.get('failed'), result
    for name, principal in (('bob', 'bob'), ('carol', 'carol@'), ('dave', 'dave@EXAMPLE.COM@X'),
                            ('erin', 'erin @EXAMPLE.COM')):
        assert any(error.startswith("user '%s': malformed Kerberos principal %r"
                                    % (name, principal)) for error in result['errors']), \
            result['errors']
    # one that another user has, and one given twice in a request
    result = hub.run('koji_user', users=[{'name': 'newcomer', 'permissions': ['tag']},
                                         {'name': 'bob', 'krb_principal': 'alice@EXAMPLE.COM'}])
    assert result.get('failed')
    assert 'user bob: Kerberos principal alice@EXAMPLE.COM belongs to user alice already' \
        in result['msg']
    result = hub.run('koji_user', users=[{'name': 'x1', 'krb_principal': 'x@EXAMPLE.COM'},
                                         {'name': 'x2', 'krb_principal': 'x@EXAMPLE.COM'}])
    assert 'Kerberos principal x@EXAMPLE.COM is given more than once' in result['msg']
    hub.assert_unchanged(mark)
    assert hub.anon.getUser('newcomer') is None
    assert hub.anon.getUser('bob')['krb_principals'] == []
