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
