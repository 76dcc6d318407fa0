"""koji_target against the fake hub."""


def test_create_change_noop_delete(hub):
    for name in ('build', 'build2', 'dest'):
        hub.state.add_tag(name)
    mark = hub.mark()
    check = hub.run('koji_target', check_mode=True, name='t', build_tag='build', dest_tag='dest')
    assert check['changed'] is True
    hub.assert_unchanged(mark)
    assert hub.run('koji_target', name='t', build_tag='build', dest_tag='dest')['changed']
    target = hub.anon.getBuildTarget('t')
    assert (target['build_tag_name'], target['dest_tag_name']) == ('build', 'dest')
    mark = hub.mark()
    assert hub.run('koji_target', name='t', build_tag='build', dest_tag='dest')['changed'] is False
    hub.assert_unchanged(mark)
    changed = hub.run('koji_target', diff=True, name='t', build_tag='build2', dest_tag='dest')
    assert changed['diff'][0]['before']['build_tag'] == 'build'
    assert changed['diff'][0]['after']['build_tag'] == 'build2'
    assert hub.anon.getBuildTarget('t')['build_tag_name'] == 'build2'
    assert hub.run('koji_target', name='t', state='absent')['changed']
    assert hub.anon.getBuildTarget('t') is None


def test_many_targets_few_requests(hub):
    hub.state.add_tag('build')
    hub.state.add_tag('dest')
    targets = [{'name': 't%03d' % i, 'build_tag': 'build', 'dest_tag': 'dest'}
               for i in range(120)]
    assert hub.run('koji_target', targets=targets, batch_size=100)['changed']
    assert len(hub.anon.getBuildTargets()) == 120
    result = hub.run('koji_target', targets=targets, batch_size=100)
    assert result['changed'] is False
    # a count and one getBuildTargets listing instead of 120 getBuildTarget, then 2 getTag:
    # the reads do not grow with the number of targets
    assert result['requests'] == 3
    assert hub.hub.calls.get('getBuildTarget') is None


def test_unknown_tag_and_missing_tag_fail_and_write_nothing(hub):
    hub.state.add_tag('build')
    mark = hub.mark()
    result = hub.run('koji_target', targets=[
        {'name': 'ok', 'build_tag': 'build', 'dest_tag': 'build'},
        {'name': 'bad', 'build_tag': 'build', 'dest_tag': 'missing-dest'}])
    assert result.get('failed')
    assert 'unknown dest tag missing-dest' in result['msg']
    hub.assert_unchanged(mark)
    result = hub.run('koji_target', name='x', build_tag='build')
    assert result.get('failed')
    assert 'dest_tag is required' in result['msg']
    hub.assert_unchanged(mark)
    assert hub.anon.getBuildTarget('ok') is None
