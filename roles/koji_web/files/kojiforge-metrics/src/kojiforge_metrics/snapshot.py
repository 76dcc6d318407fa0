"""The snapshot each scrape reads from the hub: hosts, channels, membership and task states in
one multicall; and the anonymous koji sessions every reader of the hub uses."""

import time

import koji

from .tasktag import task_tag

FREE = koji.TASK_STATES['FREE']
OPEN = koji.TASK_STATES['OPEN']
ASSIGNED = koji.TASK_STATES['ASSIGNED']

WAITING = [FREE, ASSIGNED]
ACTIVE_REPO_REQUESTS = [['active', 'IS', True]]
# the method label of waiting tasks whose (channel, method) the task walk has not seen yet
OTHER_METHOD = 'other'

# The scheduler's view (Koji 1.34+). Active runs: one per task the scheduler assigned that is
# still ASSIGNED or OPEN, so at most the builders' maxjobs in all; the state label of each.
RUN_STATES = ((ASSIGNED, 'assigned'), (OPEN, 'open'))
ACTIVE_RUNS = [['active', True], ['state', 'IN', [state for state, _label in RUN_STATES]]]
RUN_FIELDS = ['host_id', 'state']
# Refusals made within this many seconds (the hub's default SoftRefusalTimeout): the hub drops
# soft ones older than that and those of finished tasks itself, and the window bounds what one
# scrape reads even when hard refusals pile up (getTaskRefusals has no count option).
REFUSAL_WINDOW = 900
REFUSAL_FIELDS = ['host_id', 'soft']


# What a failed call inside a multicall raises: a koji error, or the bare fault when the hub's
# fault code is not one koji knows.
CALL_ERRORS = (koji.GenericError, koji.Fault)


class HubUnavailable(Exception):
    """The hub could not be reached or refused a call the scrape cannot do without."""


def new_session(settings):
    """An anonymous koji session; one per thread, as ClientSession is not thread-safe."""
    return koji.ClientSession(settings.server, opts=settings.koji_opts())


def optional(call, default=None):
    """Result of a multicall entry the scrape can do without (older hubs lack some calls)."""
    try:
        return call.result
    except CALL_ERRORS:
        return default


def required(call):
    """Result of a multicall entry the scrape cannot do without."""
    try:
        return call.result
    except CALL_ERRORS as exc:
        raise HubUnavailable(f'{call.method} failed: {exc}') from exc


class ScrapeInputs:
    """What a scrape needs to know beforehand, from earlier scrapes and the background cache."""

    # pylint: disable=too-few-public-methods

    def __init__(self, channel_ids=(), waiting_pairs=(), tag_names=None, target_tags=None,
                 default_max_jobs=10):
        # pylint: disable=too-many-arguments
        self.channel_ids = sorted(channel_ids)      # channels seen before: membership, totals
        self.waiting_pairs = sorted(waiting_pairs)  # (channel id, method) seen by the task walk
        self.tag_names = tag_names or {}            # tag id -> name, for the tag label
        self.target_tags = target_tags or {}        # target name -> destination tag name
        self.default_max_jobs = default_max_jobs


class Snapshot:
    """What one scrape read from the hub, reduced to what the metrics need."""

    # pylint: disable=too-many-instance-attributes,too-few-public-methods

    def __init__(self):
        self.hosts = []                 # listHosts() entries
        self.channels = {}              # channel id -> name
        self.members = {}               # channel id -> set of host ids
        self.max_jobs = {}              # host id -> maxjobs
        # the scheduler's view (Koji 1.34+); None: a hub without that call
        self.runs = None                # host id -> {'assigned': n, 'open': n}
        self.refusals = None            # host id -> {soft (bool): n}, within REFUSAL_WINDOW
        self.methods = {}               # host id -> task methods its kojid reported
        self.open_per_host = {}         # host id -> open tasks
        self.waiting = {}               # (channel, method) -> tasks
        self.in_progress = {}           # (channel, method, tag) -> tasks
        self.repo_queue_length = None   # None: hub without repo requests
        self.repo_max_wait = None
        self.hub_requests = 0


def _channel_name(channels, channel_id):
    return channels.get(channel_id, str(channel_id))


def _host_max_jobs(host_data):
    """kojid's maxjobs per host id from scheduler.getHostData() (Koji 1.34+)."""
    max_jobs = {}
    for entry in host_data or ():
        data = entry.get('data') or {}
        if isinstance(data, dict) and data.get('maxjobs'):
            max_jobs[entry['host_id']] = int(data['maxjobs'])
    return max_jobs


def _host_methods(host_data):
    """How many task methods each host's kojid handles, from scheduler.getHostData()."""
    methods = {}
    for entry in host_data or ():
        data = entry.get('data') or {}
        if isinstance(data, dict) and isinstance(data.get('methods'), list):
            methods[entry['host_id']] = len(data['methods'])
    return methods


def _per_host(rows, hosts, key, values):
    """Rows counted per (host id, key(row)), every known host and value present (0 included);
    rows of hosts listHosts did not return are left out."""
    counts = dict((host['id'], dict((value, 0) for value in values)) for host in hosts)
    for row in rows:
        value = key(row)
        if row.get('host_id') in counts and value in values:
            counts[row['host_id']][value] += 1
    return counts


def _fold_scheduler(snap, calls):
    """Active runs and recent refusals per host; left None when the hub has no scheduler."""
    runs = optional(calls['runs'])
    if runs is not None:
        labels = dict(RUN_STATES)
        snap.runs = _per_host(runs, snap.hosts, lambda row: labels.get(row.get('state')),
                              set(labels.values()))
    refusals = optional(calls['refusals'])
    if refusals is not None:
        snap.refusals = _per_host(refusals, snap.hosts, lambda row: bool(row.get('soft')),
                                  (True, False))


