"""Fill a real Koji hub up to CERN's scale for bench_exporter.py; idempotent, measures nothing.

CERN runs about 2700 tags, 8200 packages, 10 builders and 100,000 tasks of history. This script
counts what the hub already holds (other benchmarks and tests share it) and adds, with names
starting with --prefix, only what is missing up to those figures:

- tags and package listings through the API (an admin login), in multicall batches; each own
  package is listed in three own tags;
- builds of the own packages and their tag listings with SQL (the API cannot import builds
  without files): --builds-per-package completed builds, each tagged into one listing tag;
- hosts through the API (addHost), moved out of the ``default`` channel into channels of their
  own (``<prefix>-build``, ``<prefix>-image``), so that the real builders are unaffected; they
  never check in, stay not ready, and the scheduler never gives them a task;
- task history with SQL (one INSERT ... SELECT FROM generate_series): mostly closed, failed and
  canceled tasks spread over --history-days before today, --today-tasks since midnight (UTC),
  and --waiting-tasks FREE and --open-tasks OPEN tasks in the own channels only. Requests are
  real XML-RPC request blobs naming the own tags; OPEN tasks have no scheduler run, which
  makes the hub's scheduler treat them as manual assignments and leave them alone. No unfinished
  newRepo task is created: the hub counts those against MaxRepoTasks.

Run it where both the admin profile and the database are local, e.g. inside the hub container:

    python3 seed_real_hub.py --profile koji
    python3 seed_real_hub.py --dry-run        # what is there and what would be added

The tasks' owner is a user of its own (``<prefix>-owner``), so a later run finds its own tasks.
"""

import argparse
import datetime
import shlex
import subprocess
import sys
import time

import koji

DEFAULT_PSQL = 'runuser -u postgres -- psql -X -q -At -v ON_ERROR_STOP=1 koji'
STATES = koji.TASK_STATES
# placeholders in the request templates, replaced per row in SQL
TAG_ID = 987654321
TAG_NAME = 'XBENCHTAGNAME'

# history: (method, channel, share in percent, arch, shortest and span of the duration in s)
HISTORY_MIX = (
    ('buildArch', 'default', 48, 'x86_64', 60, 3600),
    ('build', 'default', 12, 'noarch', 300, 5400),
    ('tagBuild', 'default', 10, 'noarch', 5, 60),
    ('buildSRPMFromSCM', 'default', 6, 'noarch', 30, 600),
    ('newRepo', 'createrepo', 12, 'noarch', 30, 600),
    ('createrepo', 'createrepo', 10, 'x86_64', 20, 300),
    ('createImage', 'image', 2, 'x86_64', 600, 7200),
)
# unfinished tasks, all in the own channels: (method, own channel suffix, share, arch)
ACTIVE_MIX = (
    ('buildArch', 'build', 60, 'x86_64'),
    ('build', 'build', 20, 'noarch'),
    ('buildSRPMFromSCM', 'build', 10, 'noarch'),
    ('tagBuild', 'build', 5, 'noarch'),
    ('createImage', 'image', 5, 'x86_64'),
)


def request_blob(method):
    """An XML-RPC request like make_task stores, naming the placeholder tag."""
    srpm = 'cli-build/1700000000.123456.abcdEFGH/xbench-pkg-00001-1.0-1.src.rpm'
    args = {
        'buildArch': [srpm, TAG_ID, 'x86_64', True, {'repo_id': 4242}],
        'build': ['git+https://src.example.com/rpms/xbench-pkg-00001.git#0123456789abcdef0123456789abcdef01234567',
                  TAG_NAME, {'scratch': False}],
        'tagBuild': [TAG_ID, 123456, False, None, True],
        'buildSRPMFromSCM': ['git+https://src.example.com/rpms/xbench-pkg-00001.git#0123456789abcdef',
                             TAG_ID, {'repo_id': 4242, 'scratch': False}],
        'newRepo': [TAG_ID, None, False, None, False],
        'createrepo': [4242, 'x86_64', None],
        'createImage': ['xbench-image', '1.0', '1', 'x86_64', {'name': TAG_NAME, 'build_tag': TAG_ID},
                        {'name': TAG_NAME}, {'id': 4242}, 'http://example.com/tree', {}],
    }[method]
    return koji.xmlrpcplus.dumps(tuple(args), methodname=method)


