"""Task, build and repo-request calls for the fake hub, as an ``extra_handlers`` object.

The metrics exporter (the kojiforge_metrics package, roles/koji_web/files/kojiforge-metrics/) reads these; the base fake hub
(api.py) covers the objects the modules manage. Use it as::

    from tests.fakehub import FakeHub
    from tests.fakehub.api_tasks import TaskAPI, add_task, add_build, add_repo_request

    hub = FakeHub(extra_handlers=[TaskAPI()]).start()
    add_task(hub.state, 'build', channel='default', task_state='OPEN', host='b1',
             request=['git+https://src/pkg#abc', 'f40-candidate', {}])

Data lives in ``hub.state.extra['tasks']`` (a TaskData) and is guarded by ``hub.state.lock``
like everything else. Result shapes follow Koji 1.35's hub: ``listTasks`` returns the request
as the XML text the hub stores unless ``opts['decode']``; ``getTaskInfo`` accepts one id or a
list and returns None for unknown ids (strict=False); ``repo.queryQueue``,
``scheduler.getHostData``, ``scheduler.getTaskRuns`` and ``scheduler.getTaskRefusals`` keep
their dotted names. Scheduler runs and refusals are seeded (``add_task_run``, ``add_refusal``):
the fake hub has no scheduler of its own.
"""

import re
import time

import koji
from koji.xmlrpcplus import dumps

from .api_common import apply_query_opts

TASK_FIELDS = ('id', 'state', 'create_time', 'create_ts', 'start_time', 'start_ts',
               'completion_time', 'completion_ts', 'channel_id', 'host_id', 'parent', 'label',
               'waiting', 'awaited', 'owner', 'method', 'arch', 'priority', 'weight')
REPO_QUEUE_DEFAULT_FIELDS = ('id', 'tag_id', 'at_event', 'min_event', 'create_ts', 'task_id',
                             'tries', 'repo_id', 'opts', 'active', 'update_ts')


class TaskData(object):
    """The fake hub's tasks, builds, tagged builds, repo requests and scheduler host data."""

    def __init__(self):
        self.tasks = {}         # id -> task row (TASK_FIELDS + request params + result)
        self.by_state = {}      # state -> set of task ids (the hub's task table is indexed on state)
        self.next_task_id = 1
        self.builds = {}        # id -> {id, package_id, state}
        self.package_builds = {}  # package id -> list of build ids
        self.tagged = {}        # tag id -> set of build ids
        self.repo_queue = {}    # id -> repo request row
        self.host_data = {}     # host id -> data dict (kojid's maxjobs, methods)
        self.task_runs = {}     # id -> {id, task_id, host_id, active, create_ts}
        self.refusals = {}      # id -> {id, task_id, host_id, by_host, soft, msg, ts}


def task_data(state):
    """The TaskData of a fake hub's state, created on first use."""
    with state.lock:
        return state.extra.setdefault('tasks', TaskData())


def _timestr(ts):
    if ts is None:
        return None
    return time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(ts))


def add_task(state, method, channel='default', task_state='FREE', host=None, request=(),
             create_ts=None, start_ts=None, completion_ts=None, task_id=None, weight=1.0,
             arch='noarch', parent=None):
    """Seed a task; ``channel`` and ``host`` are names; ``task_state`` a TASK_STATES name.

    ``task_id`` lets a test leave gaps in the id sequence. Returns the task id.
    """
    with state.lock:
        data = task_data(state)
        if task_id is None:
            task_id = data.next_task_id
        data.next_task_id = max(data.next_task_id, task_id + 1)
        chan = state.find_channel(channel)
        if chan is None:
            raise KeyError(channel)
        host_id = state.find_host(host)['id'] if host is not None else None
        create_ts = time.time() if create_ts is None else create_ts
        data.tasks[task_id] = {
            'id': task_id, 'state': koji.TASK_STATES[task_state],
            'create_time': _timestr(create_ts), 'create_ts': create_ts,
            'start_time': _timestr(start_ts), 'start_ts': start_ts,
            'completion_time': _timestr(completion_ts), 'completion_ts': completion_ts,
            'channel_id': chan['id'], 'host_id': host_id, 'parent': parent, 'label': None,
            'waiting': None, 'awaited': None, 'owner': 1, 'method': method, 'arch': arch,
            'priority': 20, 'weight': weight, 'request': list(request), 'result': None,
        }
        data.by_state.setdefault(koji.TASK_STATES[task_state], set()).add(task_id)
        return task_id


