"""Every metric the exporter serves: name, type, labels and help text, in one table.

The collector builds its metric families from this table, and the tests derive the served
names from it and from a real scrape, so a metric cannot be served without being declared here.
Counters are declared with their ``_total`` sample name.
"""

GAUGE = 'gauge'
COUNTER = 'counter'
HISTOGRAM = 'histogram'

# Read from the hub (or from the exporter's own state) on every scrape.
SCRAPE = 'scrape'
# Served from the caches the background threads refresh; their text is rendered once per
# refresh, not per scrape (13,000 series at CERN's scale).
TASKS = 'tasks'
COUNTS = 'counts'

# Task durations in seconds: the koji-prometheus-exporter buckets plus long image builds.
DURATION_BUCKETS = (10, 30, 60, 180, 480, 1200, 3600, 7200, 14400, 28800, 86400)


class MetricSpec:
    """One metric family."""

    # pylint: disable=too-few-public-methods

    def __init__(self, name, kind, labels, doc, source):
        # pylint: disable=too-many-arguments
        self.name = name
        self.kind = kind
        self.labels = tuple(labels)
        self.doc = doc
        self.source = source

    def sample_names(self):
        """The sample names this family produces in the text exposition."""
        if self.kind == HISTOGRAM:
            return (self.name + '_bucket', self.name + '_sum', self.name + '_count')
        return (self.name,)


HOST = ('host',)
CHANNEL = ('channel',)
CHANNEL_METHOD = ('channel', 'method')

