"""Two hubs and two web frontends behind the load balancer (koji_lb), against the real Koji.

With one hub's Apache stopped, and then the other's, everything a site uses keeps working
through the load balancer's names: the koji CLI (reads and writes), kojid checking in, kojira
and the createrepo builder regenerating a repo, koji-web through its own name, and /metrics on
every web host. Then both hubs run again and site.yml changes nothing.
"""

import json
import os
import time

import pytest

from conftest import DOMAIN, ROOT, inventory
from deployed_koji import (KOJI_CA, Timings, changed_tasks, hosts_by_name, http_get, koji, metrics_page,
                           quote, recap, regen_repo, run_playbook, wait_for)

HUB_URL = "https://koji.%s/kojihub" % DOMAIN
WEB_URL = "https://kojiweb.%s/koji" % DOMAIN
FILES_URL = "http://koji.%s/kojifiles" % DOMAIN
BUILDER1 = "builder1.%s" % DOMAIN
BUILD_TAG = "kfh-build"
# What the tests leave for the report: how long each check took with a hub stopped.
TIMINGS = Timings(ROOT / "build" / "molecule-logs" / "hubs-timings.txt")


def direct_call(host, url, method, *args):
    """One anonymous XML-RPC call to the hub at url from host, verified against the Koji CA."""
    script = (
        "import json, sys, koji\n"
        "s = koji.ClientSession(sys.argv[1], {'serverca': sys.argv[2], 'max_retries': 0})\n"
        "print(json.dumps(getattr(s, sys.argv[3])(*json.loads(sys.argv[4])), default=str))\n"
    )
    cmd = host.run("python3 -c %s %s %s %s %s" % (quote(script), quote(url), quote(KOJI_CA),
                                                  quote(method), quote(json.dumps(args))))
    assert cmd.rc == 0, "%s on %s from %s: %s" % (method, url, host.backend.get_pretty_hostname(), cmd.stderr)
    return json.loads(cmd.stdout)


def haproxy_servers(lb):
    """HAProxy's view of its servers: (backend, server) => status (UP, DOWN...)."""
    cmd = lb.run("echo 'show stat' | socat stdio /run/haproxy/admin.sock")
    assert cmd.rc == 0, cmd.stderr
    states = {}
    for line in cmd.stdout.splitlines():
        fields = line.split(",")
        if line.startswith("#") or len(fields) < 18 or fields[1] in ("FRONTEND", "BACKEND"):
            continue
        states[(fields[0], fields[1])] = fields[17]
    return states


def hub_states(lb, name):
    return {status for (backend, server), status in haproxy_servers(lb).items()
            if server.startswith(name) and not backend.startswith("stats")}


def access_lines(hub):
    return int(hub.run("cat /var/log/apache2/*access*.log 2>/dev/null | wc -l").stdout.strip() or 0)


def test_the_load_balancer_runs_a_valid_configuration(hosts):
    lb = hosts["koji"]
    assert lb.service("haproxy").is_running
    assert lb.service("haproxy").is_enabled
    check = lb.run("haproxy -c -f /etc/haproxy/haproxy.cfg")
    assert check.rc == 0, check.stdout + check.stderr


def test_clients_are_configured_with_the_site_names(hosts):
    assert "server = %s" % HUB_URL in hosts["hub1"].file("/root/.koji/config").content_string
    assert HUB_URL in hosts["builder1"].file("/etc/kojid/kojid.conf").content_string
    assert HUB_URL in hosts["db"].file("/etc/kojira/kojira.conf").content_string
    for web in ("web1", "web2"):
        assert HUB_URL in hosts[web].file("/etc/kojiweb/web.conf").content_string


def test_every_hub_answers_on_one_database(hosts):
    """Each hub by its own name, and the site's name: the same last event (one database)."""
    builder = hosts["builder1"]
    events = {url: direct_call(builder, url, "getLastEvent")["id"]
              for url in (HUB_URL, "https://hub1.%s/kojihub" % DOMAIN, "https://hub2.%s/kojihub" % DOMAIN)}
    assert len(set(events.values())) == 1, events


