"""The background refreshes' state as JSON: kept on disk across restarts, served to followers.

One document per cache (``counts``, ``tasks``), written after each successful refresh into
``state_dir/<cache>.json`` (a temporary file renamed over the old one: a reader never sees half
a file) and loaded when the exporter starts, so that a restart continues incrementally (from
the last hub event and the last task id) instead of recounting every tag and walking every task
id again. JSON only, never pickle: the files and the ``/state`` endpoint carry data, not code.

A document is used only when it is compatible: the same FORMAT, the same hub URL, and for the
task counters the same histogram buckets. Anything else (a corrupt file, another hub's) is
ignored with a log line, never an error: the exporter then starts from nothing, as before.

Everything in a document is what ``/metrics`` serves or derives from the same anonymous hub
reads (tag, package, channel and method names, counts, task ids): no secrets.
"""

import json
import logging
import os
import tempfile

from .tagcounts import TagCounts
from .taskhistory import HISTOGRAMS, Histogram, TaskCounts

LOG = logging.getLogger('kojiforge_metrics')

# Raised when a document's layout changes; older or newer documents are ignored.
FORMAT = 1
CACHES = ('counts', 'tasks')


class StateError(Exception):
    """A state document that cannot be used (corrupt, another format or another hub)."""


def _pairs(mapping):
    return [[key, value] for key, value in sorted(mapping.items())]


def _ints(pairs):
    return dict((int(key), value) for key, value in pairs)


def counts_data(counts, full_at):
    """The per-tag/per-package counts (a TagCounts, never changed in place) as plain data."""
    return {
        'tag_names': _pairs(counts.tag_names),
        'target_tags': counts.target_tags,
        'packages_per_tag': counts.packages_per_tag,
        'builds_per_tag': counts.builds_per_tag,
        'builds_per_package': counts.builds_per_package,
        'package_names': _pairs(counts.package_names),
        'event': counts.event,
        'last_build_id': counts.last_build_id,
        'kind': counts.kind,
        'full_at': full_at,
    }


def counts_from_data(data):
    """(TagCounts, time of its last full pass) from counts_data's output."""
    counts = TagCounts()
    counts.tag_names = _ints(data['tag_names'])
    counts.package_names = _ints(data['package_names'])
    for name in ('target_tags', 'packages_per_tag', 'builds_per_tag', 'builds_per_package'):
        value = data[name]
        if not isinstance(value, dict) or not all(isinstance(v, (int, str)) for v in value.values()):
            raise StateError(f'{name} is not a mapping of names')
        setattr(counts, name, value)
    event = data['event']
    if event is not None and not (isinstance(event, dict) and 'id' in event and 'ts' in event):
        raise StateError('event has no id and ts')
    counts.event = event
    counts.last_build_id = int(data['last_build_id'])
    counts.kind = data['kind']
    full_at = data['full_at']
    return counts, None if full_at is None else float(full_at)


def _keyed(counter):
    return [[channel, method, value] for (channel, method), value in sorted(counter.items())]


def _unkeyed(rows):
    return dict(((str(channel), str(method)), int(value)) for channel, method, value in rows)


def tasks_data(tasks, channels):
    """The task counters (a TaskCounts; call under the exporter's lock) and channel names."""
    return {
        'buckets': list(tasks.buckets),
        'next_id': tasks.next_id,
        'pending': sorted(tasks.pending),
        'gaps': _pairs(tasks.gaps),
        'created': _keyed(tasks.created),
        'completed': _keyed(tasks.completed),
        'succeeded': _keyed(tasks.succeeded),
        'failed': _keyed(tasks.failed),
        'histograms': dict((name, [[channel, method, list(h.counts), h.total]
                                   for (channel, method), h in sorted(tasks.histograms[name].items())])
                           for name in HISTOGRAMS),
        'channels': _pairs(channels),
    }


