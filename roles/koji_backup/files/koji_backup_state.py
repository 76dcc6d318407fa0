"""Read what kojiforge.koji's backups compare: a Koji hub's version and object counts, and the
files under Koji's top directory. Prints one JSON object.

  koji_backup_state.py --profile koji [--login] [--topdir /mnt/koji --part packages ...]
  koji_backup_state.py --profile koji --expect-locked   (exit 0 only when the hub refuses anonymous calls)
  koji_backup_state.py --profile koji --expire-ready-repos   (after a restore: expire every ready
                                                              repo, in one multicall; prints their ids)
"""

import argparse
import json
import os
import sys

import koji


def session(profile, login):
    opts = koji.read_config(profile)
    session_opts = koji.grab_session_options(opts)
    # Fail within seconds, not after the library's ten minutes of retries.
    session_opts.update({"max_retries": 3, "retry_interval": 2, "offline_retry": False})
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
    parser.add_argument("--topdir")
    parser.add_argument("--part", action="append", default=[])
    args = parser.parse_args()

    if args.expect_locked:
        try:
            session(args.profile, False).getAPIVersion()
        except koji.ServerOffline:
            print(json.dumps({"locked": True}))
            return 0
        print(json.dumps({"locked": False}))
        return 1

    if args.expire_ready_repos:
        print(json.dumps({"expired": expire_ready_repos(session(args.profile, True))}))
        return 0

    state = counts(session(args.profile, args.login))
    if args.topdir:
        state["files"] = files(args.topdir, args.part)
    print(json.dumps(state, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
