"""The portable paths of isolate, forced on Linux: each test of the channel, the loop and the kill
runs again with what Windows or macOS lacks switched off here.

- no pass_fds (Windows asserts on it): the event pipe is an inherited descriptor (a handle there)
- no selectable pipes (Windows' select() takes sockets only): a reader thread per pipe
- no os.waitid (macOS before Python 3.13): an ended child is found as a zombie through psutil, still
  unreaped, so its process group is killed after a normal exit too
- no killpg (Windows): the child's process tree, seen while it ran, is killed through psutil
"""

from __future__ import annotations

import time

import pytest

from paddledoctor.probes import isolate
from procs import alive, wait_until
from test_isolate import (  # noqa: F401 - collected again here, under each forced path
    child_script,
    test_a_child_that_writes_more_than_a_pipe_holds_is_drained_while_the_caller_is_busy,
    test_a_clean_child_reports_its_events,
    test_a_timeout_kills_the_whole_process_group,
    test_events_before_a_crash_are_kept,
    test_stdout_and_stderr_noise_does_not_corrupt_events,
)

FORCED = {
    "no-pass_fds": {"_HAVE_PASS_FDS": False},
    "no-select-on-pipes": {"_SELECT_PIPES": False},
    "no-waitid": {"_HAVE_WAITID": False},
    "no-killpg": {"_HAVE_KILLPG": False},
    "windows-like": {"_HAVE_PASS_FDS": False, "_SELECT_PIPES": False, "_HAVE_WAITID": False,
                     "_HAVE_KILLPG": False, "_USE_PDEATHSIG": False},
}


@pytest.fixture(autouse=True, params=sorted(FORCED))
def forced(request, monkeypatch):
    # the loop picks its pipe reader when it starts: let the previous test's loop end first
    assert wait_until(lambda: isolate._LOOP._thread is None, 5)
    for name, value in FORCED[request.param].items():
        monkeypatch.setattr(isolate, name, value)
    yield request.param
    wait_until(lambda: isolate._LOOP._thread is None, 5)


def test_a_helper_left_running_is_killed_after_the_child_ends_well(child_script, forced):
    """The child ends well, leaving a helper behind: it is killed with the child's group (without
    waitid: found as an unreaped zombie first; without killpg: from the tree seen while it ran)."""
    script = child_script("""
        helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        emit("helper", pid=helper.pid)
        time.sleep(1.2)
        emit("done")
    """)
    t0 = time.monotonic()
    result = isolate.run(script, timeout=20)

    assert time.monotonic() - t0 < 6
    assert not result.timed_out and result.returncode == 0, result.failure()
    helper = result.last("helper")["pid"]
    assert wait_until(lambda: not alive(helper), 3), f"helper {helper} still runs"


def test_the_forced_paths_are_the_ones_taken(child_script, forced, monkeypatch):
    """What reaches Popen and which readers run are the forced ones, not the Linux defaults."""
    import subprocess
    import threading

    seen: dict = {}
    real_popen = subprocess.Popen

    def spy(cmd, **kwargs):
        seen.update(kwargs)
        return real_popen(cmd, **kwargs)

    monkeypatch.setattr(isolate.subprocess, "Popen", spy)
    script = child_script("""
        emit("fd", n=int(sys.argv[1]))
        time.sleep(0.5)
    """)
    child = isolate.Child(script, timeout=10)
    time.sleep(0.2)
    readers = {t.name for t in threading.enumerate() if t.name.startswith("paddledoctor-")}
    result = child.wait()

    assert result.last("fd") and result.failure() is None
    assert ("pass_fds" in seen) == isolate._HAVE_PASS_FDS
    assert ("paddledoctor-events" in readers) == (not isolate._SELECT_PIPES), readers
