"""Scrape latency and hub cost of the kojiforge_metrics exporter at CERN's scale.

By default it starts the fake hub (tests/fakehub) and fills it like CERN's: 2700 tags, 8200
packages, 10 builders (6 x86_64, 4 aarch64), 100,000 tasks. With --url or --profile it measures
a real hub instead, read-only: seed_real_hub.py (next to this file) fills a real hub up to those
figures beforehand, separately.

It prints: the background refreshes' durations and requests (per-tag/per-package counts: the
full one, an incremental one with no change on the hub, one after a small change (on the fake
hub a build tagged into a tag; on a real hub --change-command) and one after undoing it
(--undo-command); and the finished-task walk over every task id, then an incremental one), and over --scrapes scrapes
the median and worst latency and the hub requests per scrape. Requests are counted on
koji.ClientSession itself, so every session of the process counts. Figures only, no assertions.
On the fake hub, which runs in this process under one lock, the figures show the exporter's
cost and request pattern rather than a real hub's database time.

With --compare-releng PATH it also loads release-engineering/koji-prometheus-exporter from
PATH (run time only; it is not part of this repository) and, in the same run against the same
hub, times its ``scrape()``: the hub work that exporter repeats every KOJI_POLL_INTERVAL (3 s)
whether or not Prometheus scrapes, interleaved with our scrapes so both see the same load; and
its serving of the in-memory result, which is what a Prometheus scrape of it waits for.

From the top of the checkout, as a module (the fake hub is tests.fakehub; kojiforge_metrics is
installed editable in .venv by requirements-dev.txt, or `pip install roles/koji_web/files/kojiforge-metrics`):

    .venv/bin/python -m tests.benchmarks.exporter.bench_exporter --tasks 2000 --tags 200 --packages 500 --scrapes 5
    python3 bench_exporter.py --url https://hub.koji.test/kojihub --serverca /etc/pki/koji/koji-ca.crt \
        --scrapes 50 --compare-releng /tmp/relenj/koji-prometheus-exporter.py
"""

import argparse
import datetime
import importlib.util
import itertools
import os
import pathlib
import re
import statistics
import subprocess
import sys
import threading
import time

import koji
from prometheus_client import CollectorRegistry, generate_latest, make_wsgi_app

from kojiforge_metrics.exporter import Exporter
from kojiforge_metrics.settings import Settings
from kojiforge_metrics.tagcounts import TagCounts
from kojiforge_metrics.wsgi import make_application

ROOT = pathlib.Path(__file__).resolve().parents[3]

CHANNELS = ("default", "createrepo", "image")
# (method, channel, share of the tasks in percent)
METHODS = (("build", "default", 15), ("buildArch", "default", 55), ("tagBuild", "default", 10),
           ("newRepo", "createrepo", 10), ("createrepo", "createrepo", 8), ("image", "image", 2))
MIX = [(method, channel) for method, channel, share in METHODS for _slot in range(share)]


class HubRequests:
    """Counts HTTP requests to the hub (a multicall batch is one) and new client sessions, of
    every koji.ClientSession in the process: the release-engineering exporter makes its own
    sessions, so the class is patched, not a session."""

    def __init__(self):
        self.requests = 0
        self.sessions = 0
        self._lock = threading.Lock()
        self._saved = None

    def reset(self):
        with self._lock:
            self.requests = 0
            self.sessions = 0

    def __enter__(self):
        counter = self
        send_call = koji.ClientSession._sendCall
        new_session = koji.ClientSession.__init__

        def counted_send_call(session, handler, headers, request):
            with counter._lock:  # pylint: disable=protected-access
                counter.requests += 1
            return send_call(session, handler, headers, request)

        def counted_init(session, *args, **kwargs):
            with counter._lock:  # pylint: disable=protected-access
                counter.sessions += 1
            new_session(session, *args, **kwargs)

        self._saved = (send_call, new_session)
        koji.ClientSession._sendCall = counted_send_call
        koji.ClientSession.__init__ = counted_init
        return self

    def __exit__(self, *exc):
        koji.ClientSession._sendCall, koji.ClientSession.__init__ = self._saved