def set_task_state(state, task_id, task_state, host=None, start_ts=None, completion_ts=None):
    """Move a seeded task on (open it on a host, finish it)."""
    with state.lock:
        data = task_data(state)
        task = data.tasks[task_id]
        data.by_state[task['state']].discard(task_id)
        task['state'] = koji.TASK_STATES[task_state]
        data.by_state.setdefault(task['state'], set()).add(task_id)
        if host is not None:
            task['host_id'] = state.find_host(host)['id']
        if start_ts is not None:
            task['start_ts'] = start_ts
            task['start_time'] = _timestr(start_ts)
        if completion_ts is not None:
            task['completion_ts'] = completion_ts
            task['completion_time'] = _timestr(completion_ts)


def add_build(state, package, tags=(), build_state='COMPLETE', create_ts=None, completion_ts=None):
    """Seed a build of ``package`` (created if missing), tagged into ``tags``; returns its id.

    Seeding makes no event (tag into an existing tag through ``tagBuildBypass`` for one).
    ``create_ts`` (default now) and ``completion_ts`` (default: ``create_ts`` when COMPLETE)
    are what listBuilds' createdAfter and completeAfter filter on."""
    with state.lock:
        data = task_data(state)
        build_id = len(data.builds) + 1
        pkg_id = state.ensure_package(package)
        create_ts = time.time() if create_ts is None else create_ts
        if completion_ts is None and build_state == 'COMPLETE':
            completion_ts = create_ts
        data.builds[build_id] = {'id': build_id, 'package_id': pkg_id, 'version': '1',
                                 'release': str(build_id), 'state': koji.BUILD_STATES[build_state],
                                 'creation_ts': create_ts, 'completion_ts': completion_ts}
        data.package_builds.setdefault(pkg_id, []).append(build_id)
        for tag in tags:
            data.tagged.setdefault(state.find_tag(tag)['id'], set()).add(build_id)
        return build_id


def delete_build(state, build_id):
    """As the hub's deleteBuild: one event, the build untagged everywhere, its state DELETED."""
    with state.lock:
        data = task_data(state)
        state.versioned_write(None)
        for build_ids in data.tagged.values():
            build_ids.discard(build_id)
        data.builds[build_id]['state'] = koji.BUILD_STATES['DELETED']
        state.sync_history(state.event_id)


def add_repo_request(state, tag, create_ts=None, active=True):
    """Seed a repo request (Koji 1.35's repo queue); returns its id."""
    with state.lock:
        data = task_data(state)
        req_id = len(data.repo_queue) + 1
        create_ts = time.time() if create_ts is None else create_ts
        data.repo_queue[req_id] = {
            'id': req_id, 'tag_id': state.find_tag(tag)['id'], 'at_event': None,
            'min_event': state.event_id, 'create_ts': create_ts, 'task_id': None, 'tries': 0,
            'repo_id': None, 'opts': {}, 'active': active, 'update_ts': create_ts,
            'priority': 0, 'owner': 1}
        return req_id


def set_host_data(state, host, data):
    """What kojid reports to the scheduler (host.updateHost data), e.g. {'maxjobs': 10}."""
    with state.lock:
        task_data(state).host_data[state.find_host(host)['id']] = dict(data)


def add_task_run(state, task_id, host, active=True, create_ts=None):
    """A scheduler run (Koji 1.34+): the scheduler assigned the task to the host; returns its id."""
    with state.lock:
        data = task_data(state)
        run_id = len(data.task_runs) + 1
        data.task_runs[run_id] = {
            'id': run_id, 'task_id': task_id, 'host_id': state.find_host(host)['id'],
            'active': active, 'create_ts': time.time() if create_ts is None else create_ts}
        return run_id