def result_blob(method, state):
    """A result like the hub stores for a finished task (small; a real buildArch lists its files)."""
    if state == STATES['FAILED']:
        fault = koji.xmlrpcplus.Fault(1, 'BuildError: error building package (arch x86_64), mock exited with status 1')
        return koji.xmlrpcplus.dumps(fault, methodresponse=True)
    if state != STATES['CLOSED']:
        return None
    if method == 'buildArch':
        base = 'tasks/1234/123456/xbench-pkg-00001-1.0-1.el9'
        value = {'rpms': ['%s.x86_64.rpm' % base, '%s.noarch.rpm' % base.replace('-1.0', '-doc-1.0'),
                          '%s.x86_64.rpm' % base.replace('-1.0', '-debuginfo-1.0')],
                 'srpms': [], 'brootid': 98765,
                 'logs': ['tasks/1234/123456/%s' % name for name in ('build.log', 'root.log', 'state.log', 'mock_output.log')]}
    elif method == 'build':
        value = [123456]
    else:
        value = None
    return koji.xmlrpcplus.dumps((value,), methodresponse=True, allow_none=True)


def sql_literal(value):
    if value is None:
        return 'NULL'
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


class Psql:
    """The hub's database through psql (as its owner, locally)."""

    def __init__(self, command, dry_run):
        self.command = shlex.split(command)
        self.dry_run = dry_run

    def query(self, sql):
        out = subprocess.run(self.command, input=sql, capture_output=True, text=True, check=False)
        if out.returncode:
            raise RuntimeError('psql failed: %s' % out.stderr.strip())
        return [line.split('|') for line in out.stdout.splitlines() if line]

    def scalar(self, sql):
        return int(self.query(sql)[0][0])

    def execute(self, sql, what):
        if self.dry_run:
            print('  (dry run) would run SQL: %s' % what)
            return
        began = time.monotonic()
        self.query(sql)
        print('  %s: %.1f s' % (what, time.monotonic() - began))


def hub_size(psql):
    """What the hub holds now: the figures the benchmark reports beside its timings."""
    row = psql.query(
        "SELECT (SELECT count(*) FROM tag), (SELECT count(*) FROM package),"
        " (SELECT count(*) FROM tag_packages WHERE active),"
        " (SELECT count(*) FROM host), (SELECT count(*) FROM task),"
        " (SELECT count(*) FROM build), (SELECT count(*) FROM tag_listing WHERE active),"
        " (SELECT count(*) FROM channels),"
        " (SELECT count(*) FROM task WHERE create_time >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'),"
        " (SELECT count(*) FROM task WHERE state IN (0, 4)), (SELECT count(*) FROM task WHERE state = 1)")[0]
    keys = ('tags', 'packages', 'package_listings', 'hosts', 'tasks', 'builds', 'tagged_builds',
            'channels', 'tasks_today', 'waiting_tasks', 'open_tasks')
    return dict(zip(keys, (int(v) for v in row)))


def like(prefix, kind):
    return sql_literal(prefix.replace('_', r'\_') + '-' + kind + '-%')


def seed_tags(session, psql, args):
    others = psql.scalar('SELECT count(*) FROM tag WHERE name NOT LIKE %s' % like(args.prefix, 'tag'))
    # at least a few own tags: the own packages need tags to be listed in
    wanted = max(args.tags - others, args.min_own_tags)
    own = set(t['name'] for t in session.listTags() if t['name'].startswith(args.prefix + '-tag-'))
    missing = ['%s-tag-%04d' % (args.prefix, i) for i in range(wanted)]
    missing = [name for name in missing if name not in own]
    print('tags: %d of others, %d own (%d wanted), %d to create' % (others, len(own), wanted, len(missing)))
    if missing and not args.dry_run:
        with session.multicall(strict=True, batch=500) as multi:
            for name in missing:
                multi.createTag(name, arches='x86_64 aarch64')
    # every own tag, also those of an earlier run when others have added tags since: the
    # package listings are spread over this list, so it must not shrink between runs
    return sorted(own.union(missing))


def seed_packages(session, psql, args, tags):
    others = psql.scalar('SELECT count(*) FROM package WHERE name NOT LIKE %s' % like(args.prefix, 'pkg'))
    wanted = max(args.packages - others, 0)
    listed = set(tuple(r) for r in psql.query(
        'SELECT tag.name, package.name FROM tag_packages JOIN tag ON tag.id = tag_id'
        ' JOIN package ON package.id = package_id WHERE active AND package.name LIKE %s'
        % like(args.prefix, 'pkg')))
    todo = []
    for i in range(wanted):
        package = '%s-pkg-%05d' % (args.prefix, i)
        for k in range(3):
            tag = tags[(i * 7 + k * 911) % len(tags)]
            if (tag, package) not in listed:
                todo.append((tag, package))
    print('packages: %d of others, %d own wanted, %d listings to add' % (others, wanted, len(todo)))
    if todo and not args.dry_run:
        owner = session.getLoggedInUser()['name']
        with session.multicall(strict=True, batch=500) as multi:
            for tag, package in todo:
                multi.packageListAdd(tag, package, owner=owner)


