"""koji_tag and Koji 1.35's repos on demand: a build tag declares ``repo.auto`` (and ``repo.lag``)
in its extra, as Koji names them; values the hub would misread fail the request before anything
is written."""

import pytest


def _build_tag(**extra):
    return {'name': 'el9-build', 'arches': ['x86_64'], 'extra': dict({'mock.package_manager': 'dnf'}, **extra)}


def test_repo_auto_is_declared_and_kept(hub):
    tag = _build_tag(**{'repo.auto': True, 'repo.lag': 600})
    result = hub.run('koji_tag', tags=[tag])
    assert not result.get('failed'), result
    assert hub.anon.getTag('el9-build')['extra'] == {'mock.package_manager': 'dnf', 'repo.auto': True,
                                                     'repo.lag': 600}
    mark = hub.mark()
    again = hub.run('koji_tag', tags=[tag])
    assert again['changed'] is False, again['changes']
    hub.assert_unchanged(mark)


def test_repo_auto_added_to_an_existing_build_tag(hub):
    hub.state.add_tag('el9-build', arches='x86_64', extra={'mock.package_manager': 'dnf'})
    result = hub.run('koji_tag', name='el9-build', extra={'mock.package_manager': 'dnf', 'repo.auto': True})
    assert not result.get('failed'), result
    assert result['changed'] is True
    assert hub.anon.getTag('el9-build')['extra'] == {'mock.package_manager': 'dnf', 'repo.auto': True}


@pytest.mark.parametrize('extra,message', [
    ({'repo.auto': 'false'}, "extra repo.auto must be true or false, not 'false'"),
    ({'repo.auto': 1}, 'extra repo.auto must be true or false, not 1'),
    ({'repo.lag': '3600'}, "extra repo.lag must be a whole number of seconds, not '3600'"),
    ({'repo.lag': True}, 'extra repo.lag must be a whole number of seconds, not True'),
    ({'repo.lag': 1.5}, 'extra repo.lag must be a whole number of seconds, not 1.5'),
], ids=['auto-string', 'auto-int', 'lag-string', 'lag-bool', 'lag-float'])
def test_a_value_the_hub_would_misread_writes_nothing(hub, extra, message):
    hub.state.add_tag('el9-build', arches='x86_64', extra={'mock.package_manager': 'dnf'})
    mark = hub.mark()
    result = hub.run('koji_tag', tags=[_build_tag(**extra), {'name': 'el9-other', 'arches': ['x86_64']}])
    assert result.get('failed') is True, result
    assert 'tag el9-build: ' + message in result['msg'], result['msg']
    hub.assert_unchanged(mark)
    assert hub.anon.getTag('el9-other') is None


def test_repo_auto_false_is_a_boolean_too(hub):
    result = hub.run('koji_tag', tags=[_build_tag(**{'repo.auto': False})])
    assert not result.get('failed'), result
    assert hub.anon.getTag('el9-build')['extra']['repo.auto'] is False
