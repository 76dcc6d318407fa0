"""Parameter helpers: arch lists, external repo URLs."""

from ansible_collections.kojiforge.koji.plugins.module_utils.koji_params import normalize_url, same_arches, split_arches


def test_split_and_compare_arches():
    assert split_arches('x86_64, aarch64 ppc64le') == ['x86_64', 'aarch64', 'ppc64le']
    assert split_arches(['x86_64 aarch64', 's390x']) == ['x86_64', 'aarch64', 's390x']
    assert same_arches('x86_64 aarch64', ['aarch64', 'x86_64'])
    assert not same_arches('x86_64', ['aarch64', 'x86_64'])
    assert same_arches(None, [])


def test_normalize_url():
    assert normalize_url('http://x/a') == 'http://x/a/'
    assert normalize_url('http://x/a/') == 'http://x/a/'
