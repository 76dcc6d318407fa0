#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: alertmanager_silence
short_description: Create or expire a silence in Prometheus Alertmanager
version_added: 0.1.0
description:
  - Creates a silence through Alertmanager's v2 API (C(/api/v2/silences)) for the alerts its
    matchers select, until an end time, or expires one.
  - The collection's maintenance (C(playbooks/backup.yml), C(playbooks/upgrade.yml),
    C(playbooks/retire_builder.yml)) uses it, through the C(kojiforge.koji._common) task files
    C(maintenance_silence_start.yml) and C(maintenance_silence_end.yml), so that it does not page.
  - O(state=present) is idempotent - an active (or pending) silence with exactly the same
    matchers, O(comment) and O(created_by) is found and returned unchanged, so a re-run after an
    interrupted one does not pile up silences.
  - Every input is checked before anything is sent - the URL, the matchers (label names, the
    regular expressions, at least one matcher that does not match the empty string, as
    Alertmanager requires), the duration or end time.
  - Uses only ansible-core's HTTP client (C(ansible.module_utils.urls)).
author:
  - kojiforge.koji contributors (@kojiforge)
attributes:
  check_mode:
    support: full
    description: Reads the silences and reports what would change; writes nothing.
  diff_mode:
    support: none
    description: No diff is returned.
options:
  url:
    description:
      - Alertmanager's base URL as the host running the module reaches it, for example
        V(http://127.0.0.1:9093) (the module adds C(/api/v2/...)). A path prefix
        (C(--web.route-prefix)) is kept.
    type: str
    required: true
  state:
    description:
      - V(present) creates the silence (or finds the identical active one).
      - V(absent) expires the silence O(id), or without O(id) every active or pending silence
        with exactly these O(matchers), O(comment) and O(created_by).
    type: str
    choices: [present, absent]
    default: present
  id:
    description:
      - The silence to expire, as O(state=present) returned it (RV(id)). Only with O(state=absent).
      - A silence that is expired already, or unknown to Alertmanager, is left alone (no change).
    type: str
  matchers:
    description:
      - The labels an alert must carry to be silenced; all must match. Required with
        O(state=present), and with O(state=absent) without O(id).
    type: list
    elements: dict
    suboptions:
      name:
        description: The label name (C(alertname), C(job), C(host)...).
        type: str
        required: true
      value:
        description: The value, or with O(matchers[].is_regex) an anchored regular expression (RE2, as Alertmanager reads it).
        type: str
        required: true
      is_regex:
        description: O(matchers[].value) is a regular expression.
        type: bool
        default: false
        aliases: [isRegex]
      is_equal:
        description: V(false) selects the alerts whose label does not match (C(!=), C(!~)).
        type: bool
        default: true
        aliases: [isEqual]
  duration:
    description:
      - How long the silence lasts from now, as Prometheus writes durations (V(90m), V(1h30m),
        V(45s), V(2d)) or a number of seconds. It must be positive.
      - With O(state=present), one of O(duration) and O(ends_at) is required. A silence always
        ends, so one left behind by a killed run stops silencing by itself.
    type: str
  ends_at:
    description:
      - When the silence ends, in RFC 3339 (V(2026-12-06T18:00:00Z)); it must be in the future.
    type: str
  comment:
    description: Why; shown in Alertmanager's interface, part of what identifies the silence.
    type: str
    default: Silenced by kojiforge.koji
  created_by:
    description: Who; part of what identifies the silence.
    type: str
    default: kojiforge.koji
  wait_for_alerts:
    description:
      - With O(state=absent), seconds to wait, before expiring, until no alert Alertmanager holds is
        silenced by the silence any more (the alerts the maintenance raised have resolved), so that
        expiring it does not page for them. Prometheus reports a resolved alert only a scrape and an
        evaluation interval later (and a hub alert only once the exporter read the hub again).
      - When the time is up the silence is expired anyway; RV(still_silenced) names the alerts it held.
      - V(0) expires at once. Not in check mode.
    type: int
    default: 0
  timeout:
    description: Seconds to wait for each HTTP request.
    type: int
    default: 10
  validate_certs:
    description: Check Alertmanager's TLS certificate (an C(https) URL).
    type: bool
    default: true
notes:
  - The regular expressions are checked with Python's C(re) before anything is sent; Alertmanager
    itself uses Go's RE2, which refuses a few constructs Python accepts (backreferences,
    lookarounds), so avoid them.