def test_the_site_names_carry_certificates_of_the_koji_ca(hosts):
    """TLS passes through: the hub's and the web's own certificates answer for the site names."""
    builder = hosts["builder1"]
    for url in (HUB_URL, WEB_URL + "/"):
        cmd = builder.run("python3 -c %s %s %s" % (quote(
            "import ssl, socket, sys, urllib.parse\n"
            "host = urllib.parse.urlsplit(sys.argv[1]).hostname\n"
            "ctx = ssl.create_default_context(cafile=sys.argv[2])\n"
            "with socket.create_connection((host, 443), timeout=10) as raw:\n"
            "    with ctx.wrap_socket(raw, server_hostname=host) as tls:\n"
            "        print(dict(x[0] for x in tls.getpeercert()['subject'])['commonName'])\n"),
            quote(url), quote(KOJI_CA)))
        assert cmd.rc == 0, "%s: %s" % (url, cmd.stderr)
        served_by = cmd.stdout.strip()
        wanted = ("hub1", "hub2") if url == HUB_URL else ("web1", "web2")
        assert served_by in ["%s.%s" % (name, DOMAIN) for name in wanted], (url, served_by)


def test_every_web_host_serves_koji_web_and_metrics(hosts):
    for web in ("web1", "web2"):
        name = "%s.%s" % (web, DOMAIN)
        page = http_get(hosts[web], "https://%s/koji/" % name, cafile=KOJI_CA)
        assert "Koji" in page, page[:300]
        assert "\nkoji_up 1.0" in metrics_page(hosts[web], name)


def _series(page, *names):
    """The samples of the families named, as {line without value: value}."""
    found = {}
    for line in page.splitlines():
        if line.startswith(names):
            key, value = line.rsplit(" ", 1)
            found[key] = value
    return found


def test_the_web_hosts_serve_the_refresh_hosts_figures(hosts):
    """web1 (koji_web_metrics_refresh_host) reads the counts and the task history from the hub;
    web2 takes them from web1's /metrics/state and serves the same figures."""
    conf = hosts["web2"].file("/etc/kojiweb/metrics.conf").content_string
    assert "refresh_url = https://web1.%s/metrics/state" % DOMAIN in conf, conf
    assert "refresh_url" not in hosts["web1"].file("/etc/kojiweb/metrics.conf").content_string
    per_tag = ("koji_packages_per_tag{", "koji_builds_per_tag{")

    def same_figures():
        pages = {web: metrics_page(hosts[web], "%s.%s" % (web, DOMAIN)) for web in ("web1", "web2")}
        following = ('koji_cache_source{cache="counts",source="refresh_host"} 1.0' in pages["web2"]
                     and 'koji_cache_source{cache="tasks",source="refresh_host"} 1.0' in pages["web2"])
        counts = {web: _series(page, *per_tag) for web, page in pages.items()}
        return following and counts["web1"] and counts["web1"] == counts["web2"] and counts
    counts = wait_for("web2 follows web1 and serves its per-tag figures", same_figures, timeout=240)
    assert any(key.startswith('koji_packages_per_tag{tag="%s"}' % BUILD_TAG) for key in counts["web2"]), counts
    page = metrics_page(hosts["web1"], "web1.%s" % DOMAIN)
    assert 'koji_cache_source{cache="counts",source="hub"} 1.0' in page
    # The refresh host keeps its state for the next Apache restart.
    for name in ("counts.json", "tasks.json"):
        state = hosts["web1"].file("/var/lib/kojiforge-metrics/" + name)
        assert state.exists and state.user == "koji-metrics", name


def test_an_apache_restart_starts_the_exporter_from_its_kept_state(hosts):
    web1 = hosts["web1"]
    logs = "/var/log/apache2/*error*.log"
    marker = "state of the counts cache read from"
    before = int(web1.run("cat %s | grep -c %s || true" % (logs, quote(marker))).stdout.strip() or 0)
    last_seen = _series(metrics_page(web1, "web1.%s" % DOMAIN), "koji_tasks_last_seen_id")
    assert web1.run("systemctl restart apache2").rc == 0
    page = metrics_page(web1, "web1.%s" % DOMAIN)
    wait_for("the restarted exporter says it read its kept state",
             lambda: int(web1.run("cat %s | grep -c %s || true" % (logs, quote(marker))).stdout.strip() or 0) > before,
             timeout=60)
    after = _series(page, "koji_tasks_last_seen_id")
    assert float(after["koji_tasks_last_seen_id"]) >= float(last_seen["koji_tasks_last_seen_id"]), (last_seen, after)


