"""Validation of a whole request: every problem at once, known arches."""

import pytest

from ansible_collections.kojiforge.koji.plugins.module_utils.koji_errors import KojiModuleError
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_validation import Validator


def test_validator_collects_every_problem():
    v = Validator()
    v.arches('tag t', ['x86_64', 'x86-64', 'i686;'])
    v.url('repo r', 'http://ok.example.org/$arch/')
    v.url('repo s', 'gopher://x/')
    v.unique('tag t', [1, 2, 1], 'priority')
    assert len(v.errors) == 4
    with pytest.raises(KojiModuleError) as exc:
        v.check()
    assert '4 problems' in exc.value.msg
    assert exc.value.extra['errors'] == v.errors