def seed_builds(psql, args, owner_id):
    """Completed builds of the own packages that have none, each tagged into a listing tag."""
    sql = """
BEGIN;
INSERT INTO build (volume_id, pkg_id, version, release, state, owner, start_time, completion_time)
SELECT 0, package.id, '1.' || k, k || '.el9', 1, {owner},
       now() - (package.id % 500 + k * 7) * interval '1 day',
       now() - (package.id % 500 + k * 7) * interval '1 day' + interval '20 minutes'
FROM package CROSS JOIN generate_series(1, {per_package}) AS k
WHERE package.name LIKE {pkg_like}
  AND NOT EXISTS (SELECT 1 FROM build WHERE build.pkg_id = package.id);
INSERT INTO tag_listing (build_id, tag_id, creator_id)
SELECT build.id,
       (SELECT min(tag_id) FROM tag_packages WHERE package_id = build.pkg_id AND active),
       {owner}
FROM build JOIN package ON package.id = build.pkg_id
WHERE package.name LIKE {pkg_like}
  AND EXISTS (SELECT 1 FROM tag_packages WHERE package_id = build.pkg_id AND active)
  AND NOT EXISTS (SELECT 1 FROM tag_listing WHERE tag_listing.build_id = build.id);
COMMIT;
ANALYZE build; ANALYZE tag_listing;
""".format(owner=owner_id, per_package=args.builds_per_package, pkg_like=like(args.prefix, 'pkg'))
    without = psql.scalar('SELECT count(*) FROM package WHERE name LIKE %s AND NOT EXISTS'
                          ' (SELECT 1 FROM build WHERE build.pkg_id = package.id)' % like(args.prefix, 'pkg'))
    print('builds: %d own packages without builds, %d builds each' % (without, args.builds_per_package))
    if without:
        psql.execute(sql, 'builds inserted and tagged')


def seed_hosts(session, psql, args):
    """Own hosts up to --hosts in all, in own channels only; returns the own channel names."""
    channels = {'build': '%s-build' % args.prefix, 'image': '%s-image' % args.prefix}
    existing_channels = set(c['name'] for c in session.listChannels())
    for name in channels.values():
        if name not in existing_channels and not args.dry_run:
            session.addChannel(name, description='bench_exporter: hosts that never check in')
    others = psql.scalar("SELECT count(*) FROM host WHERE name NOT LIKE %s" % like(args.prefix, 'builder'))
    # at least two own hosts: the open tasks run on own hosts only
    wanted = max(args.hosts - others, 2)
    print('hosts: %d of others, %d own wanted' % (others, wanted))
    if args.dry_run:
        return channels
    names = set(h['name'] for h in session.listHosts())
    for i in range(wanted):
        name = '%s-builder-%02d.koji.test' % (args.prefix, i)
        arch = 'x86_64' if i < wanted * 6 // 10 or wanted < 2 else 'aarch64'
        if name not in names:
            session.addHost(name, [arch, 'noarch'] if arch == 'x86_64' else [arch])
            session.editHost(name, capacity=8.0, description='bench_exporter host, never checks in')
        host = session.getHost(name)
        member = set(c['name'] for c in session.listChannels(hostID=host['id']))
        own = channels['image'] if i == wanted - 1 and wanted > 2 else channels['build']
        if 'default' in member:
            session.removeHostFromChannel(name, 'default')
        if own not in member:
            session.addHostToChannel(name, own)
    # a recent check-in and some load, as kojid would report; ready stays false, so the
    # scheduler never assigns them a task
    psql.execute("UPDATE host SET update_time = now() - (id %% 10) * interval '7 seconds',"
                 " task_load = (id %% 9) * 0.75, ready = false WHERE name LIKE %s"
                 % like(args.prefix, 'builder'), 'hosts check-in time and load set')
    return channels


def owner_user(session, args):
    name = '%s-owner' % args.prefix
    user = session.getUser(name)
    if not user and not args.dry_run:
        session.createUser(name)
        user = session.getUser(name)
    return user['id'] if user else None


