"""Mirrorlists: parsing, the arch of a URL, keeping the current mirror."""

from ansible_collections.kojiforge.koji.plugins.module_utils import koji_mirrorlist as ml


def test_parse_mirrorlist_plain_and_metalink():
    text = '# comment\n\nhttp://a/x86_64/os/\nftp://b/x86_64/os/\nnot-a-url\nhttp://a/x86_64/os/\n'
    assert ml.parse_mirrorlist(text) == ['http://a/x86_64/os/', 'ftp://b/x86_64/os/']
    metalink = ('<?xml version="1.0"?><metalink><url protocol="https">'
                'https://m/epel/9/x86_64/repodata/repomd.xml</url>'
                '<url protocol="rsync">rsync://m/epel/9/x86_64/repodata/repomd.xml</url>'
                '</metalink>')
    assert ml.parse_mirrorlist(metalink) == ['https://m/epel/9/x86_64/']


def test_to_koji_url_replaces_arch_segments_only():
    assert ml.to_koji_url('https://x86_64.example.org/alma/9/BaseOS/x86_64/os', 'x86_64') == \
        'https://x86_64.example.org/alma/9/BaseOS/$arch/os/'
    assert ml.expand_arch('http://m/list?arch=$basearch&a=$arch', 'aarch64') == \
        'http://m/list?arch=aarch64&a=aarch64'


def test_choose_url_keeps_current_while_listed():
    mirrors = ['http://b/x86_64/', 'http://a/x86_64/']
    assert ml.choose_url(mirrors, 'x86_64', 'http://a/$arch') == ('http://a/$arch/', True)
    assert ml.choose_url(mirrors, 'x86_64', 'http://gone/$arch/') == ('http://b/$arch/', False)
    assert ml.choose_url(mirrors, 'x86_64') == ('http://b/$arch/', False)
    assert ml.choose_url([], 'x86_64', 'http://a/') == (None, False)
