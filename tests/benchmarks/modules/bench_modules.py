"""Benchmark of the kojiforge.koji object modules at site scale.

Generates a synthetic Koji site (by default 2700 tags with inheritance, 8100 package
listings, external repos, comps groups on build tags, 600 targets, the package owners),
applies it with the modules (users, external repos, tags, targets, in the order
playbooks/config.yml uses), and prints, per step and in total, the wall time and the
HTTP requests made for:

  first apply, no-op re-apply, check mode on the applied site

(Check mode on an empty hub is not measured: each module validates its references
against the hub, so in check mode the tags would fail on repos and owners that the
earlier steps would only have created in a real run.)

It prints figures; it asserts nothing about time. It does check that the re-apply
changed nothing and created no hub event, since figures of a non-idempotent run would
be meaningless.

Against the fake hub (default):      python3 bench_modules.py
Against a real hub:                   python3 bench_modules.py --koji PROFILE --prefix bench-
                                      python3 bench_modules.py --server URL --cert PEM --serverca CA
Smaller site:                         python3 bench_modules.py --tags 300 --targets 60
"""

import argparse
import os
import re
import subprocess
import sys
import time

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, TESTS_DIR)

from fakehub import FakeHub  # noqa: E402
from fakehub import runner  # noqa: E402


def generate_site(args):
    p = args.prefix
    owners = ['%sowner%02d' % (p, i) for i in range(args.owners)]
    repos = [{'name': '%smirror-%02d' % (p, i),
              'url': 'https://mirror%02d.example.org/repo/%d/$arch/os/' % (i % 7, i)}
             for i in range(args.external_repos)]
    tags = []
    build_tags = []
    listings = 0
    for i in range(args.tags):
        tag = {'name': '%stag-%04d' % (p, i), 'arches': ['x86_64', 'aarch64']}
        if i >= 10:
            # a forest: each tag inherits from an earlier one, every fifth from two
            parents = [{'parent': '%stag-%04d' % (p, (i - 1) // 3), 'priority': 10}]
            if i % 5 == 0:
                parents.append({'parent': '%stag-%04d' % (p, (i * 7) % 10), 'priority': 20})
            tag['inheritance'] = parents
        packages = {}
        for k in range(args.packages_per_tag):
            owner = owners[(i + k) % len(owners)]
            packages.setdefault(owner, []).append('%spkg-%05d' % (p, i * args.packages_per_tag + k))
            listings += 1
        tag['packages'] = packages
        if i % 4 == 3:
            tag['extra'] = {'mock.package_manager': 'dnf'}
            tag['external_repos'] = [
                {'repo': repos[i % len(repos)]['name'], 'priority': 10},
                {'repo': repos[(i + 1) % len(repos)]['name'], 'priority': 20,
                 'merge_mode': 'bare'}]
            tag['groups'] = {'build': ['bash', 'coreutils', 'rpm-build', 'gcc'],
                             'srpm-build': ['bash', 'rpm-build']}
            build_tags.append(tag['name'])
        tags.append(tag)
    targets = []
    for i in range(args.targets):
        build = build_tags[i % len(build_tags)]
        targets.append({'name': '%starget-%04d' % (p, i), 'build_tag': build,
                        'dest_tag': tags[(i * 13) % len(tags)]['name']})
    users = [{'name': owner} for owner in owners]
    return [('koji_user', 'users', users), ('koji_external_repo', 'repos', repos),
            ('koji_tag', 'tags', tags), ('koji_target', 'targets', targets)], listings


class Bench(object):

    def __init__(self, args):
        self.args = args
        self.hub = None
        self.proc = None
        if args.koji or args.server:
            self.conn = dict((key, getattr(args, key)) for key in
                             ('koji', 'server', 'cert', 'serverca', 'user', 'password')
                             if getattr(args, key))
        elif args.in_process:
            self.hub = FakeHub().start()
            self.conn = {'server': self.hub.url, 'user': self.hub.admin_user,
                         'password': self.hub.admin_password}
        else:
            # the fake hub in its own process, so its work does not share this
            # process's interpreter lock with the modules being measured
            self.proc = subprocess.Popen(
                [sys.executable, '-u', '-c', 'from fakehub.server import main; main()'],
                cwd=TESTS_DIR, stdout=subprocess.PIPE, universal_newlines=True)
            line = self.proc.stdout.readline()
            match = re.match(r'fake hub at (\S+) \((\S+) / (\S+)\)', line)
            if not match:
                raise SystemExit('the fake hub did not start: %r' % line)
            self.conn = {'server': match.group(1), 'user': match.group(2),
                         'password': match.group(3)}
        self.conn['batch_size'] = args.batch_size
        import koji
        server = self.conn.get('server')
        if not server:
            server = koji.read_config(args.koji)['server']
        self.anon = koji.ClientSession(server, {'serverca': args.serverca} if args.serverca
                                       else {})

    def event(self):
        return self.anon.getLastEvent()['id']

    def run_site(self, label, site, check_mode=False):
        rows = []
        total_time = 0.0
        total_requests = 0
        results = []
        for module, key, objects in site:
            params = dict(self.conn)
            params[key] = objects
            if self.hub:
                self.hub.reset_counters()
            start = time.time()
            result = runner.run(module, params, check_mode=check_mode)
            elapsed = time.time() - start
            if result.get('failed'):
                raise SystemExit('%s %s failed: %s' % (label, module, result['msg']))
            requests = result['requests']
            hub_requests = self.hub.requests if self.hub else None
            rows.append((module, len(objects), elapsed, requests, hub_requests,
                         sum(1 for c in result['changes'])))
            total_time += elapsed
            total_requests += requests
            results.append(result)
        print('\n%s' % label)
        print('  %-20s %8s %9s %9s %9s %9s' % ('module', 'objects', 'seconds', 'requests',
                                               'hub-seen', 'changed'))
        for module, count, elapsed, requests, hub_requests, changed in rows:
            print('  %-20s %8d %9.2f %9d %9s %9d' % (module, count, elapsed, requests,
                                                     hub_requests if hub_requests is not None
                                                     else '-', changed))
        print('  %-20s %8s %9.2f %9d' % ('total', '', total_time, total_requests))
        return results


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--tags', type=int, default=2700)
    parser.add_argument('--packages-per-tag', type=int, default=3)
    parser.add_argument('--targets', type=int, default=600)
    parser.add_argument('--external-repos', type=int, default=40)
    parser.add_argument('--owners', type=int, default=25)
    parser.add_argument('--batch-size', type=int, default=200)
    parser.add_argument('--prefix', default='', help='name prefix for every object')
    parser.add_argument('--koji', help='koji profile of a real hub')
    parser.add_argument('--server', help='hub URL of a real hub')
    parser.add_argument('--cert')
    parser.add_argument('--serverca')
    parser.add_argument('--user')
    parser.add_argument('--password')
    parser.add_argument('--in-process', action='store_true',
                        help='run the fake hub in this process (counts requests on the hub '
                             'side too, but the hub then competes for the interpreter lock)')
    args = parser.parse_args()

    site, listings = generate_site(args)
    counts = dict((module, len(objects)) for module, _key, objects in site)
    print('synthetic site: %d tags, %d package listings, %d external repos, %d targets, '
          '%d users; batch size %d; hub: %s'
          % (counts['koji_tag'], listings, counts['koji_external_repo'], counts['koji_target'],
             counts['koji_user'], args.batch_size,
             'fake hub (%s)' % ('in process' if args.in_process else 'own process')
             if not (args.koji or args.server) else (args.koji or args.server)))
    bench = Bench(args)
    try:
        bench.run_site('first apply', site)
        after_apply = bench.event()
        results = bench.run_site('no-op re-apply', site)
        changed = [r['changes'] for r in results if r['changed']]
        if changed or bench.event() != after_apply:
            raise SystemExit('re-apply was not a no-op: %s' % changed[:3])
        bench.run_site('check mode on the applied site', site, check_mode=True)
        if bench.event() != after_apply:
            raise SystemExit('check mode created a hub event')
        print('\nre-apply changed nothing and created no hub event (last event %d)'
              % bench.event())
    finally:
        if bench.hub:
            bench.hub.stop()
        if bench.proc:
            bench.proc.terminate()
            bench.proc.wait()


if __name__ == '__main__':
    main()