def add_refusal(state, task_id, host, soft=True, by_host=True, msg='', ts=None):
    """A task refusal (Koji 1.34+), by the host or by the hub; returns its id. One per (task,
    host), as the hub's upsert."""
    with state.lock:
        data = task_data(state)
        host_id = state.find_host(host)['id']
        for row in data.refusals.values():
            if (row['task_id'], row['host_id']) == (task_id, host_id):
                raise ValueError('task %s already refused by %s' % (task_id, host))
        ref_id = len(data.refusals) + 1
        data.refusals[ref_id] = {
            'id': ref_id, 'task_id': task_id, 'host_id': host_id, 'by_host': by_host,
            'soft': soft, 'msg': msg, 'ts': time.time() if ts is None else ts}
        return ref_id


def _ids(value):
    if value is None or isinstance(value, list):
        return value
    return [value]


COMPARE = {'>': lambda a, b: a > b, '<': lambda a, b: a < b,
           '>=': lambda a, b: a >= b, '<=': lambda a, b: a <= b, '!=': lambda a, b: a != b}


def _match_clause(row, clause):
    if len(clause) == 2:
        # the hub's implicit operator: IN for a list, = otherwise
        field, value = clause
        oper = 'IN' if isinstance(value, (list, tuple)) else '='
    else:
        field, oper, value = clause
        oper = oper.upper()
    have = row.get(field)
    if oper in COMPARE:
        return have is not None and COMPARE[oper](have, value)
    if oper == 'IS':
        return have is value or have == value
    if oper == 'IS NOT':
        return not (have is value or have == value)
    if oper == '=':
        return have == value
    if oper == 'IN':
        return have in value
    raise koji.ParameterError('unsupported operator in the fake hub: %s' % oper)


