"""Names the hub would refuse fail the whole request before anything is written, in every
module (koji_names.NameRules)."""

import pytest


def test_bad_tag_name_in_the_middle_writes_nothing(hub):
    mark = hub.mark()
    result = hub.run('koji_tag', tags=[{'name': 'good-1'}, {'name': 'bad tag'},
                                       {'name': 'good-2'}])
    assert result.get('failed'), result
    assert "tag 'bad tag'" in result['msg']
    assert 'does not match' in result['msg'] and 'RegexNameInternal' in result['msg']
    hub.assert_unchanged(mark)
    assert hub.anon.getTag('good-1') is None


@pytest.mark.parametrize('module, key, extra', [
    ('koji_tag', 'tags', {}),
    ('koji_target', 'targets', {'build_tag': 'b', 'dest_tag': 'd'}),
    ('koji_channel', 'channels', {}),
    ('koji_host', 'hosts', {'arches': ['x86_64']}),
    ('koji_user', 'users', {}),
    ('koji_external_repo', 'repos', {'url': 'https://mirror.example.org/x/$arch/'}),
])
def test_every_module_checks_names_first(hub, module, key, extra):
    hub.state.add_tag('b')
    hub.state.add_tag('d')
    objects = [dict(extra, name=name) for name in ('ok-1', 'bad name', 'ok-2', '')]
    mark = hub.mark()
    result = hub.run(module, **{key: objects})
    assert result.get('failed'), result
    assert "'bad name': the name 'bad name' does not match" in result['msg']
    assert "'': the name is empty" in result['msg']
    hub.assert_unchanged(mark)


def test_length_limits(hub):
    mark = hub.mark()
    result = hub.run('koji_channel', channels=[{'name': 'c' * 129}])
    assert result.get('failed')
    assert 'is 129 characters long, the hub takes at most 128' in result['msg']
    result = hub.run('koji_tag', tags=[{'name': 't' * 257}])
    assert 'is 257 characters long, the hub takes at most 256' in result['msg']
    hub.assert_unchanged(mark)


def test_user_names_and_principals_follow_the_user_pattern(hub):
    mark = hub.mark()
    result = hub.run('koji_user', users=[{'name': 'svc+x'},
                                         {'name': 'svc', 'krb_principal': 'svc x@EXAMPLE.COM'}])
    assert result.get('failed')
    assert "user 'svc+x': the name 'svc+x' does not match" in result['msg']
    assert 'RegexUserName' in result['msg']
    assert "user 'svc': the Kerberos principal 'svc x@EXAMPLE.COM' does not match" in \
        result['msg']
    hub.assert_unchanged(mark)
    # an e-mail-like user name is fine for users, not for tags
    assert not hub.run('koji_user', name='svc@EXAMPLE.COM').get('failed')


def test_name_pattern_option(hub):
    mark = hub.mark()
    result = hub.run('koji_tag', name='Upper', name_pattern='^[a-z0-9-]+$')
    assert result.get('failed') and '^[a-z0-9-]+$' in result['msg']
    result = hub.run('koji_tag', name='x', name_pattern='[')
    assert result.get('failed') and 'name_pattern' in result['msg'] \
        and 'not a valid regular expression' in result['msg']
    hub.assert_unchanged(mark)
