"""Benchmark of the kojiforge.koji object modules at site scale.

Generates a synthetic Koji site (by default 2700 tags with inheritance, 8100 package
listings, external repos, comps groups on build tags, 600 targets, the package owners)
and applies it the way playbooks/config.yml does: one ansible-playbook run with one task
per object type (users, external repos, tags, targets), each task given the whole list.
It prints, per task and in total, the time and the HTTP requests of:

  first apply, no-op re-apply, check mode on the applied site

Times: per task, from the task's start to its result on the controller (templating of
the arguments, payload transfer, interpreter start, the module's work, the result's way
back); "playbook" is the whole ansible-playbook run, start-up and the reading of the
site's variables included. Each run starts with a task that names no object: its time
is the floor every task pays before any hub work (with the podman connection, ~1-3 s on
a small machine), printed so that it can be told apart from the modules' own work. Requests: what the modules counted (every HTTP
request their koji session sent, login and logout included) and, against a real hub whose
Apache access log is readable (--access-log-via), the POSTs to /kojihub that Apache logged
during the run, from every client (so also kojira's and the builders' own calls).

(Check mode on an empty hub is not measured: each module validates its references
against the hub, so in check mode the tags would fail on repos and owners that the
earlier steps would only have created in a real run.)

It prints figures; it asserts nothing about time. It does check that the re-apply
changed nothing and created no hub event, since figures of a non-idempotent run would
be meaningless.

Against the fake hub (default):      python3 bench_modules.py
The lists in files (src:) instead of variables, as config.yml's koji_<list>_src: --src-files
The module code alone (no Ansible):   python3 bench_modules.py --engine-only
Against the demo cluster's hub, the modules running on the hub host with its admin key
(make integration-real documents the same settings):
    python3 bench_modules.py --host hub.koji.test --inventory inventories/local \
        --koji koji --read-via 'podman exec -i hub.koji.test' \
        --access-log-via 'podman exec hub.koji.test' --prefix bench-
Against a hub reachable from here:    python3 bench_modules.py --koji PROFILE --prefix bench-
                                      python3 bench_modules.py --server URL --cert PEM --serverca CA
Smaller site:                         python3 bench_modules.py --tags 300 --targets 60
Remove the site's tags, targets and repos at the end (users cannot be deleted): --cleanup
"""

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, TESTS_DIR)
sys.path.insert(0, os.path.join(TESTS_DIR, 'integration'))

from fakehub import FakeHub  # noqa: E402
from fakehub import runner  # noqa: E402
from playbook_runner import HubReader, PlaybookRunner, events_touching  # noqa: E402

DEFAULT_ACCESS_LOG = '/var/log/apache2/kojiforge-ssl-access.log'


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


class AccessLog(object):
    """POSTs to /kojihub in the hub's Apache access log, read through a command prefix
    that runs programs on the hub host (e.g. "podman exec hub.koji.test")."""

    def __init__(self, via, path):
        self.via = shlex.split(via)
        self.path = path

    def _run(self, *argv):
        return subprocess.run(self.via + list(argv), stdout=subprocess.PIPE, check=True,
                              universal_newlines=True).stdout

    def mark(self):
        return int(self._run('wc', '-l', self.path).split()[0])

    def since(self, mark):
        """(POSTs to /kojihub since mark, {client address: POSTs}); (None, {}) when the log
        was rotated or recreated meanwhile (fewer lines than at the mark)."""
        if self.mark() < mark:
            return None, {}
        text = self._run('tail', '-n', '+%d' % (mark + 1), self.path)
        clients = {}
        for line in text.splitlines():
            if '"POST /kojihub' in line:
                client = line.split(' ', 1)[0]
                clients[client] = clients.get(client, 0) + 1
        return sum(clients.values()), clients


