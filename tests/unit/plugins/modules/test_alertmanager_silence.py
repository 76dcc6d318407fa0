"""alertmanager_silence against a small fake of Alertmanager's v2 API (the real one is in
tests/integration/test_alertmanager_silence_real.py): what it sends, idempotence, check mode,
and every malformed input refused before any request."""

import datetime

import pytest

from fakealertmanager import FakeAlertmanager
from fakehub import runner

runner.collection_path()

from ansible_collections.kojiforge.koji.plugins.modules import alertmanager_silence as module  # noqa: E402

MATCHERS = [{'name': 'alertname', 'value': 'KojiBuilderSilent|KojiHubUnreachable', 'is_regex': True},
            {'name': 'job', 'value': 'koji'}]


@pytest.fixture
def am():
    fake = FakeAlertmanager(prefix='/am')
    yield fake
    fake.stop()


def run(am_or_url, check_mode=False, **args):
    params = {'url': am_or_url if isinstance(am_or_url, str) else am_or_url.url,
              'matchers': MATCHERS, 'comment': 'backup of hub.test'}
    params.update(args)
    return runner.run('alertmanager_silence', params, check_mode=check_mode)


def test_creates_with_matchers_end_and_identity(am):
    result = run(am, duration='1h30m', created_by='ansible')
    assert result['changed'] and result['id'] in am.silences
    ((method, path, body),) = am.writes()
    assert (method, path) == ('POST', '/am/api/v2/silences')
    assert body['matchers'] == [
        {'name': 'alertname', 'value': 'KojiBuilderSilent|KojiHubUnreachable', 'isRegex': True, 'isEqual': True},
        {'name': 'job', 'value': 'koji', 'isRegex': False, 'isEqual': True}]
    assert body['comment'] == 'backup of hub.test' and body['createdBy'] == 'ansible'
    starts = datetime.datetime.strptime(body['startsAt'], '%Y-%m-%dT%H:%M:%S.%fZ')
    ends = datetime.datetime.strptime(body['endsAt'], '%Y-%m-%dT%H:%M:%S.%fZ')
    assert (ends - starts).total_seconds() == pytest.approx(5400, abs=1)
    assert result['ends_at'] == body['endsAt']


def test_present_finds_the_identical_live_silence(am):
    first = run(am, duration='30m')
    again = run(am, duration='2h', matchers=list(reversed(MATCHERS)))
    assert not again['changed'] and again['id'] == first['id']
    other_comment = run(am, duration='30m', comment='another maintenance')
    assert other_comment['changed'] and other_comment['id'] != first['id']
    am.silences[first['id']]['status'] = {'state': 'expired'}
    renewed = run(am, duration='30m')
    assert renewed['changed'] and renewed['id'] not in (first['id'], other_comment['id'])


def test_check_mode_writes_nothing(am):
    result = run(am, check_mode=True, duration='10m')
    assert result['changed'] and result['id'] is None
    created = run(am, duration='10m')
    assert run(am, check_mode=True, state='absent', id=created['id'])['changed']
    assert run(am, check_mode=True, state='absent')['ids'] == [created['id']]
    assert len(am.writes()) == 1 and am.silences[created['id']]['status']['state'] == 'active'


def test_absent_by_id_and_by_matchers(am):
    one = run(am, duration='10m')
    two = run(am, duration='10m', comment='other')
    gone = run(am, state='absent', id=one['id'])
    assert gone['changed'] and gone['ids'] == [one['id']]
    assert am.silences[one['id']]['status']['state'] == 'expired'
    assert not run(am, state='absent', id=one['id'])['changed']
    assert not run(am, state='absent', id='no-such-silence')['changed']
    assert not run(am, state='absent')['changed']
    assert run(am, state='absent', comment='other')['ids'] == [two['id']]
    assert [r[1] for r in am.writes() if r[0] == 'DELETE'] == [
        '/am/api/v2/silence/' + one['id'], '/am/api/v2/silence/' + two['id']]


@pytest.mark.parametrize('args, message', [
    ({'url': 'ftp://example.com', 'duration': '10m'}, 'url must be an http or https URL'),
    ({'url': '127.0.0.1:9093', 'duration': '10m'}, 'url must be an http or https URL'),
    ({'matchers': [], 'duration': '10m'}, 'matchers must name at least one matcher'),
    ({'matchers': None, 'duration': '10m'}, 'matchers are required'),
    ({'duration': '-5m'}, 'duration must be positive'),
    ({'duration': '0'}, 'duration must be positive'),
    ({'duration': 'ten minutes'}, 'is not a duration'),
    ({}, 'needs duration or ends_at'),
    ({'ends_at': '2001-01-01T00:00:00Z'}, 'is not in the future'),
    ({'ends_at': 'tomorrow'}, 'is not an RFC 3339 time'),
    ({'duration': '10m', 'matchers': [{'name': 'alertname', 'value': 'Koji(', 'is_regex': True}]},
     'is not a regular expression'),
    ({'duration': '10m', 'matchers': [{'name': 'bad-name', 'value': 'x'}]}, 'is not a label name'),
    ({'duration': '10m', 'matchers': [{'name': 'alertname', 'value': '.*', 'is_regex': True}]},
     'must not match the empty string'),
    ({'duration': '10m', 'matchers': [{'name': 'host', 'value': 'b1', 'is_equal': False}]},
     'must not match the empty string'),
    ({'duration': '10m', 'id': 'abc'}, 'id is only for state=absent'),
    ({'state': 'absent', 'wait_for_alerts': -1}, 'wait_for_alerts must not be negative'),
    ({'duration': '10m', 'timeout': 0}, 'timeout must be positive'),
])
def test_bad_input_fails_before_any_request(am, args, message):
    params = {'url': am.url}
    params.update(args)
    result = run(params.pop('url'), **params)
    assert result['failed'] and message in result['msg'], result
    assert am.requests == []


def test_unreachable_and_refused_requests_say_so(am):
    result = run('http://127.0.0.1:1/', duration='10m')
    assert result['failed'] and result['http_status'] == -1 and '127.0.0.1:1' in result['msg']
    wrong = run(am.url + 'nothing-here/', duration='10m')
    assert wrong['failed'] and wrong['http_status'] == 404


@pytest.mark.parametrize('text, seconds', [
    ('90m', 5400), ('1h30m', 5400), ('45s', 45), ('2d', 172800), ('3600', 3600), ('1.5', 1.5),
    ('-10m', -600), ('10x', None), ('', None), ('m', None)])
def test_parse_duration(text, seconds):
    assert module.parse_duration(text) == seconds


def test_parse_time_offsets():
    moment = module.parse_time('2026-12-06T19:00:00.250+01:00')
    assert module.format_time(moment) == '2026-12-06T18:00:00.250Z'
    assert module.parse_time('2026-13-06T19:00:00Z') is None
