# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading from the hub: multicall batches, several in flight at once, and lookups of
many objects by name."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import threading

from ansible_collections.kojiforge.koji.plugins.module_utils.koji_errors import KojiModuleError

# Read batches are sent on up to this many anonymous sessions at once: the hub serves
# requests in several processes, and the client parses one answer while the hub computes
# the next. Writes stay on one session, in order.
READ_WORKERS = 3

# Looking many objects up by name: when a request names at least BULK_MIN_NAMES objects
# and the hub holds at most BULK_RATIO times as many of that kind, one listing call
# (listTags, getBuildTargets...) costs less than a call per name.
BULK_MIN_NAMES = 50
BULK_RATIO = 4


class CallResult:
    """The result of one call in a multicall: ``value`` or ``error``."""

    def __init__(self, value=None, error=None):
        self.value = value
        self.error = error

    @property
    def ok(self):
        return self.error is None


def run_batch(session, calls):
    with session.multicall(strict=False) as multi:
        virtual = [getattr(multi, method)(*args, **kwargs) for method, args, kwargs in calls]
    results = []
    for call in virtual:
        try:
            results.append(CallResult(value=call.result))
        except Exception as exc:
            results.append(CallResult(error=exc))
    return results


def read_many(conn, calls):
    """Run read calls [(method, args, kwargs)] in multicall batches; returns CallResults.

    Several batches are in flight at once (READ_WORKERS sessions), their results kept in
    call order. A read the hub refuses (a connection problem, an unknown method) fails
    the module: reads must all succeed before anything can be decided."""
    chunks = [calls[start:start + conn.batch] for start in range(0, len(calls), conn.batch)]
    workers = min(READ_WORKERS, len(chunks))
    if workers <= 1:
        results = []
        for chunk in chunks:
            try:
                results.extend(run_batch(conn.session, chunk))
            except Exception as exc:
                raise KojiModuleError('reading from the hub failed: %s' % conn.describe(exc))
        return results
    sessions = [conn.reader(index) for index in range(workers)]
    answers = [None] * len(chunks)
    errors = []
    lock = threading.Lock()
    pending = list(range(len(chunks)))

    def work(session):
        while True:
            with lock:
                if not pending or errors:
                    return
                index = pending.pop(0)
            try:
                answers[index] = run_batch(session, chunks[index])
            except Exception as exc:
                with lock:
                    errors.append(exc)
                return

    threads = [threading.Thread(target=work, args=(session,)) for session in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise KojiModuleError('reading from the hub failed: %s' % conn.describe(errors[0]))
    results = []
    for answer in answers:
        results.extend(answer)
    return results


def read_values(conn, calls):
    """Like read_many, but every call must succeed; returns the values."""
    values = []
    for (method, args, _kwargs), result in zip(calls, read_many(conn, calls)):
        if not result.ok:
            raise KojiModuleError('%s%r failed: %s' % (method, tuple(args), result.error))
        values.append(result.value)
    return values


class Reads:
    """Read calls to send together, each added with the function that takes its answer, so
    that what a planner reads and where the answer goes stand side by side.

    ``add(call, take, *keys)`` calls ``take(*keys, value)``; ``add_group(calls, take, *keys)``
    calls ``take(*keys, values)`` with the answers of all its calls. ``run(conn)`` sends the
    calls in the order they were added (in batches, see ``read_values``) and hands out the
    answers in that order."""

    def __init__(self):
        self._calls = []
        self._takers = []  # (number of calls, take, keys, whether take gets a list)

    def add(self, call, take, *keys):
        self._calls.append(call)
        self._takers.append((1, take, keys, False))

    def add_group(self, calls, take, *keys):
        self._calls.extend(calls)
        self._takers.append((len(calls), take, keys, True))

    def run(self, conn):
        values = read_values(conn, self._calls)
        start = 0
        for count, take, keys, grouped in self._takers:
            answer = values[start:start + count] if grouped else values[start]
            start += count
            take(*(keys + (answer,)))
        self._calls, self._takers = [], []


def lookup_by_name(conn, names, get_method, list_method):
    """Look objects up by name; returns {name: info or None}.

    One ``get_method(name)`` call per name, or, when the names are many and the hub holds
    not many more objects of that kind (a ``countOnly`` query says), one
    ``list_method()`` listing. Listings may carry fewer fields than the single lookup
    (listTags has no ``extra``): callers read what they need on top."""
    names = sorted(set(names))
    if len(names) >= BULK_MIN_NAMES:
        total = read_values(conn, [(list_method, [], {'queryOpts': {'countOnly': True}})])[0]
        if total <= BULK_RATIO * len(names):
            wanted = set(names)
            found = dict((row['name'], row) for row in read_values(conn, [(list_method, [], {})])[0]
                         if row['name'] in wanted)
            return dict((name, found.get(name)) for name in names)
    values = read_values(conn, [(get_method, [name], {}) for name in names])
    return dict(zip(names, values))
