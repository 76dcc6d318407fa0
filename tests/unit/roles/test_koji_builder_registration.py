"""koji_builder's registration, reloads, log rotation and kojid.conf's no_log, rendered as Ansible
would with the role's own variables (no host, no hub).

- register.yml sends the enabled state and the description only when the inventory sets them
  (null / '' are omitted: the hub keeps what an administrator set), and purge_channels from
  koji_builder_channels_exclusive (false by default: channels added by hand stay);
- kojid.conf is no_log only when it holds a password, so --check --diff shows it otherwise;
- logrotate's files for kojid's and kojira's logs rename the log (both reopen it by themselves),
  keep koji_*_log_rotate_keep logs, and are removed when rotation is off;
- the reload: the handler reloads at once unless builders.yml asks for batches, then records the
  reload; a kojid the run started is not reloaded; builders.yml's last play takes
  koji_builder_reload_batch from the inventory and stops at the first failing batch.
"""

import pathlib

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from role_templating import TEMPLATE_OVERRIDES, load_yaml as _yaml, trust_as_template, trusted

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "koji_builder"
KOJIRA = ROOT / "roles" / "kojira"
OMIT = "__omit_place_holder__test"


def _truth(value):
    """A rendered boolean (ansible-core before 2.19 may give it as text)."""
    if isinstance(value, str):
        assert value in ("True", "False"), value
        return value == "True"
    assert isinstance(value, bool), value
    return value


def _variables(role=ROLE, os_family="Debian", extra=None):
    variables = dict(_yaml(role / "defaults" / "main.yml"))
    variables.update(_yaml(role / "vars" / "main.yml"))
    variables.update(_yaml(role / "vars" / ("%s.yml" % os_family)))
    variables.update({
        "inventory_hostname": "builder1.koji.example.com",
        "groups": {"all": ["builder1.koji.example.com", "hub.koji.example.com"],
                   "koji_hub": ["hub.koji.example.com"], "kojira": ["hub.koji.example.com"],
                   "koji_builders": ["builder1.koji.example.com"]},
        "group_names": ["koji_builders", "koji_builders_createrepo"],
        "ansible_facts": {"os_family": os_family, "fqdn": "builder1.koji.example.com",
                          "architecture": "x86_64", "processor_vcpus": 4, "domain": "koji.example.com"},
        "ansible_managed": "Ansible managed",
        "omit": OMIT,
    })
    variables.update(extra or {})
    return trusted(variables)


def _render(value, role=ROLE, extra=None):
    return Templar(loader=DataLoader(), variables=_variables(role, extra=extra)).template(trusted(value))


def _task(path, name):
    found = [task for task in _yaml(path) if task.get("name") == name]
    assert len(found) == 1, "%d tasks named %r in %s" % (len(found), name, path)
    return found[0]


def _registration(extra=None):
    task = _yaml(ROLE / "tasks" / "register.yml")[0]
    return _render(task["kojiforge.koji.koji_host"], extra=extra)


def _sent(args):
    """The arguments the module gets (omitted ones left out)."""
    return {key: value for key, value in args.items() if value != OMIT}


# Registration

def test_by_default_the_enabled_state_and_description_are_left_to_the_hub():
    sent = _sent(_registration())
    assert "enabled" not in sent
    assert "description" not in sent
    assert _truth(sent["purge_channels"]) is False
    # What is declared is still sent: the channels of the builder's types, arches, capacity.
    assert sent["channels"] == ["createrepo"]
    assert sorted(sent["arches"]) == ["i386", "x86_64"]
    assert float(sent["capacity"]) == 4.0


@pytest.mark.parametrize("enabled", [True, False])
def test_an_enabled_state_the_inventory_sets_is_enforced(enabled):
    sent = _sent(_registration({"koji_builder_enabled": enabled}))
    assert _truth(sent["enabled"]) is enabled


def test_exclusive_channels_purge_the_others():
    sent = _sent(_registration({"koji_builder_channels_exclusive": True,
                                "koji_builder_extra_channels": ["heavy"]}))
    assert _truth(sent["purge_channels"]) is True
    assert sent["channels"] == ["createrepo", "heavy"]


def test_a_description_the_inventory_sets_is_sent():
    assert _sent(_registration({"koji_builder_description": "big disks"}))["description"] == "big disks"


def test_the_module_takes_the_options_register_yml_sends():
    """Every option register.yml sends is one koji_host declares (purge_channels is new there)."""
    source = (ROOT / "plugins" / "modules" / "koji_host.py").read_text(encoding="utf-8")
    documentation = yaml.safe_load(source.split("DOCUMENTATION = r'''", 1)[1].split("'''", 1)[0])
    sent = set(_yaml(ROLE / "tasks" / "register.yml")[0]["kojiforge.koji.koji_host"])
    connection = {"server", "cert", "serverca", "authtype", "principal", "keytab"}
    assert sent - connection <= set(documentation["options"]), sent - set(documentation["options"])
    assert documentation["options"]["purge_channels"]["default"] is True


