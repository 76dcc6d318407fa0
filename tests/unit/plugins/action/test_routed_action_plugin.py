"""The six object modules in a playbook: meta/runtime.yml routes them to the one action plugin
(which reads ``src`` into each module's own list option), one
``module_defaults: group/kojiforge.koji.koji`` gives all of them the connection, and the
defaults of one module stay its own (a routing that made the modules aliases of the action
plugin would hand koji_host's capacity to the other five, which refuse it).
ANSIBLE_PLAYBOOK names another ansible-playbook (another ansible-core) to run it with."""

import json
import os
import subprocess
import sys

import yaml

from fakehub.runner import collection_path

ANSIBLE_PLAYBOOK = os.environ.get(
    'ANSIBLE_PLAYBOOK', os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'))

DECLARATIONS = [
    ('koji_external_repo', [{'name': 'routed-repo', 'url': 'https://mirror.example.org/os/$arch/'}]),
    ('koji_channel', [{'name': 'routed-channel'}]),
    ('koji_user', [{'name': 'routed-user'}]),
    ('koji_host', [{'name': 'routed-host.example.org', 'arches': ['x86_64'],
                    'channels': ['routed-channel']}]),
    ('koji_tag', [{'name': 'routed-tag', 'external_repos': [{'repo': 'routed-repo', 'priority': 5}],
                   'packages': {'routed-user': ['bash']}}]),
    ('koji_target', [{'name': 'routed-target', 'build_tag': 'routed-tag',
                      'dest_tag': 'routed-tag'}]),
]


def test_every_module_reads_src_and_takes_the_group_defaults(hub, tmp_path):
    tasks = []
    for module, objects in DECLARATIONS:
        path = tmp_path / ('%s.json' % module)
        path.write_text(json.dumps(objects))
        tasks.append({'name': module, 'kojiforge.koji.%s' % module: {'src': str(path)}})
    # a host given by top-level options, which take the module's own defaults
    tasks.append({'name': 'one host', 'kojiforge.koji.koji_host': {
        'name': 'routed-host2.example.org', 'arches': ['x86_64']}})
    play = [{'hosts': 'localhost', 'gather_facts': False,
             'module_defaults': {'group/kojiforge.koji.koji': hub.conn,
                                 'kojiforge.koji.koji_host': {'capacity': 4.0}},
             'tasks': tasks}]
    playbook = tmp_path / 'play.yml'
    playbook.write_text(yaml.safe_dump(play))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collection_path(), ANSIBLE_FORCE_COLOR='false',
               ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_INVENTORY_UNPARSED_WARNING='false',
               ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    proc = subprocess.run([ANSIBLE_PLAYBOOK, '-i', 'localhost,', '-c', 'local', str(playbook)],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert 'changed=7' in proc.stdout, proc.stdout[-3000:]
    anon = hub.anon
    assert anon.getExternalRepo('routed-repo')['url'] == 'https://mirror.example.org/os/$arch/'
    assert anon.getChannel('routed-channel')
    assert anon.getUser('routed-user')
    host = anon.getHost('routed-host.example.org')
    assert [c['name'] for c in anon.listChannels(hostID=host['id'])] == ['routed-channel']
    assert anon.getHost('routed-host2.example.org')['capacity'] == 4.0
    assert [p['package_name'] for p in anon.listPackages(tagID='routed-tag')] == ['bash']
    assert anon.getBuildTarget('routed-target')['build_tag_name'] == 'routed-tag'