def fill_fake(state, args):
    """CERN-sized content in the fake hub's state, directly (seeding is not what is measured)."""
    from tests.fakehub.api_tasks import add_build, add_repo_request, add_task  # pylint: disable=import-outside-toplevel
    now = time.time()
    for i in range(args.hosts):
        arch = "x86_64" if i < args.hosts * 6 // 10 else "aarch64"
        channels = ("default", "createrepo") if i % 3 == 0 else ("default",)
        if i == args.hosts - 1:
            channels = ("image",)
        state.add_host("builder%02d.example.com" % i, arches=arch, capacity=8.0, enabled=True,
                       ready=i % 4 != 0, task_load=float(i % 9), update_ts=now - i,
                       channels=channels)
    tags = ["%s-tag-%04d" % (args.prefix, i) for i in range(args.tags)]
    for name in tags:
        state.add_tag(name, arches="x86_64 aarch64")
    for i in range(args.packages):
        package = "%s-pkg-%05d" % (args.prefix, i)
        # each package listed in 3 tags, with one completed build tagged into one of them
        for k in range(3):
            state.add_package(tags[(i * 7 + k * 911) % len(tags)], package, "admin")
        add_build(state, package, tags=(tags[(i * 7) % len(tags)],), create_ts=now - 86400)
    hosts = sorted(h["name"] for h in state.hosts.values())
    open_left, waiting_left = args.open_tasks, args.waiting_tasks
    for i in range(args.tasks):
        method, channel = MIX[(i * 37) % len(MIX)]
        if open_left > 0 and i >= args.tasks - args.open_tasks - args.waiting_tasks:
            open_left -= 1
            add_task(state, method, channel, "OPEN", host=hosts[i % len(hosts)],
                     request=["src.rpm", 1, "x86_64", True, {}], create_ts=now - 600, start_ts=now - 300)
        elif waiting_left > 0 and i >= args.tasks - args.waiting_tasks:
            waiting_left -= 1
            add_task(state, method, channel, "FREE", request=["src.rpm", "target", {}], create_ts=now - 60)
        else:
            final = ("CLOSED", "CLOSED", "CLOSED", "FAILED", "CANCELED")[i % 5]
            created = now - 86400 * 30 + i * 20
            add_task(state, method, channel, final, host=hosts[i % len(hosts)],
                     request=["src.rpm", 1, "x86_64", True, {}], create_ts=created,
                     start_ts=created + 30, completion_ts=created + 30 + (i % 3600))
    for i in range(5):
        add_repo_request(state, tags[i], create_ts=now - 60 * i)


def timed(func):
    began = time.monotonic()
    result = func()
    return result, time.monotonic() - began


def load():
    return "load %.2f %.2f %.2f" % os.getloadavg()


def exposition_size(body):
    """(metric families, series) of a text exposition."""
    lines = body.decode().splitlines()
    families = sum(1 for line in lines if line.startswith("# TYPE "))
    series = sum(1 for line in lines if line and not line.startswith("#"))
    return families, series


