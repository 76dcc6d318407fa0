"""koji_host against the fake hub."""


def test_add_host_sets_channels_from_default(hub):
    mark = hub.mark()
    check = hub.run('koji_host', check_mode=True, name='b1.example.com', arches=['x86_64'],
                    channels=['createrepo'])
    assert check['changed'] is True
    assert check['changes'][0]['changes'] == [
        'add host (arches x86_64)', 'remove from channel default', 'add to channel createrepo']
    hub.assert_unchanged(mark)
    result = hub.run('koji_host', name='b1.example.com', arches=['x86_64', 'aarch64'],
                     capacity=6.0, description='rpm builder', channels=['createrepo', 'image'])
    assert not result.get('failed'), result
    host = hub.anon.getHost('b1.example.com')
    assert (set(host['arches'].split()), host['capacity'], host['description'],
            host['enabled']) == ({'x86_64', 'aarch64'}, 6.0, 'rpm builder', True)
    assert sorted(c['name'] for c in hub.anon.listChannels(hostID=host['id'])) == \
        ['createrepo', 'image']
    mark = hub.mark()
    again = hub.run('koji_host', name='b1.example.com', arches='aarch64 x86_64', capacity=6.0,
                    description='rpm builder', channels=['image', 'createrepo'])
    assert again['changed'] is False
    hub.assert_unchanged(mark)


def test_disable_uses_disablehost_not_edithost(hub):
    hub.state.add_host('b1.example.com')
    result = hub.run('koji_host', diff=True, name='b1.example.com', state='disabled',
                     comment='maintenance')
    assert result['changed']
    assert hub.anon.getHost('b1.example.com')['enabled'] is False
    assert hub.anon.getHost('b1.example.com')['comment'] == 'maintenance'
    assert result['diff'][0]['before']['enabled'] is True
    assert result['diff'][0]['after']['enabled'] is False
    assert hub.run('koji_host', name='b1.example.com', enabled=False)['changed'] is False
    assert hub.run('koji_host', name='b1.example.com', enabled=True)['changed'] is True
    assert hub.anon.getHost('b1.example.com')['enabled'] is True


def test_channels_not_given_are_left_alone(hub):
    hub.state.add_host('b1.example.com', channels=['default', 'image'])
    mark = hub.mark()
    assert hub.run('koji_host', name='b1.example.com', arches=['x86_64'])['changed'] is False
    hub.assert_unchanged(mark)


def test_bad_inputs_fail_and_write_nothing(hub):
    mark = hub.mark()
    cases = [
        (dict(hosts=[{'name': 'ok.example.com', 'arches': ['x86_64']},
                     {'name': 'b.example.com', 'arches': ['x86_64'], 'channels': ['nope']}]),
         'unknown channel nope'),
        (dict(name='b.example.com', arches=['amd-64']), "unknown arch 'amd-64'"),
        (dict(name='b.example.com'), 'arches are required to add a host'),
        (dict(name='b.example.com', arches=['x86_64'], capacity=0.5), 'capacity must be above 1'),
    ]
    for args, message in cases:
        result = hub.run('koji_host', **args)
        assert result.get('failed'), args
        assert message in result['msg']
        hub.assert_unchanged(mark)
    assert hub.anon.getHost('ok.example.com') is None


def _channels(hub, name):
    return sorted(c['name'] for c in hub.anon.listChannels(hostID=hub.anon.getHost(name)['id']))


def test_channels_are_exact_by_default(hub):
    hub.state.add_host('b1.example.com', channels=['default', 'image', 'createrepo'])
    result = hub.run('koji_host', name='b1.example.com', channels=['createrepo'])
    assert result['changes'][0]['changes'] == ['remove from channel default',
                                               'remove from channel image']
    assert _channels(hub, 'b1.example.com') == ['createrepo']


def test_purge_channels_false_keeps_the_channels_added_by_hand(hub):
    hub.state.add_host('b1.example.com', channels=['default', 'image'])
    mark = hub.mark()
    args = dict(name='b1.example.com', channels=['createrepo'], purge_channels=False)
    check = hub.run('koji_host', check_mode=True, diff=True, **args)
    assert check['changes'][0]['changes'] == ['add to channel createrepo']
    assert check['diff'][0]['before']['channels'] == ['default', 'image']
    assert check['diff'][0]['after']['channels'] == ['createrepo', 'default', 'image']
    hub.assert_unchanged(mark)
    result = hub.run('koji_host', **args)
    assert result['changed'] is True
    assert _channels(hub, 'b1.example.com') == ['createrepo', 'default', 'image']
    mark = hub.mark()
    assert hub.run('koji_host', **args)['changed'] is False
    hub.assert_unchanged(mark)
    # The same host in a list, declared with a channel it already has: nothing to do.
    again = hub.run('koji_host', hosts=[{'name': 'b1.example.com', 'channels': ['image'],
                                         'purge_channels': False}])
    assert again['changed'] is False
    hub.assert_unchanged(mark)


