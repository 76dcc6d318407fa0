"""The maintenance playbooks' silences (roles/_common/tasks/maintenance_silence_*.yml), run with
ansible-playbook on this machine against a fake Alertmanager: backup.yml and upgrade.yml in a
copy of the collection whose backup role and site.yml are stubs that read the silences while
"the hub is locked" and fail when asked. Which alerts are silenced, that the silence is active
during the maintenance and expired after it, also after a failure, and what happens with no
Alertmanager or one that does not answer. retire_builder.yml: its refusal without --limit."""

import datetime
import json
import os
import pathlib
import socket
import subprocess
import sys

import pytest
import yaml

from fakealertmanager import FakeAlertmanager

ROOT = pathlib.Path(__file__).resolve().parents[3]
ANSIBLE_PLAYBOOK = pathlib.Path(sys.executable).with_name('ansible-playbook')
SKIP = {'.git', '.venv', 'build', '.pytest_cache'}

STUB_READ = """\
- name: Stub | Read the silences while the maintenance runs
  ansible.builtin.uri:
    url: "{{ stub_am_url }}api/v2/silences?stub=1"
- name: Stub | Fail when the test asks
  ansible.builtin.fail:
    msg: the stub maintenance failed
  when: inventory_hostname in (stub_fail | default([]))
"""
STUB_BACKUP_ROLE = {
    'roles/koji_backup/tasks/backup.yml': '---\n' + STUB_READ,
    'roles/koji_backup/tasks/main.yml': '---\n' + STUB_READ,
    'roles/koji_backup/meta/main.yml': '---\ngalaxy_info: {author: test, description: stub, license: GPL-3.0-or-later, min_ansible_version: "2.16"}\n',
}
STUB_UPGRADE = {
    # What the first play of upgrade.yml reads: installed and target versions from the inventory.
    'roles/_common/tasks/koji_install_check.yml': """---
- name: Stub | Installed and target Koji versions
  ansible.builtin.set_fact:
    _common_koji_installed_version: "{{ stub_installed }}"
    _common_koji_target_version: "{{ stub_target }}"
""",
    'playbooks/site.yml': """---
- name: Stub site
  hosts: koji_hub:koji_builders
  gather_facts: false
  tasks:
""" + '\n'.join('    ' + line if line else line for line in STUB_READ.splitlines()) + '\n',
}


def link_tree(src, dst, files, replaced):
    """dst mirrors src with symlinks, but for files (relative path: text) and the directories
    in replaced, which hold only the files given."""
    dst.mkdir(parents=True, exist_ok=True)
    for entry in sorted(src.iterdir()):
        rel = entry.relative_to(ROOT).as_posix()
        if entry.name in SKIP or rel in files or rel in replaced:
            continue
        if any(path.startswith(rel + '/') for path in list(files) + list(replaced)):
            link_tree(entry, dst / entry.name, files, replaced)
        else:
            (dst / entry.name).symlink_to(entry)
    return dst


def stub_collection(tmp_path, files, replaced=()):
    base = tmp_path / 'collections' / 'ansible_collections' / 'kojiforge' / 'koji'
    link_tree(ROOT, base, files, set(replaced))
    for rel, text in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path / 'collections'


SETTLE = 3


def inventory(tmp_path, am, monitoring_vars=None, hosts=None):
    # The settle pause before the expiry is 60 s by default; SETTLE keeps these runs short, and
    # the backup test below checks that the pause is taken.
    local = {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable,
             'koji_maintenance_silence_settle_seconds': SETTLE}
    monitoring = {'koji_monitoring_alertmanager_enabled': True, 'koji_monitoring_job_name': 'kojijob',
                  'koji_monitoring_alertmanager_listen_address': '0.0.0.0:%d' % am.port}
    monitoring.update(monitoring_vars or {})
    groups = {'koji_hub': {'hosts': {'hub.test': {}}}, 'koji_monitoring': {'hosts': {'mon.test': monitoring}}}
    groups.update(hosts or {})
    path = tmp_path / 'inventory.yml'
    path.write_text(yaml.safe_dump({'all': {'vars': dict(local, stub_am_url=am.url), 'children': groups}}))
    return path