seealso:
  - name: Alertmanager's silences
    description: How silences select alerts.
    link: https://prometheus.io/docs/alerting/latest/alertmanager/#silences
'''

EXAMPLES = r'''
- name: Silence the hub's alerts for the backup's lock-out window
  kojiforge.koji.alertmanager_silence:
    url: http://127.0.0.1:9093
    matchers:
      - name: alertname
        value: KojiHubUnreachable|KojiBuilderSilent|KojiBuilderNotReady
        is_regex: true
      - name: job
        value: koji
    duration: 30m
    comment: kojiforge.koji backup of koji.example.com
  register: backup_silence

- name: Expire it
  kojiforge.koji.alertmanager_silence:
    url: http://127.0.0.1:9093
    state: absent
    id: "{{ backup_silence.id }}"

- name: Expire every identical silence, without its id
  kojiforge.koji.alertmanager_silence:
    url: http://127.0.0.1:9093
    state: absent
    matchers:
      - name: host
        value: build3.example.com
    comment: kojiforge.koji retirement of build3.example.com
'''

RETURN = r'''
id:
  description: The silence's id (O(state=present)); none in check mode when it would be created.
  returned: state=present
  type: str
  sample: 8b0a6f4e-3c1d-4a9e-9d0b-0c4b1f6f1e2a
ids:
  description: The silences expired, or that would be (O(state=absent)).
  returned: state=absent
  type: list
  elements: str
ends_at:
  description: When the silence created or found ends (RFC 3339, UTC).
  returned: state=present
  type: str
  sample: "2026-12-06T18:00:00.000Z"
still_silenced:
  description:
    - With O(wait_for_alerts), the alerts (their C(alertname) and C(host) or C(instance)) the silence
      still held when it was expired; Alertmanager may notify for them if they still fire.
  returned: state=absent
  type: list
  elements: str
  sample: ["KojiBuilderSilent build3.example.com"]
waited:
  description: Seconds spent waiting for the silenced alerts to resolve (O(wait_for_alerts)).
  returned: state=absent
  type: float
  sample: 12.5
http_status:
  description: On a failed request, its HTTP status; -1 when Alertmanager could not be reached at all.
  returned: failure
  type: int
  sample: -1
errors:
  description: On a validation failure, every problem found (nothing was sent).
  returned: failure
  type: list
  elements: str
