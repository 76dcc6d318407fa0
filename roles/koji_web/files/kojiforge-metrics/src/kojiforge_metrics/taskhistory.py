"""Finished-task counters and duration histograms, built incrementally from task ids.

The task table is indexed by id, not by creation or completion time, so the exporter walks task
ids: each refresh asks ``getTaskInfo`` (a list of ids per call, several calls per multicall)
for the ids above the last one seen, plus the tasks it saw unfinished before. A task is counted
in ``koji_tasks_total`` the first time it is seen, and in the completion counters and histograms
once, when it is first seen finished. Counts only ever grow.

Ids that do not exist (yet) below the newest id are rechecked for a few refreshes: a task's
transaction may commit after a newer task's.
"""

import koji

from .metricdefs import DURATION_BUCKETS

CLOSED = koji.TASK_STATES['CLOSED']
CANCELED = koji.TASK_STATES['CANCELED']
FAILED = koji.TASK_STATES['FAILED']
FINISHED = frozenset((CLOSED, CANCELED, FAILED))

# getTaskInfo calls per HTTP request while walking ids (each call asks for task_scan_chunk ids)
CALLS_PER_REQUEST = 4
# histogram name -> how to measure a finished task
TOTAL = 'koji_task_duration_seconds'
WAITING = 'koji_task_waiting_duration_seconds'
IN_PROGRESS = 'koji_task_in_progress_duration_seconds'
HISTOGRAMS = (TOTAL, WAITING, IN_PROGRESS)


def _durations(task):
    """(histogram name, seconds) pairs for a finished task; started-only spans need start_ts."""
    created = task.get('create_ts')
    started = task.get('start_ts')
    completed = task.get('completion_ts')
    if created is None or completed is None:
        return []
    spans = [(TOTAL, completed - created)]
    if started is not None:
        spans.append((WAITING, started - created))
        spans.append((IN_PROGRESS, completed - started))
    return [(name, max(0.0, float(seconds))) for name, seconds in spans]


class Histogram:
    """Bucket counts (not cumulative) and the sum of one label set's observations."""

    # pylint: disable=too-few-public-methods

    __slots__ = ('counts', 'total')

    def __init__(self, nbuckets):
        self.counts = [0] * (nbuckets + 1)   # the last one is +Inf
        self.total = 0.0

    def observe(self, value, bounds):
        """Count one observation."""
        index = len(bounds)
        for i, bound in enumerate(bounds):
            if value <= bound:
                index = i
                break
        self.counts[index] += 1
        self.total += value

    def cumulative(self, bounds):
        """[(le, cumulative count)], ending with +Inf, as prometheus_client wants them."""
        out = []
        running = 0
        for bound, count in zip(list(bounds) + ['+Inf'], self.counts):
            running += count
            out.append((str(float(bound)) if bound != '+Inf' else bound, running))
        return out