METRICS = (
    # Health of the exporter and its view of the hub.
    MetricSpec('koji_up', GAUGE, (),
               '1 when this scrape read the hub, 0 when the hub could not be reached '
               '(cached figures are still served). GETs within scrape_cache_ttl of a hub read '
               'are answered from it.', SCRAPE),
    MetricSpec('koji_scrape_duration_seconds', GAUGE, (),
               'Seconds this scrape spent reading hosts, channels and task states from the hub '
               '(one multicall); the same figure for GETs within scrape_cache_ttl of that read.', SCRAPE),
    MetricSpec('koji_cache_age_seconds', GAUGE, ('cache',),
               'Seconds since the cached figures were last refreshed successfully (since the '
               'exporter started if never): cache="counts" for per-tag/per-package counts, '
               'cache="tasks" for the finished-task counters and histograms.', SCRAPE),
    MetricSpec('koji_cache_refresh_duration_seconds', GAUGE, ('cache',),
               'Seconds the last background refresh of the cache took.', SCRAPE),
    MetricSpec('koji_cache_refresh_errors_total', COUNTER, ('cache',),
               'Background refreshes of the cache that failed.', SCRAPE),
    MetricSpec('koji_tasks_last_seen_id', GAUGE, (),
               'Highest task id the finished-task counters have examined.', TASKS),
    MetricSpec('koji_cache_source', GAUGE, ('cache', 'source'),
               '1, with source="hub" when this exporter refreshes the cache from the hub itself, '
               'source="refresh_host" when it takes the cache from the refresh host '
               '(koji_web_metrics_refresh_host); a follower reads the hub only while that host '
               'does not answer or its state is stale.', SCRAPE),
    # Builders (CERN's names).
    MetricSpec('koji_builders_update', GAUGE, ('host', 'enabled', 'ready'),
               'Last check-in of the host with the hub, Unix time (0 if it never checked in); '
               'the enabled and ready labels carry the host\'s state.', SCRAPE),
    MetricSpec('koji_hosts_enabled', GAUGE, HOST, '1 if the host is enabled, else 0.', SCRAPE),
    MetricSpec('koji_hosts_ready', GAUGE, HOST,
               '1 if the host reported itself ready for tasks, else 0.', SCRAPE),
    MetricSpec('koji_hosts_capacity', GAUGE, HOST, 'Capacity of each enabled host.', SCRAPE),
    MetricSpec('koji_task_load', GAUGE, HOST,
               'Task load the host last reported (sum of its tasks\' weights).', SCRAPE),
    MetricSpec('koji_host_open_tasks', GAUGE, HOST,
               'Tasks open (running) on the host.', SCRAPE),
    MetricSpec('koji_host_max_jobs', GAUGE, HOST,
               'Most tasks the host runs at once (kojid maxjobs as reported to the scheduler, '
               'else the exporter\'s default_max_jobs).', SCRAPE),
    # The hub's scheduler (Koji 1.34+; absent when the hub has no scheduler API).
    MetricSpec('koji_scheduler_active_runs', GAUGE, ('host', 'state'),
               'Task runs the hub\'s scheduler holds active for the host, by the task\'s '
               'state: state="assigned" (handed to the host, not yet taken) or state="open" '
               '(running). Tasks assigned by hand (override) have no run.', SCRAPE),
    MetricSpec('koji_scheduler_task_refusals', GAUGE, ('host', 'soft'),
               'Refusals of the host the hub holds that were made in the last 15 minutes: '
               'soft="true" for a task the host may take later (kojid refused it for now, or '
               'it did not take a task assigned to it), soft="false" for one it can never run '
               '(method or arch). The hub forgets refusals of finished tasks and soft ones '
               'after its SoftRefusalTimeout.', SCRAPE),
    MetricSpec('koji_scheduler_host_methods', GAUGE, HOST,
               'Task methods the host\'s kojid handles, as it reports them to the scheduler '
               '(absent for a host that reported none: a kojid older than 1.34, or never '
               'started).', SCRAPE),
    # Channels (CERN's names, plus the load needed for a per-channel capacity alert).
    MetricSpec('koji_enabled_hosts_count', GAUGE, CHANNEL,
               'Enabled hosts in the channel.', SCRAPE),
    MetricSpec('koji_enabled_hosts_capacity_per_channel', GAUGE, CHANNEL,
               'Summed capacity of the enabled hosts in the channel.', SCRAPE),
    MetricSpec('koji_enabled_hosts_task_load_per_channel', GAUGE, CHANNEL,
               'Summed task load of the enabled hosts in the channel (a host in several '
               'channels counts in each).', SCRAPE),
    # Current task states.
    MetricSpec('koji_waiting_tasks', GAUGE, CHANNEL_METHOD,
               'Tasks waiting for a builder (FREE or ASSIGNED), counted per channel and per '
               'method seen in that channel by the task counters; method="other" holds the '
               'rest until the next task refresh. No tag label: waiting tasks can be many and '
               'a tag means decoding each request.', SCRAPE),
    MetricSpec('koji_in_progress_tasks', GAUGE, ('channel', 'method', 'tag'),
               'Tasks in progress (OPEN). The tag label is decoded from each open task\'s '
               'request (build tag, destination tag of the target, or repo tag); it is empty '
               'for methods that name none. Only open tasks carry a tag: they are few.', SCRAPE),
    MetricSpec('koji_repo_queue_length', GAUGE, (),
               'Active repo requests in the hub\'s queue (Koji 1.35+).', SCRAPE),
    MetricSpec('koji_repo_max_waiting_time', GAUGE, (),
               'Seconds the oldest active repo request has been waiting (0 if none).', SCRAPE),
    # Per-tag and per-package counts (background, cached).
    MetricSpec('koji_packages_per_tag', GAUGE, ('tag',),
               'Packages listed directly in the tag (not inherited, not blocked). Cached: see '
               'koji_cache_age_seconds{cache="counts"}.', COUNTS),
    MetricSpec('koji_builds_per_tag', GAUGE, ('tag',),
               'Builds tagged directly into the tag: its active tag_listing entries, not the '
               'builds it inherits. Unlike the hub\'s listTagged, a build whose package the tag '
               'does not list (or blocks) still counts. Cached: see '
               'koji_cache_age_seconds{cache="counts"}.', COUNTS),
    MetricSpec('koji_builds_per_package', GAUGE, ('package',),
               'Completed builds of the package. Cached: see '
               'koji_cache_age_seconds{cache="counts"}.', COUNTS),
    # Finished tasks (background, incremental from the last task id seen).
    MetricSpec('koji_tasks_total', COUNTER, CHANNEL_METHOD,
               'Tasks created, counted when the exporter first sees them. No tag label.', TASKS),
    MetricSpec('koji_task_completions_total', COUNTER, CHANNEL_METHOD,
               'Tasks that finished (CLOSED, FAILED or CANCELED). No tag label.', TASKS),
    MetricSpec('koji_task_succeed_total', COUNTER, CHANNEL_METHOD,
               'Tasks that finished successfully (CLOSED). No tag label.', TASKS),
    MetricSpec('koji_task_errors_total', COUNTER, CHANNEL_METHOD,
               'Tasks that failed (FAILED). No tag label.', TASKS),
    MetricSpec('koji_task_duration_seconds', HISTOGRAM, CHANNEL_METHOD,
               'Finished tasks: seconds from creation to completion.', TASKS),
    MetricSpec('koji_task_waiting_duration_seconds', HISTOGRAM, CHANNEL_METHOD,
               'Finished tasks that started: seconds from creation to start.', TASKS),
    MetricSpec('koji_task_in_progress_duration_seconds', HISTOGRAM, CHANNEL_METHOD,
               'Finished tasks that started: seconds from start to completion.', TASKS),
)

BY_NAME = dict((spec.name, spec) for spec in METRICS)


def served_sample_names():
    """Every sample name the exporter can produce."""
    names = set()
    for spec in METRICS:
        names.update(spec.sample_names())
    return names
