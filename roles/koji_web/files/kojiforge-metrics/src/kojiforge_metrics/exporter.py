"""The exporter: per-scrape hub reads, background refresh threads, and the Prometheus collector."""

import gzip
import json
import logging
import threading
import time

import requests

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from . import metricdefs, state
from .exposition import gzipped, joined, part_of, plain_text
from .snapshot import CALL_ERRORS, HubUnavailable, ScrapeInputs, new_session, read_snapshot
from .tagcounts import TagCounts, read_counts, read_counts_since
from .taskhistory import HISTOGRAMS, TaskCounts, newest_task_call, newest_task_id, scan_step

LOG = logging.getLogger('kojiforge_metrics')

# the caches, named like the metric sources they feed (and the cache label's values)
COUNTS = metricdefs.COUNTS
TASKS = metricdefs.TASKS

# Where a cache's figures come from (the koji_cache_source metric's source label): this
# exporter's own hub reads, or the state of the refresh host it follows.
HUB = 'hub'
REFRESH_HOST = 'refresh_host'
STATE_TYPE = 'application/json'

# Exposition formats (prometheus_client's (encoder, content type) pairs) whose text of the cached
# families is kept and rendered again after each refresh: the formats clients asked for, up to
# this many (Prometheus asks for one, curl for another); any further one is rendered per GET.
MAX_KEPT_FORMATS = 4


def _flag(value):
    return 'true' if value else 'false'


def _add_scheduler(families, snap, host):
    """The scheduler's view of one host (Koji 1.34+): nothing from a hub without it."""
    name, hid = host['name'], host['id']
    if snap.runs is not None:
        for state, count in sorted(snap.runs[hid].items()):
            families['koji_scheduler_active_runs'].add_metric([name, state], count)
    if snap.refusals is not None:
        for soft, count in sorted(snap.refusals[hid].items()):
            families['koji_scheduler_task_refusals'].add_metric([name, _flag(soft)], count)
    if hid in snap.methods:
        families['koji_scheduler_host_methods'].add_metric([name], snap.methods[hid])


def _new_families(source):
    """Empty metric families of the specs from ``source``, by name."""
    families = {}
    for spec in metricdefs.METRICS:
        if spec.source != source:
            continue
        if spec.kind == metricdefs.GAUGE:
            family = GaugeMetricFamily(spec.name, spec.doc, labels=spec.labels)
        elif spec.kind == metricdefs.COUNTER:
            family = CounterMetricFamily(spec.name, spec.doc, labels=spec.labels)
        else:
            family = HistogramMetricFamily(spec.name, spec.doc, labels=spec.labels)
        families[spec.name] = family
    return families


class _Families:
    """Metric families in declaration order, as prometheus_client's encoders want a registry."""

    # pylint: disable=too-few-public-methods

    def __init__(self, families):
        self._families = families

    def collect(self):
        """The families, in the order of metricdefs.METRICS."""
        for spec in metricdefs.METRICS:
            if spec.name in self._families:
                yield self._families[spec.name]


class CacheState:
    """Bookkeeping of one background refresh."""

    # pylint: disable=too-few-public-methods

    def __init__(self):
        self.last_success = None
        self.duration = None
        self.errors = 0


def fetch_state(settings):
    """The refresh host's state document (parsed JSON), over HTTPS verified with the hub's CA."""
    response = requests.get(settings.refresh_url, timeout=settings.timeout, verify=settings.serverca or True,
                            headers={'Accept': STATE_TYPE, 'Accept-Encoding': 'gzip'})
    response.raise_for_status()
    return response.json()