# kojid.conf and kojira.conf: no_log only with a secret

def _no_log(path, name, role, extra=None):
    return _truth(_render(_task(path, name)["no_log"], role=role, extra=extra))


@pytest.mark.parametrize("extra, hidden", [
    ({}, False),
    ({"koji_builder_smtp_user": "koji", "koji_builder_smtp_password": "secret"}, True),
    ({"koji_builder_extra_options": {"password": "secret"}}, True),
    ({"koji_builder_extra_options": {"rpmbuild_timeout": 172800}}, False),
])
def test_kojid_conf_is_hidden_only_when_it_holds_a_password(extra, hidden):
    assert _no_log(ROLE / "tasks" / "configure.yml", "Write kojid.conf", ROLE, extra) is hidden


@pytest.mark.parametrize("extra, hidden, mode", [
    ({}, False, "0644"),
    ({"kojira_extra_options": {"password": "secret"}}, True, "0600"),
])
def test_kojira_conf_is_hidden_only_when_it_holds_a_password(extra, hidden, mode):
    path = KOJIRA / "tasks" / "configure.yml"
    assert _no_log(path, "Write kojira.conf", KOJIRA, extra) is hidden
    assert _render(_task(path, "Write kojira.conf")["ansible.builtin.template"]["mode"],
                   role=KOJIRA, extra=extra) == mode


# Log rotation

def _logrotate(role, name, extra=None):
    text = (role / "templates" / name).read_text(encoding="utf-8")
    templar = Templar(loader=DataLoader(), variables=_variables(role, extra=extra))
    return templar.template(trust_as_template(text), overrides=TEMPLATE_OVERRIDES)


@pytest.mark.parametrize("role, template, log, keep_variable", [
    (ROLE, "kojid.logrotate.j2", "/var/log/kojid.log", "koji_builder_log_rotate_keep"),
    (KOJIRA, "kojira.logrotate.j2", "/var/log/kojira.log", "kojira_log_rotate_keep"),
])
def test_the_logs_are_renamed_not_truncated(role, template, log, keep_variable):
    text = _logrotate(role, template, {keep_variable: 12})
    body = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert body[0] == log + " {"
    assert body[-1] == "}"
    assert "rotate 12" in body
    assert "create 0644 root root" in body
    assert "copytruncate" not in body
    assert "missingok" in body


@pytest.mark.parametrize("role, log_variable", [(ROLE, "__koji_builder_log_file"), (KOJIRA, "__kojira_log_file")])
def test_the_rotated_log_is_the_one_the_daemon_writes(role, log_variable):
    # kojid writes /var/log/kojid.log whatever its configuration says; kojira's is in kojira.conf.
    assert _yaml(role / "vars" / "main.yml")[log_variable] in _logrotate(
        role, "kojid.logrotate.j2" if role == ROLE else "kojira.logrotate.j2")
    if role == KOJIRA:
        assert "logfile = {{ __kojira_log_file }}" in (KOJIRA / "templates" / "kojira.conf.j2").read_text()


@pytest.mark.parametrize("role, prefix", [(ROLE, "koji_builder"), (KOJIRA, "kojira")])
def test_rotation_off_removes_the_roles_file(role, prefix):
    tasks = _yaml(role / "tasks" / "configure.yml")
    write = [t for t in tasks if "logrotate" in t.get("ansible.builtin.template", {}).get("src", "")]
    remove = [t for t in tasks if t.get("ansible.builtin.file", {}).get("state") == "absent"]
    assert len(write) == 1 and len(remove) == 1
    for rotate in (True, False):
        extra = {prefix + "_log_rotate": rotate}
        assert _truth(_render("{{ %s }}" % write[0]["when"], role=role, extra=extra)) is rotate
        assert _truth(_render("{{ %s }}" % remove[0]["when"], role=role, extra=extra)) is not rotate
    assert _render(remove[0]["ansible.builtin.file"]["path"], role=role) == "/etc/logrotate.d/" + (
        "kojid" if role == ROLE else "kojira")


# Reloads

def _when(task, extra):
    conditions = task.get("when", [])
    conditions = conditions if isinstance(conditions, list) else [conditions]
    return all(_truth(_render("{{ %s }}" % c, extra=extra)) for c in conditions)


