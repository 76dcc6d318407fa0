"""Shared helpers of the kojiforge_metrics exporter tests: a known hub state and parsing.

In a module of its own, not in conftest.py: tests import these by name, and another
conftest.py (tests/unit/plugins) would shadow a plain `from conftest import`.

The exporter is the kojiforge-metrics package (roles/koji_web/files/kojiforge-metrics),
installed editable in the development virtualenv (requirements-dev.txt).
"""

import pathlib
import sys
import threading
import traceback

from prometheus_client.parser import text_string_to_metric_families

from fakehub import FakeHub
from fakehub.api_tasks import (TaskAPI, add_build, add_refusal, add_repo_request, add_task, add_task_run,
                               set_host_data)
from kojiforge_metrics.exporter import Exporter
from kojiforge_metrics.settings import Settings

ROOT = pathlib.Path(__file__).resolve().parents[3]

# What conftest.py builds its fixtures from.
__all__ = ["Exporter", "FakeHub", "FixedClock", "NOW", "ROOT", "Settings", "TaskAPI", "families",
           "parse", "seed", "series", "thread_stacks", "value"]

# The exporter's clock in these tests, so ages and waits are exact.
NOW = 1700000000.0
# the exporter's hub timeout in these tests: it only guards against a hang (a busy CI machine
# once took 5 s to answer one call of the fake hub)
HUB_TIMEOUT = 30
T0 = NOW - 3600


class FixedClock:
    """A clock the test moves by hand."""

    def __init__(self, now=NOW):
        self.now = now

    def __call__(self):
        return self.now


def seed(state, session):
    """The known hub of the tests (see test_exporter.py for the figures it must give)."""
    # the fake hub starts with Koji's default channels (default, createrepo, image, ...)
    state.add_host("b1.example.com", arches="x86_64", capacity=4, enabled=True, ready=True,
                   task_load=2.5, update_ts=NOW - 10, channels=("default", "createrepo"))
    state.add_host("b2.example.com", arches="aarch64", capacity=2, enabled=True, ready=False,
                   task_load=3.0, update_ts=NOW - 5, channels=("default",))
    state.add_host("b3.example.com", arches="x86_64", capacity=8, enabled=False, ready=False,
                   task_load=0.0, update_ts=None, channels=("image",))
    set_host_data(state, "b1.example.com", {"maxjobs": 5, "methods": ["build"]})

    build_tag = state.add_tag("f40-build", arches="x86_64 aarch64")
    state.add_tag("f40")
    session.createBuildTarget("f40-candidate", "f40-build", "f40")
    state.add_package("f40", "bash", "admin")
    state.add_package("f40", "zsh", "admin", blocked=True)
    state.add_package("f40-build", "bash", "admin")
    add_build(state, "bash", tags=("f40", "f40-build"))
    add_build(state, "bash", tags=("f40",))
    add_build(state, "bash", build_state="FAILED")
    add_build(state, "zsh", tags=("f40",))

    srpm = "git+https://src.example.com/rpms/bash#abc"
    add_task(state, "build", "default", "CLOSED", host="b1.example.com", request=[srpm, "f40-candidate", {}],
             create_ts=T0, start_ts=T0 + 5, completion_ts=T0 + 65)                       # 1
    add_task(state, "buildArch", "default", "FAILED", host="b2.example.com",
             request=["bash.src.rpm", build_tag, "aarch64", True, {}],
             create_ts=T0, start_ts=T0 + 20, completion_ts=T0 + 620)                     # 2
    add_task(state, "newRepo", "createrepo", "CANCELED", request=["f40-build"],
             create_ts=T0, completion_ts=T0 + 30)                                        # 3
    add_task(state, "build", "default", "FREE", request=[srpm, "f40-candidate", {}])     # 4
    add_task(state, "build", "default", "ASSIGNED", request=[srpm, "f40-candidate", {}])  # 5
    add_task(state, "buildArch", "default", "OPEN", host="b1.example.com",
             request=["bash.src.rpm", build_tag, "x86_64", True, {}], start_ts=T0)      # 6
    add_task(state, "newRepo", "createrepo", "OPEN", host="b1.example.com",
             request=["f40-build", {"__starstar": True, "event": 7}], start_ts=T0)       # 7
    add_task(state, "build", "default", "OPEN", host="b2.example.com",
             request=[srpm, "f40-candidate", {}], start_ts=T0)                           # 8
    add_task(state, "createrepo", "createrepo", "OPEN", host="b2.example.com",
             request=[7, "x86_64", None], start_ts=T0)                                   # 9
    # id 10 is missing: a gap in the sequence
    add_task(state, "tagBuild", "default", "CLOSED", host="b1.example.com", request=[2, 1],
             create_ts=T0, start_ts=T0 + 1, completion_ts=T0 + 2, task_id=11)           # 11

    # the scheduler's view (Koji 1.34+): b1 has an assigned and an open run, b2 an open one;
    # task 7 was assigned by hand (no run), task 1's run has ended, task 11's is stale (the task
    # finished before the scheduler's next pass ended it)
    add_task_run(state, 5, "b1.example.com", create_ts=NOW - 30)
    add_task_run(state, 6, "b1.example.com", create_ts=T0)
    add_task_run(state, 8, "b2.example.com", create_ts=T0)
    add_task_run(state, 1, "b1.example.com", active=False, create_ts=T0)
    add_task_run(state, 11, "b2.example.com", create_ts=T0)
    # refusals: b2 refused task 4 for now and let task 5's assignment time out (soft); the hub
    # refused task 4 for b1 (arch, hard); b3's refusal is older than the exporter's window
    add_refusal(state, 4, "b2.example.com", soft=True, by_host=True, msg="busy", ts=NOW - 60)
    add_refusal(state, 5, "b2.example.com", soft=True, by_host=False, msg="assignment timeout",
                ts=NOW - 300)
    add_refusal(state, 4, "b1.example.com", soft=False, by_host=False, msg="automatic arch refusal",
                ts=NOW - 100)
    add_refusal(state, 5, "b3.example.com", soft=True, by_host=True, ts=NOW - 1000)

    add_repo_request(state, "f40-build", create_ts=NOW - 300)
    add_repo_request(state, "f40", create_ts=NOW - 100)
    add_repo_request(state, "f40", create_ts=NOW - 1000, active=False)


def thread_stacks():
    """Every thread's stack, for the message of a failure that may be a hang (a fake hub's
    request thread stuck while holding the hub's lock, say)."""
    frames = sys._current_frames()  # pylint: disable=protected-access
    stacks = []
    for thread in threading.enumerate():
        frame = frames.get(thread.ident)
        if frame is not None:
            stacks.append("--- thread %s\n%s" % (thread.name, "".join(traceback.format_stack(frame))))
    return "\n".join(stacks)


def parse(text):
    """Exposition text -> {(sample name, frozenset of labels): value}."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def families(text):
    """Exposition text -> {family name: type}."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return dict((f.name, f.type) for f in text_string_to_metric_families(text))


def value(samples, name, **labels):
    """One sample's value; KeyError names what is missing."""
    key = (name, frozenset(labels.items()))
    if key not in samples:
        raise KeyError("%s%s not served" % (name, labels))
    return samples[key]


def series(samples, name):
    """Every sample of one name: {frozenset of labels: value}."""
    return dict((labels, v) for (n, labels), v in samples.items() if n == name)