def run(tmp_path, collections, playbook, inventory_path, *extra):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOCAL_TEMP=str(tmp_path / 'ansible-tmp'), ANSIBLE_REMOTE_TEMP=str(tmp_path / 'remote-tmp'),
               ANSIBLE_RETRY_FILES_ENABLED='0')
    proc = subprocess.run([str(ANSIBLE_PLAYBOOK), '-i', str(inventory_path), playbook] + list(extra),
                          cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    return proc.returncode, proc.stdout


def timeline(am):
    """(what, when) of each request that counts: the module's creates and expiries, the stub's
    read; `when` is the fake's time.monotonic() stamp."""
    out = []
    for (method, path, _body), stamp in zip(am.requests, am.stamps):
        if method == 'POST':
            out.append(('create', stamp))
        elif method == 'DELETE':
            out.append(('expire', stamp))
        elif path.endswith('?stub=1'):
            out.append(('maintenance', stamp))
    return out


def order(am):
    """What each request that counts was, in order (see timeline())."""
    return [what for what, _stamp in timeline(am)]


def lasts(silence):
    def parse(text):
        return datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%S.%fZ')
    return (parse(silence['endsAt']) - parse(silence['startsAt'])).total_seconds()


def matchers(silence):
    return sorted((m['name'], m['value'], m['isRegex']) for m in silence['matchers'])


@pytest.fixture
def am():
    fake = FakeAlertmanager()
    yield fake
    fake.stop()


@pytest.fixture
def backup_collection(tmp_path):
    return stub_collection(tmp_path, STUB_BACKUP_ROLE, replaced={'roles/koji_backup'})


def test_backup_silences_the_lockout_alerts_and_expires_after(tmp_path, am, backup_collection):
    rc, out = run(tmp_path, backup_collection, 'kojiforge.koji.backup', inventory(tmp_path, am))
    assert rc == 0, out
    assert order(am) == ['create', 'maintenance', 'expire'], am.requests
    (silence,) = am.silences.values()
    assert matchers(silence) == [
        ('alertname', 'KojiHubUnreachable|KojiMetricsCacheStale|KojiBuilderSilent|KojiBuilderNotReady', True),
        ('job', 'kojijob', False)]
    assert silence['comment'].startswith('kojiforge.koji backup of hub.test')
    assert silence['status']['state'] == 'expired'
    assert lasts(silence) == pytest.approx(3600, abs=2)  # koji_maintenance_silence_backup_duration's 1h
    # The last scrapes of the maintenance are evaluated under the silence: the settle pause
    # comes between the maintenance and the expiry.
    when = dict(timeline(am))
    assert when['expire'] - when['maintenance'] >= SETTLE, timeline(am)


def test_a_failed_backup_still_expires_its_silence(tmp_path, am, backup_collection):
    rc, out = run(tmp_path, backup_collection, 'kojiforge.koji.backup', inventory(tmp_path, am),
                  '-e', json.dumps({'stub_fail': ['hub.test'], 'koji_maintenance_silence_backup_duration': '20m'}))
    assert rc != 0 and 'the stub maintenance failed' in out, out
    assert order(am) == ['create', 'maintenance', 'expire'], am.requests
    (silence,) = am.silences.values()
    assert silence['status']['state'] == 'expired' and lasts(silence) == pytest.approx(1200, abs=2)


def test_no_alertmanager_no_silence_said_once(tmp_path, am, backup_collection):
    rc, out = run(tmp_path, backup_collection, 'kojiforge.koji.backup',
                  inventory(tmp_path, am, monitoring_vars={'koji_monitoring_alertmanager_enabled': False}))
    assert rc == 0, out
    assert out.count('No Alertmanager') == 1, out
    assert order(am) == ['maintenance']


def test_unreachable_alertmanager_warns_or_stops_when_required(tmp_path, am, backup_collection):
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        closed = 'http://127.0.0.1:%d' % sock.getsockname()[1]
    inv = inventory(tmp_path, am)
    rc, out = run(tmp_path, backup_collection, 'kojiforge.koji.backup', inv, '-e', 'koji_alertmanager_url=' + closed)
    assert rc == 0, out
    assert 'WARNING: Alertmanager at ' + closed in out and 'goes on without a silence' in out
    assert order(am) == ['maintenance']
    rc, out = run(tmp_path, backup_collection, 'kojiforge.koji.backup', inv, '-e', 'koji_alertmanager_url=' + closed,
                  '-e', 'koji_maintenance_silence_required=true')
    assert rc != 0, out
    assert order(am) == ['maintenance'], 'the required silence failed, the backup must not run'


def test_bad_matchers_always_stop(tmp_path, am, backup_collection):
    """Only an Alertmanager that does not answer is tolerated: a refused silence stops the run."""
    rc, out = run(tmp_path, backup_collection, 'kojiforge.koji.backup', inventory(tmp_path, am),
                  '-e', 'koji_maintenance_silence_backup_duration=-5m')
    assert rc != 0 and 'duration must be positive' in out, out
    assert order(am) == []


UPGRADE_HOSTS = {
    'koji_builders': {'hosts': {'b1.test': {'koji_builder_name': 'build1.example.com'},
                                'b2.test': {'koji_builder_name': 'build2.example.com'}}},
}


def upgrade_inventory(tmp_path, am, hub_target, builders_target):
    hosts = json.loads(json.dumps(UPGRADE_HOSTS))
    for host in hosts['koji_builders']['hosts'].values():
        host.update(stub_installed='1.35.2', stub_target=builders_target)
    path = inventory(tmp_path, am, hosts=hosts)
    data = yaml.safe_load(path.read_text())
    data['all']['children']['koji_hub']['hosts']['hub.test'] = {'stub_installed': '1.35.2', 'stub_target': hub_target}
    data['all']['children']['koji_monitoring']['hosts']['mon.test'].update(stub_installed='', stub_target='')
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def upgrade_collection(tmp_path):
    return stub_collection(tmp_path, STUB_UPGRADE)


def test_upgrade_of_the_hub_silences_everything_that_depends_on_it(tmp_path, am, upgrade_collection):
    rc, out = run(tmp_path, upgrade_collection, 'kojiforge.koji.upgrade',
                  upgrade_inventory(tmp_path, am, '1.35.3', '1.35.3'), '-e', 'koji_upgrade_confirm=1.35.3')
    assert rc == 0, out
    assert order(am) == ['create', 'create', 'maintenance', 'maintenance', 'maintenance', 'expire', 'expire']
    found = sorted(matchers(s) for s in am.silences.values())
    assert found == [
        [('alertname', 'KojiCertificateMetricsDown', False), ('job', 'koji_certificates', False)],
        [('alertname', 'KojiHubUnreachable|KojiMetricsDown|KojiMetricsCacheStale|KojiBuilderSilent|'
                       'KojiBuilderNotReady|KojiBuilderRefusingTasks', True), ('job', 'kojijob', False)]]
    assert all(s['status']['state'] == 'expired' for s in am.silences.values())


def test_upgrade_of_builders_only_silences_them_by_name(tmp_path, am, upgrade_collection):
    rc, out = run(tmp_path, upgrade_collection, 'kojiforge.koji.upgrade',
                  upgrade_inventory(tmp_path, am, '1.35.2', '1.35.3'), '-e', 'koji_upgrade_confirm=1.35.3',
                  '-e', json.dumps({'stub_fail': ['b2.test']}))
    assert rc != 0, out
    (silence,) = am.silences.values()
    assert matchers(silence) == [
        ('alertname', 'KojiBuilderSilent|KojiBuilderNotReady|KojiBuilderRefusingTasks', True),
        ('host', r'build1\.example\.com|build2\.example\.com', True), ('job', 'kojijob', False)]
    # b2 failed, the others went on: the last play expired the silence.
    assert order(am)[-1] == 'expire' and silence['status']['state'] == 'expired'


def test_upgrade_with_nothing_to_upgrade_silences_nothing(tmp_path, am, upgrade_collection):
    rc, out = run(tmp_path, upgrade_collection, 'kojiforge.koji.upgrade',
                  upgrade_inventory(tmp_path, am, '1.35.2', '1.35.2'))
    assert rc == 0, out
    assert 'create' not in order(am) and 'No Alertmanager' not in out


def test_retire_builder_refuses_to_run_without_limit(tmp_path, am):
    collections = stub_collection(tmp_path, {})
    rc, out = run(tmp_path, collections, 'kojiforge.koji.retire_builder',
                  inventory(tmp_path, am, hosts=UPGRADE_HOSTS))
    assert rc != 0 and 'Name the builders to retire with --limit' in out, out
    assert am.requests == []