class TaskCounts:
    """The counters and histograms, and where the walk through task ids stands.

    Not locked itself: the exporter applies a refresh's result under its lock, and reads copies.
    """

    # pylint: disable=too-many-instance-attributes

    def __init__(self, buckets=DURATION_BUCKETS):
        self.buckets = tuple(buckets)
        self.next_id = None            # first id not examined yet; None before the first refresh
        self.pending = set()           # ids seen unfinished
        self.gaps = {}                 # missing id -> refreshes left to look for it
        self.created = {}              # (channel, method) -> tasks
        self.completed = {}
        self.succeeded = {}
        self.failed = {}
        self.histograms = dict((name, {}) for name in HISTOGRAMS)

    @property
    def last_seen_id(self):
        """Highest task id examined so far."""
        return 0 if self.next_id is None else self.next_id - 1

    def copy_for_collect(self):
        """A consistent copy of what the collector serves (call under the exporter's lock)."""
        hist = {}
        for name, by_key in self.histograms.items():
            hist[name] = dict((key, (h.cumulative(self.buckets), h.total))
                              for key, h in by_key.items())
        return {
            'created': dict(self.created),
            'completed': dict(self.completed),
            'succeeded': dict(self.succeeded),
            'failed': dict(self.failed),
            'histograms': hist,
            'last_seen_id': self.last_seen_id,
        }

    def _bump(self, counter, key):
        counter[key] = counter.get(key, 0) + 1

    def _finish(self, key, task):
        self._bump(self.completed, key)
        if task['state'] == CLOSED:
            self._bump(self.succeeded, key)
        elif task['state'] == FAILED:
            self._bump(self.failed, key)
        for name, seconds in _durations(task):
            by_key = self.histograms[name]
            if key not in by_key:
                by_key[key] = Histogram(len(self.buckets))
            by_key[key].observe(seconds, self.buckets)

    def apply(self, result, channels):
        """Fold one walk step (a ScanResult) in; call under the exporter's lock."""
        for task_id, task in result.found.items():
            key = (channels.get(task['channel_id'], str(task['channel_id'])), task['method'])
            first_time = task_id not in self.pending
            if first_time:
                self._bump(self.created, key)
            if task['state'] in FINISHED:
                self.pending.discard(task_id)
                self._finish(key, task)
            elif first_time:
                self.pending.add(task_id)
            self.gaps.pop(task_id, None)
        for task_id in result.missing:
            if task_id in self.gaps:
                self.gaps[task_id] -= 1
                if self.gaps[task_id] <= 0:
                    del self.gaps[task_id]
            elif result.gap_retries > 0:
                self.gaps[task_id] = result.gap_retries
        for task_id in result.vanished:
            # an unfinished task the hub no longer knows: stop asking for it
            self.pending.discard(task_id)
        self.next_id = max(self.next_id or 1, result.next_id)


class ScanResult:
    """What one walk step read from the hub."""

    # pylint: disable=too-few-public-methods

    def __init__(self, next_id, gap_retries):
        self.found = {}       # id -> task info
        self.missing = []     # new or gap ids the hub returned None for
        self.vanished = []    # pending ids the hub returned None for
        self.next_id = next_id
        self.gap_retries = gap_retries


def newest_task_call(multi):
    """Queue the call that finds the newest task; its id is newest_task_id(call)."""
    return multi.listTasks(opts={}, queryOpts={'order': '-id', 'limit': 1})


def newest_task_id(call):
    """Id of the newest task on the hub (0 if none)."""
    newest = call.result
    return newest[0]['id'] if newest else 0


def _read_tasks(session, ids, chunk):
    """getTaskInfo for ``ids``: ``chunk`` ids per call, CALLS_PER_REQUEST calls per request."""
    calls = []
    with session.multicall(strict=True, batch=CALLS_PER_REQUEST) as multi:
        for i in range(0, len(ids), chunk):
            part = ids[i:i + chunk]
            calls.append((part, multi.getTaskInfo(part)))
    for part, call in calls:
        for task_id, info in zip(part, call.result):
            yield task_id, info


def scan_step(session, counts, newest_id, settings, recheck=True):
    """Ask the hub about the next ids up to ``newest_id``, and with ``recheck`` about the
    pending and gap ids too (once per refresh is enough).

    Reads ``counts`` without changing it (only the refreshing thread changes it); returns a
    ScanResult to apply under the lock. At most CALLS_PER_REQUEST * task_scan_chunk new ids
    per step, so a long backfill shows progress and the lock is never held long.
    """
    chunk = settings.task_scan_chunk
    start = counts.next_id
    stop = max(start, min(newest_id + 1, start + CALLS_PER_REQUEST * chunk))
    pending = sorted(counts.pending) if recheck else []
    gaps = sorted(counts.gaps) if recheck else []
    result = ScanResult(stop, settings.gap_retries)
    ids = pending + gaps + list(range(start, stop))
    if not ids:
        return result
    pending_set = set(pending)
    for task_id, info in _read_tasks(session, ids, chunk):
        if info is not None:
            result.found[task_id] = info
        elif task_id in pending_set:
            result.vanished.append(task_id)
        else:
            result.missing.append(task_id)
    return result
