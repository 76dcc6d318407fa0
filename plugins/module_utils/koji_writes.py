# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing a plan to the hub: phase by phase in multicall batches, the writes of
independent objects spread over several logged-in sessions (and the rules that keep two
sessions from racing on a new package or group name)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import threading

from ansible_collections.kojiforge.koji.plugins.module_utils.koji_errors import KojiModuleError
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_reads import run_batch

# Hub calls that touch only the object they name, so that the writes of a phase made only
# of them may run on several sessions at once, each object's writes on one session, in
# order. A call missing here (deletes, hosts, channels, users, permissions) makes its
# phase run on one session.
PARALLEL_METHODS = frozenset((
    'createTag', 'editTag2', 'setInheritanceData',
    'addExternalRepoToTag', 'editTagExternalRepo', 'removeExternalRepoFromTag',
    'packageListAdd', 'packageListBlock', 'packageListUnblock', 'packageListRemove',
    'packageListSetOwner',
    'groupListAdd', 'groupListRemove', 'groupPackageListAdd', 'groupPackageListRemove',
    'createBuildTarget', 'editBuildTarget',
))

# Calls with which the hub inserts a package or group name the first time it is used.
# Two transactions inserting the same new name race (one is refused), so in a parallel
# phase the first call naming each of them runs in a round of its own (where every call
# names a different one), before the rest: {method: (kind, index of the name argument)}.
NAME_CREATING = {
    'packageListAdd': ('package', 1),
    'packageListBlock': ('package', 1),
    'groupListAdd': ('group', 1),
}


def write_plan(conn, plan):
    """Run the writes phase by phase in multicall batches (see ``schedule_writes``).
    Stops after the first round in which the hub refused a call: the batches already
    in flight on the other sessions of that round finish, nothing later is sent."""
    if not plan.writes:
        return
    conn.ensure_logged_in()
    rounds = schedule_writes(plan.writes, conn.write_workers)
    applied = []
    for number, lanes in enumerate(rounds):
        failed, errors, sent = _run_round(conn, lanes, applied)
        if not (errors or failed):
            continue
        not_applied = [write.summary() for lane, done in zip(lanes, sent)
                       for write in lane[done:]]
        not_applied += [write.summary() for later in rounds[number + 1:]
                        for lane in later for write in lane]
        if errors:
            raise KojiModuleError(
                'writing to the hub failed: %s; the calls listed in "applied" were '
                'made, those of the failed batch (in "not_applied") may have been made '
                'too, re-run to converge' % conn.describe(errors[0]),
                changed=bool(applied), applied=applied, not_applied=not_applied)
        raise KojiModuleError(
            'the hub refused %d call(s) (first: %s %s: %s); the calls listed '
            'in "applied" were made, re-run to converge'
            % (len(failed), failed[0]['type'], failed[0]['name'], failed[0]['error']),
            changed=bool(applied), applied=applied, refused=failed,
            not_applied=not_applied)


def schedule_writes(writes, workers):
    """Order a plan's writes into rounds, each a list of lanes (lists of writes), that run
    one after the other; the lanes of a round run at once, each on its own session.

    Phases run in order. A phase with a call outside PARALLEL_METHODS, or a single
    worker, is one round of one lane: every write in plan order. Otherwise the phase
    is split into at most two rounds: first the calls that may create a package or
    group name (NAME_CREATING), one per name, then the rest; in each, the writes are
    dealt to ``workers`` lanes object by object (all writes of an object in one lane, in
    plan order), the lanes kept about equal in length. The only calls moved ahead of
    others of their object are those first uses, and the only order they could break
    is with calls on another package or group of that object."""
    ordered = sorted(writes, key=lambda write: write.phase)  # stable: plan order kept
    rounds = []
    for phase in sorted(set(write.phase for write in ordered)):
        pending = [write for write in ordered if write.phase == phase]
        if workers <= 1 or any(w.method not in PARALLEL_METHODS for w in pending):
            rounds.append([pending])
            continue
        first, rest, named = [], [], set()
        for write in pending:
            creates = NAME_CREATING.get(write.method)
            if creates is not None:
                key = (creates[0], write.args[creates[1]])
                if key not in named:
                    named.add(key)
                    first.append(write)
                    continue
            rest.append(write)
        for part in (first, rest):
            if part:
                rounds.append(_deal(part, workers))
    return rounds


def _deal(writes, workers):
    """Deal writes to at most ``workers`` lanes, all of an object's in one lane."""
    by_object = {}
    order = []
    for write in writes:
        key = (write.obj_type, write.obj_name)
        if key not in by_object:
            by_object[key] = []
            order.append(key)
        by_object[key].append(write)
    lanes = [[] for _lane in range(min(workers, len(order)))]
    for key in sorted(order, key=lambda k: -len(by_object[k])):
        min(lanes, key=len).extend(by_object[key])
    return lanes


def _run_round(conn, lanes, applied):
    """Run the lanes of a round, each in batches on its own logged-in session (the
    main session alone for a single lane). Returns (refused calls, exceptions, number of
    writes sent per lane); appends what the hub applied to ``applied``."""
    failed = []
    errors = []
    sent = [0] * len(lanes)
    lock = threading.Lock()

    def run_lane(index, session):
        lane = lanes[index]
        for start in range(0, len(lane), conn.batch):
            with lock:
                if failed or errors:
                    return
            chunk = lane[start:start + conn.batch]
            try:
                calls = [write.resolved() for write in chunk]
                results = run_batch(session, calls)
            except Exception as exc:
                with lock:
                    errors.append(exc)
                return
            with lock:
                sent[index] = start + len(chunk)
                for write, result in zip(chunk, results):
                    if result.ok:
                        applied.append(write.summary())
                        if write.on_result is not None:
                            write.on_result(result.value)
                    else:
                        entry = write.summary()
                        entry['error'] = str(result.error)
                        failed.append(entry)

    if len(lanes) == 1:
        run_lane(0, conn.session)
        return failed, errors, sent
    sessions = [conn.writer(index) for index in range(len(lanes))]
    threads = [threading.Thread(target=run_lane, args=(index, session))
               for index, session in enumerate(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failed, errors, sent