def tasks_from_data(data, buckets):
    """(TaskCounts, {channel id: name}) from tasks_data's output; its buckets must be ``buckets``."""
    if [float(b) for b in data['buckets']] != [float(b) for b in buckets]:
        raise StateError('histogram buckets differ')
    tasks = TaskCounts(buckets)
    next_id = data['next_id']
    tasks.next_id = None if next_id is None else int(next_id)
    tasks.pending = set(int(i) for i in data['pending'])
    tasks.gaps = dict((int(i), int(left)) for i, left in data['gaps'])
    for name in ('created', 'completed', 'succeeded', 'failed'):
        setattr(tasks, name, _unkeyed(data[name]))
    for name in HISTOGRAMS:
        by_key = {}
        for channel, method, counts, total in data['histograms'][name]:
            if len(counts) != len(tasks.buckets) + 1:
                raise StateError(f'{name}: {len(counts)} bucket counts')
            histogram = Histogram(len(tasks.buckets))
            histogram.counts = [int(c) for c in counts]
            histogram.total = float(total)
            by_key[(str(channel), str(method))] = histogram
        tasks.histograms[name] = by_key
    return tasks, _ints(data['channels'])


def not_behind(new, old):
    """True when no counter of TaskCounts ``new`` is below ``old``'s: taking ``new`` keeps the
    counters monotonic (Prometheus would read a decrease as a reset)."""
    if (new.next_id or 0) < (old.next_id or 0):
        return False
    for name in ('created', 'completed', 'succeeded', 'failed'):
        mine, theirs = getattr(old, name), getattr(new, name)
        if any(theirs.get(key, 0) < value for key, value in mine.items()):
            return False
    for name in HISTOGRAMS:
        mine, theirs = old.histograms[name], new.histograms[name]
        for key, histogram in mine.items():
            other = theirs.get(key)
            if other is None or any(a < b for a, b in zip(other.counts, histogram.counts)):
                return False
    return True


def document(server, cache, data, last_success, duration):
    """One cache's document, serialized (bytes)."""
    return json.dumps({'format': FORMAT, 'server': server, 'cache': cache, 'last_success': last_success,
                       'duration': duration, 'data': data}, separators=(',', ':')).encode('utf-8')


def check(doc, server, cache):
    """``doc`` (parsed JSON) if it is a compatible document of ``cache``; else StateError."""
    if not isinstance(doc, dict):
        raise StateError('not a JSON object')
    if doc.get('format') != FORMAT:
        raise StateError(f'format {doc.get("format")!r}, not {FORMAT}')
    if doc.get('server') != server:
        raise StateError(f'state of the hub {doc.get("server")!r}, not {server!r}')
    if doc.get('cache') != cache or not isinstance(doc.get('data'), dict):
        raise StateError(f'not a document of the {cache} cache')
    return doc


def path_of(state_dir, cache):
    """The file of one cache's document."""
    return os.path.join(state_dir, cache + '.json')


def write(state_dir, cache, body):
    """Write one cache's document atomically: a temporary file in the same directory, flushed,
    then renamed over the old one."""
    handle, temporary = tempfile.mkstemp(prefix='.' + cache + '.', suffix='.tmp', dir=state_dir)
    try:
        with os.fdopen(handle, 'wb') as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path_of(state_dir, cache))
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def read(state_dir, server, cache):
    """The compatible document of ``cache`` kept in ``state_dir`` (parsed), or None: missing,
    unreadable, corrupt or foreign files are logged and ignored."""
    path = path_of(state_dir, cache)
    try:
        with open(path, 'rb') as handle:
            return check(json.loads(handle.read().decode('utf-8')), server, cache)
    except FileNotFoundError:
        LOG.info('no kept state of the %s cache (%s): starting from nothing', cache, path)
    except (OSError, ValueError, StateError) as exc:
        LOG.warning('ignoring the kept state of the %s cache in %s: %s', cache, path, exc)
    return None
