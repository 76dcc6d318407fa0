"""Per-tag and per-package counts: one hub call per count, batched in multicalls.

Per tag: ``listPackages(countOnly)`` of the packages listed in the tag itself, and
``queryHistory(tables=['tag_listing'], tag=..., active=True, countOnly)`` of the builds tagged
into the tag itself, which the hub answers with one SQL count (Koji 1.34 as 1.35). The hub's
``count('listTagged', tag)`` would cost it every build row of the tag plus the tag's whole
inherited package list, and hides builds whose package the tag does not list. Per package:
``listBuilds(countOnly)`` of its completed builds.

At CERN's scale (2700 tags, 8200 packages) that is about 13,600 calls, which is why they are
refreshed by a background thread on an interval and served from cache, never per scrape.
The batches go to the hub over several sessions at once (``count_refresh_workers``): the hub
runs each multicall in one of its processes, one call after the other, so a single session
leaves the hub's other processes and the database's other cores idle while the refresh waits.

Between full passes (``read_counts``), ``read_counts_since`` asks the hub's history what changed
after the event the previous refresh saw and recounts only the tags and packages it touches;
The project's README.md says what that covers and what waits for the next full pass.
"""

import logging
import threading

import koji

from .snapshot import CALL_ERRORS

LOG = logging.getLogger(__name__)

COMPLETE = koji.BUILD_STATES['COMPLETE']
# History rows per table beyond which an incremental refresh gives way to a full one.
HISTORY_LIMIT = 20000
# Builds completed up to this long before the last refresh's event are looked at again: a
# build's completion time is its transaction's start, which can precede an event seen earlier.
BUILD_TIME_MARGIN = 900
# The newest builds read (by id) to find those created since the last refresh; more new ones
# than this and every package is recounted. (listBuilds(createdAfter=) joins the events table
# and takes seconds on a hub of 100,000 events; ordering by build id uses the primary key.)
NEW_BUILDS_LIMIT = 200
NEWEST_BUILDS = {'order': '-build_id', 'limit': NEW_BUILDS_LIMIT}
# The history table whose active rows of a tag are its builds_per_tag.
TAGGED = 'tag_listing'


class TagCounts:
    """One complete set of counts; replaced as a whole after each refresh."""

    # pylint: disable=too-few-public-methods

    def __init__(self):
        self.tag_names = {}            # tag id -> name (also for the tag label of open tasks)
        self.target_tags = {}          # build target name -> destination tag name
        self.packages_per_tag = {}     # tag name -> packages
        self.builds_per_tag = {}       # tag name -> builds
        self.builds_per_package = {}   # package name -> builds
        self.package_names = {}        # package id -> name
        self.event = None              # the hub's getLastEvent() read before these counts
        self.last_build_id = 0         # the newest build id then
        self.kind = None               # 'full' or 'incremental': how they were read


def _count_jobs(tags, packages, kinds=('packages_per_tag', 'builds_per_tag')):
    """The counts of ``tags`` (those of ``kinds``) and of ``packages``: (kind, name, method,
    args, kwargs) tuples, one hub call each."""
    jobs = []
    for tag in tags:
        if 'packages_per_tag' in kinds:
            jobs.append(('packages_per_tag', tag['name'], 'listPackages', (),
                         {'tagID': tag['id'], 'inherited': False, 'with_blocked': False,
                          'with_owners': False, 'queryOpts': {'countOnly': True}}))
        if 'builds_per_tag' in kinds:
            # the tag's active tag_listing rows: {'tag_listing': <int>}
            jobs.append(('builds_per_tag', tag['name'], 'queryHistory', (),
                         {'tables': [TAGGED], 'tag': tag['id'], 'active': True,
                          'queryOpts': {'countOnly': True}}))
    for package in packages:
        jobs.append(('builds_per_package', package['package_name'], 'listBuilds', (),
                     {'packageID': package['package_id'], 'state': COMPLETE,
                      'queryOpts': {'countOnly': True}}))
    return jobs


