"""What a restart of the exporter costs, with and without its kept state, and the hub requests
per minute of one web host, of three that follow one refresh host, and of three independent ones.

The fake hub (tests/fakehub) is filled like bench_exporter.py fills it (CERN's scale by
default: 2700 tags, 8200 packages listed in 3 tags each, 100,000 tasks).

1. Restart cost: the exporter runs in a child process (so that its peak memory, VmHWM, is
   its own and not the fake hub's), does the first refresh of both caches after a start and
   reports the hub requests, seconds and peak memory. Once with an empty state_dir (today: an
   Apache restart starts from nothing), then, after a small change on the hub (100 new tasks,
   one build tagged), again with the state the first one kept.
2. Hub requests per minute, in real time with every interval divided by --scale (task refresh
   30 s, count refresh 600 s, Prometheus scraping every web host every 30 s; a --window of 60 s at
   --scale 10 stands for 10 minutes): one exporter; one refresh host and two followers (over
   HTTP, the refresh host's /metrics/state); three independent exporters. Each exporter has
   done its first refresh before the window (part 1 measures that); the full recount every
   count_full_refresh_interval (6 h) falls outside the window and is added as an average from
   part 1's figure. The requests are counted by the fake hub (a multicall batch is one).

From the top of the checkout:

    .venv/bin/python -m tests.benchmarks.exporter.bench_site
    .venv/bin/python -m tests.benchmarks.exporter.bench_site --tags 200 --packages 500 --tasks 5000 --window 20
"""

import argparse
import gzip
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wsgiref.simple_server

from kojiforge_metrics.exporter import Exporter
from kojiforge_metrics.settings import Settings
from kojiforge_metrics.wsgi import make_application

from tests.benchmarks.exporter.bench_exporter import HUB, fill_fake

# the intervals of the defaults (roles/koji_web/defaults/main.yml) and Prometheus' scrape interval
# the calls only the background refreshes make (the scrapes' are listHosts, listChannels,
# listTasks, scheduler.getHostData, repo.queryQueue)
BACKGROUND_CALLS = ("getTaskInfo", "queryHistory", "listPackages", "listBuilds", "getLastEvent", "listTags",
                    "getBuildTargets")
TASK_REFRESH, COUNT_REFRESH, COUNT_FULL_REFRESH, SCRAPE_INTERVAL, SCRAPE_CACHE_TTL = 30, 600, 21600, 30, 5


def peak_kib():
    """Peak resident memory of this process (VmHWM). Not ru_maxrss: Linux carries the forking
    process's peak over exec, and the parent holds the fake hub."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child(url, state_dir):
    """In the child process: one exporter's first refresh of both caches; JSON on stdout."""
    with HUB:
        began = time.monotonic()
        exporter = Exporter(Settings(url, timeout=600, state_dir=state_dir or None))
        load = time.monotonic() - began
        figures = {"load_seconds": load, "maxrss_loaded_kib": peak_kib()}
        for name, refresh in (("counts", exporter.refresh_counts), ("tasks", exporter.refresh_tasks)):
            HUB.reset()
            began = time.monotonic()
            ok = refresh()
            figures[name] = {"seconds": time.monotonic() - began, "requests": HUB.requests, "ok": ok,
                             "maxrss_kib": peak_kib()}
        figures["counts"]["kind"] = exporter._counts.kind  # pylint: disable=protected-access
        figures["maxrss_kib"] = peak_kib()
        body = exporter.state_body()
        figures["state_bytes"] = len(body)
        figures["state_gzipped_bytes"] = len(exporter.state_body(gzipped=True))
        gzip.decompress(exporter.state_body(gzipped=True))
    print(json.dumps(figures))