def hub_size(session):
    """The hub's size as its API shows it (anonymous calls, not counted in any figure)."""
    midnight = datetime.datetime.now(datetime.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    count = {"countOnly": True}
    with session.multicall(strict=True) as multi:
        tags = multi.listTags()
        packages = multi.listPackages(queryOpts=count)
        hosts = multi.listHosts()
        channels = multi.listChannels()
        tasks = multi.listTasks(opts={}, queryOpts=count)
        today = multi.listTasks(opts={"createdAfter": midnight.timestamp()}, queryOpts=count)
        waiting = multi.listTasks(opts={"state": [koji.TASK_STATES["FREE"], koji.TASK_STATES["ASSIGNED"]]}, queryOpts=count)
        running = multi.listTasks(opts={"state": [koji.TASK_STATES["OPEN"]]}, queryOpts=count)
    return ("%d tags, %d packages, %d hosts, %d channels, %d tasks (%d created today, %d waiting, %d open)" % (
        len(tags.result), packages.result, len(hosts.result), len(channels.result), tasks.result,
        today.result, waiting.result, running.result))


class Series:
    """Latencies and hub requests of repeated runs of one thing."""

    def __init__(self, name):
        self.name = name
        self.latencies = []
        self.requests = []
        self.sessions = []

    def run(self, func):
        HUB.reset()
        result, seconds = timed(func)
        self.latencies.append(seconds)
        self.requests.append(HUB.requests)
        self.sessions.append(HUB.sessions)
        return result

    def report(self):
        ordered = sorted(self.latencies)
        print("%s, %d runs:" % (self.name, len(ordered)))
        print("  latency median %.1f ms, 90th %.1f ms, worst %.1f ms" % (
            statistics.median(ordered) * 1000, ordered[max(int(len(ordered) * 0.9) - 1, 0)] * 1000,
            ordered[-1] * 1000))
        print("  hub requests per run: min %d, max %d; new client sessions (TLS connections) per run: "
              "min %d, max %d" % (min(self.requests), max(self.requests), min(self.sessions), max(self.sessions)))


def refresh(name, func):
    HUB.reset()
    ok, seconds = timed(func)
    print("%s:\n  %.2f s, %d hub requests, ok=%s" % (name, seconds, HUB.requests, ok))


def run_command(command):
    """Run a shell command (the small change on a real hub); its output, or why it failed."""
    done = subprocess.run(command, shell=True, capture_output=True, text=True, check=False)
    return "%r: rc %d %s" % (command, done.returncode, (done.stdout + done.stderr).strip()[:200])


def load_releng(path, server, serverca):
    """release-engineering/koji-prometheus-exporter, loaded from ``path`` (never stored here).

    It reads KOJI_URL at import and calls listChannels; its ClientSessions take no CA option,
    so the hub's CA reaches requests through REQUESTS_CA_BUNDLE.
    """
    os.environ["KOJI_URL"] = server
    if serverca:
        os.environ["REQUESTS_CA_BUNDLE"] = serverca
    spec = importlib.util.spec_from_file_location("releng_koji_prometheus_exporter", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(module.Expositor())
    return module, registry


def count_refreshes(exporter, small_change, undo_change):
    """The incremental count refreshes: with no change on the hub, then after a small one."""
    refresh("background refresh, per-tag/per-package counts, incremental, no change", exporter.refresh_counts)
    print("  kind: %s" % exporter._counts.kind)  # pylint: disable=protected-access
    if small_change is None:
        return
    print("  small change: %s" % small_change())
    refresh("background refresh, per-tag/per-package counts, incremental, after the small change",
            exporter.refresh_counts)
    print("  kind: %s" % exporter._counts.kind)  # pylint: disable=protected-access
    if undo_change is not None:
        print("  undone: %s" % undo_change())
        refresh("background refresh, per-tag/per-package counts, incremental, after undoing it",
                exporter.refresh_counts)


def fill_counts(exporter, args):
    """--fill-counts: the counts cache holds --tags tags and --packages packages, set in memory."""
    tags, packages = args.cache_size
    counts = TagCounts()
    for tag in range(tags):
        name = "%s-tag-%04d" % (args.prefix, tag)
        counts.packages_per_tag[name] = tag % 500
        counts.builds_per_tag[name] = tag * 7 % 5000
    for package in range(packages):
        counts.builds_per_package["%s-package-%05d" % (args.prefix, package)] = package % 50
    counts.kind = "full"
    exporter._counts = counts  # pylint: disable=protected-access
    exporter._rerender("counts")  # pylint: disable=protected-access
    print("counts cache filled in memory: %d tags, %d packages" % (tags, packages))


def measure(settings, args, add_tasks=None, small_change=None, undo_change=None):
    """Background refreshes once each (the counts' incremental ones too), then --scrapes scrapes
    (interleaved with the release-engineering exporter's polls when it is compared)."""
    exporter = Exporter(settings)
    if args.fill_counts:
        fill_counts(exporter, args)
        measure_tasks_and_scrapes(exporter, settings, args, add_tasks)
        return
    refresh("background refresh, per-tag/per-package counts, full", exporter.refresh_counts)
    counts = exporter._counts  # pylint: disable=protected-access
    print("  %d tags, %d packages: %d count calls over %d parallel sessions; %d package listings, "
          "%d tagged builds, %d completed builds" % (
              len(counts.packages_per_tag), len(counts.builds_per_package),
              2 * len(counts.packages_per_tag) + len(counts.builds_per_package), settings.count_refresh_workers,
              sum(counts.packages_per_tag.values()), sum(counts.builds_per_tag.values()),
              sum(counts.builds_per_package.values())))
    count_refreshes(exporter, small_change, undo_change)
    measure_tasks_and_scrapes(exporter, settings, args, add_tasks)


def measure_tasks_and_scrapes(exporter, settings, args, add_tasks):
    """The task refreshes, then the scrape series."""
    refresh("background refresh, finished tasks, first walk over every task id", exporter.refresh_tasks)
    if add_tasks:
        add_tasks()
    refresh("background refresh, finished tasks, incremental%s" % (" (100 new tasks)" if add_tasks else ""),
            exporter.refresh_tasks)
    exporter.render()   # the first scrape learns the channels

    releng = releng_registry = None
    if args.compare_releng:
        HUB.reset()
        (releng, releng_registry), seconds = timed(
            lambda: load_releng(args.compare_releng, settings.server, settings.serverca))
        print("release-engineering exporter loaded from %s: %.2f s, %d hub requests (listChannels at import)" % (
            args.compare_releng, seconds, HUB.requests))
        cold = Series("release-engineering scrape(), first poll (its hosts-by-channel cache empty)")
        cold.run(releng.scrape)
        cold.report()

    for series_round in range(args.rounds):
        scrape_series(exporter, args, releng and (releng, releng_registry),
                      " %d of %d" % (series_round + 1, args.rounds) if args.rounds > 1 else "")


# What the WSGI app is asked in the GET series: Prometheus' own Accept and Accept-Encoding headers
# (it asks for OpenMetrics and gzip), and a plain client's (text, uncompressed).
GETS = (("GET /metrics, plain client (text format, uncompressed)", {}),
        ("GET /metrics, as Prometheus asks (Accept: OpenMetrics, Accept-Encoding: gzip)", {
            "HTTP_ACCEPT": "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                           "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
            "HTTP_ACCEPT_ENCODING": "gzip"}))


def wsgi_get(app, headers):
    """One GET through the WSGI application: (status, response headers, body)."""
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SCRIPT_NAME": "/metrics", "QUERY_STRING": ""}
    environ.update(headers)
    answer = {}

    def start_response(status, response_headers, exc_info=None):  # pylint: disable=unused-argument
        answer["status"], answer["headers"] = status, response_headers

    body = b"".join(app(environ, start_response))
    return answer["status"], dict(answer["headers"]), body


def get_series(exporter, args):
    """--scrapes GETs through the WSGI application, for each kind of client in GETS; then the
    same GETs served by prometheus_client's own WSGI app on the exporter's registry (what the
    exporter's fast path saves: rendering and compressing every cached series per GET)."""
    apps = [("kojiforge_metrics, ", make_application(exporter))]
    if hasattr(exporter, "describe"):   # older exporters' registries cannot serve name[] or this
        apps.append(("prometheus_client.make_wsgi_app(exporter.registry), ", make_wsgi_app(exporter.registry)))
    for (label, app), (name, headers) in itertools.product(apps, GETS):
        series = Series(label + name)
        answer = None
        for _scrape in range(args.scrapes):
            answer = series.run(lambda app=app, headers=headers: wsgi_get(app, headers))
        series.report()
        status, response_headers, body = answer
        print("  %s, Content-Type %s, Content-Encoding %s, %d bytes" % (
            status, response_headers.get("Content-Type"), response_headers.get("Content-Encoding", "none"),
            len(body)))


def scrape_series(exporter, args, releng, label):
    """--scrapes scrapes of ours, each followed by a poll and a serve of the release-engineering
    exporter when it is compared (``releng``: its module and registry), so both see the same load."""
    print("scrape series%s (%s)" % (label, load()))
    ours = Series("kojiforge_metrics, scrape (Exporter.render: one hub read + cached text)")
    polls = Series("release-engineering, poll (scrape(): its hub work, every KOJI_POLL_INTERVAL=3 s)")
    serves = Series("release-engineering, serve (generate_latest of its in-memory families)")
    body = releng_body = b""
    hub_reads = []
    for _scrape in range(args.scrapes):
        body = ours.run(exporter.render)
        hub_reads.append(float(re.search(rb"^koji_scrape_duration_seconds (\S+)$", body, re.M).group(1)))
        if releng:
            polls.run(releng[0].scrape)
            releng_body = serves.run(lambda: generate_latest(releng[1]))
    print("  (%s at the end)" % load())
    ours.report()
    print("  of which reading the hub (koji_scrape_duration_seconds): median %.1f ms, worst %.1f ms" % (
        statistics.median(hub_reads) * 1000, max(hub_reads) * 1000))
    print("  exposition %d bytes, %d families, %d series" % ((len(body),) + exposition_size(body)))
    samples = body.decode().splitlines()
    print("  koji_up: %s" % [line for line in samples if line.startswith("koji_up ")])
    if releng:
        polls.report()
        serves.report()
        print("  exposition %d bytes, %d families, %d series" % ((len(releng_body),) + exposition_size(releng_body)))
    get_series(exporter, args)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--url", help="a hub URL to measure instead of the fake hub (read-only)")
    parser.add_argument("--serverca", help="the CA of the hub's certificate (with --url)")
    parser.add_argument("--profile", help="a koji client profile (server, serverca, cert)")
    parser.add_argument("--compare-releng", metavar="PATH",
                        help="koji-prometheus-exporter.py of release-engineering/koji-prometheus-exporter: "
                             "measure its polls against the same hub in the same run")
    parser.add_argument("--prefix", default="bench", help="name prefix of the fake hub's objects")
    parser.add_argument("--tags", type=int, default=2700)
    parser.add_argument("--packages", type=int, default=8200)
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--tasks", type=int, default=100000)
    parser.add_argument("--open-tasks", type=int, default=30)
    parser.add_argument("--waiting-tasks", type=int, default=300)
    parser.add_argument("--scrapes", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=1,
                        help="scrape series to run one after the other (the machine's load changes)")
    parser.add_argument("--count-workers", type=int, default=Settings("x").count_refresh_workers,
                        help="count_refresh_workers of the exporter")
    parser.add_argument("--change-command",
                        help="with --url/--profile: a shell command making a small change on the hub between the "
                        "no-change and the small-change incremental count refreshes, e.g. "
                        "'koji call tagBuildBypass TAG NVR'")
    parser.add_argument("--fill-counts", action="store_true",
                        help="on the fake hub: fill the counts cache in memory (--tags, --packages) instead of "
                        "counting; its count calls slow down with its size, and at CERN's a request outlasts the "
                        "exporter's timeout. Scrapes and GETs serve the same number of series")
    parser.add_argument("--undo-command", help="a shell command undoing --change-command afterwards")
    args = parser.parse_args(argv)
    if args.compare_releng and not (args.url or args.profile):
        parser.error("--compare-releng needs a real hub (--url or --profile)")
    if args.fill_counts and (args.url or args.profile):
        parser.error("--fill-counts is for the fake hub")

    with HUB:
        if args.url or args.profile:
            server, serverca, cert = args.url, args.serverca, None
            if args.profile:
                config = koji.read_config(args.profile)
                server = server or config["server"]
                serverca = serverca or config.get("serverca")
                cert = config.get("cert")
            # scrape_cache_ttl=0: every measured scrape reads the hub
            settings = Settings(server, serverca=serverca, cert=cert, timeout=120,
                                count_refresh_workers=args.count_workers, scrape_cache_ttl=0)
            print("hub %s, %s, %s" % (server, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), load()))
            print("  " + hub_size(koji.ClientSession(server, opts=settings.koji_opts())))
            measure(settings, args, small_change=args.change_command and (lambda: run_command(args.change_command)),
                    undo_change=args.undo_command and (lambda: run_command(args.undo_command)))
            return 0

        from tests.fakehub import FakeHub  # pylint: disable=import-outside-toplevel
        from tests.fakehub.api_tasks import TaskAPI, add_task  # pylint: disable=import-outside-toplevel
        if args.fill_counts:
            # the fake hub gets few tags and packages: the counts cache holds --tags and --packages
            args.cache_size = (args.tags, args.packages)
            args.tags = args.packages = 20
        with FakeHub(extra_handlers=[TaskAPI()]) as hub:
            seconds = timed(lambda: fill_fake(hub.state, args))[1]
            print("fake hub %s: %d tags, %d packages, %d hosts, %d tasks (%d open, %d waiting), "
                  "seeded in %.1f s" % (hub.url, len(hub.state.tags), len(hub.state.packages),
                                        len(hub.state.hosts), args.tasks, args.open_tasks,
                                        args.waiting_tasks, seconds))

            def more_tasks():
                now = time.time()
                for _task in range(100):
                    add_task(hub.state, "buildArch", "default", "CLOSED", request=[],
                             create_ts=now - 100, start_ts=now - 90, completion_ts=now)

            def tag_one_build():
                session = hub.session()
                session.tagBuildBypass("%s-tag-0001" % args.prefix, 1)
                return "build 1 tagged into %s-tag-0001" % args.prefix

            def untag_it():
                hub.session().untagBuildBypass("%s-tag-0001" % args.prefix, 1)
                return "build 1 untagged from %s-tag-0001" % args.prefix

            measure(Settings(hub.url, timeout=60, count_refresh_workers=args.count_workers, scrape_cache_ttl=0), args,
                    add_tasks=more_tasks, small_change=tag_one_build, undo_change=untag_it)
    return 0


HUB = HubRequests()

if __name__ == "__main__":
    sys.exit(main())
