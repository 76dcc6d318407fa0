"""Scrape latency and hub cost of the kojiforge_metrics exporter at CERN's scale.

By default it starts the fake hub (tests/fakehub) and fills it like CERN's: 2700 tags, 8200
packages, 10 builders (6 x86_64, 4 aarch64), 100,000 tasks. With --url or --profile it measures
a real hub instead, read-only unless --fill is given (then it creates the tags and packages,
named with --prefix, through an admin login; tasks cannot be created through the API, so the
hub's own task history is what gets walked).

It prints: the background refreshes' durations and requests (per-tag/per-package counts, and
the finished-task walk over every task id, then an incremental one), and over --scrapes scrapes
the median and worst latency and the hub requests per scrape. Figures only, no assertions:
the fake hub runs in this process, under one lock, so its figures show the exporter's cost and
request pattern rather than a real hub's database time.

    /tmp/venv/bin/python tests/benchmarks/exporter/bench_exporter.py
    /tmp/venv/bin/python tests/benchmarks/exporter/bench_exporter.py --profile koji --scrapes 20
"""

import argparse
import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "roles" / "koji_web" / "files"))
sys.path.insert(0, str(ROOT))

# pylint: disable=wrong-import-position
import koji  # noqa: E402

from kojiforge_metrics.exporter import Exporter  # noqa: E402
from kojiforge_metrics.settings import Settings  # noqa: E402

CHANNELS = ("default", "createrepo", "image")
# (method, channel, share of the tasks in percent)
METHODS = (("build", "default", 15), ("buildArch", "default", 55), ("tagBuild", "default", 10),
           ("newRepo", "createrepo", 10), ("createrepo", "createrepo", 8), ("image", "image", 2))
MIX = [(method, channel) for method, channel, share in METHODS for _slot in range(share)]


class CountingSession(koji.ClientSession):
    """A ClientSession that counts its HTTP requests (a multicall batch is one)."""

    requests = 0

    def _sendCall(self, handler, headers, request):  # pylint: disable=invalid-name
        CountingSession.requests += 1
        return super()._sendCall(handler, headers, request)


def counting_factory(settings):
    return CountingSession(settings.server, opts=settings.koji_opts())


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
        add_build(state, package, tags=(tags[(i * 7) % len(tags)],))
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


def fill_real(session, args):
    """Tags and packages on a real hub (admin), in multicall batches; returns what was created."""
    existing = set(t["name"] for t in session.listTags())
    tags = ["%s-tag-%04d" % (args.prefix, i) for i in range(args.tags)]
    with session.multicall(strict=True, batch=500) as multi:
        for name in tags:
            if name not in existing:
                multi.createTag(name, arches="x86_64 aarch64")
    owner = session.getLoggedInUser()["name"]
    with session.multicall(strict=False, batch=500) as multi:
        for i in range(args.packages):
            package = "%s-pkg-%05d" % (args.prefix, i)
            for k in range(3):
                multi.packageListAdd(tags[(i * 7 + k * 911) % len(tags)], package, owner=owner)


def timed(func):
    began = time.monotonic()
    result = func()
    return result, time.monotonic() - began


def measure(settings, args, add_tasks=None):
    CountingSession.requests = 0
    exporter = Exporter(settings, session_factory=counting_factory)
    print("background refresh, per-tag/per-package counts:")
    ok, seconds = timed(exporter.refresh_counts)
    print("  %.2f s, %d hub requests, ok=%s" % (seconds, CountingSession.requests, ok))
    CountingSession.requests = 0
    print("background refresh, finished tasks, first walk over every task id:")
    ok, seconds = timed(exporter.refresh_tasks)
    print("  %.2f s, %d hub requests, ok=%s" % (seconds, CountingSession.requests, ok))
    if add_tasks:
        add_tasks()
    CountingSession.requests = 0
    ok, seconds = timed(exporter.refresh_tasks)
    print("background refresh, finished tasks, incremental%s:" % (" (100 new tasks)" if add_tasks else ""))
    print("  %.3f s, %d hub requests, ok=%s" % (seconds, CountingSession.requests, ok))

    exporter.render()   # the first scrape learns the channels
    latencies, requests = [], []
    size = 0
    for _scrape in range(args.scrapes):
        CountingSession.requests = 0
        body, seconds = timed(exporter.render)
        latencies.append(seconds)
        requests.append(CountingSession.requests)
        size = len(body)
    latencies.sort()
    print("scrapes: %d, exposition %d bytes, %d lines" % (args.scrapes, size, body.count(b"\n")))
    print("  latency median %.1f ms, 90th %.1f ms, worst %.1f ms" % (
        statistics.median(latencies) * 1000, latencies[int(len(latencies) * 0.9) - 1] * 1000,
        latencies[-1] * 1000))
    print("  hub requests per scrape: min %d, max %d" % (min(requests), max(requests)))
    samples = body.decode().splitlines()
    print("  koji_up: %s" % [line for line in samples if line.startswith("koji_up ")])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--url", help="a hub URL to measure instead of the fake hub")
    parser.add_argument("--profile", help="a koji client profile (server, serverca, cert)")
    parser.add_argument("--fill", action="store_true",
                        help="create the tags and packages on the real hub first (admin login)")
    parser.add_argument("--prefix", default="bench", help="name prefix of the created objects")
    parser.add_argument("--tags", type=int, default=2700)
    parser.add_argument("--packages", type=int, default=8200)
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--tasks", type=int, default=100000)
    parser.add_argument("--open-tasks", type=int, default=30)
    parser.add_argument("--waiting-tasks", type=int, default=300)
    parser.add_argument("--scrapes", type=int, default=50)
    args = parser.parse_args(argv)

    if args.url or args.profile:
        opts = {}
        server = args.url
        if args.profile:
            config = koji.read_config(args.profile)
            server = server or config["server"]
            opts = dict((k, config[k]) for k in ("serverca", "cert") if config.get(k))
        settings = Settings(server, serverca=opts.get("serverca"), cert=opts.get("cert"), timeout=60)
        if args.fill:
            session = koji.ClientSession(server, opts=opts)
            session.ssl_login()
            seconds = timed(lambda: fill_real(session, args))[1]
            print("filled %s with %d tags, %d packages in %.1f s" % (server, args.tags, args.packages, seconds))
        print("hub: %s" % server)
        measure(settings, args)
        return 0

    from tests.fakehub import FakeHub  # pylint: disable=import-outside-toplevel
    from tests.fakehub.api_tasks import TaskAPI, add_task  # pylint: disable=import-outside-toplevel
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

        measure(Settings(hub.url, timeout=60), args, add_tasks=more_tasks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