class Bench(object):

    def __init__(self, args):
        self.args = args
        self.hub = None
        self.proc = None
        self.reader = None
        self.access_log = None
        self.runner = None
        self.src_dir = None
        real = bool(args.koji or args.server)
        if args.host and not real:
            raise SystemExit('--host needs a real hub: --koji PROFILE or --server URL')
        if real:
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
        self.conn['write_sessions'] = args.write_sessions
        if not args.engine_only:
            self.runner = PlaybookRunner(host=args.host, inventory=args.inventory)
        if args.read_via:
            self.anon = self.reader = HubReader(args.read_via, profile=args.koji,
                                                server=args.server, serverca=args.serverca)
        elif args.host:
            raise SystemExit('--host needs --read-via (how to read the hub anonymously '
                             'from the hub host, e.g. "podman exec -i HOST")')
        else:
            import koji
            server = self.conn.get('server')
            opts = {'serverca': args.serverca} if args.serverca else {}
            if not server:
                config = koji.read_config(args.koji)
                server = config['server']
                opts = koji.grab_session_options(config)
            self.anon = koji.ClientSession(server, opts)
        if args.access_log_via:
            self.access_log = AccessLog(args.access_log_via, args.access_log)

    def event(self):
        return self.anon.getLastEvent()['id']

    def no_event(self, start, what):
        """Fail unless no hub event since ``start`` touched the site. Without a prefix
        the site is not told apart from the rest of the hub: no event at all then."""
        if not self.args.prefix:
            if self.event() != start:
                raise SystemExit('%s created a hub event' % what)
            return
        hits = events_touching(self.anon, start, self.args.prefix)
        if hits:
            raise SystemExit('%s created hub events: %s' % (what, hits[:3]))

    def _run_engine(self, tasks):
        """Each module in this process (runner.run): the module code alone."""
        entries = []
        for module, params, check_mode in tasks:
            if self.hub:
                self.hub.reset_counters()
            start = time.time()
            result = runner.run(module, params, check_mode=check_mode)
            entries.append({'start': start, 'end': time.time(), 'result': result,
                            'status': 'failed' if result.get('failed') else 'ok'})
        return entries

    def _src_file(self, key, objects):
        if self.src_dir is None:
            self.src_dir = tempfile.mkdtemp(prefix='kojiforge-bench-src-')
        path = os.path.join(self.src_dir, '%s-%d.yml' % (key, len(os.listdir(self.src_dir))))
        with open(path, 'w') as handle:
            yaml.safe_dump({'koji_%s' % key: objects}, handle)
        return path

    def run_site(self, label, site, check_mode=False):
        tasks = []
        variables = {}
        for module, key, objects in site:
            params = dict(self.conn)
            if self.runner and self.args.src_files:
                # the lists come from YAML files read by the modules' action plugin
                # (playbooks/config.yml's koji_<list>_src)
                params['src'] = self._src_file(key, objects)
            elif self.runner:
                # the lists come from variables, as in playbooks/config.yml
                variables['bench_%s' % key] = objects
                params[key] = '{{ bench_%s }}' % key
            else:
                params[key] = objects
            tasks.append((module, params, check_mode))
        if self.runner:
            # first, a task that names no object: the floor every task pays (connection,
            # module transfer, interpreter start, koji import) before any hub work
            tasks.insert(0, ('koji_user', dict(self.conn, users=[]), check_mode))
        mark = self.access_log.mark() if self.access_log else None
        start = time.time()
        if self.runner:
            entries = self.runner.run(tasks, label=label, variables=variables)
            floor = entries.pop(0)
            floor_time = floor['end'] - floor['start']
        else:
            entries = self._run_engine(tasks)
        wall = time.time() - start
        logged = self.access_log.since(mark) if self.access_log else None
        print('\n%s' % label)
        print('  %-20s %8s %9s %9s %9s' % ('module', 'objects', 'seconds', 'requests',
                                           'changed'))
        if self.runner:
            print('  %-20s %8d %9.2f %9d %9s' % ('(empty task)', 0, floor_time,
                                                 floor['result'].get('requests', 0), '-'))
        total_requests = 0
        results = []
        for (module, _key, objects), entry in zip(site, entries):
            result = entry['result']
            if entry['status'] != 'ok' or result.get('failed'):
                raise SystemExit('%s %s failed: %s' % (label, module, result.get('msg')))
            total_requests += result['requests']
            print('  %-20s %8d %9.2f %9d %9d' % (module, len(objects),
                                                 entry['end'] - entry['start'],
                                                 result['requests'], len(result['changes'])))
            results.append(result)
        tasks_time = sum(entry['end'] - entry['start'] for entry in entries)
        print('  %-20s %8s %9.2f %9d' % ('tasks', '', tasks_time, total_requests))
        if self.runner:
            print('  %-20s %8s %9.2f   (whole run, less the empty task: %.2f; the tasks '
                  'less as many empty tasks: %.2f)'
                  % ('playbook (wall)', '', wall, wall - floor_time,
                     tasks_time - len(entries) * floor_time))
        if logged is not None and logged[0] is None:
            print('  (the Apache access log was rotated or recreated during the run: no count)')
        elif logged is not None:
            count, clients = logged
            print('  Apache logged %d POSTs to /kojihub during the run (by client: %s)'
                  % (count, ', '.join('%s %d' % item for item in sorted(clients.items()))))
        return results

    def close(self):
        if self.hub:
            self.hub.stop()
        if self.proc:
            self.proc.terminate()
            self.proc.wait()
        if self.reader:
            self.reader.close()
        if self.src_dir:
            shutil.rmtree(self.src_dir, ignore_errors=True)


