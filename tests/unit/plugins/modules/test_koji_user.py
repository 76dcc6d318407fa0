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
