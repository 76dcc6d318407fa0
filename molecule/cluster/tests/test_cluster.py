"""The whole cluster against the real hub: builders, storage, repos, an imported RPM, kojira,
what a builder's certificate may not do, the database refusing plaintext connections, and a
graceful kojid reload (on a configuration change and on a certificate renewal). Runs in file
order."""

import os
import pathlib
import re
import subprocess

import yaml
from conftest import BUILDER1, BUILDER2, HUB, READY_TIMEOUT, get_host, hub_call, koji, recap, run_playbook, wait_for
from deployed_koji import quote

TAG = "kojicluster-build"
PKG = "kojicluster-hello"
SPEC = """Name: %(name)s
Version: 1.0
Release: 1
Summary: A package the cluster test builds, imports and finds in a repo
License: MIT
BuildArch: noarch

%%description
Built by molecule/cluster/tests/test_cluster.py.

%%install
mkdir -p %%{buildroot}/usr/share/%(name)s
echo hello > %%{buildroot}/usr/share/%(name)s/hello.txt

%%files
/usr/share/%(name)s/hello.txt
""" % {"name": PKG}


def regen_repo(hub_host):
    """koji regen-repo --wait: the id of the new repo."""
    out = koji(hub_host, "regen-repo", "--wait", "--timeout=15", TAG).stdout
    return int(re.search(r"Got repo (\d+)", out).group(1))


def hosts_by_name(hub_host):
    return {h["name"]: h for h in hub_call(hub_host, "listHosts")}


def test_services_run(hub, builder1, builder2):
    for builder in (builder1, builder2):
        assert builder.service("kojid").is_running
        assert builder.service("kojid").is_enabled
    assert hub.service("kojira").is_running
    assert hub.service("kojira").is_enabled


def test_builders_registered_enabled_ready(hub):
    def both_ready():
        hosts = hosts_by_name(hub)
        wanted = [hosts.get(name) for name in (BUILDER1, BUILDER2)]
        return all(h and h["enabled"] and h["ready"] for h in wanted) and hosts
    hosts = wait_for("builder1 and builder2 enabled and ready", both_ready, timeout=READY_TIMEOUT)
    for name in (BUILDER1, BUILDER2):
        assert set(hosts[name]["arches"].split()) == {"x86_64", "i386"}
        assert hosts[name]["capacity"] >= 2


def test_builders_channels(hub):
    channels = {name: sorted(c["name"] for c in hub_call(hub, "listChannels", hostID=hosts_by_name(hub)[name]["id"]))
                for name in (BUILDER1, BUILDER2)}
    assert channels == {BUILDER1: ["createrepo"], BUILDER2: ["default"]}


def test_kojid_config_rendered(builder1, builder2):
    conf = builder1.file("/etc/kojid/kojid.conf")
    assert conf.mode == 0o600
    assert "server = https://%s/kojihub" % HUB in conf.content_string
    assert "topurl = http://%s/kojifiles" % HUB in conf.content_string
    assert "cert = /etc/pki/koji/kojid.pem" in conf.content_string
    # Only the createrepo builder waits for Koji's top directory; builder2 for its scratch disk.
    assert "RequiresMountsFor=/mnt/koji" in builder1.file("/etc/systemd/system/kojid.service").content_string
    unit2 = builder2.file("/etc/systemd/system/kojid.service").content_string
    assert "RequiresMountsFor=/mnt/koji" not in unit2
    assert "RequiresMountsFor=/var/lib/mock" in unit2


def test_kojira_has_repo_permission_only(hub):
    perms = hub_call(hub, "getUserPerms", "kojira")
    assert perms == ["repo"]


