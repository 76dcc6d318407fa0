"""Fixtures for the module and engine tests: a fresh fake hub per test and a runner that
executes a module in-process against it through the real koji client library."""

import os
import sys

import pytest

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from fakehub import FakeHub  # noqa: E402
from fakehub import runner  # noqa: E402

runner.collection_path()


class HubFixture(object):
    """A started fake hub plus helpers to run modules against it."""

    def __init__(self, hub):
        self.hub = hub
        self.state = hub.state
        self.anon = hub.session(login=False)
        self.conn = {'server': hub.url, 'user': hub.admin_user, 'password': hub.admin_password}

    def run(self, module, check_mode=False, diff=False, **args):
        params = dict(self.conn)
        params.update(args)
        return runner.run(module, params, check_mode=check_mode, diff=diff)

    def event(self):
        return self.anon.getLastEvent()['id']

    def mark(self):
        """Remember the hub's event and write log, to assert later that nothing changed."""
        return (self.event(), len(self.hub.write_log))

    def assert_unchanged(self, mark):
        assert self.event() == mark[0], 'a new hub event was created'
        assert len(self.hub.write_log) == mark[1], \
            'the hub was written to: %r' % (self.hub.write_log[mark[1]:],)

    def writes_since(self, mark):
        return [call[0] for call in self.hub.write_log[mark[1]:]]


@pytest.fixture
def hub():
    fake = FakeHub()
    fake.start()
    try:
        yield HubFixture(fake)
    finally:
        fake.stop()