def _run_batches(sessions, jobs, batch):
    """Queue every job in multicalls of ``batch`` calls, the batches spread over ``sessions``
    (one thread each, taking the next batch when done); returns the calls in job order."""
    batches = [jobs[i:i + batch] for i in range(0, len(jobs), batch)]
    calls = [None] * len(batches)
    errors = []
    lock = threading.Lock()
    pending = list(range(len(batches) - 1, -1, -1))

    def work(session):
        while True:
            with lock:
                if not pending or errors:
                    return
                index = pending.pop()
            try:
                with session.multicall(strict=False) as multi:
                    calls[index] = [getattr(multi, method)(*args, **kwargs)
                                    for _kind, _name, method, args, kwargs in batches[index]]
            except Exception as exc:  # pylint: disable=broad-except
                # a request that failed as a whole (hub gone, timeout): the refresh fails
                with lock:
                    errors.append(exc)
                return

    threads = [threading.Thread(target=work, args=(session,), name='kojiforge-metrics-counts-%d' % i)
               for i, session in enumerate(sessions[:max(1, len(batches))])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return [call for batch_calls in calls for call in batch_calls]


def _keep(into, name, value):
    if value is not None:
        into[name] = value


def read_counts(sessions, previous, batch):
    """Read every count from the hub; ``previous`` fills in for calls that fail alone.

    ``sessions``: one koji session per parallel worker (at least one); the first also reads
    the lists of tags, packages and targets.
    """
    with sessions[0].multicall(strict=True) as multi:
        # first: whatever changes after this event, the next incremental refresh looks at
        event_call = multi.getLastEvent()
        newest_call = multi.listBuilds(queryOpts={'order': '-build_id', 'limit': 1})
        tags_call = multi.listTags()
        packages_call = multi.listPackages()
        targets_call = multi.getBuildTargets()
    counts = _new_counts(event_call.result, tags_call.result, packages_call.result, targets_call.result, 'full')
    counts.last_build_id = max([b['build_id'] for b in newest_call.result] + [0])
    jobs = _count_jobs(tags_call.result, packages_call.result)
    if _fill(counts, previous, jobs, _run_batches(sessions, jobs, batch)):
        counts.event = None
    return counts


def _new_counts(event, tags, packages, targets, kind):
    counts = TagCounts()
    counts.event = event
    counts.kind = kind
    counts.tag_names = dict((t['id'], t['name']) for t in tags)
    counts.package_names = dict((p['package_id'], p['package_name']) for p in packages)
    counts.target_tags = dict((t['name'], t['dest_tag_name']) for t in targets)
    return counts


def _fill(counts, previous, jobs, calls):
    """Store the counts read; True when a call failed (its previous value is kept)."""
    failed = False
    for (kind, name, method, _args, _kwargs), call in zip(jobs, calls):
        try:
            result = call.result
            value = int(result[TAGGED] if method == 'queryHistory' else result)
        except CALL_ERRORS:
            failed = True
            value = getattr(previous, kind).get(name)
        _keep(getattr(counts, kind), name, value)
    return failed


def _carried(values, old_names, new_names):
    """Previous counts re-keyed by id to the current names (tags can be renamed without an
    event); ids gone from the hub are dropped."""
    carried = {}
    for obj_id, name in new_names.items():
        old = old_names.get(obj_id)
        if old is not None and old in values:
            carried[name] = values[old]
    return carried


def changes_since(session, previous, since_ts):
    """Ask the hub what changed after ``previous.event``: one strict multicall. Returns (event,
    newest build id, tags, packages, targets, tags to recount packages of, tags to recount
    builds of, package ids to recount (None: all), complete builds in total), or None when the
    history is longer than HISTORY_LIMIT rows in a table."""
    with session.multicall(strict=True) as multi:
        event_call = multi.getLastEvent()
        history_call = multi.queryHistory(afterEvent=previous.event['id'],
                                          tables=[TAGGED, 'tag_packages'],
                                          queryOpts={'limit': HISTORY_LIMIT + 1})
        tags_call = multi.listTags()
        packages_call = multi.listPackages()
        targets_call = multi.getBuildTargets()
        newest_call = multi.listBuilds(queryOpts=NEWEST_BUILDS)
        completed_call = multi.listBuilds(completeAfter=since_ts, state=COMPLETE)
        total_call = multi.listBuilds(state=COMPLETE, queryOpts={'countOnly': True})
    history = history_call.result
    if any(len(rows) > HISTORY_LIMIT for rows in history.values()):
        return None
    package_ids = dict((p['package_name'], p['package_id']) for p in packages_call.result)
    # packages_per_tag counts the tag's own tag_packages rows, builds_per_tag its own
    # tag_listing rows: neither depends on other tags (inheritance changes nothing)
    listing_tags = set(row['tag_id'] for row in history.get('tag_packages', ()))
    builds_tags = set(row['tag_id'] for row in history.get(TAGGED, ()))
    # builds created since (imports are complete at once) and builds completed since
    created = [b for b in newest_call.result if b['build_id'] > previous.last_build_id]
    last_build_id = max([b['build_id'] for b in newest_call.result] + [previous.last_build_id])
    packages = set(b['package_id'] for b in created + completed_call.result if b['state'] == COMPLETE)
    # an untagging may be a deleteBuild: the package may have lost a completed build
    packages |= set(package_ids.get(row['name']) for row in history.get(TAGGED, ())
                    if row['revoke_event'] is not None)
    packages.discard(None)
    if len(created) >= NEW_BUILDS_LIMIT:
        packages = None
    return (event_call.result, last_build_id, tags_call.result, packages_call.result, targets_call.result,
            listing_tags, builds_tags, packages, total_call.result)


def read_counts_since(sessions, previous, batch):
    """Recount only what changed since ``previous.event``; None when a full pass is needed.

    Tags and packages new to the hub are counted, gone ones dropped. When the packages' counts
    do not add up to the hub's total of completed builds (a build deleted or reset while
    untagged leaves no history), every package is recounted.
    """
    changes = changes_since(sessions[0], previous, previous.event['ts'] - BUILD_TIME_MARGIN)
    if changes is None:
        return None
    event, last_build_id, tags, packages, targets, listing_tags, builds_tags, package_ids, total = changes
    counts = _new_counts(event, tags, packages, targets, 'incremental')
    counts.last_build_id = last_build_id
    if package_ids is None:
        package_ids = set(counts.package_names)
    counts.packages_per_tag = _carried(previous.packages_per_tag, previous.tag_names, counts.tag_names)
    counts.builds_per_tag = _carried(previous.builds_per_tag, previous.tag_names, counts.tag_names)
    counts.builds_per_package = _carried(previous.builds_per_package, previous.package_names,
                                         counts.package_names)
    new_tags = set(counts.tag_names) - set(previous.tag_names)
    package_ids |= set(counts.package_names) - set(previous.package_names)
    jobs = (_count_jobs([t for t in tags if t['id'] in listing_tags | new_tags], [], ('packages_per_tag',))
            + _count_jobs([t for t in tags if t['id'] in builds_tags | new_tags], [], ('builds_per_tag',))
            + _count_jobs([], [p for p in packages if p['package_id'] in package_ids]))
    failed = _fill(counts, previous, jobs, _run_batches(sessions, jobs, batch) if jobs else [])
    if not failed and sum(counts.builds_per_package.values()) != total:
        LOG.info('completed builds per package do not add up to the hub total (%s): recounting every package',
                 total)
        jobs = _count_jobs([], packages)
        failed = _fill(counts, previous, jobs, _run_batches(sessions, jobs, batch))
    if failed:
        counts.event = None
    return counts
