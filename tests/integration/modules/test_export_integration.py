"""The round trip of kojiforge.koji.koji_export through ansible-playbook, against each hub of
the ``target`` fixture (the fake hub; the real hub with ``--real-koji``), as the module
integration suite (test_modules_integration.py, whose Target this reuses) runs:

- a site of every kind of object, declared with the modules, is exported back exactly as it
  was declared (the declarations hold only what differs from the defaults, in a stable order)
  and with nothing reported;
- the export applied to the same hub with the modules changes nothing and creates no event
  touching the run's objects;
- applied to objects the hub does not have (a copy under a second prefix: on a shared hub that
  is what a new hub is for them), and exported again, it gives the same declarations.

Hosts, users and channels stay behind with the run's prefix (Koji cannot delete them).
"""

import json

import pytest

from test_modules_integration import Target, cleanup, real_hub_settings, run_module

APPLY = (('koji_external_repo', 'external_repos', 'repos'), ('koji_channel', 'channels', 'channels'),
         ('koji_user', 'users', 'users'), ('koji_host', 'hosts', 'hosts'), ('koji_tag', 'tags', 'tags'),
         ('koji_target', 'targets', 'targets'))


@pytest.fixture(scope='module', params=['fake', pytest.param('real', marks=pytest.mark.real_koji)])
def target(request):
    hub = Target(**real_hub_settings(request)) if request.param == 'real' else Target()
    yield hub
    try:
        cleanup(hub)
    finally:
        hub.stop()


def site(p):
    """Every kind of object with the options the modules declare, written as the export writes
    them: only what differs from the defaults, objects by name, keys in the modules' order."""
    return {
        'external_repos': [{'name': p + 'extras', 'url': 'https://mirror.example.org/extras/$arch/'},
                           {'name': p + 'os', 'url': 'https://mirror.example.org/os/$arch/'}],
        'channels': [{'name': p + 'heavy', 'description': 'big builders', 'comment': '64 GiB'},
                     {'name': p + 'retired', 'enabled': False}],
        'users': [{'name': p + 'former', 'state': 'disabled'},
                  {'name': p + 'packager'},
                  {'name': p + 'releng', 'permissions': ['tag', 'target']}],
        'hosts': [{'name': p + 'b1.example.com', 'arches': ['x86_64', 'aarch64'], 'capacity': 6.0,
                   'description': 'a builder', 'comment': 'rack 4', 'enabled': False,
                   'channels': ['createrepo', p + 'heavy']},
                  {'name': p + 'b2.example.com', 'arches': ['x86_64'], 'enabled': False}],
        'tags': [
            {'name': p + 'base', 'arches': ['x86_64', 'aarch64'],
             'extra': {'mock.package_manager': 'dnf', 'rpm.macro.dist': '.el9'},
             'packages': {p + 'packager': ['kernel'], p + 'releng': ['bash', 'gcc', 'rpm']},
             'groups': {'build': ['bash', 'make'], 'srpm-build': ['rpm-build']}},
            {'name': p + 'build', 'arches': ['x86_64'],
             'inheritance': [{'parent': p + 'base', 'priority': 0, 'maxdepth': 2, 'intransitive': True,
                              'pkg_filter': '^[a-z]'},
                             {'parent': p + 'locked', 'priority': 10, 'noconfig': True}],
             'external_repos': [{'repo': p + 'os', 'priority': 10},
                                {'repo': p + 'extras', 'priority': 20, 'merge_mode': 'bare',
                                 'arches': ['x86_64']}],
             'packages': {p + 'packager': ['make']},
             'blocked_packages': ['gcc'],
             'groups': {'build': ['gcc'], 'custom': ['vim']}},
            {'name': p + 'candidate', 'inheritance': [{'parent': p + 'base', 'priority': 5}]},
            {'name': p + 'locked', 'perm': 'admin', 'locked': True},
        ],
        'targets': [{'name': p + 'el9', 'build_tag': p + 'build', 'dest_tag': p + 'candidate'}],
    }


def apply(hub, declarations):
    """Every list with its module, in config.yml's order, in one ansible-playbook run."""
    tasks = []
    for module, kind, list_key in APPLY:
        if declarations.get(kind):
            params = dict(hub.conn)
            params[list_key] = declarations[kind]
            tasks.append((module, params, False))
    results = [entry['result'] for entry in hub.runner.run(tasks, label='apply the export')]
    for result in results:
        assert not result.get('failed'), (result.get('msg'), result.get('errors'))
    return results


def export(hub, pattern):
    result = run_module(hub, 'koji_export', {'names': [pattern]})
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is False
    return result


def renamed(declarations, old, new):
    return json.loads(json.dumps(declarations).replace(old, new))


def test_export_round_trip(target):
    p = target.prefix
    declared = site(p)
    apply(target, declared)

    start = target.event()
    first = export(target, p + '*')
    target.assert_no_event(start, 'the export')
    assert first['unsupported'] == []
    assert first['declarations'] == declared

    # applied to the hub it came from: nothing changes, no event
    start = target.event()
    for result in apply(target, first['declarations']):
        assert result['changed'] is False, result['changes']
    target.assert_no_event(start, 'applying the export to the same hub')

    # applied where none of its objects exist, then exported again: the same declarations
    copy = p + 'c-'
    for result in apply(target, renamed(first['declarations'], p, copy)):
        assert result['changed'] is True
    again = export(target, copy + '*')
    assert again['unsupported'] == []
    assert renamed(again['declarations'], copy, p) == first['declarations']
