"""Read what kojiforge.koji's backups compare: a Koji hub's version and object counts, and the
files under Koji's top directory. Prints one JSON object.

  koji_backup_state.py --profile koji [--login] [--timeout 120] [--topdir /mnt/koji --part packages ...]
  koji_backup_state.py --profile koji --expect-locked   (exit 0 only when the hub refuses anonymous calls)
  koji_backup_state.py --profile koji --expire-ready-repos   (after a restore: expire every ready
                                                              repo, in one multicall; prints their ids)
"""

import argparse
import json
import os
import sys

import koji


# The library's defaults would keep a backup (and the hub's lock-out) waiting on a hung hub for
# hours: 12 hours per call, 30 retries 20 s apart.
MAX_RETRIES = 3
RETRY_INTERVAL = 2
DEFAULT_TIMEOUT = 120


def session(profile, login, timeout=DEFAULT_TIMEOUT):
    opts = koji.read_config(profile)
    session_opts = koji.grab_session_options(opts)
    # Fail within minutes, not after hours: each call (the login too) within `timeout` seconds,
    # at most MAX_RETRIES retries, no waiting out a hub that says it is offline.
    session_opts.update({"max_retries": MAX_RETRIES, "retry_interval": RETRY_INTERVAL, "offline_retry": False,
                         "timeout": timeout, "auth_timeout": timeout})
    sess = koji.ClientSession(opts["server"], session_opts)
    if login:
        sess.ssl_login(opts["cert"], None, opts["serverca"])
    return sess


def counts(sess):
    with sess.multicall(strict=True) as m:
        version = m.getKojiVersion()
        last_event = m.getLastEvent()
        tags = m.listTags()
        builds = m.listBuilds(queryOpts={"countOnly": True})
        rpms = m.listRPMs(queryOpts={"countOnly": True})
        hosts = m.listHosts()
        channels = m.listChannels()
        external_repos = m.listExternalRepos()
        packages = m.listPackagesSimple()
        targets = m.getBuildTargets()
    return {
        "koji_version": version.result,
        "last_event": last_event.result["id"],
        "counts": {
            "tags": len(tags.result),
            "builds": builds.result,
            "rpms": rpms.result,
            "hosts": len(hosts.result),
            "channels": len(channels.result),
            "external_repos": len(external_repos.result),
            "packages": len(packages.result),
            "targets": len(targets.result),
        },
    }


def expire_ready_repos(sess):
    ready = [repo["id"] for repo in sess.getActiveRepos() if repo["state"] == koji.REPO_READY]
    if ready:
        with sess.multicall(strict=True, batch=500) as m:
            for repo_id in ready:
                m.repoExpire(repo_id)
    return ready


def files(topdir, parts):
    count = size = 0
    for part in parts:
        for root, _dirs, names in os.walk(os.path.join(topdir, part)):
            for name in names:
                path = os.path.join(root, name)
                if os.path.isfile(path) and not os.path.islink(path):
                    count += 1
                    size += os.path.getsize(path)
    return {"count": count, "bytes": size}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="koji")
    parser.add_argument("--login", action="store_true", help="log in with the profile's certificate")
    parser.add_argument("--expect-locked", action="store_true")
    parser.add_argument("--expire-ready-repos", action="store_true",
                        help="expire the ready repos (logs in with the profile's certificate)")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT,
                        help="seconds one hub call (or the login) may take")
    parser.add_argument("--topdir")
    parser.add_argument("--part", action="append", default=[])
    args = parser.parse_args()

    if args.expect_locked:
        try:
            session(args.profile, False, args.timeout).getAPIVersion()
        except koji.ServerOffline:
            print(json.dumps({"locked": True}))
            return 0
        print(json.dumps({"locked": False}))
        return 1

    if args.expire_ready_repos:
        print(json.dumps({"expired": expire_ready_repos(session(args.profile, True, args.timeout))}))
        return 0

    state = counts(session(args.profile, args.login, args.timeout))
    if args.topdir:
        state["files"] = files(args.topdir, args.part)
    print(json.dumps(state, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