def _site_works(hosts, label):
    """The CLI, kojid, kojira with the createrepo builder, koji-web and /metrics, through the
    load balancer; returns the seconds each check took."""
    cli, builder = hosts["hub1"], hosts["builder1"]
    took = {}
    started = time.time()
    tag = "kfh-%s" % label
    if koji(cli, "list-tags", tag, check=False).stdout.strip() != tag:
        koji(cli, "add-tag", tag, "--arches=x86_64")
    assert koji(cli, "list-tags", tag).stdout.strip() == tag
    took["cli"] = time.time() - started

    since = time.time()
    wait_for("%s checks in after %s" % (BUILDER1, label),
             lambda: (hosts_by_name(cli)[BUILDER1]["update_ts"] or 0) > since, timeout=120)
    took["kojid check-in"] = time.time() - since

    # A package added to the build tag: its current repo is out of date, so the request below
    # needs a new repo, made through the hub that runs (kojira asks for it, builder1 makes it).
    since = time.time()
    koji(cli, "add-pkg", "--owner=kojiadmin", BUILD_TAG, "kfh-pkg-%s" % label)
    before = direct_call(builder, HUB_URL, "getRepo", BUILD_TAG) or {"id": 0}
    repo_id = regen_repo(cli, BUILD_TAG)
    assert repo_id > before["id"], (before, repo_id)
    assert builder.file("/mnt/koji/repos/%s/%d/x86_64/repodata/repomd.xml" % (BUILD_TAG, repo_id)).exists
    took["repo by kojira and kojid"] = time.time() - since

    since = time.time()
    page = http_get(builder, "%s/search?match=exact&type=tag&terms=%s" % (WEB_URL, tag), cafile=KOJI_CA)
    assert tag in page, page[:500]
    for web in ("web1", "web2"):
        assert "\nkoji_up 1.0" in metrics_page(hosts[web], "%s.%s" % (web, DOMAIN))
    took["web and metrics"] = time.time() - since
    return took


@pytest.mark.parametrize("down,up", [("hub1", "hub2"), ("hub2", "hub1")])
def test_the_site_works_with_one_hub_stopped(hosts, down, up):
    lb = hosts["koji"]
    before = access_lines(hosts[up])
    stop = hosts[down].run("systemctl stop apache2")
    assert stop.rc == 0, stop.stderr
    try:
        took = _site_works(hosts, "%s-down" % down)
        # HAProxy took the stopped hub out, and the other one did the work.
        wait_for("HAProxy sees %s down" % down, lambda: hub_states(lb, down) == {"DOWN"}, timeout=60)
        assert hub_states(lb, up) == {"UP"}
        assert access_lines(hosts[up]) > before
    finally:
        start = hosts[down].run("systemctl start apache2")
    assert start.rc == 0, start.stderr
    wait_for("HAProxy sees %s up again" % down, lambda: hub_states(lb, down) == {"UP"}, timeout=60)
    for label, seconds in took.items():
        TIMINGS.record("%s stopped: %s" % (down, label), seconds)


def test_the_files_url_reaches_the_hubs_volume(hosts):
    page = http_get(hosts["builder1"], FILES_URL + "/repos/%s/" % BUILD_TAG)
    assert "latest" in page or "x86_64" in page or page.count("href") > 1, page[:300]


def test_zz_site_yml_again_changes_nothing(hosts):
    """Both hubs back: the whole site.yml run again reports no change anywhere."""
    rc, output, seconds = run_playbook("playbooks/site.yml", inventories=[os.path.dirname(inventory())])
    assert rc == 0, output[-3000:]
    changed = {host: counts["changed"] for host, counts in recap(output).items() if counts["changed"]}
    assert not changed, "changed: %s\n%s" % (changed, "\n".join(changed_tasks(output)))
    TIMINGS.record("site.yml again, no change", seconds)
