"""Run kojiforge.koji module tasks with ansible-playbook, on this machine or on a given
Ansible host, and read the hub anonymously from wherever it is reachable.

Shared by the module integration suite (tests/integration/modules/) and the module
benchmark (tests/benchmarks/modules/).

- ``PlaybookRunner()`` runs the tasks on ``localhost`` with the local connection (the fake
  hub, or a real hub reachable from here);
- ``PlaybookRunner(host='hub.koji.test', inventory='inventories/local')`` runs them on that
  host of that inventory, with the host's own connection (podman, ssh): the modules then
  use the credentials that live on that host (the admin key never leaves it), as
  playbooks/config.yml does in production.

``HubReader(command, server=..., serverca=...)`` (or ``profile=``) keeps one Python process
open on the hub host through ``command`` (a prefix that runs argv there with stdin attached,
such as ``podman exec -i hub.koji.test``) and makes anonymous calls through it: the tests'
own checks (getLastEvent...) need no route to the hub from here and no key.
"""

import json
import os
import shlex
import subprocess
import sys
import time
import uuid

import yaml

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_ROOT = os.path.dirname(TESTS_DIR)
CALLBACK_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'callback_plugins')

if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from fakehub.runner import collection_path  # noqa: E402

ANSIBLE_PLAYBOOK = os.environ.get(
    'ANSIBLE_PLAYBOOK', os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'))


class PlaybookError(AssertionError):
    pass


class PlaybookRunner(object):
    """Runs a list of module tasks in one ansible-playbook run."""

    def __init__(self, host=None, inventory=None, verbose=False):
        self.host = host
        self.inventory = inventory
        if host and not inventory:
            raise ValueError('a host needs an inventory (KOJI_TEST_INVENTORY)')
        if inventory and not os.path.isabs(inventory):
            inventory = os.path.join(REPO_ROOT, inventory)
        self.inventory = inventory
        self.verbose = verbose
        self.last_wall = None

    def run(self, tasks, label='kojiforge module tasks', variables=None):
        """``tasks``: [(module, params, check_mode)], ``module`` a kojiforge.koji module
        name or a fully qualified one. ``variables``: extra variables, passed in a JSON file
        (``-e @file``) so that params can name them as playbooks/config.yml does
        (``tags: "{{ koji_tags }}"``). Returns one recorded entry per task:
        {'task', 'status', 'start', 'end', 'result'} (see callback_plugins/kojiforge_record.py).
        """
        workdir = os.path.join(os.environ.get('TMPDIR', '/tmp'),
                               'kfit-%s' % uuid.uuid4().hex[:8])
        os.makedirs(workdir)
        record = os.path.join(workdir, 'record.jsonl')
        play_tasks = []
        for index, (module, params, check_mode) in enumerate(tasks):
            play_tasks.append({
                'name': 'task %d: %s' % (index, module),
                module if '.' in module else 'kojiforge.koji.%s' % module: params,
                'check_mode': bool(check_mode),
                'ignore_errors': True,
            })
        play = [{'name': label, 'hosts': self.host or 'localhost', 'gather_facts': False,
                 'tasks': play_tasks}]
        playbook = os.path.join(workdir, 'play.yml')
        with open(playbook, 'w') as handle:
            yaml.safe_dump(play, handle)
        env = dict(os.environ)
        env['ANSIBLE_COLLECTIONS_PATH'] = collection_path()
        env['ANSIBLE_CALLBACK_PLUGINS'] = CALLBACK_DIR
        env['ANSIBLE_CALLBACKS_ENABLED'] = 'kojiforge_record'
        env['KOJIFORGE_RECORD_FILE'] = record
        env['ANSIBLE_LOCALHOST_WARNING'] = 'false'
        env['ANSIBLE_INVENTORY_UNPARSED_WARNING'] = 'false'
        if self.host:
            command = [ANSIBLE_PLAYBOOK, '-i', self.inventory, playbook]
        else:
            env['ANSIBLE_PYTHON_INTERPRETER'] = sys.executable
            command = [ANSIBLE_PLAYBOOK, '-i', 'localhost,', '-c', 'local', playbook]
        if variables:
            vars_file = os.path.join(workdir, 'vars.json')
            with open(vars_file, 'w') as handle:
                json.dump(variables, handle)
            command[1:1] = ['-e', '@' + vars_file]
        start = time.time()
        proc = subprocess.run(command, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, universal_newlines=True,
                              timeout=3600, check=False)
        self.last_wall = time.time() - start
        if self.verbose:
            sys.stdout.write(proc.stdout)
        entries = []
        if os.path.exists(record):
            with open(record) as handle:
                entries = [json.loads(line) for line in handle if line.strip()]
        if len(entries) != len(tasks):
            raise PlaybookError('ansible-playbook did not run every task (%d of %d):\n%s'
                                % (len(entries), len(tasks), proc.stdout[-6000:]))
        return entries

    def run_one(self, module, params, check_mode=False):
        """One module task; returns its registered result."""
        return self.run([(module, params, check_mode)], label='run %s' % module)[0]['result']


READER_SCRIPT = r'''
import json, sys
import koji
kind, value, serverca = sys.argv[1:4]
if kind == "profile":
    config = koji.read_config(value)
    server, serverca = config["server"], serverca or config.get("serverca")
else:
    server = value
session = koji.ClientSession(server, {"serverca": serverca} if serverca else {})
out = sys.stdout
for line in sys.stdin:
    request = json.loads(line)
    try:
        reply = {"result": getattr(session, request["method"])(*request["args"],
                                                                **request["kwargs"])}
    except Exception as exc:
        reply = {"error": "%s: %s" % (type(exc).__name__, exc)}
    out.write(json.dumps(reply, default=str) + "\n")
    out.flush()
'''


class HubReaderError(Exception):
    pass


class HubReader(object):
    """Anonymous hub calls made by a Python process on another host (see module doc).

    ``reader.getLastEvent()`` works like a koji.ClientSession call; results come back
    through JSON (dates as strings)."""

    def __init__(self, command, server=None, serverca=None, profile=None, python='python3'):
        if not (server or profile):
            raise ValueError('HubReader needs a hub URL or a koji profile')
        kind, value = ('profile', profile) if profile else ('server', server)
        argv = shlex.split(command) + [python, '-u', '-c', READER_SCRIPT, kind, value,
                                       serverca or '']
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     universal_newlines=True)

    def call(self, method, *args, **kwargs):
        self.proc.stdin.write(json.dumps({'method': method, 'args': args,
                                          'kwargs': kwargs}) + '\n')
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise HubReaderError('the reader process on the hub host ended (exit %s)'
                                 % self.proc.poll())
        reply = json.loads(line)
        if 'error' in reply:
            raise HubReaderError('%s: %s' % (method, reply['error']))
        return reply['result']

    def __getattr__(self, name):
        if name.startswith('_'):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def events_touching(session, start, prefix):
    """Hub events after event ``start`` that touched an object whose name holds ``prefix``.

    A shared hub has other writers (kojira, builders, other people's runs), so "no new
    event" is checked for this run's own objects: when the last event moved, the hub's
    history since ``start`` (queryHistory) is searched for rows naming the prefix.
    Returns [(table, row)]; with nothing else writing, simply [] when no event happened."""
    if session.getLastEvent()['id'] == start:
        return []
    try:
        history = session.queryHistory(afterEvent=start)
    except Exception as exc:  # a hub without queryHistory (the fake one): cannot tell
        return [('?', {'error': 'the last event moved after %d and the history cannot be '
                                'read (%s)' % (start, exc)})]
    hits = []
    for table, rows in sorted(history.items()):
        for row in rows:
            if any(isinstance(value, str) and prefix in value for value in row.values()):
                hits.append((table, row))
    return hits