@pytest.mark.parametrize("in_batches, started, reload_now, recorded", [
    (False, False, True, False),   # a playbook of one's own: reloaded at once
    (True, False, False, True),    # builders.yml: recorded, reloaded by its last play
    (False, True, False, False),   # kojid started by this run: it runs the new configuration
    (True, True, False, False),
])
def test_the_handler_reloads_or_records(in_batches, started, reload_now, recorded):
    tasks = _yaml(ROLE / "tasks" / "reload_due.yml")
    extra = {"koji_builder_reload_in_batches": in_batches, "__koji_builder_started": {"changed": started}}
    reload_task = [t for t in tasks if "ansible.builtin.systemd_service" in t]
    record = [t for t in tasks if "ansible.builtin.copy" in t]
    group = [t for t in tasks if "ansible.builtin.group_by" in t]
    assert len(reload_task) == len(record) == len(group) == 1
    assert _when(reload_task[0], extra) is reload_now
    assert _when(record[0], extra) is recorded
    assert _when(group[0], extra) is recorded
    assert _render(group[0]["ansible.builtin.group_by"]["key"]) == "kojiforge_kojid_reload_due"


def test_the_handler_includes_the_reload_tasks():
    handlers = _yaml(ROLE / "handlers" / "main.yml")
    reload_handler = [h for h in handlers if h["name"] == "Reload kojid"]
    assert len(reload_handler) == 1
    assert reload_handler[0]["ansible.builtin.include_tasks"].endswith("/tasks/reload_due.yml")


def _rolling_play():
    plays = _yaml(ROOT / "playbooks" / "builders.yml")
    main = [p for p in plays if p.get("name") == "Koji builders"][0]
    # builders.yml ends with kojid_reload.yml, which is that one play.
    assert plays[-1].get("ansible.builtin.import_playbook") == "kojid_reload.yml"
    rolling = _yaml(ROOT / "playbooks" / "kojid_reload.yml")
    assert len(rolling) == 1 and "kojiforge_kojid_reload_due" in str(rolling[0].get("hosts"))
    return main, rolling[0]


def test_koji_ca_records_a_deferred_kojid_reload_where_the_rolling_play_finds_it():
    """koji_ca (certificate renewals) and koji_builder record a due reload in the same file and
    group; the playbooks that run koji_ca on builders defer kojid's reload and end with the
    rolling play (hub.yml only within site.yml, whose builders.yml ends with it)."""
    ca_vars = _yaml(ROOT / "roles" / "koji_ca" / "vars" / "main.yml")
    builder_vars = _yaml(ROLE / "vars" / "main.yml")
    assert ca_vars["__koji_ca_kojid_reload_due_file"] == builder_vars["__koji_builder_reload_due_file"]
    assert ca_vars["__koji_ca_kojid_reload_group"] == builder_vars["__koji_builder_reload_group"]
    assert ca_vars["__koji_ca_kojid_reload_group"] in _yaml(ROOT / "playbooks" / "kojid_reload.yml")[0]["hosts"]
    for name in ("builders.yml", "certificates.yml"):
        plays = _yaml(ROOT / "playbooks" / name)
        ca_plays = [p for p in plays if "kojiforge.koji.koji_ca" in str(p.get("roles"))]
        assert ca_plays and all(p["vars"]["koji_ca_kojid_reload_deferred"] is True for p in ca_plays), name
        assert plays[-1].get("ansible.builtin.import_playbook") == "kojid_reload.yml", name
    hub_ca = [p for p in _yaml(ROOT / "playbooks" / "hub.yml") if "kojiforge.koji.koji_ca" in str(p.get("roles"))]
    for site, deferred in ((True, True), (None, False)):
        variables = {} if site is None else {"kojiforge_site_facts_gathered": site}
        templar = Templar(loader=DataLoader(), variables=trusted(variables))
        assert templar.template(trust_as_template(hub_ca[0]["vars"]["koji_ca_kojid_reload_deferred"])) is deferred


@pytest.mark.parametrize("deferred", [False, True])
def test_koji_ca_reloads_kojid_at_once_or_records_it(deferred):
    handlers = _yaml(ROOT / "roles" / "koji_ca" / "handlers" / "main.yml")
    reload_task = [h for h in handlers if h["name"].startswith("Reload or restart")][0]
    record = [h for h in handlers if h["name"].startswith("Record that the running kojid")][0]
    group = [h for h in handlers if h.get("ansible.builtin.group_by")][0]
    services = {"kojid.service": {"state": "running"}, "httpd.service": {"state": "running"}}
    templar = Templar(loader=DataLoader(), variables=trusted({
        "koji_ca_kojid_reload_deferred": deferred, "__koji_ca_services_to_restart": ["kojid", "httpd"],
        "ansible_facts": {"services": services}}))
    reloaded = list(templar.template(trust_as_template(reload_task["loop"])))
    assert reloaded == (["httpd"] if deferred else ["kojid", "httpd"])
    for task in (record, group):
        assert all(templar.template(trust_as_template("{{ %s }}" % c)) for c in task["when"]) is deferred
    assert record["ansible.builtin.copy"]["dest"] == "{{ __koji_ca_kojid_reload_due_file }}"
    assert group["ansible.builtin.group_by"]["key"] == "{{ __koji_ca_kojid_reload_group }}"


