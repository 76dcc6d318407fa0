"""koji_channel against the fake hub."""


def test_create_describe_disable_noop(hub):
    mark = hub.mark()
    check = hub.run('koji_channel', check_mode=True, name='image', description='images')
    assert check['changed'] is True
    hub.assert_unchanged(mark)
    assert hub.anon.getChannel('image')['description'] is None  # default channel exists
    new = hub.run('koji_channel', name='heavy', description='big builders', enabled=False,
                  comment='not yet')
    assert new['changed'] and new['changes'][0]['action'] == 'create'
    chan = hub.anon.getChannel('heavy')
    assert (chan['description'], chan['enabled'], chan['comment']) == \
        ('big builders', False, 'not yet')
    mark = hub.mark()
    again = hub.run('koji_channel', name='heavy', description='big builders', enabled=False,
                    comment='not yet')
    assert again['changed'] is False
    hub.assert_unchanged(mark)
    diff = hub.run('koji_channel', diff=True, name='heavy', enabled=True)
    assert diff['diff'][0]['before']['enabled'] is False
    assert diff['diff'][0]['after']['enabled'] is True
    assert hub.anon.getChannel('heavy')['enabled'] is True


def test_hosts_added_but_members_kept_unless_purged(hub):
    hub.state.add_host('b1.example.com', channels=['default', 'createrepo'])
    hub.state.add_host('b2.example.com', channels=['default'])
    result = hub.run('koji_channel', name='createrepo', hosts=['b2.example.com'])
    assert result['changed']
    members = sorted(h['name'] for h in hub.anon.listHosts(channelID='createrepo'))
    assert members == ['b1.example.com', 'b2.example.com']  # b1 kept
    mark = hub.mark()
    assert hub.run('koji_channel', name='createrepo', hosts=['b2.example.com'])['changed'] is False
    hub.assert_unchanged(mark)
    purged = hub.run('koji_channel', name='createrepo', hosts=['b2.example.com'],
                     purge_hosts=True)
    assert purged['changes'][0]['changes'] == ['remove host b1.example.com']
    members = sorted(h['name'] for h in hub.anon.listHosts(channelID='createrepo'))
    assert members == ['b2.example.com']


def test_adding_a_host_to_a_disabled_channel(hub):
    hub.state.add_host('b1.example.com')
    result = hub.run('koji_channel', name='quiet', enabled=False, hosts=['b1.example.com'])
    assert not result.get('failed'), result
    assert [h['name'] for h in hub.anon.listHosts(channelID='quiet')] == ['b1.example.com']


def test_unknown_host_fails_and_writes_nothing(hub):
    mark = hub.mark()
    result = hub.run('koji_channel', channels=[
        {'name': 'new-one'}, {'name': 'createrepo', 'hosts': ['ghost.example.com']}])
    assert result.get('failed')
    assert 'unknown host ghost.example.com' in result['msg']
    hub.assert_unchanged(mark)
    assert hub.anon.getChannel('new-one') is None


def test_purge_without_hosts_is_refused(hub):
    result = hub.run('koji_channel', name='createrepo', purge_hosts=True)
    assert result.get('failed')
    assert 'purge_hosts needs hosts' in result['msg']
