"""alertmanager_silence against the real Alertmanager (Debian's prometheus-alertmanager, which
testbed/prepare.sh installs): started by the test on a free port, with its own storage and no
cluster. Creates, finds again, expires by id and by matchers, in check mode writes nothing, and
an alert posted to it is really silenced while the silence is active."""

import datetime
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

from fakehub import runner

BINARY = '/usr/bin/prometheus-alertmanager'
CONFIG = """\
route:
  receiver: nobody
receivers:
  - name: nobody
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def api(url, path, body=None, method=None):
    request = urllib.request.Request(url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read()
    return json.loads(text) if text else None


@pytest.fixture(scope='module')
def alertmanager(tmp_path_factory):
    if not os.path.exists(BINARY):
        pytest.fail('%s is missing: run testbed/prepare.sh (it installs prometheus-alertmanager)' % BINARY)
    work = tmp_path_factory.mktemp('alertmanager')
    (work / 'alertmanager.yml').write_text(CONFIG)
    port = free_port()
    url = 'http://127.0.0.1:%d' % port
    process = subprocess.Popen(
        [BINARY, '--config.file=%s' % (work / 'alertmanager.yml'), '--storage.path=%s' % (work / 'data'),
         '--web.listen-address=127.0.0.1:%d' % port, '--cluster.listen-address='],
        stdout=subprocess.DEVNULL, stderr=open(str(work / 'log'), 'w'))
    deadline = time.time() + 30
    while True:
        try:
            api(url, '/api/v2/status')
            break
        except OSError:
            if process.poll() is not None or time.time() > deadline:
                process.kill()
                pytest.fail('Alertmanager did not start: %s' % (work / 'log').read_text())
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=20)
    shutil.rmtree(str(work), ignore_errors=True)


def silence_args(url, **extra):
    args = {'url': url, 'comment': 'test %s' % extra.pop('tag', 'one'),
            'matchers': [{'name': 'alertname', 'value': 'KojiHubUnreachable|KojiBuilderSilent', 'is_regex': True},
                         {'name': 'job', 'value': 'koji'}]}
    args.update(extra)
    return args


def states(url):
    return dict((s['id'], s['status']['state']) for s in api(url, '/api/v2/silences'))


def test_create_find_expire_by_id(alertmanager):
    created = runner.run('alertmanager_silence', silence_args(alertmanager, duration='30m'))
    assert not created.get('failed'), created
    assert created['changed'] and created['id']
    assert states(alertmanager)[created['id']] == 'active'
    silence = api(alertmanager, '/api/v2/silence/' + created['id'])
    assert silence['comment'] == 'test one' and silence['createdBy'] == 'kojiforge.koji'
    ends = datetime.datetime.strptime(silence['endsAt'][:19], '%Y-%m-%dT%H:%M:%S')
    assert 25 * 60 < (ends - datetime.datetime.utcnow()).total_seconds() <= 30 * 60

    again = runner.run('alertmanager_silence', silence_args(alertmanager, duration='2h'))
    assert not again['changed'] and again['id'] == created['id']

    check = runner.run('alertmanager_silence', silence_args(alertmanager, state='absent', id=created['id']),
                       check_mode=True)
    assert check['changed'] and check['ids'] == [created['id']]
    assert states(alertmanager)[created['id']] == 'active'

    expired = runner.run('alertmanager_silence', silence_args(alertmanager, state='absent', id=created['id']))
    assert expired['changed'] and expired['ids'] == [created['id']]
    assert states(alertmanager)[created['id']] == 'expired'
    assert not runner.run('alertmanager_silence',
                          silence_args(alertmanager, state='absent', id=created['id']))['changed']


def test_check_mode_writes_nothing_and_absent_by_matchers(alertmanager):
    before = states(alertmanager)
    check = runner.run('alertmanager_silence', silence_args(alertmanager, tag='two', duration='10m'),
                       check_mode=True)
    assert check['changed'] and check['id'] is None
    assert states(alertmanager) == before
    created = runner.run('alertmanager_silence', silence_args(alertmanager, tag='two', duration='10m'))
    other = runner.run('alertmanager_silence', silence_args(alertmanager, tag='other', duration='10m'))
    gone = runner.run('alertmanager_silence', silence_args(alertmanager, tag='two', state='absent'))
    assert gone['changed'] and gone['ids'] == [created['id']]
    now = states(alertmanager)
    assert now[created['id']] == 'expired' and now[other['id']] == 'active'
    runner.run('alertmanager_silence', silence_args(alertmanager, tag='other', state='absent', id=other['id']))


def test_silence_really_mutes_the_alert(alertmanager):
    alert = [{'labels': {'alertname': 'KojiBuilderSilent', 'job': 'koji', 'host': 'b1.test', 'severity': 'critical'},
              'startsAt': datetime.datetime.utcnow().strftime('%Y-%m-%dT%H:%M:%SZ')}]
    created = runner.run('alertmanager_silence', silence_args(alertmanager, tag='mute', duration='5m'))
    api(alertmanager, '/api/v2/alerts', alert, method='POST')
    deadline = time.time() + 10
    while True:
        found = [a for a in api(alertmanager, '/api/v2/alerts') if a['labels'].get('host') == 'b1.test']
        if found and found[0]['status']['state'] == 'suppressed':
            break
        assert time.time() < deadline, found
        time.sleep(0.3)
    assert found[0]['status']['silencedBy'] == [created['id']]
    runner.run('alertmanager_silence', silence_args(alertmanager, tag='mute', state='absent', id=created['id']))
    deadline = time.time() + 10
    while True:
        found = [a for a in api(alertmanager, '/api/v2/alerts') if a['labels'].get('host') == 'b1.test']
        if found[0]['status']['state'] == 'active':
            break
        assert time.time() < deadline, found
        time.sleep(0.3)


def test_refused_before_sending_and_unreachable(alertmanager):
    before = states(alertmanager)
    bad = runner.run('alertmanager_silence', silence_args(
        alertmanager, duration='10m', matchers=[{'name': 'alertname', 'value': '(', 'is_regex': True}]))
    assert bad['failed'] and 'not a regular expression' in bad['msg']
    assert states(alertmanager) == before
    port = free_port()
    down = runner.run('alertmanager_silence', silence_args('http://127.0.0.1:%d' % port, duration='10m'))
    assert down['failed'] and down['http_status'] == -1


def test_absent_waits_until_the_silenced_alerts_resolved(alertmanager):
    """wait_for_alerts: the silence is expired only once the alert it held has resolved (here,
    posted again with an end time a few seconds later), not while it still fires."""
    labels = {'alertname': 'KojiHubUnreachable', 'job': 'koji', 'instance': 'web.test:443'}
    hub_only = [{'name': 'alertname', 'value': 'KojiHubUnreachable'}, {'name': 'job', 'value': 'koji'}]
    start = datetime.datetime.utcnow()
    created = runner.run('alertmanager_silence', silence_args(alertmanager, tag='wait', duration='5m',
                                                              matchers=hub_only))
    api(alertmanager, '/api/v2/alerts', [{'labels': labels, 'startsAt': start.strftime('%Y-%m-%dT%H:%M:%SZ')}],
        method='POST')
    resolve_at = datetime.datetime.utcnow() + datetime.timedelta(seconds=4)
    api(alertmanager, '/api/v2/alerts', [{'labels': labels, 'startsAt': start.strftime('%Y-%m-%dT%H:%M:%SZ'),
                                          'endsAt': resolve_at.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}], method='POST')
    gone = runner.run('alertmanager_silence', silence_args(alertmanager, tag='wait', state='absent',
                                                           id=created['id'], wait_for_alerts=30, matchers=hub_only))
    assert gone['changed'] and gone['still_silenced'] == []
    assert datetime.datetime.utcnow() >= resolve_at and 1 <= gone['waited'] < 30
    assert states(alertmanager)[created['id']] == 'expired'

    held = runner.run('alertmanager_silence', silence_args(alertmanager, tag='held', duration='5m',
                                                           matchers=hub_only))
    api(alertmanager, '/api/v2/alerts', [{'labels': dict(labels, instance='web2.test:443'),
                                          'startsAt': start.strftime('%Y-%m-%dT%H:%M:%SZ')}], method='POST')
    timed_out = runner.run('alertmanager_silence', silence_args(alertmanager, tag='held', state='absent',
                                                                id=held['id'], wait_for_alerts=2, matchers=hub_only))
    assert timed_out['still_silenced'] == ['KojiHubUnreachable web2.test:443']
    assert states(alertmanager)[held['id']] == 'expired'