def test_builder_certificate_cannot_do_admin_calls(hub, builder2):
    """builder2's own certificate: while kojid runs, its exclusive session locks out a second
    login; with kojid stopped, the login works but admin calls are refused."""
    script = (
        "import koji\n"
        "s = koji.ClientSession('https://%s/kojihub', {'max_retries': 1})\n"
        "try:\n"
        "    s.ssl_login('/etc/pki/koji/kojid.pem', None, '/etc/pki/koji/koji-ca.crt')\n"
        "    user = s.getLoggedInUser()['name']\n"
        "except koji.AuthLockError as e:\n"
        "    print('locked:', e)\n"
        "    raise SystemExit(0)\n"
        "print('logged in as', user)\n"
        "print('admin:', s.hasPerm('admin'))\n"
        "for call, args in (('createTag', ['kojicluster-not-allowed']), ('grantPermission', ['kojira', 'admin'])):\n"
        "    try:\n"
        "        getattr(s, call)(*args)\n"
        "    except koji.ActionNotAllowed as e:\n"
        "        print('refused:', call, e)\n"
        "    else:\n"
        "        print('ALLOWED:', call)\n"
    ) % HUB
    command = "python3 -c '%s'" % script.replace("'", "'\\''")
    locked = builder2.run(command)
    assert locked.rc == 0, locked.stderr
    assert "locked:" in locked.stdout
    builder2.run_test("systemctl stop kojid")
    try:
        cmd = builder2.run(command)
    finally:
        builder2.run_test("systemctl start kojid")
    assert cmd.rc == 0, cmd.stderr
    assert "logged in as %s" % BUILDER2 in cmd.stdout
    assert "admin: False" in cmd.stdout
    assert cmd.stdout.count("refused:") == 2 and "ALLOWED" not in cmd.stdout, cmd.stdout
    wait_for("builder2 ready again", lambda: hosts_by_name(hub)[BUILDER2]["ready"], timeout=READY_TIMEOUT)


DB_PASSWORD = yaml.safe_load((pathlib.Path(__file__).resolve().parents[1] / "inventory" / "group_vars" / "all.yml")
                             .read_text(encoding="utf-8"))["koji_db_password"]