def _count_waiting(multi, channel_ids, pairs):
    """countOnly calls for waiting tasks: per channel, and per (channel, method) seen before.

    Listing waiting tasks would cost a request blob per task (a few kB of XML each, thousands of
    tasks in a mass rebuild); counts cost the same whatever the queue length.
    """
    wanted = set(channel_ids)
    totals = dict((cid, multi.listTasks(opts={'state': WAITING, 'channel_id': cid},
                                        queryOpts={'countOnly': True}))
                  for cid in channel_ids)
    by_pair = dict(((cid, method),
                    multi.listTasks(opts={'state': WAITING, 'channel_id': cid, 'method': method},
                                    queryOpts={'countOnly': True}))
                   for cid, method in pairs if cid in wanted)
    return totals, by_pair


def _queue_calls(multi, inputs, now):
    """Put the scrape's calls into a multicall; returns name -> VirtualCall."""
    calls = {
        'hosts': multi.listHosts(),
        'channels': multi.listChannels(),
        'members': dict((cid, multi.listHosts(channelID=cid)) for cid in inputs.channel_ids),
        'host_data': multi.scheduler.getHostData(),
        'runs': multi.scheduler.getTaskRuns(clauses=ACTIVE_RUNS, fields=RUN_FIELDS),
        'refusals': multi.scheduler.getTaskRefusals(
            clauses=[['ts', '>=', now - REFUSAL_WINDOW]], fields=REFUSAL_FIELDS),
        'waiting': _count_waiting(multi, inputs.channel_ids, inputs.waiting_pairs),
        # open tasks are few (at most the builders' maxjobs): list them, for the tag label
        'open': multi.listTasks(opts={'state': [OPEN], 'decode': True}),
        'repo_length': multi.repo.queryQueue(clauses=ACTIVE_REPO_REQUESTS,
                                             opts={'countOnly': True}),
        'repo_oldest': multi.repo.queryQueue(clauses=ACTIVE_REPO_REQUESTS,
                                             fields=['id', 'create_ts'],
                                             opts={'order': 'id', 'limit': 1}),
    }
    return calls


def _members(calls):
    # a channel gone since the last scrape answers with a fault: treat it as empty
    return dict((cid, set(h['id'] for h in optional(call, []))) for cid, call in calls.items())


def _read_new_channels(session, snap, channel_ids, waiting):
    """Membership and waiting tasks of channels that appeared since the last scrape: a
    second, rare request."""
    if not channel_ids:
        return
    with session.multicall(strict=False) as multi:
        more = dict((cid, multi.listHosts(channelID=cid)) for cid in sorted(channel_ids))
        totals, _none = _count_waiting(multi, sorted(channel_ids), ())
    snap.hub_requests += 1
    snap.members.update(_members(more))
    waiting[0].update(totals)


def _fold_waiting(snap, waiting):
    totals, by_pair = waiting
    for cid, total_call in totals.items():
        name = _channel_name(snap.channels, cid)
        known = 0
        for (pair_cid, method), call in by_pair.items():
            if pair_cid == cid:
                count = required(call)
                known += count
                snap.waiting[(name, method)] = count
        other = required(total_call) - known
        if other > 0:
            snap.waiting[(name, OTHER_METHOD)] = other


def _fold_open(snap, open_tasks, inputs):
    for task in open_tasks:
        tag = task_tag(task['method'], task.get('request'), inputs.tag_names, inputs.target_tags)
        key = (_channel_name(snap.channels, task['channel_id']), task['method'], tag)
        snap.in_progress[key] = snap.in_progress.get(key, 0) + 1
        if task.get('host_id') in snap.open_per_host:
            snap.open_per_host[task['host_id']] += 1


def read_snapshot(session, inputs, now=None):
    """Read the cheap metrics' data in one multicall (two when a channel appeared).

    ``inputs``: a ScrapeInputs. Raises HubUnavailable.
    """
    snap = Snapshot()
    now = time.time() if now is None else now
    try:
        with session.multicall(strict=False) as multi:
            calls = _queue_calls(multi, inputs, now)
        snap.hub_requests += 1
        snap.hosts = required(calls['hosts'])
        snap.channels = dict((c['id'], c['name']) for c in required(calls['channels']))
        open_tasks = required(calls['open'])
        snap.members = _members(calls['members'])
        _read_new_channels(session, snap, set(snap.channels) - set(inputs.channel_ids),
                           calls['waiting'])
        host_data = optional(calls['host_data'], [])
        snap.max_jobs = _host_max_jobs(host_data)
        snap.methods = _host_methods(host_data)
        for host in snap.hosts:
            snap.max_jobs.setdefault(host['id'], inputs.default_max_jobs)
            snap.open_per_host[host['id']] = 0
        _fold_waiting(snap, calls['waiting'])
    except HubUnavailable:
        raise
    except Exception as exc:  # pylint: disable=broad-except
        # requests' connection errors, TLS errors, timeouts, malformed answers
        raise HubUnavailable(f'{type(exc).__name__}: {exc}') from exc
    _fold_open(snap, open_tasks, inputs)
    _fold_scheduler(snap, calls)

    length = optional(calls['repo_length'])
    if length is not None:
        snap.repo_queue_length = int(length)
        oldest = optional(calls['repo_oldest'], [])
        snap.repo_max_wait = max(0.0, now - oldest[0]['create_ts']) if oldest else 0.0
    return snap