def _mix_values(rows):
    """VALUES rows (lo, hi, method, channel id, arch, dmin, dspan, request) from shares."""
    values, low = [], 0
    for method, channel_id, share, arch, dmin, dspan in rows:
        values.append('(%d, %d, %s, %d, %s, %d, %d, %s)' % (
            low, low + share, sql_literal(method), channel_id or 0, sql_literal(arch), dmin, dspan,
            sql_literal(request_blob(method))))
        low += share
    assert low == 100, low
    return ',\n  '.join(values)


def _results_case(methods):
    """SQL CASE giving a finished task's result blob from its method and state."""
    whens = []
    for method in sorted(set(methods)):
        for state in ('CLOSED', 'FAILED'):
            blob = result_blob(method, STATES[state])
            whens.append('WHEN s.method = %s AND s.state = %d THEN %s' % (
                sql_literal(method), STATES[state], sql_literal(blob)))
    return 'CASE %s ELSE NULL END' % ' '.join(whens)


TASKS_SQL = """
INSERT INTO task (id, state, create_time, start_time, completion_time, channel_id, host_id, owner,
                  method, request, result, arch, priority, weight)
SELECT nextval('task_id_seq'), s.state, s.created, s.started, s.completed, s.channel_id,
       s.host_id, {owner}, s.method,
       replace(replace(s.request, '{tag_id}', s.tag_id::text), '{tag_name}', s.tag_name),
       {results}, s.arch, 20, 1.0
FROM (
  SELECT g, m.method, m.channel_id, m.arch, m.request,
         tags.ids[1 + (g * 31) % array_length(tags.ids, 1)] AS tag_id,
         tags.names[1 + (g * 31) % array_length(tags.ids, 1)] AS tag_name,
         {state} AS state,
         t.created,
         {started} AS started,
         {completed} AS completed,
         {host} AS host_id
  FROM generate_series(1, {count}) AS g
  JOIN (VALUES
  {mix}
  ) AS m(lo, hi, method, channel_id, arch, dmin, dspan, request)
    ON (g * 37) % 100 >= m.lo AND (g * 37) % 100 < m.hi
  CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids, array_agg(name ORDER BY id) AS names
              FROM tag WHERE name LIKE {tag_like}) AS tags
  CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM host WHERE {host_where}) AS hosts
  CROSS JOIN LATERAL (SELECT {created} AS created,
                             ((g * 7919) % 300 + CASE WHEN g % 50 = 0 THEN 3600 ELSE 0 END) * interval '1 second' AS wait,
                             (m.dmin + (g::bigint * 104729) % m.dspan) * interval '1 second' AS duration) AS t
  ORDER BY g
) AS s;
"""


def _history_sql(args, owner_id, channel_ids, count, first, last):
    """Finished tasks created evenly between ``first`` and ``last`` (SQL timestamps)."""
    mix = [(method, channel_ids[channel], share, arch, dmin, dspan)
           for method, channel, share, arch, dmin, dspan in HISTORY_MIX]
    finished = "LEAST(t.created + t.wait + t.duration, now() - interval '1 second')"
    return TASKS_SQL.format(
        owner=owner_id, tag_id=TAG_ID, tag_name=TAG_NAME, count=count, mix=_mix_values(mix),
        results=_results_case(m[0] for m in HISTORY_MIX), tag_like=like(args.prefix, 'tag'),
        # the own hosts only: other tests' hosts keep their own task lists
        host_where='name LIKE %s' % like(args.prefix, 'builder'),
        # 75 % closed, 15 % failed, 10 % canceled (half of those before they started)
        state='CASE WHEN (g * 13) %% 100 < 75 THEN %d WHEN (g * 13) %% 100 < 90 THEN %d ELSE %d END' % (
            STATES['CLOSED'], STATES['FAILED'], STATES['CANCELED']),
        created='%s + (%s - %s) * ((g - 1)::float / %d)' % (first, last, first, count),
        started="CASE WHEN (g * 13) %% 100 >= 90 AND g %% 2 = 0 THEN NULL ELSE LEAST(t.created + t.wait, %s) END" % finished,
        completed=finished,
        host="CASE WHEN (g * 13) % 100 >= 90 AND g % 2 = 0 THEN NULL ELSE hosts.ids[1 + g % array_length(hosts.ids, 1)] END")


