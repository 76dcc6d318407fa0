# shellcheck shell=bash
# Produce a repo of lifecycle-dest with the deployment's createrepo builder (Koji 1.34: a newRepo
# task; 1.35: a repo request that kojira turns into one) and print what the scenario checks:
# the repo, its task, the builder that ran it, and the repo's package list.
set -euo pipefail
tag=lifecycle-dest
before=$(koji call --json-output getRepo "$tag" | python3 -c 'import json, sys; r = json.load(sys.stdin); print(r["id"] if r else 0)')
timeout 1200 koji regen-repo --wait "$tag" >&2
for _ in $(seq 120); do
  repo=$(koji call --json-output getRepo "$tag")
  id=$(printf '%s' "$repo" | python3 -c 'import json, sys; r = json.load(sys.stdin); print(r["id"] if r else 0)')
  [ "$id" -gt "$before" ] && break
  sleep 5
done
[ "$id" -gt "$before" ] || { echo "no new repo of $tag after regen-repo" >&2; exit 1; }
task=$(printf '%s' "$repo" | python3 -c 'import json, sys; print(json.load(sys.stdin)["task_id"])')
python3 - "$id" "$task" "$tag" <<'PY'
import json, subprocess, sys
repo_id, task_id, tag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def call(*args):
    return json.loads(subprocess.check_output(["koji", "call", "--json-output"] + list(args)))
task = call("getTaskInfo", str(task_id))
children = call("getTaskChildren", str(task_id))
hosts = {h["id"]: h["name"] for h in call("listHosts")}
repodir = "/mnt/koji/repos/%s/%d/x86_64" % (tag, repo_id)
with open(repodir + "/pkglist") as handle:
    pkglist = sorted(line.strip().rsplit("/", 1)[-1] for line in handle if line.strip())
print(json.dumps({
    "repo_id": repo_id, "task_method": task["method"], "task_state": task["state"],
    "hosts": sorted({hosts.get(t["host_id"]) for t in [task] + children}),
    "repomd": __import__("os").path.isfile(repodir + "/repodata/repomd.xml"),
    "pkglist": pkglist,
}, sort_keys=True))
PY