def removal(site):
    """The site's deletable objects as state: absent, dependants first."""
    objects = dict((module, (key, items)) for module, key, items in site)
    steps = []
    for module in ('koji_target', 'koji_tag', 'koji_external_repo'):
        key, items = objects[module]
        steps.append((module, key, [{'name': item['name'], 'state': 'absent'}
                                    for item in items]))
    return steps


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--tags', type=int, default=2700)
    parser.add_argument('--packages-per-tag', type=int, default=3)
    parser.add_argument('--targets', type=int, default=600)
    parser.add_argument('--external-repos', type=int, default=40)
    parser.add_argument('--owners', type=int, default=25)
    parser.add_argument('--batch-size', type=int, default=200)
    parser.add_argument('--write-sessions', type=int, default=3,
                        help='the modules\' write_sessions (1: every write on one session)')
    parser.add_argument('--prefix', default='', help='name prefix for every object')
    parser.add_argument('--koji', help='koji profile of a real hub (on --host when given)')
    parser.add_argument('--server', help='hub URL of a real hub')
    parser.add_argument('--cert', help='client certificate (a path on --host when given)')
    parser.add_argument('--serverca')
    parser.add_argument('--user')
    parser.add_argument('--password')
    parser.add_argument('--host', help='run the modules on this Ansible host (with --inventory)')
    parser.add_argument('--inventory', help='the inventory that defines --host')
    parser.add_argument('--read-via', help='command prefix that runs a program on the hub '
                        'host with stdin attached, for the benchmark\'s own anonymous reads '
                        '(e.g. "podman exec -i hub.koji.test")')
    parser.add_argument('--access-log-via', help='command prefix that runs a program on the '
                        'hub host, to count the POSTs in its Apache access log')
    parser.add_argument('--access-log', default=DEFAULT_ACCESS_LOG)
    parser.add_argument('--cleanup', action='store_true',
                        help='delete the site\'s targets, tags and external repos at the end')
    parser.add_argument('--engine-only', action='store_true',
                        help='run each module in this process instead of through '
                             'ansible-playbook (the module code alone)')
    parser.add_argument('--src-files', action='store_true',
                        help='give the modules their lists in YAML files (src:, read by their '
                             'action plugin) instead of in variables')
    parser.add_argument('--in-process', action='store_true',
                        help='run the fake hub in this process (it then competes with '
                             'the modules for the interpreter lock with --engine-only)')
    args = parser.parse_args()
    if args.engine_only and args.host:
        parser.error('--engine-only runs the modules here: it excludes --host')

    site, listings = generate_site(args)
    counts = dict((module, len(objects)) for module, _key, objects in site)
    if args.koji or args.server:
        hub = args.koji or args.server
    else:
        hub = 'fake hub (%s)' % ('in process' if args.in_process else 'own process')
    print('synthetic site: %d tags, %d package listings, %d external repos, %d targets, '
          '%d users; batch size %d, write sessions %d; hub: %s; modules run %s'
          % (counts['koji_tag'], listings, counts['koji_external_repo'], counts['koji_target'],
             counts['koji_user'], args.batch_size, args.write_sessions, hub,
             'in this process' if args.engine_only else
             'by ansible-playbook on %s, lists %s' % (args.host or 'localhost',
                                                      'in src files' if args.src_files
                                                      else 'in variables')))
    bench = Bench(args)
    try:
        label = 'first apply'
        if args.prefix:
            present = bench.anon.listTags(pattern=args.prefix + '*',
                                          queryOpts={'countOnly': True})
            if present:
                label = ('"first" apply: NOT a first apply, %d tags named %s* were already '
                         'on the hub' % (present, args.prefix))
        bench.run_site(label, site)
        after_apply = bench.event()
        results = bench.run_site('no-op re-apply', site)
        changed = [r['changes'] for r in results if r['changed']]
        if changed:
            raise SystemExit('re-apply was not a no-op: %s' % changed[:3])
        bench.no_event(after_apply, 're-apply')
        bench.run_site('check mode on the applied site', site, check_mode=True)
        bench.no_event(after_apply, 'check mode')
        print('\nre-apply and check mode changed nothing and created no hub event on the '
              'site\'s objects (events %d -> %d%s)'
              % (after_apply, bench.event(), ', made by other clients of the hub'
                 if bench.event() != after_apply else ''))
        if args.cleanup:
            bench.run_site('cleanup (targets, tags, external repos deleted)', removal(site))
    finally:
        bench.close()


if __name__ == '__main__':
    main()
