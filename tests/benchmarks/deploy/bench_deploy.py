"""Benchmark of deploying Koji with the collection: the local cluster of testbed/demo.sh.

Prints, for three connections: containers.podman's podman plugin as it is (no pipelining: four
podman commands per task), the test bed's podman_pipelined (testbed/connection_plugins: one
`podman exec -i` per task; what demo.sh, CI and the scenarios use), and SSH with pipelining and
ControlPersist (how sites reach their hosts: sshd is installed in the containers for this run
only, the image stays without it):

  first deploy        testbed/demo.sh up: the containers, then site.yml (2 builders)
  no-op site.yml      every host changed=0, at 2 builders, and again at 4
  one more builder    testbed/demo.sh add-builder: builders.yml --limit NEW,hub (podman_pipelined)

with the time of each role (ansible.posix.profile_roles) for the no-op runs. Goals (issue 14):
no-op <= 120 s at 2 builders, growing by <= 10 s per extra builder; first deploy <= 6 min;
one more builder <= 90 s. It prints figures and asserts nothing about time; it does check that
every no-op run changed nothing (the figures of a run that changes things would be meaningless).
The load average is printed with each figure: containers see the whole machine's load.

    python tests/benchmarks/deploy/bench_deploy.py            # starts from no cluster
    python tests/benchmarks/deploy/bench_deploy.py --reuse    # the running demo cluster as it is

It removes the cluster at the end unless --keep is given.
"""

import argparse
import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests"))

# pylint: disable=wrong-import-position
from deployed_koji import recap, run_playbook  # noqa: E402
from local_cluster import LocalCluster  # noqa: E402

OUT = ROOT / "build" / "bench-deploy"
SSH_KEY = OUT / "id_ed25519"
SSH_INVENTORY = OUT / "ssh-hosts.yml"
STOCK_INVENTORY = OUT / "podman-stock-hosts.yml"
EXTRA_BUILDERS = ("builder3.koji.test", "builder4.koji.test")


def load():
    return "load %.1f" % os.getloadavg()[0]


def podman(*args, check=True):
    return subprocess.run(["podman"] + list(args), text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, check=check).stdout


def enable_ssh(hosts):
    """sshd in each container with this run's key; an inventory giving each host its address
    and the ssh connection (host variables win over the podman connection of the group)."""
    OUT.mkdir(parents=True, exist_ok=True)
    if not SSH_KEY.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(SSH_KEY)], check=True)
    public = (SSH_KEY.parent / (SSH_KEY.name + ".pub")).read_text(encoding="utf-8")
    lines = ["---", "# bench_deploy.py: the local cluster over SSH", "all:", "  hosts:"]
    for host in hosts:
        subprocess.run(["podman", "exec", "-i", host, "bash", "-c",
                        "command -v sshd >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
                        "openssh-server >/dev/null; mkdir -p /root/.ssh && chmod 700 /root/.ssh && "
                        "cat > /root/.ssh/authorized_keys && systemctl start ssh"],
                       input=public, text=True, check=True, stdout=subprocess.DEVNULL)
        address = podman("inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                         host).strip()
        lines += ["    %s:" % host, "      ansible_host: %s" % address,
                  "      ansible_connection: ansible.builtin.ssh", "      ansible_user: root",
                  "      ansible_ssh_private_key_file: %s" % SSH_KEY,
                  "      ansible_ssh_pipelining: true",
                  "      ansible_ssh_common_args: >-",
                  "        -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
                  "        -o ControlMaster=auto -o ControlPersist=300s"]
    SSH_INVENTORY.write_text("\n".join(lines) + "\n", encoding="utf-8")


def stock_podman(hosts):
    """An inventory giving each host containers.podman's own plugin (host variables win over the
    test bed's podman_pipelined of the group)."""
    OUT.mkdir(parents=True, exist_ok=True)
    lines = ["---", "# bench_deploy.py: the local cluster over containers.podman.podman", "all:", "  hosts:"]
    for host in hosts:
        lines += ["    %s:" % host, "      ansible_connection: containers.podman.podman"]
    STOCK_INVENTORY.write_text("\n".join(lines) + "\n", encoding="utf-8")


def noop_three_ways(cluster, hosts):
    builders = len([h for h in hosts if h.startswith("builder")])
    stock_podman(hosts)
    noop(cluster, "no-op site.yml, %d builders, podman" % builders, cluster.inventories + [STOCK_INVENTORY])
    noop(cluster, "no-op site.yml, %d builders, podman_pipelined" % builders, cluster.inventories)
    enable_ssh(hosts)
    noop(cluster, "no-op site.yml, %d builders, ssh" % builders, cluster.inventories + [SSH_INVENTORY])


def roles_recap(output):
    """ansible.posix.profile_roles' table: role => seconds."""
    section = output.split("ROLES RECAP", 1)[-1]
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"^(\S+) -+ ([\d.]+)s$", section, re.M) if m.group(1) != "total"}


def noop(cluster, label, inventories):
    os.environ["ANSIBLE_CALLBACKS_ENABLED"] = "ansible.posix.profile_roles"
    rc, out, seconds = run_playbook("playbooks/site.yml", "-e", "koji_source=%s" % cluster.source,
                                    inventories=inventories)
    (OUT / ("%s.log" % re.sub(r"\W+", "-", label))).write_text(out, encoding="utf-8")
    counts = recap(out)
    if rc != 0 or any(c["changed"] for c in counts.values()):
        raise SystemExit("%s: not a no-op run (exit %d): %s" % (label, rc, counts))
    roles = ", ".join("%s %.0f" % item for item in sorted(roles_recap(out).items(), key=lambda i: -i[1]))
    print("%-40s %6.1f s  (%d hosts, %s)  roles: %s" % (label, seconds, len(counts), load(), roles), flush=True)
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--reuse", action="store_true", help="use the running demo cluster")
    parser.add_argument("--keep", action="store_true", help="leave the cluster up at the end")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    cluster = LocalCluster()
    cluster.source = subprocess.run([str(ROOT / "testbed" / "koji-source.sh")], text=True,
                                    stdout=subprocess.PIPE, check=True).stdout.strip()
    try:
        if not args.reuse:
            cluster.demo("down", log_name="bench-down.log")
            rc, _out, seconds = cluster.demo("up", log_name="bench-deploy.log")
            if rc != 0:
                raise SystemExit("testbed/demo.sh up failed: build/real-koji/bench-deploy.log")
            print("%-40s %6.1f s  (%s)" % ("first deploy, 2 builders (demo.sh up), podman_pipelined", seconds, load()),
                  flush=True)
        hosts = subprocess.run(["podman", "ps", "--format", "{{.Names}}", "--filter", "network=kojiforge-local"],
                               text=True, stdout=subprocess.PIPE, check=True).stdout.split()
        noop_three_ways(cluster, hosts)
        for name in EXTRA_BUILDERS:
            if name in hosts:
                continue
            rc, _out, seconds = cluster.demo("add-builder", name, "rpm", log_name="bench-%s.log" % name)
            if rc != 0:
                raise SystemExit("add-builder %s failed: build/real-koji/bench-%s.log" % (name, name))
            print("%-40s %6.1f s  (%s)" % ("one more builder (%s), podman_pipelined" % name, seconds, load()),
                  flush=True)
            hosts.append(name)
        noop_three_ways(cluster, hosts)
    finally:
        if not args.keep:
            cluster.demo("down", log_name="bench-down.log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