'''

import datetime
import json
import re
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six.moves.urllib.parse import quote, urlparse
from ansible.module_utils.urls import fetch_url

LABEL_NAME = re.compile(r'^[a-zA-Z_][a-zA-Z0-9_]*$')
DURATION_PART = re.compile(r'(\d+)(ms|y|w|d|h|m|s)')
DURATION_SECONDS = {'ms': 0.001, 's': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800, 'y': 31536000}
LIVE_STATES = ('active', 'pending')
UTC = datetime.timezone.utc


class SilenceError(Exception):
    def __init__(self, msg, http_status=None):
        super(SilenceError, self).__init__(msg)
        self.http_status = http_status


def parse_duration(text):
    """Seconds of a Prometheus duration (1h30m) or a plain number; None when malformed."""
    text = text.strip()
    sign = 1
    if text.startswith('-'):
        sign, text = -1, text[1:]
    if re.match(r'^\d+(\.\d+)?$', text):
        return sign * float(text)
    if not text or ''.join(match.group(0) for match in DURATION_PART.finditer(text)) != text:
        return None
    return sign * sum(int(number) * DURATION_SECONDS[unit] for number, unit in DURATION_PART.findall(text))


def parse_time(text):
    """An RFC 3339 time as an aware UTC datetime; None when malformed."""
    match = re.match(r'^(\d{4}-\d\d-\d\d)[Tt ](\d\d:\d\d:\d\d)(\.\d+)?([Zz]|[+-]\d\d:\d\d)$', text.strip())
    if not match:
        return None
    try:
        moment = datetime.datetime.strptime(match.group(1) + 'T' + match.group(2), '%Y-%m-%dT%H:%M:%S')
    except ValueError:
        return None
    if match.group(3):
        moment = moment.replace(microsecond=int(float(match.group(3)) * 1000000))
    zone = match.group(4)
    offset = datetime.timedelta(0)
    if zone not in ('Z', 'z'):
        offset = datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        if zone[0] == '-':
            offset = -offset
    return (moment - offset).replace(tzinfo=UTC)


def format_time(moment):
    return moment.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (moment.microsecond // 1000)


def matches_empty(matcher):
    if matcher['is_regex']:
        hit = re.match('(?:' + matcher['value'] + r')\Z', '') is not None
    else:
        hit = matcher['value'] == ''
    return hit == matcher['is_equal']


def validate(params, now):
    """Every problem of the inputs, and (base URL, matchers in the API's form, end time)."""
    errors = []
    url = (params['url'] or '').strip()
    parsed = urlparse(url)
    if parsed.scheme not in ('http', 'https') or not parsed.netloc or parsed.query or parsed.fragment:
        errors.append("url must be an http or https URL such as http://127.0.0.1:9093, not %r" % params['url'])
    base = url.rstrip('/')
    matchers = params['matchers']
    needs_matchers = params['state'] == 'present' or not params['id']
    api_matchers = []
    if params['id'] is not None and params['state'] == 'present':
        errors.append('id is only for state=absent')
    if needs_matchers and not matchers:
        errors.append('matchers must name at least one matcher' if matchers is not None
                      else 'matchers are required (or, with state=absent, id)')
    for index, matcher in enumerate(matchers or []):
        if not LABEL_NAME.match(matcher['name']):
            errors.append('matchers[%d]: %r is not a label name' % (index, matcher['name']))
        if matcher['is_regex']:
            try:
                re.compile(matcher['value'])
            except re.error as exc:
                errors.append('matchers[%d] (%s): %r is not a regular expression: %s'
                              % (index, matcher['name'], matcher['value'], exc))
                continue
        api_matchers.append({'name': matcher['name'], 'value': matcher['value'],
                             'isRegex': matcher['is_regex'], 'isEqual': matcher['is_equal']})
    if api_matchers and len(api_matchers) == len(matchers) and all(matches_empty(m) for m in matchers):
        errors.append('at least one matcher must not match the empty string (Alertmanager refuses a '
                      'silence of every alert)')
    if params['wait_for_alerts'] < 0:
        errors.append('wait_for_alerts must not be negative, not %d' % params['wait_for_alerts'])
    if params['timeout'] <= 0:
        errors.append('timeout must be positive, not %d' % params['timeout'])
    ends = None
    if params['state'] == 'present':
        if params['duration'] is None and params['ends_at'] is None:
            errors.append('state=present needs duration or ends_at: a silence must end')
        elif params['duration'] is not None:
            seconds = parse_duration(params['duration'])
            if seconds is None:
                errors.append('duration %r is not a duration such as 90m, 1h30m or 3600' % params['duration'])
            elif seconds <= 0:
                errors.append('duration must be positive, not %r' % params['duration'])
            else:
                ends = now + datetime.timedelta(seconds=seconds)
        else:
            ends = parse_time(params['ends_at'])
            if ends is None:
                errors.append('ends_at %r is not an RFC 3339 time such as 2026-12-06T18:00:00Z' % params['ends_at'])
            elif ends <= now:
                errors.append('ends_at %s is not in the future' % params['ends_at'])
                ends = None
    return errors, base, api_matchers, ends


def same_matchers(silence, api_matchers):
    def key(matcher):
        return (matcher['name'], matcher['value'], bool(matcher.get('isRegex')), bool(matcher.get('isEqual', True)))
    return sorted(key(m) for m in silence.get('matchers', [])) == sorted(key(m) for m in api_matchers)


class Alertmanager(object):
    def __init__(self, module, base):
        self.module = module
        self.base = base

    def request(self, method, path, body=None, missing_ok=False):
        url = self.base + path
        data = None if body is None else json.dumps(body)
        headers = {'Accept': 'application/json'}
        if data is not None:
            headers['Content-Type'] = 'application/json'
        response, info = fetch_url(self.module, url, data=data, headers=headers, method=method,
                                   timeout=self.module.params['timeout'])
        status = info.get('status', -1)
        if missing_ok and status == 404:
            return None
        if status < 200 or status >= 300:
            detail = info.get('body') or info.get('msg') or ''
            if isinstance(detail, bytes):
                detail = detail.decode('utf-8', 'replace')
            raise SilenceError('%s %s: %s %s' % (method, url, 'no answer' if status == -1 else status,
                                                 detail.strip()[:500]), http_status=status)
        text = response.read() if response else b''
        if not text:
            return None
        try:
            return json.loads(text.decode('utf-8') if isinstance(text, bytes) else text)
        except ValueError:
            raise SilenceError('%s %s answered something that is not JSON: is it Alertmanager?' % (method, url),
                               http_status=status)

    def live_silences(self, api_matchers, comment, created_by):
        silences = self.request('GET', '/api/v2/silences') or []
        return [silence for silence in silences
                if silence.get('status', {}).get('state') in LIVE_STATES
                and silence.get('comment') == comment and silence.get('createdBy') == created_by
                and same_matchers(silence, api_matchers)]


def present(module, manager, api_matchers, ends, now):
    params = module.params
    found = manager.live_silences(api_matchers, params['comment'], params['created_by'])
    if found:
        silence = sorted(found, key=lambda s: s.get('endsAt', ''))[-1]
        return dict(changed=False, id=silence['id'], ends_at=silence.get('endsAt'))
    if module.check_mode:
        return dict(changed=True, id=None, ends_at=format_time(ends))
    answer = manager.request('POST', '/api/v2/silences', {
        'matchers': api_matchers, 'startsAt': format_time(now), 'endsAt': format_time(ends),
        'createdBy': params['created_by'], 'comment': params['comment']})
    if not answer or not answer.get('silenceID'):
        raise SilenceError('POST %s/api/v2/silences returned no silenceID' % manager.base)
    return dict(changed=True, id=answer['silenceID'], ends_at=format_time(ends))


def silenced_alerts(manager, silence_ids):
    alerts = manager.request('GET', '/api/v2/alerts?active=false&silenced=true&inhibited=true&unprocessed=false') or []
    held = []
    for alert in alerts:
        if set(alert.get('status', {}).get('silencedBy') or []) & set(silence_ids):
            labels = alert.get('labels', {})
            names = (labels.get('alertname', '?'), labels.get('host') or labels.get('instance'))
            held.append(' '.join(part for part in names if part))
    return sorted(set(held))


def absent(module, manager, api_matchers):
    params = module.params
    if params['id']:
        silence = manager.request('GET', '/api/v2/silence/' + quote(params['id'], safe=''), missing_ok=True)
        live = [silence] if silence and silence.get('status', {}).get('state') in LIVE_STATES else []
    else:
        live = manager.live_silences(api_matchers, params['comment'], params['created_by'])
    ids = sorted(silence['id'] for silence in live)
    result = dict(changed=bool(ids), ids=ids, still_silenced=[], waited=0.0)
    if ids and not module.check_mode and params['wait_for_alerts'] > 0:
        started = time.time()
        while True:
            held = silenced_alerts(manager, ids)
            if not held or time.time() - started >= params['wait_for_alerts']:
                break
            time.sleep(min(2, max(0.1, params['wait_for_alerts'] - (time.time() - started))))
        result.update(still_silenced=held, waited=round(time.time() - started, 1))
    if not module.check_mode:
        for silence_id in ids:
            manager.request('DELETE', '/api/v2/silence/' + quote(silence_id, safe=''), missing_ok=True)
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type='str', required=True),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            id=dict(type='str'),
            matchers=dict(type='list', elements='dict', options=dict(
                name=dict(type='str', required=True),
                value=dict(type='str', required=True),
                is_regex=dict(type='bool', default=False, aliases=['isRegex']),
                is_equal=dict(type='bool', default=True, aliases=['isEqual']),
            )),
            duration=dict(type='str'),
            ends_at=dict(type='str'),
            comment=dict(type='str', default='Silenced by kojiforge.koji'),
            created_by=dict(type='str', default='kojiforge.koji'),
            wait_for_alerts=dict(type='int', default=0),
            timeout=dict(type='int', default=10),
            validate_certs=dict(type='bool', default=True),
        ),
        mutually_exclusive=[('duration', 'ends_at')],
        supports_check_mode=True,
    )
    now = datetime.datetime.now(UTC)
    errors, base, api_matchers, ends = validate(module.params, now)
    if errors:
        module.fail_json(msg='; '.join(errors), errors=errors)
    manager = Alertmanager(module, base)
    try:
        if module.params['state'] == 'present':
            result = present(module, manager, api_matchers, ends, now)
        else:
            result = absent(module, manager, api_matchers)
    except SilenceError as exc:
        module.fail_json(msg=str(exc), http_status=exc.http_status if exc.http_status is not None else 0)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