def psql_as_koji(conninfo, sql):
    """psql on the database host (the hub's) as the Koji role, over TCP. The password goes in
    psql's environment only: podman copies PGPASSWORD from ours (`--env NAME` takes the value from
    the caller), so it is on no command line, neither here nor in the container."""
    return subprocess.run(
        ["podman", "exec", "--env", "PGPASSWORD", "--env", "PGCONNECT_TIMEOUT=10", HUB,
         "psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql, conninfo],
        env=dict(os.environ, PGPASSWORD=DB_PASSWORD), capture_output=True, text=True, timeout=60, check=False)


def test_database_refuses_plaintext_and_verifies_tls(hub):
    """PostgreSQL admits the Koji role over TLS only (hostssl), with a certificate from the Koji CA
    for the name the hub connects to; the hub's hub.conf asks for exactly that (verify-full)."""
    target = "host=%s port=5432 dbname=koji user=koji" % HUB
    plaintext = psql_as_koji(target + " sslmode=disable", "SELECT 1")
    assert plaintext.returncode != 0, plaintext.stdout
    assert re.search(r'no pg_hba\.conf entry for host "[^"]+", user "koji", database "koji", no encryption',
                     plaintext.stderr), plaintext.stderr
    verified = psql_as_koji(target + " sslmode=verify-full sslrootcert=/etc/pki/koji/koji-ca.crt",
                            "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    assert verified.returncode == 0, verified.stderr
    ssl, version = verified.stdout.strip().split("|")
    assert ssl == "t" and version.startswith("TLSv1."), verified.stdout
    # What the hub (and koji-sweep-db) connect with.
    # The connection string is in hub.conf.d's secrets file (read before hub.conf), not hub.conf.
    secrets = hub.file("/etc/koji-hub/hub.conf.d/kojiforge-secrets.conf").content_string
    assert "sslmode='verify-full' sslrootcert='/etc/pki/koji/koji-ca.crt'" in secrets
    hub_conf = hub.file("/etc/koji-hub/hub.conf").content_string
    assert not re.search(r"^DB(ConnectionString|Host|Pass)\s*=", hub_conf, re.MULTILINE)
    # PostgreSQL's copy of its key: postgres's alone.
    key = hub.file("/etc/postgresql/15/main/kojiforge-server.key")
    assert (key.user, key.group, key.mode) == ("postgres", "postgres", 0o600)


def test_storage_rendered_files(hub, builder1, builder2):
    exports = hub.file("/etc/exports.d/kojiforge-koji.exports").content_string
    lines = [line for line in exports.splitlines() if line and not line.startswith("#")]
    # kojira is on the storage server itself: only the createrepo builder is exported to.
    assert lines == ["/mnt/koji %s(ro,sync,root_squash,no_subtree_check)" % BUILDER1]
    fstab1 = builder1.file("/etc/kojiforge/fstab.koji-storage").content_string
    assert re.search(r"^%s:/mnt/koji /mnt/koji nfs ro,hard,noatime,_netdev,nfsvers=4\.2 0 0$" % re.escape(HUB),
                     fstab1, re.M), fstab1
    assert not builder2.file("/etc/kojiforge/fstab.koji-storage").exists
    assert "/mnt/koji" not in builder2.file("/etc/fstab").content_string


def test_scratch_disk_holds_the_build_directory(builder2):
    mount = builder2.run("findmnt -n -o SOURCE,FSTYPE,OPTIONS --target /var/lib/mock")
    assert mount.rc == 0 and mount.stdout.split()[1] == "xfs", mount.stdout
    fstab = builder2.file("/etc/fstab").content_string
    assert re.search(r"^/dev/kojiforge-scratch /var/lib/mock xfs defaults,noatime,nofail,"
                     r"x-systemd.requires=kojiforge-scratch-prepare.service", fstab, re.M), fstab
    assert builder2.file("/etc/systemd/system/kojiforge-scratch-prepare.service").exists
    # The prepare script keeps a disk that holds a filesystem.
    assert builder2.run("/usr/local/libexec/kojiforge-scratch-prepare").stdout.strip() == "kept"


def test_regen_repo_done_by_createrepo_builder(hub, builder1):
    if hub_call(hub, "getTag", TAG) is None:
        koji(hub, "add-tag", TAG, "--arches=x86_64")
    # Since Koji 1.35 this is a repo request; kojira has the hub turn it into a newRepo task.
    repo_id = regen_repo(hub)
    task_id = hub_call(hub, "repoInfo", repo_id)["task_id"]
    task = hub_call(hub, "getTaskInfo", task_id)
    assert task["method"] == "newRepo"
    assert task["state"] == 2, "newRepo task %d state %s" % (task_id, task["state"])  # CLOSED
    children = hub_call(hub, "getTaskChildren", task_id)
    builder1_id = hosts_by_name(hub)[BUILDER1]["id"]
    assert {task["host_id"]} | {c["host_id"] for c in children} == {builder1_id}
    repomd = "/mnt/koji/repos/%s/%d/x86_64/repodata/repomd.xml" % (TAG, repo_id)
    assert hub.file(repomd).exists
    # The same shared storage, read-only on the createrepo builder.
    assert builder1.file(repomd).exists


def test_imported_rpm_in_repo_and_downloadable(hub, builder1):
    build = hub.run(
        "set -e; top=$(mktemp -d); mkdir -p $top/SPECS; cat > $top/SPECS/p.spec <<'EOF'\n%s\nEOF\n"
        "rpmbuild --define \"_topdir $top\" -bb $top/SPECS/p.spec >/dev/null 2>&1; "
        "find $top/RPMS -name '*.rpm'" % SPEC)
    assert build.rc == 0, build.stderr
    rpm_path = build.stdout.strip()
    local_sha = hub.run("sha256sum %s" % rpm_path).stdout.split()[0]

    nvr = "%s-1.0-1" % PKG
    if hub_call(hub, "getBuild", nvr) is None:
        koji(hub, "import", "--create-build", rpm_path)
    else:  # a verify run again on the same cluster: the build from the first run
        local_sha = hub.check_output("sha256sum /mnt/koji/packages/%s/1.0/1/noarch/%s.noarch.rpm" % (PKG, nvr)).split()[0]
    koji(hub, "add-pkg", "--owner=kojiadmin", TAG, PKG, check=False)
    if not any(b["nvr"] == nvr for b in hub_call(hub, "listTagged", TAG)):
        # tagBuild runs on a builder of the default channel: builder2.
        # (The CLI does not wait without a terminal: poll the task.)
        out = koji(hub, "tag-build", "--nowait", TAG, nvr).stdout
        task_id = int(re.search(r"Created task:? (\d+)", out).group(1))

        def finished_task():
            info = hub_call(hub, "getTaskInfo", task_id)
            return info if info["state"] in (2, 3, 5) else None  # CLOSED, CANCELED, FAILED (4 is ASSIGNED)

        task = wait_for("tagBuild task %d finished" % task_id, finished_task, timeout=READY_TIMEOUT)
        if task["state"] != 2:  # CANCELED or FAILED: say why, from the hub and from the builder
            why = hub.run("koji taskinfo -v %d; koji call getTaskResult %d" % (task_id, task_id))
            log = get_host(BUILDER2).run("tail -n 60 /var/log/kojid.log; journalctl -u kojid -n 30 --no-pager")
            raise AssertionError("tagBuild task %d ended in state %s:\n%s\n%s\nkojid.log on %s:\n%s"
                                 % (task_id, task["state"], why.stdout, why.stderr, BUILDER2, log.stdout))
        assert task["method"] == "tagBuild"
        assert task["host_id"] == hosts_by_name(hub)[BUILDER2]["id"]
    assert any(b["nvr"] == nvr for b in hub_call(hub, "listTagged", TAG))

    repo_id = regen_repo(hub)
    repodir = "/mnt/koji/repos/%s/%d/x86_64" % (TAG, repo_id)
    pkglist = hub.file(repodir + "/pkglist").content_string
    assert "%s-1.0-1.noarch.rpm" % PKG in pkglist

    # The repo's own metadata names the package with its checksum.
    script = (
        "import gzip, lzma, re, sys\n"
        "d = sys.argv[1]\n"
        "md = open(d + '/repodata/repomd.xml').read()\n"
        "href = re.search(r'<data type=\"primary\">.*?href=\"([^\"]+)\"', md, re.S).group(1)\n"
        "raw = open(d + '/' + href, 'rb').read()\n"
        "text = gzip.decompress(raw) if href.endswith('.gz') else lzma.decompress(raw) if href.endswith('.xz') else raw\n"
        "print(text.decode())\n"
    )
    primary = hub.run("python3 -c '%s' %s" % (script.replace("'", "'\\''"), repodir))
    assert primary.rc == 0, primary.stderr
    assert "<name>%s</name>" % PKG in primary.stdout
    assert local_sha in primary.stdout

    # And /kojifiles serves the same bytes, to a builder as it would to mock.
    url = "http://%s/kojifiles/packages/%s/1.0/1/noarch/%s-1.0-1.noarch.rpm" % (HUB, PKG, PKG)
    fetched = builder1.run("python3 -c 'import hashlib, urllib.request; "
                           "print(hashlib.sha256(urllib.request.urlopen(\"%s\").read()).hexdigest())'" % url)
    assert fetched.rc == 0, fetched.stderr
    assert fetched.stdout.strip() == local_sha


def test_kojid_reload_is_graceful(hub, builder2):
    """A configuration change reloads kojid: the same process re-executes itself, no kill."""
    pid_before = builder2.check_output("systemctl show -p MainPID --value kojid")
    log_lines = int(builder2.check_output("wc -l < /var/log/kojid.log"))
    rc, out, _err = run_playbook("kojiforge.koji.builders", "--limit", BUILDER2, "-e", "koji_builder_maxjobs=9")
    assert rc == 0, out[-3000:]
    assert "RUNNING HANDLER [kojiforge.koji.koji_builder : Reload kojid]" in out
    assert builder2.check_output("systemctl show -p MainPID --value kojid") == pid_before
    new_log = builder2.check_output("tail -n +%d /var/log/kojid.log" % (log_lines + 1))
    assert "Initiating graceful restart" in new_log
    # Back to the inventory's settings (also a graceful reload).
    rc, out, _err = run_playbook("kojiforge.koji.builders", "--limit", BUILDER2)
    assert rc == 0, out[-3000:]
    assert recap(out)[BUILDER2]["changed"] >= 1
    wait_for("builder2 ready again", lambda: hosts_by_name(hub)[BUILDER2]["ready"], timeout=READY_TIMEOUT)


# Serial number and whole days left of a certificate, read on the host with python3-cryptography
# (koji_ca installs it; openssl's command line may be missing).
CERT_INFO = (
    "import datetime, sys\n"
    "from cryptography import x509\n"
    "c = x509.load_pem_x509_certificate(open(sys.argv[1], 'rb').read())\n"
    "end = getattr(c, 'not_valid_after_utc', None) or c.not_valid_after.replace(tzinfo=datetime.timezone.utc)\n"
    "print(c.serial_number, int((end - datetime.datetime.now(datetime.timezone.utc)).total_seconds() // 86400))\n"
)


def cert_info(host, path):
    serial, days_left = host.check_output("python3 -c %s %s" % (quote(CERT_INFO), path)).split()
    return int(serial), int(days_left)


def test_certificate_renewal_reloads_kojid_gracefully(hub, builder2):
    """A renewed kojid certificate reloads kojid, it is not restarted: the same process finishes
    its tasks and re-executes itself with the new certificate, so no running build is killed."""
    serial_before, days_left = cert_info(builder2, "/etc/pki/koji/kojid.crt")
    # The renewal margin that makes this certificate due and nothing longer-lived (the CA).
    margin = days_left + 2
    assert cert_info(builder2, "/etc/pki/koji/koji-ca.crt")[1] > margin
    pid_before = builder2.check_output("systemctl show -p MainPID --value kojid")
    log_lines = int(builder2.check_output("wc -l < /var/log/kojid.log"))
    rc, out, _err = run_playbook("kojiforge.koji.builders", "--limit", BUILDER2,
                                 "-e", "koji_ca_renew_margin_days=%d" % margin)
    assert rc == 0, out[-3000:]
    # koji_ca records the reload (koji_ca_kojid_reload_deferred, set by builders.yml) and the
    # rolling play (kojid_reload.yml) reloads kojid.
    handler = out.split("RUNNING HANDLER [kojiforge.koji.koji_ca : Reload or restart", 1)[1].split("\n\n", 1)[0]
    assert "item=kojid" not in handler, handler
    assert re.search(r"Record that the running kojid's reload is due[^\n]*\*+\nchanged: \[%s\]"
                     % re.escape(BUILDER2), out), out[-3000:]
    assert re.search(r"PLAY \[Reload kojid, a batch of builders at a time\].*?Reload \| Reload kojid[^\n]*\*+\n"
                     r"changed: \[%s\]" % re.escape(BUILDER2), out, re.DOTALL), out[-3000:]
    assert cert_info(builder2, "/etc/pki/koji/kojid.crt")[0] != serial_before
    wait_for("kojid's graceful restart in its log",
             lambda: "Initiating graceful restart" in builder2.check_output(
                 "tail -n +%d /var/log/kojid.log" % (log_lines + 1)), timeout=READY_TIMEOUT)
    assert builder2.check_output("systemctl show -p MainPID --value kojid") == pid_before
    # Re-executed, kojid logs in with the new certificate and checks in as ready.
    wait_for("builder2 ready again", lambda: hosts_by_name(hub)[BUILDER2]["ready"], timeout=READY_TIMEOUT)
    assert builder2.check_output("systemctl show -p MainPID --value kojid") == pid_before
    assert builder2.service("kojid").is_running
