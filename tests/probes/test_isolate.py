"""isolate.Child / isolate.run with small throwaway child scripts, and Ctrl-C on the whole doctor."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import broken_paddle, doctor_env, nvml_machine, sigint_as_at_a_terminal
from paddledoctor.probes import isolate
from procs import alive, new_tag, tagged, wait_until

PRELUDE = """\
import json, os, signal, subprocess, sys, time
OUT = os.fdopen(int(sys.argv[1]), "w", buffering=1)
def emit(event, **data):
    data["event"] = event
    OUT.write(json.dumps(data) + "\\n")
"""


@pytest.fixture
def child_script(tmp_path, monkeypatch):
    """Write a child script (PRELUDE + body) into tmp_path, the CHILD_DIR for the test; give its name."""
    monkeypatch.setattr(isolate, "CHILD_DIR", tmp_path)

    def write(body: str, name: str = "child.py") -> str:
        (tmp_path / name).write_text(PRELUDE + textwrap.dedent(body))
        return name
    return write


def _open_fds() -> set[str]:
    """The open descriptors, as 'fd -> target' (the pipe's inode included). Compared with <=: an
    unrelated descriptor the runtime closes meanwhile is not a leak, a new one is."""
    fds = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            fds.add(f"{fd} -> {os.readlink(f'/proc/self/fd/{fd}')}")
        except OSError:  # the listing's own descriptor, gone by now
            pass
    return fds


def test_a_clean_child_reports_its_events(child_script):
    script = child_script("""
        emit("stage", name="one")
        emit("done", args=sys.argv[2:])
    """)
    result = isolate.run(script, args=["a", "b"], timeout=10)

    assert [e["event"] for e in result.events] == ["stage", "done"]
    assert result.last("done")["args"] == ["a", "b"]
    assert result.returncode == 0 and not result.timed_out
    assert result.failure() is None


def test_events_before_a_crash_are_kept(child_script):
    script = child_script("""
        import resource
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        emit("import", ok=True)
        emit("stage", name="op on gpu:1")
        os.kill(os.getpid(), signal.SIGSEGV)
        emit("done")
    """)
    result = isolate.run(script, timeout=10)

    assert [e["event"] for e in result.events] == ["import", "stage"]
    assert result.last("stage")["name"] == "op on gpu:1"
    assert result.last("done") is None
    assert result.returncode == -signal.SIGSEGV
    assert result.signal_name == "SIGSEGV"
    assert result.failure() == "killed by SIGSEGV"
    assert not result.timed_out


def test_a_timeout_kills_the_whole_process_group(child_script, tmp_path):
    script = child_script("""
        grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
        emit("grandchild", pid=grandchild.pid)
        emit("stage", name="hang")
        time.sleep(3600)
    """)
    t0 = time.monotonic()
    result = isolate.run(script, timeout=1.5)
    seconds = time.monotonic() - t0

    assert result.timed_out
    assert 1.4 < seconds < 4
    assert result.failure() == "no answer in 2 s (killed)"
    assert result.returncode == -signal.SIGKILL
    assert result.last("stage")["name"] == "hang"
    grandchild = result.last("grandchild")["pid"]
    assert wait_until(lambda: not alive(grandchild), 3), f"grandchild {grandchild} still runs"


def test_a_helper_left_running_neither_stalls_the_wait_nor_outlives_the_child(child_script):
    """The child ends well but leaves a process that holds its pipes (even the event pipe) open:
    the wait ends soon after the child, not at the deadline, and the helper is killed."""
    script = child_script("""
        helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"],
                                  close_fds=False)
        emit("helper", pid=helper.pid)
        emit("done")
        os._exit(0)
    """)
    t0 = time.monotonic()
    result = isolate.run(script, timeout=600)

    # measured: about 0.3 s; the fault would wait for the 600 s deadline (the helper holds the pipes)
    assert time.monotonic() - t0 < 60
    assert not result.timed_out and result.returncode == 0
    assert result.failure() is None
    assert [e["event"] for e in result.events] == ["helper", "done"]
    helper = result.last("helper")["pid"]
    assert wait_until(lambda: not alive(helper), 3), f"helper {helper} still runs"


def test_children_run_concurrently_and_each_keeps_its_deadline(child_script):
    """Several children started at once: waiting on one does not stall the other's deadline."""
    slow = child_script("""
        emit("stage", name="sleep")
        time.sleep(3600)
    """, name="slow.py")
    fast = child_script("""
        time.sleep(0.5)
        emit("done")
    """, name="fast.py")
    t0 = time.monotonic()
    children = [isolate.Child(slow, timeout=1.5), isolate.Child(fast, timeout=10)]
    slow_result, fast_result = (c.wait() for c in children)

    # measured: about 1.6 s; the fault (no deadline kept) would wait for the slow child's hour
    assert time.monotonic() - t0 < 60
    assert slow_result.timed_out and not fast_result.timed_out
    assert fast_result.last("done") is not None


