"""On a real hub: an incremental count refresh after a small change equals a full recount.

Full refresh, the change (--change-command, run by the shell), an incremental refresh, then a
fresh exporter's full recount; prints the differing figures (none expected), and the undo
(--undo-command) checked the same way. Read-only but for the commands given.

    /opt/kojiforge/metrics-venv/bin/python check_incremental_real_hub.py --url https://hub.koji.test/kojihub \\
        --serverca /etc/pki/koji/koji-ca.crt \\
        --change-command 'koji call tagBuildBypass TAG NVR' --undo-command 'koji call untagBuildBypass TAG NVR'
"""

import argparse
import subprocess
import sys
import time

from kojiforge_metrics.exporter import Exporter
from kojiforge_metrics.settings import Settings

KINDS = ("packages_per_tag", "builds_per_tag", "builds_per_package")


def figures(exporter):
    counts = exporter._counts  # pylint: disable=protected-access
    return dict((kind, dict(getattr(counts, kind))) for kind in KINDS)


def differences(incremental, full):
    found = []
    for kind in KINDS:
        for name in sorted(set(incremental[kind]) | set(full[kind])):
            if incremental[kind].get(name) != full[kind].get(name):
                found.append("%s %s: incremental %s, full %s" % (
                    kind, name, incremental[kind].get(name), full[kind].get(name)))
    return found


def check(settings, exporter, command):
    done = subprocess.run(command, shell=True, capture_output=True, text=True, check=False)
    print("%r: rc %d" % (command, done.returncode))
    before = figures(exporter)
    began = time.monotonic()
    assert exporter.refresh_counts()
    print("  incremental refresh (%s): %.2f s" % (exporter._counts.kind,  # pylint: disable=protected-access
                                                  time.monotonic() - began))
    for line in differences(figures(exporter), before):
        print("    changed by it: " + line.replace("incremental", "now").replace("full", "before"))
    fresh = Exporter(settings)
    began = time.monotonic()
    assert fresh.refresh_counts()
    print("  full recount by a fresh exporter: %.2f s" % (time.monotonic() - began))
    found = differences(figures(exporter), figures(fresh))
    print("  differences: %d" % len(found))
    for line in found[:20]:
        print("    " + line)
    return not found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--serverca")
    parser.add_argument("--change-command", required=True)
    parser.add_argument("--undo-command", required=True)
    args = parser.parse_args(argv)
    settings = Settings(args.url, serverca=args.serverca, timeout=120)
    exporter = Exporter(settings)
    began = time.monotonic()
    assert exporter.refresh_counts()
    print("full refresh: %.2f s" % (time.monotonic() - began))
    same = check(settings, exporter, args.change_command)
    same = check(settings, exporter, args.undo_command) and same
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