class TaskAPI(object):
    """Hub methods, called by the fake hub as ``method(hub_state, *args, **kwargs)``."""

    # ---- tasks ------------------------------------------------------------------------
    @staticmethod
    def _task_row(task, with_request):
        row = dict((f, task[f]) for f in TASK_FIELDS)
        if with_request:
            row['request'] = task['request']
        return row

    def getTaskInfo(self, hub_state, task_id, request=False, strict=False):
        data = task_data(hub_state)
        single = not isinstance(task_id, (list, tuple))
        result = []
        for tid in ([task_id] if single else task_id):
            task = data.tasks.get(int(tid))
            if task is None:
                if strict:
                    raise koji.GenericError('No such task: %s' % tid)
                result.append(None)
            else:
                result.append(self._task_row(task, request))
        return result[0] if single else result

    def listTasks(self, hub_state, opts=None, queryOpts=None):
        opts = opts or {}
        queryOpts = queryOpts or {}
        rows = []
        data = task_data(hub_state)
        if 'state' in opts:
            ids = set()
            for wanted in opts['state']:
                ids.update(data.by_state.get(wanted, ()))
        else:
            ids = data.tasks
        for task in (data.tasks[tid] for tid in sorted(ids)):
            if 'state' in opts and task['state'] not in opts['state']:
                continue
            if 'not_state' in opts and task['state'] in opts['not_state']:
                continue
            keep = True
            for field in ('channel_id', 'host_id', 'parent'):
                wanted = _ids(opts.get(field))
                if field in opts and task[field] not in (wanted or [None]):
                    keep = False
            if 'method' in opts and task['method'] != opts['method']:
                keep = False
            if not keep:
                continue
            rows.append(task)
        if queryOpts.get('countOnly'):
            return apply_query_opts(rows, queryOpts)
        out = []
        for task in apply_query_opts(rows, queryOpts):
            row = self._task_row(task, False)
            if opts.get('decode'):
                row['request'] = task['request']
                row['result'] = task['result']
            else:
                # the hub stores the request as XML-RPC params text
                row['request'] = dumps(tuple(task['request']), task['method'], allow_none=1)
                row['result'] = None
            row['owner_name'] = 'kojiadmin'
            row['owner_type'] = koji.USERTYPES['NORMAL']
            out.append(row)
        return out

    # ---- builds -----------------------------------------------------------------------
    def listBuilds(self, hub_state, packageID=None, state=None, createdAfter=None, completeAfter=None,
                   queryOpts=None, **_other):
        """The packageID, state, createdAfter and completeAfter (epoch seconds) filters; builds
        carry id, build_id, package_id, package_name, version, release, state, creation_ts and
        completion_ts here."""
        # pylint: disable=too-many-arguments
        data = task_data(hub_state)
        pkg_id = hub_state.find_package_id(packageID) if packageID is not None else None
        ids = sorted(data.builds) if pkg_id is None else data.package_builds.get(pkg_id, [])
        rows = []
        for bid in ids:
            build = data.builds[bid]
            if state is not None and build['state'] != state:
                continue
            if createdAfter is not None and not build['creation_ts'] > createdAfter:
                continue
            if completeAfter is not None and not (build['completion_ts'] or 0) > completeAfter:
                continue
            rows.append(dict(build, build_id=bid, package_name=hub_state.packages[build['package_id']]))
        return apply_query_opts(rows, queryOpts)

    @staticmethod
    def _available_packages(hub_state, tag_id):
        """Package ids listed and not blocked in a tag or (nearest first) its inheritance."""
        listing = dict((pid, entry['blocked']) for pid, entry in hub_state.tag_packages.get(tag_id, {}).items())
        for parent_id, filters in hub_state.full_inheritance(tag_id):
            for pid, entry in hub_state.tag_packages.get(parent_id, {}).items():
                if pid in listing:
                    continue
                if any(re.match(pat, hub_state.packages[pid]) is None for pat in filters):
                    continue
                listing[pid] = entry['blocked']
        return set(pid for pid, blocked in listing.items() if not blocked)

    def listTagged(self, hub_state, tag, event=None, inherit=False, prefix=None, latest=False,
                   package=None, owner=None, type=None, strict=True, extra=False, draft=None):
        """Completed builds tagged in the tag itself whose package the tag lists (directly or
        inherited) and does not block, as the hub's readTaggedBuilds; no inherit/latest here."""
        # pylint: disable=redefined-builtin,too-many-arguments
        found = hub_state.find_tag(tag)
        if found is None:
            raise koji.GenericError('No such tagInfo: %r' % (tag,))
        data = task_data(hub_state)
        available = self._available_packages(hub_state, found['id'])
        return [dict(data.builds[bid], tag_id=found['id'], tag_name=found['name'])
                for bid in sorted(data.tagged.get(found['id'], ()))
                if data.builds[bid]['package_id'] in available
                and data.builds[bid]['state'] == koji.BUILD_STATES['COMPLETE']]

    def tagBuildBypass(self, hub_state, tag, build, force=False, notify=False):
        """Tag a build (by id) into a tag: one event. No permission check in the fake."""
        # pylint: disable=unused-argument
        found = hub_state.find_tag(tag)
        data = task_data(hub_state)
        if found is None or build not in data.builds:
            raise koji.GenericError('No such tag or build: %r %r' % (tag, build))
        hub_state.versioned_write(None)
        data.tagged.setdefault(found['id'], set()).add(build)

    def untagBuildBypass(self, hub_state, tag, build, strict=True, force=False, notify=False):
        """Untag a build (by id) from a tag: one event. No permission check in the fake."""
        # pylint: disable=unused-argument,too-many-arguments
        found = hub_state.find_tag(tag)
        data = task_data(hub_state)
        if found is None or build not in data.tagged.get(found['id'], ()):
            raise koji.GenericError('build %r not in tag %r' % (build, tag))
        hub_state.versioned_write(None)
        data.tagged[found['id']].discard(build)

    def count(self, hub_state, methodName, *args, **kw):
        """The hub's generic count(); here only for the methods of this handler."""
        func = getattr(self, methodName, None)
        if func is None or methodName.startswith('_') or methodName == 'count':
            raise koji.GenericError("method %s doesn't exist" % methodName)
        result = func(hub_state, *args, **kw)
        return len(result) if isinstance(result, (list, tuple, dict)) else int(result is not None)

    # ---- repo queue and scheduler (dotted hub names, set below) -----------------------------
    def _repo_query_queue(self, hub_state, clauses=None, fields=None, opts=None):
        rows = []
        for _req_id, req in sorted(task_data(hub_state).repo_queue.items()):
            if all(_match_clause(req, clause) for clause in clauses or ()):
                rows.append(req)
        result = apply_query_opts(rows, opts)
        if isinstance(result, int):
            return result
        fields = fields or REPO_QUEUE_DEFAULT_FIELDS
        return [dict((f, row.get(f)) for f in fields) for row in result]

    def _scheduler_get_host_data(self, hub_state, hostID=None):
        data = task_data(hub_state).host_data
        return [{'host_id': hid, 'data': dict(data[hid])} for hid in sorted(data)
                if hostID is None or hid == hostID]

    @staticmethod
    def _view_rows(rows, fieldmap, default_fields, clauses, fields):
        """A QueryView of the hub: clauses and fields checked against its field names."""
        for clause in clauses or ():
            if not isinstance(clause, (list, tuple)) or len(clause) not in (2, 3):
                raise koji.ParameterError('Invalid clause: %s' % (clause,))
            if clause[0] not in fieldmap:
                raise koji.ParameterError('Invalid field for query %s' % clause[0])
        fields = fields or default_fields
        for field in fields:
            if field not in fieldmap:
                raise koji.ParameterError('Invalid field for query %s' % field)
        return [dict((f, row[f]) for f in fields) for row in rows
                if all(_match_clause(row, clause) for clause in clauses or ())]

    def _joined(self, hub_state, row):
        """A run or refusal row with the task and host fields the hub's views join in."""
        task = task_data(hub_state).tasks.get(row['task_id'], {})
        host = hub_state.hosts.get(row['host_id'], {})
        return dict(row, method=task.get('method'), state=task.get('state'),
                    owner=task.get('owner'), arch=task.get('arch'),
                    channel_id=task.get('channel_id'), host_name=host.get('name'),
                    host_ready=host.get('ready'))

    def _scheduler_get_task_runs(self, hub_state, clauses=None, fields=None, opts=None):
        runs = task_data(hub_state).task_runs
        rows = [self._joined(hub_state, runs[rid]) for rid in sorted(runs)]
        fieldmap = ('id', 'task_id', 'method', 'state', 'owner', 'arch', 'channel_id',
                    'host_name', 'host_ready', 'host_id', 'active', 'create_ts')
        result = self._view_rows(rows, fieldmap, ('id', 'task_id', 'host_id', 'active', 'create_ts'),
                                 clauses, fields)
        return apply_query_opts(result, opts)

    def _scheduler_get_task_refusals(self, hub_state, clauses=None, fields=None):
        refusals = task_data(hub_state).refusals
        rows = [self._joined(hub_state, refusals[rid]) for rid in sorted(refusals)]
        fieldmap = ('id', 'task_id', 'host_id', 'by_host', 'soft', 'msg', 'ts', 'method', 'state',
                    'owner', 'arch', 'channel_id', 'host_name', 'host_ready')
        return self._view_rows(rows, fieldmap, ('id', 'task_id', 'host_id', 'by_host', 'soft', 'msg', 'ts'),
                               clauses, fields)


# The fake hub registers a handler's public methods under their attribute names.
setattr(TaskAPI, 'repo.queryQueue', TaskAPI._repo_query_queue)
setattr(TaskAPI, 'scheduler.getHostData', TaskAPI._scheduler_get_host_data)
setattr(TaskAPI, 'scheduler.getTaskRuns', TaskAPI._scheduler_get_task_runs)
setattr(TaskAPI, 'scheduler.getTaskRefusals', TaskAPI._scheduler_get_task_refusals)