def test_stdout_and_stderr_noise_does_not_corrupt_events(child_script):
    script = child_script("""
        print('{"event": "forged on stdout"}', flush=True)
        emit("first", n=1)
        sys.stderr.write("W0101 noisy native library\\n" * 3000)  # ~80 kB, more than the tail kept
        sys.stderr.flush()
        os.write(1, b"\\xff\\xfe not utf-8 \\n")
        emit("second", n=2)
        print("the last stdout line", flush=True)
    """)
    result = isolate.run(script, timeout=10)

    assert result.events == [{"event": "first", "n": 1}, {"event": "second", "n": 2}]
    assert "forged on stdout" in result.stdout
    assert result.stdout.rstrip().endswith("the last stdout line")
    assert "W0101 noisy native library" in result.stderr
    assert len(result.stderr) <= 4000
    assert result.failure() is None


def test_a_partial_last_line_and_non_objects_are_ignored(child_script):
    script = child_script("""
        emit("complete")
        OUT.write("[1, 2, 3]\\n")
        OUT.write("not json at all\\n")
        OUT.write('{"event": "cut sho')
        OUT.flush()
        os._exit(0)
    """)
    result = isolate.run(script, timeout=10)

    assert result.events == [{"event": "complete"}]
    assert result.failure() is None


def test_a_nonzero_exit_is_reported(child_script):
    script = child_script("""
        emit("stage", name="before exit")
        sys.stderr.write("something went wrong\\n")
        sys.exit(3)
    """)
    result = isolate.run(script, timeout=10)

    assert result.returncode == 3
    assert result.failure() == "exited with status 3"
    assert "something went wrong" in result.stderr
    assert result.last("stage")["name"] == "before exit"


def test_a_missing_script_is_an_exit_not_an_exception(child_script):
    result = isolate.run("no_such_probe.py", timeout=10)

    assert result.returncode == 2
    assert result.failure() == "exited with status 2"
    assert "no_such_probe.py" in result.stderr
    assert result.events == []


def test_an_interpreter_that_cannot_start_is_reported_not_raised(child_script, monkeypatch):
    script = child_script('emit("done")\n')
    monkeypatch.setattr(isolate.sys, "executable", "/nonexistent/bin/python3")
    fds_before = _open_fds()

    child = isolate.Child(script, timeout=10)
    result = child.wait()
    child.kill()  # harmless on a child that never started

    assert child.proc is None
    assert result.start_error and "/nonexistent/bin/python3" in result.start_error
    assert result.failure().startswith("could not start: ")
    assert result.events == [] and not result.timed_out
    assert _open_fds() <= fds_before  # both ends of the event pipe were closed
    assert isolate.run(script, timeout=10).start_error  # run() reports it the same way


