# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading, validating and planning Koji external repos (used by the koji_external_repo module)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.urls import fetch_url

from ansible_collections.kojiforge.koji.plugins.module_utils.koji_params import normalize_url
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_plan import Plan
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_reads import read_values
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_validation import Validator
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_names import NameRules
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_mirrorlist import (
    choose_url, expand_arch, parse_mirrorlist,
)

PHASE_WRITE = 10
PHASE_DELETE = 90


def fetch_mirrorlist(module, url, arch):
    response, info = fetch_url(module, expand_arch(url, arch), timeout=module.params['timeout'])
    if response is None or info.get('status') != 200:
        return None, 'cannot fetch mirrorlist %s: %s' % (
            expand_arch(url, arch), info.get('msg', info.get('status')))
    body = response.read()
    if isinstance(body, bytes):
        body = body.decode('utf-8', 'replace')
    mirrors = parse_mirrorlist(body)
    if not mirrors:
        return None, 'mirrorlist %s lists no usable mirror' % expand_arch(url, arch)
    return mirrors, None


def plan_repos(conn, repos, module):
    v = Validator()
    v.unique('repos', [r['name'] for r in repos], 'repo')
    NameRules(module.params).check(v, 'external repo', [r['name'] for r in repos])
    for repo in repos:
        where = 'external repo %s' % repo['name']
        if repo.get('state', 'present') == 'absent':
            continue
        if bool(repo.get('url')) == bool(repo.get('mirrorlist')):
            v.error('%s: give exactly one of url or mirrorlist', where)
        elif repo.get('url'):
            v.url(where, repo['url'])
        else:
            v.url(where + ' mirrorlist', repo['mirrorlist'])
    v.check()

    names = [repo['name'] for repo in repos]
    current = dict(zip(names, read_values(conn, [('getExternalRepo', [n], {}) for n in names])))

    fetched = {}
    plan = Plan()
    urls = {}
    for repo in repos:
        name = repo['name']
        cur = current[name]
        where = 'external repo %s' % name
        if repo.get('state', 'present') == 'absent':
            if cur:
                plan.object_change('external_repo', name, 'delete', before={'url': cur['url']},
                                   after={})
                plan.add(PHASE_DELETE, 'external_repo', name, 'delete external repo',
                         'deleteExternalRepo', name)
            continue
        if repo.get('mirrorlist'):
            key = (repo['mirrorlist'], repo['arch'])
            if key not in fetched:
                fetched[key] = fetch_mirrorlist(module, repo['mirrorlist'], repo['arch'])
            mirrors, error = fetched[key]
            if error:
                v.error('%s: %s', where, error)
                continue
            url, _kept = choose_url(mirrors, repo['arch'], cur['url'] if cur else None)
        else:
            url = normalize_url(repo['url'])
        urls[name] = url
        if cur is None:
            plan.object_change('external_repo', name, 'create', before={}, after={'url': url})
            plan.add(PHASE_WRITE, 'external_repo', name, 'create with url %s' % url,
                     'createExternalRepo', name, url)
        elif normalize_url(cur['url']) != url:
            plan.object_change('external_repo', name, 'update', before={'url': cur['url']},
                               after={'url': url})
            plan.add(PHASE_WRITE, 'external_repo', name, 'set url to %s' % url,
                     'editExternalRepo', name, url=url)
    v.check()
    plan.extra_result['urls'] = urls
    return plan