class Exporter:
    """Serves the metrics of one hub. One instance per process: its counters live in memory.

    Scrapes run on the WSGI threads, each with its own koji session; the two background threads
    (counts, tasks) have theirs, and the counts refresh one per parallel worker. Everything shared sits behind ``self._lock``, which is never
    held during a hub call.

    With ``settings.state_dir`` the state of both caches is written there after each successful
    refresh and read back when the exporter starts (state.py). With ``settings.refresh_url`` the
    exporter follows another's: each refresh takes the state that exporter serves at its
    ``/state`` endpoint (``state_body``), and reads the hub itself only while that one does not
    answer or its state is stale.

    A scrape's hub read is served again for ``scrape_cache_ttl`` seconds: ``self._scrape_lock``
    lets one GET read the hub while concurrent ones wait for its result, so a flood of GETs
    costs at most one hub read per TTL.
    """

    # pylint: disable=too-many-instance-attributes

    def __init__(self, settings, session_factory=new_session, clock=time.time, state_fetcher=fetch_state):
        """``clock`` gives the wall-clock time for ages and waits (tests fix it); durations
        are measured with time.monotonic. ``state_fetcher(settings)`` reads the refresh host's
        state (followers only)."""
        self.settings = settings
        self._new_session = session_factory
        self._clock = clock
        self._lock = threading.Lock()
        self._local = threading.local()
        self._tasks = TaskCounts()
        self._counts = TagCounts()
        self._counts_full_at = None
        self._channels = {}
        self._cache = {COUNTS: CacheState(), TASKS: CacheState()}
        self._background_sessions = {}
        self._started = clock()
        self._stop = threading.Event()
        self._threads = []
        # per cache: (its families, {content type: their exposition.Part}), replaced by each refresh
        self._rendered = {}
        # the exposition formats whose text is kept: {content type: encoder}
        encoder, content_type = plain_text()
        self._formats = {content_type: encoder}
        self._scrape_lock = threading.Lock()
        self._last_read = None  # (clock time, Snapshot or None, seconds): the last hub read
        self._fetch_state = state_fetcher
        first_source = REFRESH_HOST if settings.refresh_url else HUB
        self._source = {COUNTS: first_source, TASKS: first_source}
        self._docs = {}            # cache -> its state document (bytes), as kept and served
        self._state_body = None    # (the documents it holds, body, gzipped body): /state's answer
        self._follow_lock = threading.Lock()
        self._followed = None      # (monotonic time, document or None, why not): the last fetch
        if settings.state_dir:
            self._load_state()
        for name in (TASKS, COUNTS):
            self._rerender(name)
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    # -- sessions ---------------------------------------------------------------------------

    def _scrape_session(self):
        session = getattr(self._local, 'session', None)
        if session is None:
            session = self._new_session(self.settings)
            self._local.session = session
        return session

    def _background_session(self, name):
        session = self._background_sessions.get(name)
        if session is None:
            session = self._new_session(self.settings)
            self._background_sessions[name] = session
        return session

    # -- background refreshes ---------------------------------------------------------------

    def _refreshed(self, name, began, error=None):
        with self._lock:
            state = self._cache[name]
            state.duration = time.monotonic() - began
            if error is None:
                state.last_success = self._clock()
            else:
                state.errors += 1

    def _read_counts(self, sessions):
        """Recount what changed since the last refresh's hub event, or everything: on start,
        after a failed call, every count_full_refresh_interval, or when the hub's history
        cannot answer (too long, or refused)."""
        previous = self._counts
        batch = self.settings.multicall_batch
        began = self._clock()
        if previous.event is not None and began - self._counts_full_at < self.settings.count_full_refresh_interval:
            try:
                counts = read_counts_since(sessions, previous, batch)
            except CALL_ERRORS as exc:
                LOG.info('incremental count refresh impossible (%s): full refresh', exc)
                counts = None
            if counts is not None:
                LOG.info('per-tag/per-package counts refreshed incrementally (since event %s)',
                         previous.event['id'])
                return counts
        counts = read_counts(sessions, previous, batch)
        self._counts_full_at = began
        LOG.info('per-tag/per-package counts refreshed in full')
        return counts

    def refresh_counts(self):
        """Re-read the per-tag and per-package counts that can have changed; True on success.
        A follower takes them from the refresh host instead, when it can."""
        if self.settings.refresh_url and self._follow(COUNTS):
            return True
        began = time.monotonic()
        try:
            sessions = [self._background_session((COUNTS, worker))
                        for worker in range(self.settings.count_refresh_workers)]
            counts = self._read_counts(sessions)
        except Exception as exc:  # pylint: disable=broad-except
            LOG.warning('refreshing per-tag/per-package counts failed: %s', exc)
            for worker in range(self.settings.count_refresh_workers):
                self._background_sessions.pop((COUNTS, worker), None)
            self._refreshed(COUNTS, began, exc)
            return False
        with self._lock:
            self._counts = counts
        self._rerender(COUNTS)
        self._refreshed(COUNTS, began)
        self._keep(COUNTS)
        return True

    def refresh_tasks(self):
        """Walk the task ids seen since the last refresh; True on success. A follower takes
        the counters from the refresh host instead, when it can."""
        if self.settings.refresh_url and self._follow(TASKS):
            return True
        began = time.monotonic()
        session = self._background_session(TASKS)
        try:
            with session.multicall(strict=True) as multi:
                channels_call = multi.listChannels()
                newest_call = newest_task_call(multi)
            channels = dict((c['id'], c['name']) for c in channels_call.result)
            newest_id = newest_task_id(newest_call)
            with self._lock:
                self._channels.update(channels)
                if self._tasks.next_id is None:
                    history = self.settings.task_history
                    self._tasks.next_id = 1 if history == 'all' else newest_id + 1
            recheck = True
            while True:
                result = scan_step(session, self._tasks, newest_id, self.settings, recheck)
                recheck = False
                with self._lock:
                    self._tasks.apply(result, channels)
                if result.next_id > newest_id:
                    break
        except Exception as exc:  # pylint: disable=broad-except
            LOG.warning('refreshing finished-task counters failed: %s', exc)
            self._background_sessions.pop(TASKS, None)
            self._rerender(TASKS)   # the steps that succeeded are kept
            self._refreshed(TASKS, began, exc)
            return False
        self._rerender(TASKS)
        self._refreshed(TASKS, began)
        self._keep(TASKS)
        return True

    def _loop(self, refresh, interval):
        while not self._stop.is_set():
            refresh()
            self._stop.wait(interval)

    def start(self):
        """Start the two background refresh threads (once)."""
        if self._threads:
            return
        # a follower looks at the refresh host's counts as often as at its task counters
        counts_interval = (self.settings.task_refresh_interval if self.settings.refresh_url
                           else self.settings.count_refresh_interval)
        for name, refresh, interval in (
                (COUNTS, self.refresh_counts, counts_interval),
                (TASKS, self.refresh_tasks, self.settings.task_refresh_interval)):
            thread = threading.Thread(target=self._loop, args=(refresh, interval),
                                      name='kojiforge-metrics-' + name)
            thread.daemon = True
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout=None):
        """Stop the background threads (tests; mod_wsgi just ends the process)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

    # -- kept state, and following the refresh host ------------------------------------------

    def _keep(self, name):
        """After a successful refresh: the cache's state document, served and written to disk."""
        with self._lock:
            cache = self._cache[name]
            last_success, duration = cache.last_success, cache.duration
            if name == TASKS:
                data = state.tasks_data(self._tasks, self._channels)
            else:
                counts, full_at = self._counts, self._counts_full_at
        if name == COUNTS:
            data = state.counts_data(counts, full_at)   # never changed in place: no lock needed
        self._keep_document(name, state.document(self.settings.server, name, data, last_success, duration))

    def _keep_document(self, name, body):
        with self._lock:
            self._docs[name] = body
        if self.settings.state_dir:
            try:
                state.write(self.settings.state_dir, name, body)
            except OSError as exc:
                LOG.warning('keeping the state of the %s cache in %s failed: %s', name,
                            self.settings.state_dir, exc)

    def _apply(self, name, doc, following):
        """Take a cache's state document (parsed): from disk when the exporter starts, or from
        the refresh host. False when it cannot be used (logged), or when ``following`` and it
        would make a task counter go down."""
        try:
            data = doc['data']
            if name == TASKS:
                tasks, channels = state.tasks_from_data(data, self._tasks.buckets)
            else:
                counts, full_at = state.counts_from_data(data)
                if full_at is None:
                    counts.event = None   # no full pass known: the next refresh is one
            last_success = None if doc['last_success'] is None else float(doc['last_success'])
            duration = None if doc['duration'] is None else float(doc['duration'])
        except (KeyError, TypeError, ValueError, AttributeError, state.StateError) as exc:
            LOG.warning('ignoring a state of the %s cache that cannot be read: %r', name, exc)
            return False
        with self._lock:
            if name == TASKS:
                if following and not state.not_behind(tasks, self._tasks):
                    return False
                self._tasks = tasks
                self._channels.update(channels)
            else:
                self._counts, self._counts_full_at = counts, full_at
            self._cache[name].last_success = last_success
            self._cache[name].duration = duration
        self._rerender(name)
        return True

    def _load_state(self):
        for name in (COUNTS, TASKS):
            doc = state.read(self.settings.state_dir, self.settings.server, name)
            if doc is not None and self._apply(name, doc, following=False):
                with self._lock:
                    self._docs[name] = state.document(self.settings.server, name, doc['data'],
                                                      doc['last_success'], doc['duration'])
                LOG.info('state of the %s cache read from %s: continuing from it', name, self.settings.state_dir)

    def state_body(self, gzipped=False):
        """What the ``/state`` endpoint serves: both caches' documents, as kept after the last
        successful refreshes (JSON; the same anonymous hub data as the metrics)."""
        with self._lock:
            docs = (self._docs.get(COUNTS), self._docs.get(TASKS))
            kept = self._state_body
        if kept is None or kept[0][0] is not docs[0] or kept[0][1] is not docs[1]:
            head = json.dumps({'format': state.FORMAT, 'server': self.settings.server, 'started': self._started},
                              separators=(',', ':')).encode('utf-8')[:-1]
            body = b'%s,"caches":{"counts":%s,"tasks":%s}}' % (head, docs[0] or b'null', docs[1] or b'null')
            kept = (docs, body, gzip.compress(body, 6))
            with self._lock:
                self._state_body = kept
        return kept[2] if gzipped else kept[1]

    def _followed_state(self):
        """The refresh host's state (parsed and checked), fetched at most once per half task
        refresh interval for both threads; (document or None, why not)."""
        with self._follow_lock:
            now = time.monotonic()
            if self._followed is not None and now - self._followed[0] < self.settings.task_refresh_interval / 2:
                return self._followed[1], self._followed[2]
            doc, why = None, None
            try:
                doc = self._fetch_state(self.settings)
                if not isinstance(doc, dict) or doc.get('format') != state.FORMAT:
                    raise state.StateError('not a state document of format %d' % state.FORMAT)
                if doc.get('server') != self.settings.server:
                    raise state.StateError('it follows the hub %r, not %r' % (doc.get('server'), self.settings.server))
                if not isinstance(doc.get('caches'), dict) or not isinstance(doc.get('started'), (int, float)):
                    raise state.StateError('no caches')
            except Exception as exc:  # pylint: disable=broad-except
                doc, why = None, 'the refresh host at %s did not answer with its state: %s' % (
                    self.settings.refresh_url, exc)
            self._followed = (now, doc, why)
            return doc, why

    def _stale(self, doc, name):
        """Why the refresh host's state of cache ``name`` is not to be followed, or None."""
        cache_doc = doc['caches'].get(name)
        if cache_doc is not None:
            try:
                state.check(cache_doc, self.settings.server, name)
            except state.StateError as exc:
                return 'its %s state cannot be used: %s' % (name, exc)
        since = doc['started']
        if cache_doc is not None and isinstance(cache_doc.get('last_success'), (int, float)):
            since = cache_doc['last_success']
        interval = (self.settings.task_refresh_interval if name == TASKS
                    else self.settings.count_refresh_interval)
        age = self._clock() - since
        if age > self.settings.follow_stale_intervals * interval:
            return 'its %s state is %d s old' % (name, age)
        return None

    def _follow(self, name):
        """A follower's refresh of cache ``name``: True when the refresh host's state served
        (taken, or nothing new), False when this exporter must read the hub itself now."""
        doc, why = self._followed_state()
        if doc is not None:
            why = self._stale(doc, name)
        if why is None:
            cache_doc = doc['caches'].get(name)
            with self._lock:
                same = (cache_doc is None or self._source[name] == REFRESH_HOST
                        and cache_doc.get('last_success') == self._cache[name].last_success)
            if same or self._apply(name, cache_doc, following=True):
                if not same:
                    self._keep_document(name, state.document(self.settings.server, name, cache_doc['data'],
                                                             cache_doc['last_success'], cache_doc['duration']))
                self._set_source(name, REFRESH_HOST, 'following the refresh host at %s' % self.settings.refresh_url)
                return True
            why = 'its %s state cannot be taken (behind this exporter\'s, or unreadable)' % name
        self._set_source(name, HUB, why + ': refreshing from the hub')
        if name == COUNTS:
            # the counts' own refreshes keep their interval (the thread wakes more often)
            with self._lock:
                last = self._cache[COUNTS].last_success
            if last is not None and self._clock() - last < self.settings.count_refresh_interval:
                return True
        return False

    def _set_source(self, name, source, why):
        with self._lock:
            changed = self._source[name] != source
            self._source[name] = source
        if changed:
            LOG.warning('%s cache: %s', name, why)

    # -- scrape -----------------------------------------------------------------------------

    def _read_hub(self):
        with self._lock:
            ids = dict((name, cid) for cid, name in self._channels.items())
            pairs = [(ids[channel], method) for channel, method in self._tasks.created
                     if channel in ids]
            inputs = ScrapeInputs(self._channels, pairs, self._counts.tag_names,
                                  self._counts.target_tags, self.settings.default_max_jobs)
        try:
            snap = read_snapshot(self._scrape_session(), inputs, now=self._clock())
        except HubUnavailable as exc:
            LOG.warning('reading the hub failed: %s', exc)
            self._local.session = None
            return None
        with self._lock:
            self._channels.update(snap.channels)
        return snap

    def _cache_state(self):
        with self._lock:
            return dict((name, (s.last_success, s.duration, s.errors, self._source[name]))
                        for name, s in self._cache.items())

    def _cached_read(self):
        """The last hub read while it is younger than scrape_cache_ttl, else a new one:
        (Snapshot, or None when the hub could not be read; seconds the read took).

        Held during the hub call, the scrape lock makes concurrent GETs wait for that one read
        instead of each calling the hub. A failed read is served again too: a hub that does not
        answer is not asked more often."""
        with self._scrape_lock:
            now = self._clock()
            last = self._last_read
            if last is not None and 0 <= now - last[0] < self.settings.scrape_cache_ttl:
                return last[1], last[2]
            began = time.monotonic()
            snap = self._read_hub()
            elapsed = time.monotonic() - began
            self._last_read = (now, snap, elapsed)
            return snap, elapsed

    def _scrape_families(self):
        snap, elapsed = self._cached_read()
        families = _new_families(metricdefs.SCRAPE)
        families['koji_up'].add_metric([], 1 if snap is not None else 0)
        families['koji_scrape_duration_seconds'].add_metric([], elapsed)
        if snap is not None:
            self._add_snapshot(families, snap)
        self._add_cache_state(families, self._cache_state())
        return families

    def _tasks_families(self):
        with self._lock:
            tasks = self._tasks.copy_for_collect()
        families = _new_families(metricdefs.TASKS)
        self._add_tasks(families, tasks)
        return families

    def _counts_families(self):
        with self._lock:
            counts = self._counts   # replaced whole by each refresh, never changed in place
        families = _new_families(metricdefs.COUNTS)
        self._add_counts(families, counts)
        return families

    def _rerender(self, name):
        """Render a cache's families once per kept format, after its refresh: scrapes reuse the text."""
        build = self._tasks_families if name == TASKS else self._counts_families
        families = _Families(build())
        with self._lock:
            formats = dict(self._formats)
        parts = {}
        for content_type, encoder in formats.items():
            parts[content_type] = part_of(encoder(families))
            parts[content_type].deflated()   # here rather than in the first gzipped GET
        with self._lock:
            self._rendered[name] = (families, parts)

    def _cached_part(self, name, encoder, content_type):
        """The exposition of a cache's families in one format: kept, or rendered now (and kept
        while fewer than MAX_KEPT_FORMATS formats are, so later refreshes render it too)."""
        with self._lock:
            families, parts = self._rendered[name]
            part = parts.get(content_type)
        if part is not None:
            return part
        part = part_of(encoder(families))
        with self._lock:
            if content_type not in self._formats and len(self._formats) < MAX_KEPT_FORMATS:
                self._formats[content_type] = encoder
            # kept unless a refresh replaced the families meanwhile
            if content_type in self._formats and self._rendered[name][0] is families:
                self._rendered[name][1][content_type] = part
        return part

    def describe(self):
        """prometheus_client collector: the families served, empty (from the metricdefs table).

        The registry maps sample names to this collector with it, which a ``name[]``-restricted
        exposition needs."""
        for source in (metricdefs.SCRAPE, TASKS, COUNTS):
            yield from _new_families(source).values()

    def collect(self):
        """prometheus_client collector: read the hub once, add the cached figures."""
        families = self._scrape_families()
        families.update(self._tasks_families())
        families.update(self._counts_families())
        for spec in metricdefs.METRICS:
            yield families[spec.name]

    @staticmethod
    def _add_snapshot(families, snap):
        by_id = {}
        for host in snap.hosts:
            name = host['name']
            by_id[host['id']] = host
            families['koji_builders_update'].add_metric(
                [name, _flag(host['enabled']), _flag(host['ready'])],
                host.get('update_ts') or 0)
            families['koji_hosts_enabled'].add_metric([name], 1 if host['enabled'] else 0)
            families['koji_hosts_ready'].add_metric([name], 1 if host['ready'] else 0)
            if host['enabled']:
                families['koji_hosts_capacity'].add_metric([name], host['capacity'])
            families['koji_task_load'].add_metric([name], host['task_load'])
            families['koji_host_open_tasks'].add_metric([name], snap.open_per_host[host['id']])
            families['koji_host_max_jobs'].add_metric([name], snap.max_jobs[host['id']])
            _add_scheduler(families, snap, host)
        for cid, channel in sorted(snap.channels.items(), key=lambda item: item[1]):
            enabled = [by_id[hid] for hid in snap.members.get(cid, ())
                       if hid in by_id and by_id[hid]['enabled']]
            families['koji_enabled_hosts_count'].add_metric([channel], len(enabled))
            families['koji_enabled_hosts_capacity_per_channel'].add_metric(
                [channel], sum(h['capacity'] for h in enabled))
            families['koji_enabled_hosts_task_load_per_channel'].add_metric(
                [channel], sum(h['task_load'] for h in enabled))
        for key, value in sorted(snap.waiting.items()):
            families['koji_waiting_tasks'].add_metric(list(key), value)
        for key, value in sorted(snap.in_progress.items()):
            families['koji_in_progress_tasks'].add_metric(list(key), value)
        if snap.repo_queue_length is not None:
            families['koji_repo_queue_length'].add_metric([], snap.repo_queue_length)
            families['koji_repo_max_waiting_time'].add_metric([], snap.repo_max_wait)

    def _add_cache_state(self, families, cache):
        now = self._clock()
        for name, (last_success, duration, errors, source) in sorted(cache.items()):
            since = last_success if last_success is not None else self._started
            families['koji_cache_age_seconds'].add_metric([name], max(0.0, now - since))
            if duration is not None:
                families['koji_cache_refresh_duration_seconds'].add_metric([name], duration)
            families['koji_cache_refresh_errors_total'].add_metric([name], errors)
            families['koji_cache_source'].add_metric([name, source], 1)

    @staticmethod
    def _add_counts(families, counts):
        for tag, value in sorted(counts.packages_per_tag.items()):
            families['koji_packages_per_tag'].add_metric([tag], value)
        for tag, value in sorted(counts.builds_per_tag.items()):
            families['koji_builds_per_tag'].add_metric([tag], value)
        for package, value in sorted(counts.builds_per_package.items()):
            families['koji_builds_per_package'].add_metric([package], value)

    @staticmethod
    def _add_tasks(families, tasks):
        families['koji_tasks_last_seen_id'].add_metric([], tasks['last_seen_id'])
        for family, source in (('koji_tasks_total', 'created'),
                               ('koji_task_completions_total', 'completed'),
                               ('koji_task_succeed_total', 'succeeded'),
                               ('koji_task_errors_total', 'failed')):
            # every (channel, method) seen gets all four series, 0 included, so that rate()
            # and increase() see the first failure of a method too
            for key in sorted(tasks['created']):
                families[family].add_metric(list(key), tasks[source].get(key, 0))
        for name in HISTOGRAMS:
            for key, (buckets, total) in sorted(tasks['histograms'][name].items()):
                families[name].add_metric(list(key), buckets, sum_value=total)

    def render(self, exposition=None, gzip=False):
        """The exposition of every metric: one hub read (at most one per scrape_cache_ttl), plus
        the cached texts of the background refreshes.

        ``exposition`` is the (encoder, content type) pair prometheus_client's
        ``exposition.choose_encoder`` gives for the client's Accept header; by default the text
        format. The families of ``encoder(self.registry)``, without rendering the cached families
        again; with ``gzip``, compressed (only the scrape's families are compressed per GET).
        """
        encoder, content_type = exposition or plain_text()
        parts = [part_of(encoder(_Families(self._scrape_families())))]
        parts.extend(self._cached_part(name, encoder, content_type) for name in (TASKS, COUNTS))
        return gzipped(parts) if gzip else joined(parts)