def test_ctrl_c_stops_the_doctor_and_its_children(tmp_path):
    """SIGINT to the doctor while the paddle child hangs in import: one line, exit 130, at once,
    and neither the child nor the grandchild the fake paddle started survives."""
    tag = new_tag()
    imported = tmp_path / "imported"
    path, how = broken_paddle("hang")
    env = doctor_env(nvml_machine(), [path], {**tag, **how, "FAKE_PADDLE_IMPORTED": str(imported)})
    doctor = subprocess.Popen([sys.executable, "-m", "paddledoctor", "check", "--timeout", "60"],
                              env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, start_new_session=True,
                              preexec_fn=sigint_as_at_a_terminal)
    try:
        probe = wait_until(lambda: tagged(tag, "paddle_probe.py"), timeout=20)
        assert probe, "the paddle probe child never started"
        assert wait_until(imported.exists, timeout=20), "the fake paddle was never imported"
        grandchild = wait_until(lambda: tagged(tag, "time.sleep(3600)"), timeout=5)
        assert grandchild, "the fake paddle's grandchild never started"
        assert doctor.poll() is None

        t0 = time.monotonic()
        doctor.send_signal(signal.SIGINT)
        out, err = doctor.communicate(timeout=5)
        seconds = time.monotonic() - t0
    finally:
        if doctor.poll() is None:
            doctor.kill()
            doctor.communicate()

    assert seconds < 5
    assert doctor.returncode == 130
    assert err.strip().splitlines() == ["paddledoctor: interrupted"], err
    assert "Traceback" not in err + out
    assert wait_until(lambda: not any(alive(p) for p in probe + grandchild), 3), probe + grandchild
    assert wait_until(lambda: not tagged(tag), 3) is True, tagged(tag)


def test_a_child_that_writes_more_than_a_pipe_holds_is_drained_while_the_caller_is_busy(
        child_script):
    """1 MB of events and 1 MB of stderr from a healthy 0.1 s job, while the caller does other work
    (the static probes) past the child's deadline: the loop drains the pipes meanwhile, so the child
    ends on time and is not taken for a hang."""
    script = child_script("""
        for i in range(10000):
            emit("row", i=i, pad="x" * 90)
        sys.stderr.write("y" * (1 << 20))
        sys.stderr.flush()
        emit("done")
    """)
    child = isolate.Child(script, timeout=3)
    time.sleep(4)  # busy elsewhere, past the deadline
    result = child.wait()

    assert not result.timed_out, result.failure()
    assert result.returncode == 0 and result.failure() is None
    assert len([e for e in result.events if e["event"] == "row"]) == 10000
    assert result.last("done") is not None
    assert result.seconds < 3


def test_many_children_are_drained_together_whatever_order_they_are_waited_in(child_script):
    loud = child_script("""
        sys.stdout.write("z" * (1 << 20)); sys.stdout.flush()
        emit("done")
    """, name="loud.py")
    slow = child_script("""
        time.sleep(2.5)
        emit("done")
    """, name="slow.py")
    children = [isolate.Child(slow, timeout=10)] + [isolate.Child(loud, timeout=2) for _ in range(3)]
    results = [c.wait() for c in children]  # the slow one first: the loud ones must not block

    assert all(not r.timed_out and r.last("done") for r in results), [r.failure() for r in results]
    assert all(r.seconds < 2 for r in results[1:])


def test_a_child_that_ends_just_before_its_deadline_is_not_timed_out(child_script):
    """The deadline is judged at the moment the child ended, not when the loop next looked: here
    the loop still reads the pipes a helper holds open when the deadline passes."""
    script = child_script("""
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])  # holds stdout
        target = float(sys.argv[2])
        time.sleep(max(0.0, target - time.monotonic()))
        os._exit(0)
    """)
    for _ in range(3):
        t0 = time.monotonic()
        child = isolate.Child(script, [repr(t0 + 1.9)], timeout=2.0)
        result = child.wait()
        if time.monotonic() - t0 < 1.9:
            pytest.skip("the machine was too slow to start the child in time")
        assert not result.timed_out and result.returncode == 0, result.failure()


def test_a_child_that_ended_long_before_the_caller_looked_is_not_timed_out(child_script):
    script = child_script('emit("done")\n')
    child = isolate.Child(script, timeout=1)
    time.sleep(2)
    result = child.wait()
    assert not result.timed_out and result.failure() is None
    assert result.seconds < 1
