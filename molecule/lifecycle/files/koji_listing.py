"""List everything the lifecycle scenario compares, from the hub (as the admin of root's
profile) and from /mnt/koji: tags with their inheritance, external repos, packages and tagged
builds; external repos; targets; channels; hosts; builds with every RPM's checksums; the
files under packages/ with their sha256; the CA. Prints one JSON object."""

import hashlib
import json
import os

import koji

TOPDIR = "/mnt/koji"
CA_KEY = "/etc/pki/koji/ca/koji-ca.key"
CA_CERT = "/etc/pki/koji/koji-ca.crt"


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main():
    opts = koji.read_config("koji")
    session_opts = koji.grab_session_options(opts)
    session_opts.update({"max_retries": 3, "retry_interval": 2})
    session = koji.ClientSession(opts["server"], session_opts)
    session.ssl_login(opts["cert"], None, opts["serverca"])

    out = {"koji_version": session.getKojiVersion(), "last_event": session.getLastEvent()["id"]}

    tags = {}
    for tag in session.listTags():
        name = tag["name"]
        info = session.getTag(tag["id"])
        tags[name] = {
            "arches": sorted((info["arches"] or "").split()),
            "locked": info["locked"],
            "perm": info["perm"],
            "maven_support": info["maven_support"],
            "extra": info["extra"],
            "inheritance": sorted(
                [{"parent": link["name"], "priority": link["priority"], "maxdepth": link["maxdepth"],
                  "intransitive": link["intransitive"], "noconfig": link["noconfig"],
                  "pkg_filter": link["pkg_filter"]}
                 for link in session.getInheritanceData(tag["id"])],
                key=lambda link: link["priority"]),
            "external_repos": sorted(
                [{"name": repo["external_repo_name"], "priority": repo["priority"],
                  "merge_mode": repo["merge_mode"], "arches": repo.get("arches")}
                 for repo in session.getTagExternalRepos(tag_info=tag["id"])],
                key=lambda repo: repo["priority"]),
            "packages": sorted(
                [[pkg["package_name"], pkg["owner_name"], pkg["blocked"]]
                 for pkg in session.listPackages(tagID=tag["id"], inherited=False)]),
            "tagged": sorted(build["nvr"] for build in session.listTagged(tag["id"])),
        }
    out["tags"] = tags
    out["external_repos"] = {repo["name"]: repo["url"] for repo in session.listExternalRepos()}
    out["targets"] = {t["name"]: [t["build_tag_name"], t["dest_tag_name"]] for t in session.getBuildTargets()}
    out["channels"] = {c["name"]: {"enabled": c.get("enabled"), "description": c.get("description")}
                       for c in session.listChannels()}
    out["hosts"] = {
        h["name"]: {"arches": sorted(h["arches"].split()), "capacity": h["capacity"], "enabled": h["enabled"],
                    "description": h["description"],
                    "channels": sorted(c["name"] for c in session.listChannels(hostID=h["id"]))}
        for h in session.listHosts()}
    builds = {}
    for build in session.listBuilds():
        builds[build["nvr"]] = {
            "state": build["state"], "owner": build["owner_name"], "volume": build["volume_name"],
            "rpms": {"%(name)s-%(version)s-%(release)s.%(arch)s" % r:
                     {"payloadhash": r["payloadhash"], "size": r["size"]}
                     for r in session.listRPMs(buildID=build["build_id"])},
        }
    out["builds"] = builds
    out["users"] = sorted(u["name"] for u in session.listUsers())
    out["admin_perms"] = sorted(session.getUserPerms("kojiadmin"))

    files = {}
    packages = os.path.join(TOPDIR, "packages")
    for root, _dirs, names in os.walk(packages):
        for name in names:
            path = os.path.join(root, name)
            files[os.path.relpath(path, TOPDIR)] = sha256(path)
    out["files"] = files
    out["ca"] = {"key_sha256": sha256(CA_KEY) if os.path.exists(CA_KEY) else None,
                 "cert_sha256": sha256(CA_CERT) if os.path.exists(CA_CERT) else None}
    print(json.dumps(out, sort_keys=True, indent=1))


if __name__ == "__main__":
    main()
