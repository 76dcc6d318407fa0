"""koji_web's metrics exporter once per site: the refresh host's and a follower's metrics.conf and
kojiweb-metrics.conf, rendered with the role's own variables for a site of three web hosts, then
read by the exporter's own settings loader; and the state directory's task."""

import pytest
from ansible.template import Templar

from kojiforge_metrics.settings import load_settings
from role_templating import load_yaml, trust_as_template, walk_tasks
from test_templates_render import ROLES, TEMPLATE_OVERRIDES, _variables

WEB_HOSTS = ["web1.koji.example.com", "web2.koji.example.com", "web3.koji.example.com"]


def render(template, host, **extra):
    loader, variables = _variables("RedHat")
    groups = dict(variables["groups"], koji_web=WEB_HOSTS)
    variables.update(groups=groups, inventory_hostname=host, group_names=["koji_web"], **extra)
    templar = Templar(loader=loader, variables=variables)
    path = ROLES / "koji_web" / "templates" / template
    return templar.template(trust_as_template(path.read_text(encoding="utf-8")), overrides=TEMPLATE_OVERRIDES)


def settings_of(text, tmp_path):
    conf = tmp_path / "metrics.conf"
    conf.write_text(text)
    return load_settings(str(conf))


def test_the_first_web_host_refreshes_and_keeps_its_state(tmp_path):
    settings = settings_of(render("metrics.conf.j2", WEB_HOSTS[0]), tmp_path)
    assert settings.refresh_url is None
    assert settings.state_dir == "/var/lib/kojiforge-metrics"


@pytest.mark.parametrize("host", WEB_HOSTS[1:])
def test_the_other_web_hosts_follow_it(tmp_path, host):
    settings = settings_of(render("metrics.conf.j2", host), tmp_path)
    assert settings.refresh_url == "https://web1.koji.example.com/metrics/state"
    assert settings.state_dir == "/var/lib/kojiforge-metrics"
    # verified with the Koji CA the exporter already uses for the hub
    assert settings.serverca == "/etc/pki/koji/koji-ca.crt"


def test_another_refresh_host_and_path(tmp_path):
    extra = {"koji_web_metrics_refresh_host": WEB_HOSTS[2], "koji_web_metrics_path": "/koji-metrics",
             "koji_web_metrics_state_dir": "/srv/metrics-state"}
    leader = settings_of(render("metrics.conf.j2", WEB_HOSTS[2], **extra), tmp_path)
    follower = settings_of(render("metrics.conf.j2", WEB_HOSTS[0], **extra), tmp_path)
    assert leader.refresh_url is None and leader.state_dir == "/srv/metrics-state"
    assert follower.refresh_url == "https://web3.koji.example.com/koji-metrics/state"


def test_the_state_endpoint_lets_the_other_web_hosts_in_when_readers_are_restricted():
    conf = render("kojiweb-metrics.conf.j2", WEB_HOSTS[0])
    state = conf.split('<Location "/metrics/state">', 1)[1].split("</Location>", 1)[0]
    assert "Require ip 192.0.2.0/24" in state
    assert "Require forward-dns web2.koji.example.com" in state
    assert "Require forward-dns web3.koji.example.com" in state
    assert "web1.koji.example.com" not in state


def test_no_state_location_when_everyone_may_read():
    conf = render("kojiweb-metrics.conf.j2", WEB_HOSTS[0], koji_web_metrics_require=[])
    assert "/metrics/state" not in conf and "forward-dns" not in conf


def test_the_state_directory_task():
    tasks = list(walk_tasks(load_yaml(ROLES / "koji_web" / "tasks" / "configure.yml")))
    task = next(t for t in tasks if t.get("name") == "Create the metrics exporter's state directory")
    args = task["ansible.builtin.file"]
    assert args["path"] == "{{ koji_web_metrics_state_dir }}" and args["state"] == "directory"
    assert args["owner"] == args["group"] == "{{ koji_web_metrics_user }}"
    assert args["mode"] == "0750"
    assert task["when"] == "koji_web_metrics_enabled | bool"
    defaults = load_yaml(ROLES / "koji_web" / "defaults" / "main.yml")
    assert defaults["koji_web_metrics_state_dir"] == "/var/lib/kojiforge-metrics"
    assert defaults["koji_web_metrics_refresh_host"] == "{{ groups['koji_web'][0] }}"


def test_preflight_refuses_a_refresh_host_that_is_no_web_host():
    tasks = list(walk_tasks(load_yaml(ROLES / "koji_web" / "tasks" / "preflight.yml")))
    task = next(t for t in tasks if "refresh host" in t.get("name", ""))
    loader, variables = _variables("RedHat")
    variables["groups"] = dict(variables["groups"], koji_web=WEB_HOSTS)

    def holds(**values):
        templar = Templar(loader=loader, variables=dict(variables, **values))
        return all(templar.template(trust_as_template("{{ %s }}" % cond)) for cond in task["ansible.builtin.assert"]["that"])

    assert holds(koji_web_metrics_refresh_host=WEB_HOSTS[1])
    assert not holds(koji_web_metrics_refresh_host="db.koji.example.com")
    assert not holds(koji_web_metrics_refresh_host=WEB_HOSTS[1], koji_web_metrics_state_dir="var/lib/x")
    assert not holds(koji_web_metrics_refresh_host=WEB_HOSTS[1], koji_web_metrics_state_dir="/")