def test_a_new_host_is_in_exactly_its_channels_even_without_purge(hub):
    result = hub.run('koji_host', name='b1.example.com', arches=['x86_64'],
                     channels=['createrepo'], purge_channels=False)
    assert result['changes'][0]['changes'] == [
        'add host (arches x86_64)', 'remove from channel default', 'add to channel createrepo']
    assert _channels(hub, 'b1.example.com') == ['createrepo']


def test_enabled_not_given_keeps_a_host_disabled_by_hand(hub):
    hub.state.add_host('b1.example.com', enabled=False, capacity=4.0)
    mark = hub.mark()
    result = hub.run('koji_host', name='b1.example.com', arches=['x86_64'], capacity=4.0,
                     channels=['default'], purge_channels=False)
    assert result['changed'] is False
    hub.assert_unchanged(mark)
    assert hub.anon.getHost('b1.example.com')['enabled'] is False


def test_krb_principal_is_mapped_to_an_existing_hosts_user(hub):
    hub.state.add_host('b1.example.com', krb_principal='host/b1.example.com@EXAMPLE.COM')
    mark = hub.mark()
    principal = 'compile/b1.example.com@EXAMPLE.COM'
    check = hub.run('koji_host', check_mode=True, diff=True, name='b1.example.com',
                    krb_principal=principal)
    assert check['changed'] and check['changes'][0]['changes'] == [
        'add Kerberos principal %s' % principal]
    assert check['diff'][0]['before']['krb_principals'] == ['host/b1.example.com@EXAMPLE.COM']
    assert check['diff'][0]['after']['krb_principals'] == [
        principal, 'host/b1.example.com@EXAMPLE.COM']
    hub.assert_unchanged(mark)
    result = hub.run('koji_host', name='b1.example.com', krb_principal=principal)
    assert result['changed'] and not result.get('failed'), result
    assert hub.writes_since(mark) == ['editUser']
    user = hub.anon.getUser(hub.anon.getHost('b1.example.com')['user_id'])
    assert sorted(user['krb_principals']) == [principal, 'host/b1.example.com@EXAMPLE.COM']
    mark = hub.mark()
    for check_mode in (True, False):
        assert hub.run('koji_host', check_mode=check_mode, name='b1.example.com',
                       krb_principal=principal)['changed'] is False
    hub.assert_unchanged(mark)


def test_a_new_host_gets_its_krb_principal_with_addhost(hub):
    principal = 'compile/b2.example.com@EXAMPLE.COM'
    result = hub.run('koji_host', name='b2.example.com', arches=['x86_64'],
                     krb_principal=principal)
    assert result['changes'][0]['changes'] == ['add host (arches x86_64)']
    assert 'editUser' not in hub.hub.calls
    assert hub.anon.getUser('b2.example.com')['krb_principals'] == [principal]
    mark = hub.mark()
    assert hub.run('koji_host', name='b2.example.com', krb_principal=principal)['changed'] \
        is False
    hub.assert_unchanged(mark)


def test_bad_or_taken_host_principals_fail_before_any_write(hub):
    hub.state.add_host('b1.example.com', krb_principal='compile/b1.example.com@EXAMPLE.COM')
    hub.state.add_host('b2.example.com')
    mark = hub.mark()
    result = hub.run('koji_host', hosts=[
        {'name': 'b3.example.com', 'arches': ['x86_64']},
        {'name': 'b2.example.com', 'krb_principal': 'compile/b2.example.com'},
    ])
    assert result.get('failed')
    assert "host 'b2.example.com': malformed Kerberos principal 'compile/b2.example.com'" \
        in result['msg']
    result = hub.run('koji_host', hosts=[
        {'name': 'b3.example.com', 'arches': ['x86_64']},
        {'name': 'b2.example.com', 'krb_principal': 'compile/b1.example.com@EXAMPLE.COM'},
    ])
    assert result.get('failed')
    assert ('host b2.example.com: Kerberos principal compile/b1.example.com@EXAMPLE.COM '
            'belongs to user b1.example.com already') in result['msg']
    hub.assert_unchanged(mark)
    assert hub.anon.getHost('b3.example.com') is None