def _play_templar(groups, hostvars):
    return Templar(loader=DataLoader(), variables=trusted({"groups": groups, "hostvars": hostvars}))


@pytest.mark.parametrize("inventory, serial", [({}, 1), ({"koji_builder_reload_batch": "25%"}, "25%"),
                                               ({"koji_builder_reload_batch": 3}, 3)])
def test_the_rolling_play_takes_its_batch_from_the_inventory(inventory, serial):
    main, rolling = _rolling_play()
    assert main["vars"]["koji_builder_reload_in_batches"] is True
    assert rolling["max_fail_percentage"] == 0
    due = ["b1", "b2"]
    templar = _play_templar({"kojiforge_kojid_reload_due": due},
                            {"b1": dict(inventory), "b2": dict(inventory)})
    assert templar.template(trust_as_template(rolling["hosts"])) == due
    assert str(templar.template(trust_as_template(rolling["serial"]))).strip() == str(serial)
    # The role's default is the play's.
    assert _yaml(ROLE / "defaults" / "main.yml")["koji_builder_reload_batch"] == 1


def test_a_run_that_changed_nothing_matches_no_host_in_the_rolling_play():
    _main, rolling = _rolling_play()
    templar = _play_templar({}, {})
    assert list(templar.template(trust_as_template(rolling["hosts"]))) == []
    assert str(templar.template(trust_as_template(rolling["serial"]))).strip() == "1"


def _preflight_check(extra):
    task = _task(ROLE / "tasks" / "preflight.yml", "Check the builder's settings")
    that = task["ansible.builtin.assert"]["that"]
    checks = [c for c in that if "reload_batch" in c or "log_rotate_keep" in c or "koji_builder_enabled" in c]
    assert len(checks) == 3
    return all(_truth(_render("{{ %s }}" % c, extra=extra)) for c in checks)


@pytest.mark.parametrize("batch, good", [(1, True), (10, True), ("25%", True), ("100%", True),
                                         (0, False), ("0%", False), ("all", False), ("150%", False)])
def test_the_batch_is_a_number_or_a_percentage(batch, good):
    assert _preflight_check({"koji_builder_reload_batch": batch}) is good


@pytest.mark.parametrize("enabled, good", [(None, True), (True, True), (False, True), ("maybe", False)])
def test_enabled_is_true_false_or_null(enabled, good):
    assert _preflight_check({"koji_builder_enabled": enabled}) is good


@pytest.mark.parametrize("rotate", [True, False])
def test_logrotate_is_installed_with_kojids_packages_when_rotation_is_on(rotate):
    task = _task(ROLE / "tasks" / "install.yml", "Install what kojid needs from the distribution")
    packages = _render(task["ansible.builtin.package"]["name"], extra={"koji_builder_log_rotate": rotate})
    assert ("logrotate" in packages) is rotate
    assert "createrepo-c" in packages
    kojira = [t for t in _yaml(KOJIRA / "tasks" / "install.yml")
              if t.get("ansible.builtin.package", {}).get("name") == "logrotate"]
    assert len(kojira) == 1
    assert _truth(_render("{{ %s }}" % kojira[0]["when"], role=KOJIRA,
                          extra={"kojira_log_rotate": rotate})) is rotate


def test_a_kerberos_builder_is_registered_with_its_principal():
    sent = _sent(_registration({"koji_builder_authentication": "kerberos", "koji_kerberos_realm": "EXAMPLE.COM"}))
    assert sent["krb_principal"] == "compile/%s@EXAMPLE.COM" % sent["name"]


def test_the_admin_writes_with_its_keytab_when_told():
    sent = _sent(_registration({"koji_admin_authentication": "kerberos",
                                "koji_admin_kerberos_principal": "kojiadmin@EXAMPLE.COM",
                                "koji_admin_kerberos_keytab": "/root/kojiadmin.keytab"}))
    assert sent["authtype"] == "kerberos"
    assert sent["principal"] == "kojiadmin@EXAMPLE.COM" and sent["keytab"] == "/root/kojiadmin.keytab"
    assert "cert" not in sent
    # The default: the admin's certificate, as before.
    default = _sent(_registration({}))
    assert default["cert"] == "/etc/pki/koji/admin.pem"
    assert not {"authtype", "principal", "keytab", "krb_principal"} & set(default)
