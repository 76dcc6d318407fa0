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
