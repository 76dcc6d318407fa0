"""A hub that accepts connections and does not answer: the modules give up after the
``timeout`` option (koji's own default is 12 hours), resend reads only."""

import threading
import time

GUARD = 60  # seconds: far above what the module needs, far below koji's default


def stalling_hook(method_name, seen, release):
    def stall(method, args, kwargs):
        if method == method_name:
            seen.append(method)
            release.wait(10)
    return stall


def run_guarded(hub, module, **args):
    box = {}
    thread = threading.Thread(target=lambda: box.update(result=hub.run(module, **args)),
                              daemon=True)
    thread.start()
    thread.join(GUARD)
    assert not thread.is_alive(), 'the module hung on a hub that does not answer'
    return box['result']


def wait_for(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_reads_time_out_and_are_retried(hub):
    seen, release = [], threading.Event()
    hub.hub.fault_hook = stalling_hook('getTag', seen, release)
    try:
        result = run_guarded(hub, 'koji_tag', name='slow', timeout=2, read_retries=1)
    finally:
        release.set()
    assert result.get('failed'), result
    assert 'reading from the hub failed: the hub did not answer within 2 seconds (option ' \
        'timeout)' in result['msg']
    # the read was sent again once (it waited for the stalled one) before the task failed
    wait_for(lambda: len(seen) == 2)
    assert seen == ['getTag', 'getTag']


def test_writes_time_out_and_are_not_sent_again(hub):
    seen, release = [], threading.Event()
    mark = hub.mark()
    hub.hub.fault_hook = stalling_hook('createTag', seen, release)
    try:
        result = run_guarded(hub, 'koji_tag', name='slow', timeout=2)
    finally:
        release.set()
    assert result.get('failed'), result
    assert 'writing to the hub failed: the hub did not answer within 2 seconds' in result['msg']
    assert result['not_applied'] == [{'type': 'tag', 'name': 'slow', 'change': 'create tag'}]
    # the stalled batch ends on the hub (a timeout cannot undo it), nothing is sent again
    wait_for(lambda: hub.event() != mark[0])
    time.sleep(1)
    assert seen == ['createTag']


def test_timeout_must_be_positive(hub):
    result = hub.run('koji_tag', name='t', timeout=0)
    assert result.get('failed') and 'timeout must be at least 1' in result['msg']