def _active_sql(args, owner_id, own_channel_ids, count, state):
    """Unfinished tasks (FREE or OPEN) in the own channels, created in the last hour."""
    mix = [(method, own_channel_ids[suffix], share, arch, 60, 60)
           for method, suffix, share, arch in ACTIVE_MIX]
    is_open = state == STATES['OPEN']
    return TASKS_SQL.format(
        owner=owner_id, tag_id=TAG_ID, tag_name=TAG_NAME, count=count, mix=_mix_values(mix),
        results='NULL', tag_like=like(args.prefix, 'tag'),
        host_where='name LIKE %s' % like(args.prefix, 'builder'),
        state=str(state),
        created="now() - interval '1 hour' + g * interval '1 second'",
        started="t.created + interval '5 minutes'" if is_open else 'NULL::timestamptz',
        completed='NULL::timestamptz',
        host='hosts.ids[1 + g % array_length(hosts.ids, 1)]' if is_open else 'NULL::integer')


def seed_tasks(psql, args, owner_id, own_channels):
    names = dict((row[1], int(row[0])) for row in psql.query('SELECT id, name FROM channels'))
    own_ids = dict((suffix, names.get(name)) for suffix, name in own_channels.items())
    total = psql.scalar('SELECT count(*) FROM task')
    midnight = "(date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')"
    today = psql.scalar('SELECT count(*) FROM task WHERE create_time >= %s' % midnight)
    mine = "owner = %d AND channel_id IN (%s)" % (owner_id or 0, ', '.join(str(i or 0) for i in own_ids.values()))
    free = psql.scalar('SELECT count(*) FROM task WHERE state = %d AND %s' % (STATES['FREE'], mine))
    opened = psql.scalar('SELECT count(*) FROM task WHERE state = %d AND %s' % (STATES['OPEN'], mine))
    add_free = max(args.waiting_tasks - free, 0)
    add_open = max(args.open_tasks - opened, 0)
    add_today = max(args.today_tasks - today, 0)
    add_history = max(args.tasks - total - add_free - add_open - add_today, 0)
    print('tasks: %d on the hub (%d created today, %d own free, %d own open); adding %d history, '
          '%d today, %d free, %d open' % (total, today, free, opened, add_history, add_today, add_free, add_open))
    history_start = "%s - interval '%d days'" % (midnight, args.history_days)
    parts = []
    if add_history:
        parts.append(_history_sql(args, owner_id, names, add_history, history_start, midnight))
    if add_today:
        parts.append(_history_sql(args, owner_id, names, add_today, midnight, "now() - interval '1 minute'"))
    if add_open:
        parts.append(_active_sql(args, owner_id, own_ids, add_open, STATES['OPEN']))
    if add_free:
        parts.append(_active_sql(args, owner_id, own_ids, add_free, STATES['FREE']))
    if parts:
        psql.execute('BEGIN;\n%s\nCOMMIT;\nANALYZE task;\n' % '\n'.join(parts), 'tasks inserted')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--profile', default='koji', help='koji client profile of an administrator')
    parser.add_argument('--psql', default=DEFAULT_PSQL, help='command running psql on the hub database')
    parser.add_argument('--prefix', default='xbench', help='name prefix of everything created')
    parser.add_argument('--tags', type=int, default=2700, help='tags on the hub in all')
    parser.add_argument('--min-own-tags', type=int, default=10,
                        help='own tags created even when others reach --tags (own packages need tags)')
    parser.add_argument('--packages', type=int, default=8200, help='packages on the hub in all')
    parser.add_argument('--builds-per-package', type=int, default=3)
    parser.add_argument('--hosts', type=int, default=10, help='hosts on the hub in all')
    parser.add_argument('--tasks', type=int, default=100000, help='tasks on the hub in all')
    parser.add_argument('--history-days', type=int, default=56, help='days before today the history spans')
    parser.add_argument('--today-tasks', type=int, default=1000, help='tasks created since midnight UTC in all')
    parser.add_argument('--open-tasks', type=int, default=30)
    parser.add_argument('--waiting-tasks', type=int, default=300)
    parser.add_argument('--dry-run', action='store_true')
    args = parser.parse_args(argv)

    psql = Psql(args.psql, args.dry_run)
    config = koji.read_config(args.profile)
    session = koji.ClientSession(config['server'], opts=config)
    session.ssl_login()
    print('hub %s, %s' % (config['server'], datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M UTC')))
    print('before: %s' % hub_size(psql))
    began = time.monotonic()
    owner_id = owner_user(session, args)
    own_channels = seed_hosts(session, psql, args)
    tags = seed_tags(session, psql, args)
    seed_packages(session, psql, args, tags)
    seed_builds(psql, args, owner_id)
    seed_tasks(psql, args, owner_id, own_channels)
    print('after:  %s (%.0f s)' % (hub_size(psql), time.monotonic() - began))
    return 0


if __name__ == '__main__':
    sys.exit(main())
