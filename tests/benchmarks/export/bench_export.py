"""Benchmark of the export (kojiforge.koji.koji_export, playbooks/export.yml) at CERN scale.

Seeds a fake hub directly (no hub calls) with a CERN-sized site: by default 2,700 tags in an
inheritance forest (some links with maxdepth, intransitive, noconfig or a package filter),
16,000 package listings with 40 owners and some blocks, comps groups on every build tag, 40
external repos on the build tags, 600 targets, 25 users with permissions and 60 hosts in
channels. Then it exports the whole hub and prints, for each way of running it:

  - the module alone, in this process (the engine's own time: reads, building the declarations);
  - playbooks/export.yml with ansible-playbook (the module on the "hub host", here this
    machine, plus writing the YAML files on the controller), the way a site runs it;

the wall time, the HTTP requests the hub served and the calls in them (a multicall batch is one
request holding many calls), and the objects exported. The goal is an export of at most 30 s.
It checks that the export wrote no hub event; it asserts nothing about time. (Build tags that
repeat the comps group packages they inherit, as many sites have them, are reported.)

    python3 tests/benchmarks/export/bench_export.py                 # CERN scale
    python3 tests/benchmarks/export/bench_export.py --tags 300 --listings 1600   # smaller
    python3 tests/benchmarks/export/bench_export.py --engine-only   # without ansible-playbook

Against a real hub (the demo cluster's, seeded at CERN scale by ``make integration-real BENCH=1``,
which then runs this): playbooks/export.yml with the inventory, then its files applied back to
the same hub with playbooks/config.yml (koji_<list>_src), printing both wall times, the hub
requests each made (its Apache access log) and whether the hub's last event moved:

    python3 tests/benchmarks/export/bench_export.py --inventory inventories/local \
      --koji koji --read-via "podman exec -i hub.koji.test" \
      --access-log-via "podman exec hub.koji.test" [--names 'bench-*']
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time

import yaml

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, TESTS_DIR)
sys.path.insert(0, os.path.join(TESTS_DIR, 'integration'))
sys.path.insert(0, os.path.join(TESTS_DIR, 'benchmarks', 'modules'))

from fakehub import FakeHub  # noqa: E402
from fakehub import runner  # noqa: E402
from playbook_runner import ANSIBLE_PLAYBOOK, REPO_ROOT, HubReader  # noqa: E402
from bench_modules import DEFAULT_ACCESS_LOG, AccessLog  # noqa: E402

KINDS = ('external_repos', 'channels', 'users', 'hosts', 'tags', 'targets')

LINK_OPTIONS = ({}, {'maxdepth': 2}, {'intransitive': True}, {'noconfig': True},
                {'pkg_filter': '^[a-p]'}, {}, {})
GROUP_CONFIG = {'exported': True, 'is_default': None, 'uservisible': True, 'description': None,
                'langonly': None, 'biarchonly': False, 'blocked': False}


def seed(state, args):
    """The site, straight into the fake hub's tables; returns what was seeded, by kind."""
    counts = collections.Counter()
    owners = ['owner%02d' % i for i in range(args.owners)]
    for index, name in enumerate(owners):
        state.add_user(name, perms=['tag'] if index % 4 == 0 else [])
    for name in ('releng', 'kojira', 'packager'):
        state.add_user(name, perms=['repo'] if name == 'kojira' else ['tag', 'target'])
    counts['users'] = len(owners) + 3 + 1  # and the admin
    for i in range(args.channels):
        state.add_channel('channel-%02d' % i, description='builders of kind %d' % i)
    for i in range(args.hosts):
        state.add_host('builder%03d.example.org' % i, arches=['x86_64', 'aarch64'][:1 + i % 2],
                       capacity=2.0 + i % 4, channels=['default', 'channel-%02d' % (i % args.channels)])
    repos = [state.add_external_repo('mirror-%02d' % i, 'https://mirror%d.example.org/%d/$arch/' % (i % 7, i))
             for i in range(args.external_repos)]
    tag_ids = []
    for i in range(args.tags):
        build = i % 3 == 2
        tid = state.add_tag('tag-%04d' % i, arches='x86_64 aarch64' if i % 4 else 'x86_64',
                            extra={'mock.package_manager': 'dnf'} if build else {})
        tag_ids.append(tid)
        if i >= 10:
            links = {tag_ids[(i - 1) // 3]: dict({'priority': 10, 'maxdepth': None, 'intransitive': False,
                                                  'noconfig': False, 'pkg_filter': ''},
                                                 **LINK_OPTIONS[i % len(LINK_OPTIONS)])}
            if i % 5 == 0:
                links[tag_ids[(i - 1) // 7]] = {'priority': 20, 'maxdepth': None, 'intransitive': False,
                                                'noconfig': False, 'pkg_filter': ''}
            state.inheritance[tid] = links
        if build:
            links = state.tag_external_repos.setdefault(tid, {})
            links[repos[i % len(repos)]] = {'priority': 10, 'merge_mode': 'koji', 'arches': None}
            links[repos[(i + 1) % len(repos)]] = {'priority': 20, 'merge_mode': 'bare', 'arches': None}
            for group, packages in (('build', ['bash', 'gcc', 'make', 'rpm-build-%d' % (i % 50)]),
                                    ('srpm-build', ['rpm-build-%d' % (i % 50)])):
                gid = state.ensure_group(group)
                state.tag_groups.setdefault(tid, {})[gid] = dict(GROUP_CONFIG, display_name=group)
                state.group_packages.setdefault(tid, {})[gid] = dict(
                    (package, {'blocked': False, 'type': 'mandatory', 'basearchonly': None,
                               'requires': None}) for package in packages)
    # listings: the package names of a tag are its own (pkg-<tag>-<n>), so that no tag lists
    # what it inherits; every fiftieth tag blocks one package its first parent lists
    per_tag, extra = divmod(args.listings, args.tags)
    listed = {}
    for i, tid in enumerate(tag_ids):
        names = ['pkg-%04d-%02d' % (i, n) for n in range(per_tag + (1 if i < extra else 0))]
        listed[tid] = names
        for n, package in enumerate(names):
            state.add_package('tag-%04d' % i, package, owner=owners[(i + n) % len(owners)])
    counts['package listings'] = sum(len(names) for names in listed.values())
    blocks = 0
    for i, tid in enumerate(tag_ids):
        if i >= 10 and i % 50 == 0:
            parent = (i - 1) // 3
            if listed[tag_ids[parent]]:
                package = listed[tag_ids[parent]][0]
                state.add_package('tag-%04d' % i, package, owner=owners[0], blocked=True)
                blocks += 1
    counts['blocks'] = blocks
    for i in range(args.targets):
        tid = state._next_id('target')  # pylint: disable=protected-access
        build = tag_ids[(3 * i + 2) % len(tag_ids)]
        state.targets[tid] = {'id': tid, 'name': 'target-%04d' % i, 'build_tag': build,
                              'dest_tag': tag_ids[(3 * i) % len(tag_ids)]}
    counts.update({'tags': args.tags, 'targets': args.targets, 'external_repos': args.external_repos,
                   'hosts': args.hosts, 'channels': args.channels + 8})
    return counts


def calls_summary(hub):
    return ', '.join('%s %d' % item for item in sorted(hub.calls.items(), key=lambda item: -item[1]))


def run_engine(hub):
    hub.reset_counters()
    start = time.time()
    result = runner.run('koji_export', {'server': hub.url, 'serverca': hub.certs['ca']})
    wall = time.time() - start
    assert not result.get('failed'), result.get('msg')
    return wall, result


def run_playbook(hub, folder):
    inventory = os.path.join(folder, 'inventory.yml')
    with open(inventory, 'w') as handle:
        yaml.safe_dump({'koji_hub': {'hosts': {'hub.bench.test': {
            'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}}}}, handle)
    variables = os.path.join(folder, 'vars.json')
    with open(variables, 'w') as handle:
        json.dump({'koji_hub_url': hub.url, '__koji_export_serverca': hub.certs['ca'],
                   'koji_export_dir': os.path.join(folder, 'koji')}, handle)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=runner.collection_path(),
               ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_CALLBACKS_ENABLED='ansible.posix.profile_tasks', PROFILE_TASKS_SORT_ORDER='none')
    hub.reset_counters()
    start = time.time()
    proc = subprocess.run([ANSIBLE_PLAYBOOK, '-i', inventory, '-e', '@' + variables,
                           os.path.join(REPO_ROOT, 'playbooks', 'export.yml')], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          check=False)
    wall = time.time() - start
    if proc.returncode != 0:
        raise SystemExit('playbooks/export.yml failed:\n%s' % proc.stdout[-5000:])
    sizes = dict((name, os.path.getsize(os.path.join(folder, 'koji', name)))
                 for name in sorted(os.listdir(os.path.join(folder, 'koji'))))
    return wall, proc.stdout, sizes


def run_inventory_playbook(inventory, playbook, variables, folder):
    """ansible-playbook with an inventory of real hosts: (wall seconds, its PLAY RECAP)."""
    path = os.path.join(folder, 'vars-%s.json' % playbook)
    with open(path, 'w') as handle:
        json.dump(variables, handle)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=runner.collection_path())
    start = time.time()
    proc = subprocess.run([ANSIBLE_PLAYBOOK, '-i', inventory, '-e', '@' + path,
                           os.path.join(REPO_ROOT, 'playbooks', playbook)], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          check=False)
    wall = time.time() - start
    if proc.returncode != 0:
        raise SystemExit('playbooks/%s failed:\n%s' % (playbook, proc.stdout[-5000:]))
    return wall, proc.stdout[proc.stdout.rfind('PLAY RECAP'):].strip()


def real_hub(args):
    """The export of the inventory's hub, and its files applied back to the same hub."""
    reader = HubReader(args.read_via, profile=args.koji)
    log = AccessLog(args.access_log_via, args.access_log) if args.access_log_via else None
    event = reader.getLastEvent()['id']
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, 'koji')
        variables = {'koji_export_dir': out}
        if args.names:
            variables['koji_export_names'] = args.names
        for step, playbook in (('export', 'export.yml'), ('apply back', 'config.yml')):
            mark = log.mark() if log else None
            wall, recap = run_inventory_playbook(args.inventory, playbook, variables, folder)
            requests = log.since(mark)[0] if log else None
            print('%s (playbooks/%s): %.1f s, %s hub requests\n  %s' % (
                step, playbook, wall, 'unknown' if requests is None else requests,
                recap.splitlines()[-1].strip()))
            if step == 'export':
                sizes = dict((name, os.path.getsize(os.path.join(out, name)))
                             for name in sorted(os.listdir(out)))
                print('  files: %s' % ', '.join('%s %d kB' % (name, size // 1024)
                                                for name, size in sizes.items()))
                objects = dict((kind, len((yaml.safe_load(open(os.path.join(out, kind + '.yml')))
                                           or {}).get('koji_' + kind) or []))
                               for kind in KINDS)
                print('  objects: %s' % ', '.join('%s %d' % item for item in objects.items()))
                variables = dict(('koji_%s_src' % kind, os.path.join(out, kind + '.yml'))
                                 for kind in KINDS)
    after = reader.getLastEvent()['id']
    reader.close()
    print('\nthe hub\'s last event: %d before, %d after (%s)' % (
        event, after, 'unchanged' if after == event else 'MOVED: something wrote to the hub'))
    print('goal: at most 30 s for the export; the files applied back change nothing')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--tags', type=int, default=2700)
    parser.add_argument('--listings', type=int, default=16000)
    parser.add_argument('--owners', type=int, default=40)
    parser.add_argument('--targets', type=int, default=600)
    parser.add_argument('--external-repos', type=int, default=40)
    parser.add_argument('--hosts', type=int, default=60)
    parser.add_argument('--channels', type=int, default=6)
    parser.add_argument('--engine-only', action='store_true',
                        help='only the module in this process, no ansible-playbook run')
    parser.add_argument('--inventory', help='export the real hub of this inventory instead of a '
                        'seeded fake hub (with --koji and --read-via)')
    parser.add_argument('--koji', default='koji', help='koji profile on the hub host (--inventory)')
    parser.add_argument('--read-via', help='command prefix that runs a program on the hub host, '
                        'for the anonymous reads of the last event (--inventory)')
    parser.add_argument('--access-log-via', help='command prefix that reads the hub\'s access log')
    parser.add_argument('--access-log', default=DEFAULT_ACCESS_LOG)
    parser.add_argument('--names', action='append',
                        help='only objects matching this pattern (koji_export_names; repeatable)')
    args = parser.parse_args()
    if args.inventory:
        if not args.read_via:
            parser.error('--inventory needs --read-via')
        real_hub(args)
        return

    with FakeHub(tls=True) as hub:
        start = time.time()
        seeded = seed(hub.state, args)
        print('seeded in %.1f s: %s' % (time.time() - start, ', '.join(
            '%s %d' % item for item in sorted(seeded.items()))))
        event = hub.state.last_event()['id']

        wall, result = run_engine(hub)
        print('\nthe module alone (in this process): %.1f s, %d requests, calls: %s'
              % (wall, hub.requests, calls_summary(hub)))
        print('reported as unsupported: %d (build tags repeating the comps group packages they '
              'inherit)' % len(result['unsupported']))
        print('exported: %s; package listings %d' % (
            ', '.join('%s %d' % item for item in result['counts'].items()),
            sum(len(pkgs) for tag in result['declarations']['tags']
                for pkgs in tag.get('packages', {}).values())))
        if not args.engine_only:
            with tempfile.TemporaryDirectory() as folder:
                wall, output, sizes = run_playbook(hub, folder)
            print('\nplaybooks/export.yml (ansible-playbook, files written): %.1f s, %d requests, '
                  'calls: %s' % (wall, hub.requests, calls_summary(hub)))
            print('files: %s' % ', '.join('%s %d kB' % (name, size // 1024) for name, size in sizes.items()))
            tasks = [line for line in output.splitlines() if line.rstrip().endswith('s')
                     and ' -' in line and '---' in line]
            print('tasks (ansible.posix.profile_tasks):\n  ' + '\n  '.join(tasks))
        assert hub.state.last_event()['id'] == event, 'the export wrote to the hub'
        print('\ngoal: at most 30 s for the export')


if __name__ == '__main__':
    main()
