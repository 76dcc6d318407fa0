# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper callback: records every task result, with its timing, as JSON lines.

The module integration tests and the module benchmark run the modules with
ansible-playbook on any host (the local machine, or the hub host over the podman
connection). The registered result lives on the controller only as long as the playbook
runs, so this callback writes it to the file named by KOJIFORGE_RECORD_FILE:

    {"task": "...", "host": "...", "status": "ok|failed|skipped|unreachable",
     "start": <epoch>, "end": <epoch>, "result": {...}}

``start`` is when the task started on that host, ``end`` when its result came back; the
difference is the task's whole cost (payload transfer, interpreter start, the module's own
work, the result's way back), without ansible-playbook's own start-up.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = '''
name: kojiforge_record
type: aggregate
short_description: write each task result and its timing to a JSON lines file (tests only)
description:
  - Appends one JSON line per task result to the file named by E(KOJIFORGE_RECORD_FILE).
requirements:
  - enable in ANSIBLE_CALLBACKS_ENABLED, plugin directory in ANSIBLE_CALLBACK_PLUGINS
'''

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'kojiforge_record'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display=display)
        self._path = os.environ.get('KOJIFORGE_RECORD_FILE')
        self._started = {}

    def v2_runner_on_start(self, host, task):
        self._started[(host.get_name(), task._uuid)] = time.time()

    def _record(self, result, status):
        if not self._path:
            return
        end = time.time()
        host = result._host.get_name()
        start = self._started.pop((host, result._task._uuid), end)
        data = json.loads(self._dump_results(result._result))
        if status == 'failed':
            data['failed'] = True  # a key the dump leaves out
        entry = {'task': result._task.get_name(), 'host': host, 'status': status,
                 'start': start, 'end': end, 'result': data}
        with open(self._path, 'a') as handle:
            handle.write(json.dumps(entry) + '\n')

    def v2_runner_on_ok(self, result):
        self._record(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._record(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._record(result, 'unreachable')
