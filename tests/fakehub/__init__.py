"""A fake Koji hub for the kojiforge.koji tests: see README.md."""

from .server import FakeHub
from .state import HubState

__all__ = ['FakeHub', 'HubState']