def run_child(url, state_dir):
    done = subprocess.run([sys.executable, "-m", "tests.benchmarks.exporter.bench_site", "--child", url,
                           state_dir], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def report_start(label, figures):
    total_requests = figures["counts"]["requests"] + figures["tasks"]["requests"]
    print("%s:" % label)
    print("  state read at start: %.2f s; peak memory (VmHWM) then %.0f MiB, after the counts %.0f MiB, "
          "after the tasks %.0f MiB" % (figures["load_seconds"], figures["maxrss_loaded_kib"] / 1024,
                                        figures["counts"]["maxrss_kib"] / 1024, figures["tasks"]["maxrss_kib"] / 1024))
    print("  per-tag/per-package counts (%s): %.1f s, %d hub requests" % (
        figures["counts"]["kind"], figures["counts"]["seconds"], figures["counts"]["requests"]))
    print("  finished tasks: %.1f s, %d hub requests" % (figures["tasks"]["seconds"], figures["tasks"]["requests"]))
    print("  in all: %.1f s, %d hub requests; peak memory of the process (VmHWM) %.0f MiB" % (
        figures["counts"]["seconds"] + figures["tasks"]["seconds"], total_requests, figures["maxrss_kib"] / 1024))
    print("  /metrics/state: %d bytes, %d gzipped" % (figures["state_bytes"], figures["state_gzipped_bytes"]))
    return total_requests


def restart_cost(hub, args, state_dir):
    """Part 1, keeping the state in ``state_dir``; returns the requests of a full count refresh
    (for the 6-hourly average)."""
    from tests.fakehub.api_tasks import add_task  # pylint: disable=import-outside-toplevel
    before = run_child(hub.url, state_dir)
    report_start("first refresh after a start, no kept state (before)", before)
    files = ["%s %d bytes" % (name, os.path.getsize(os.path.join(state_dir, name)))
             for name in sorted(os.listdir(state_dir))]
    print("  kept state: %s" % ", ".join(files))
    now = time.time()
    for _task in range(100):
        add_task(hub.state, "buildArch", "default", "CLOSED", request=[], create_ts=now - 100,
                 start_ts=now - 90, completion_ts=now)
    hub.session().tagBuildBypass("%s-tag-0001" % args.prefix, 1)
    after = run_child(hub.url, state_dir)
    report_start("first refresh after a start, with the kept state, after 100 new tasks and one tagging (after)",
                 after)
    return before["counts"]["requests"]


class Quiet(wsgiref.simple_server.WSGIRequestHandler):
    """Mounted at /metrics, as mod_wsgi's WSGIScriptAlias does; no access log."""

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass

    def get_environ(self):
        environ = super().get_environ()
        environ["SCRIPT_NAME"], environ["PATH_INFO"] = "/metrics", environ["PATH_INFO"][len("/metrics"):]
        return environ


def site_load(hub, args, full_count_requests, kept):
    """Part 2. Each exporter starts from a copy of the state part 1 kept (``kept``), as each
    web host would from its own: the first refreshes are incremental."""
    scale = args.scale
    copies = []

    def settings(**extra):
        copies.append(os.path.join(kept, "..", "host%d" % len(copies)))
        shutil.copytree(kept, copies[-1])
        return Settings(hub.url, state_dir=copies[-1], timeout=600, task_refresh_interval=TASK_REFRESH / scale,
                        count_refresh_interval=COUNT_REFRESH / scale,
                        count_full_refresh_interval=COUNT_FULL_REFRESH / scale,
                        scrape_cache_ttl=SCRAPE_CACHE_TTL / scale, **extra)

    print("hub requests per minute: intervals divided by %g, a %g s window (%g min at real intervals); "
          "Prometheus scrapes each web host every %d s" % (scale, args.window, args.window * scale / 60,
                                                           SCRAPE_INTERVAL))
    minutes = args.window * scale / 60
    for label, hosts, following in (("one web host", 1, False),
                                    ("three web hosts, one refresh host and two followers", 3, True),
                                    ("three independent web hosts (before)", 3, False)):
        leader = Exporter(settings())
        exporters = [leader]
        server = None
        assert leader.refresh_counts() and leader.refresh_tasks()
        if following:
            server = wsgiref.simple_server.make_server("127.0.0.1", 0, make_application(leader), handler_class=Quiet)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            url = "http://127.0.0.1:%d/metrics/state" % server.server_port
            exporters += [Exporter(settings(refresh_url=url)) for _host in range(hosts - 1)]
        else:
            for _host in range(hosts - 1):
                other = Exporter(settings())
                assert other.refresh_counts() and other.refresh_tasks()
                exporters.append(other)
        stop = threading.Event()

        def prometheus(exporter):
            while not stop.is_set():
                exporter.render()
                stop.wait(SCRAPE_INTERVAL / scale)

        hub.reset_counters()
        scrapers = [threading.Thread(target=prometheus, args=(e,), daemon=True) for e in exporters]
        for exporter in exporters:
            exporter.start()
        for thread in scrapers:
            thread.start()
        time.sleep(args.window)
        requests, calls = hub.requests, dict(hub.calls)
        stop.set()
        for exporter in exporters:
            exporter.stop(timeout=60)
        if server is not None:
            server.shutdown()
            server.server_close()
        sources = sorted(set(line.split(" ")[0] for e in exporters
                             for line in e.render().decode().splitlines() if line.startswith("koji_cache_source{")))
        refreshers = 1 if following else hosts
        full = refreshers * full_count_requests / (COUNT_FULL_REFRESH / 60)
        background = sum(calls.get(name, 0) for name in BACKGROUND_CALLS)
        print("%s: %.1f hub requests (%.0f calls, %.0f of them the background refreshes' own) per minute "
              "(%d requests in the window; most called: %s), plus %.2f requests per minute on average for the "
              "full recount every 6 h (%d requests per refreshing host)" % (
                  label, requests / minutes, sum(calls.values()) / minutes, background / minutes, requests,
                  ", ".join("%s %d" % item for item in sorted(calls.items(), key=lambda i: -i[1])[:4]),
                  full, full_count_requests))
        print("  served: %s" % ", ".join(sources))
        for copy in copies:
            shutil.rmtree(copy)
        copies.clear()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--child", nargs=2, metavar=("URL", "STATE_DIR"), help=argparse.SUPPRESS)
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--tags", type=int, default=2700)
    parser.add_argument("--packages", type=int, default=8200)
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--tasks", type=int, default=100000)
    parser.add_argument("--open-tasks", type=int, default=30)
    parser.add_argument("--waiting-tasks", type=int, default=300)
    parser.add_argument("--scale", type=float, default=10, help="every interval divided by this")
    parser.add_argument("--window", type=float, default=60, help="real seconds the requests are counted")
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0

    from tests.fakehub import FakeHub  # pylint: disable=import-outside-toplevel
    from tests.fakehub.api_tasks import TaskAPI  # pylint: disable=import-outside-toplevel
    with FakeHub(extra_handlers=[TaskAPI()]) as hub:
        began = time.monotonic()
        fill_fake(hub.state, args)
        print("fake hub: %d tags, %d packages (%d listings), %d tasks, seeded in %.0f s" % (
            len(hub.state.tags), len(hub.state.packages), 3 * args.packages, args.tasks, time.monotonic() - began))
        with tempfile.TemporaryDirectory() as work:
            kept = os.path.join(work, "kept")
            os.mkdir(kept)
            full_count_requests = restart_cost(hub, args, kept)
            site_load(hub, args, full_count_requests, kept)
    return 0


if __name__ == "__main__":
    sys.exit(main())
