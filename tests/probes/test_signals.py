"""SIGINT, SIGTERM and SIGHUP take one clean path on real runs of the doctor: every child's process
group killed, temporary folders removed, one line, exit 128+n; and a doctor killed with SIGKILL
(no cleanup of its own can run) still leaves no child behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import ROOT, broken_paddle, doctor_env, nvml_machine
from procs import alive, run_tag, tagged, wait_until  # noqa: F401 - run_tag: a fixture


def _default_signals() -> None:
    """preexec_fn: the stop signals at their defaults, as at a terminal (a background runner may
    start the tests with SIGINT or SIGHUP ignored, which the doctor would inherit and keep)."""
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)


def _hung_check(tmp_path, tag, *args, preexec=_default_signals):
    imported = tmp_path / "imported"
    path, how = broken_paddle("hang")
    (tmp_path / "tmp").mkdir()
    env = doctor_env(nvml_machine(), [path], {**tag, **how, "FAKE_PADDLE_IMPORTED": str(imported),
                                              "TMPDIR": str(tmp_path / "tmp")})
    doctor = subprocess.Popen([sys.executable, "-m", "paddledoctor", *args], env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, start_new_session=True,
                              preexec_fn=preexec)
    probe = wait_until(lambda: tagged(tag, "paddle_probe.py"), timeout=30)
    assert probe, "the paddle probe child never started"
    assert wait_until(imported.exists, timeout=30), "the fake paddle was never imported"
    grandchild = wait_until(lambda: tagged(tag, "time.sleep(3600)"), timeout=10)
    assert grandchild, "the fake paddle's grandchild never started"
    return doctor, probe + grandchild


@pytest.mark.parametrize("signame, status, line", [
    ("SIGTERM", 143, "paddledoctor: stopped by SIGTERM"),
    ("SIGHUP", 129, "paddledoctor: stopped by SIGHUP"),
    ("SIGINT", 130, "paddledoctor: interrupted"),
])
@pytest.mark.parametrize("command", [["check", "--timeout", "120"],
                                     ["report", "--timeout", "120", "-o", "report.md"]])
def test_a_stop_signal_kills_every_child_and_exits_128_plus_n(run_tag, tmp_path, signame, status,
                                                              line, command):
    tag = run_tag()
    command = [str(tmp_path / a) if a == "report.md" else a for a in command]
    doctor, children = _hung_check(tmp_path, tag, *command)
    try:
        assert doctor.poll() is None
        t0 = time.monotonic()
        doctor.send_signal(getattr(signal, signame))
        out, err = doctor.communicate(timeout=15)
        seconds = time.monotonic() - t0
    finally:
        if doctor.poll() is None:
            doctor.kill()
            doctor.communicate()
    assert doctor.returncode == status, (out, err)
    assert err.strip().splitlines() == [line], err
    assert "Traceback" not in out + err
    assert seconds < 8
    assert wait_until(lambda: not any(alive(p) for p in children), 3), children
    assert wait_until(lambda: not tagged(tag), 3) is True, tagged(tag)
    assert not (tmp_path / "report.md").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".paddledoctor-")]
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_sighup_the_doctor_inherited_as_ignored_stays_ignored(run_tag, tmp_path):
    """Under nohup the doctor must not die of the hang-up it was told to ignore."""
    def nohup():
        _default_signals()
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    tag = run_tag()
    doctor, children = _hung_check(tmp_path, tag, "check", "--timeout", "120", preexec=nohup)
    try:
        doctor.send_signal(signal.SIGHUP)
        time.sleep(1.0)
        assert doctor.poll() is None, doctor.communicate()
        assert all(alive(p) for p in children)
        doctor.send_signal(signal.SIGTERM)
        out, err = doctor.communicate(timeout=15)
    finally:
        if doctor.poll() is None:
            doctor.kill()
            doctor.communicate()
    assert doctor.returncode == 143
    assert wait_until(lambda: not tagged(tag), 3) is True


@pytest.mark.parametrize("signame, status", [("SIGTERM", 143), ("SIGHUP", 129)])
def test_bench_stopped_mid_run_leaves_nothing_in_its_dir(run_tag, tmp_path, signame, status):
    tag = run_tag()
    work, tmp = tmp_path / "ckpt", tmp_path / "tmp"
    work.mkdir()
    tmp.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "paddledoctor", "bench", "--size", "64MiB",
                             "--dir", str(work)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=doctor_env(extra={**tag, "TMPDIR": str(tmp)}),
                            preexec_fn=_default_signals)
    try:
        deadline = time.monotonic() + 120
        temp = None
        while time.monotonic() < deadline:  # until the paddle child is writing its checkpoint
            stages = list(work.glob("paddledoctor-bench-*/checkpoint.stages"))
            if stages and "dygraph" in stages[0].read_text():
                temp = stages[0].parent
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        assert temp is not None, "the bench never reached the checkpoint"
        assert tagged(tag, "bench_paddle.py")
        proc.send_signal(getattr(signal, signame))
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == status, (out, err)
    assert err.strip().splitlines() == [f"paddledoctor: stopped by {signame}"], err
    assert list(work.iterdir()) == [] and list(tmp.iterdir()) == []
    assert wait_until(lambda: not tagged(tag), 3) is True, tagged(tag)


LIBRARY_CALLER = """\
import paddledoctor
print("calling", flush=True)
paddledoctor.check(timeout=120)
print("check returned", flush=True)
"""


def test_a_library_caller_stopped_by_sigterm_dies_by_it_after_the_cleanup(run_tag, tmp_path):
    """paddledoctor.check() inside someone's program: SIGTERM ends that program by SIGTERM, as it
    would have ended without the doctor (no "stopped by" line, no traceback of ours), but only once
    the children's groups are dead."""
    tag = run_tag()
    imported = tmp_path / "imported"
    path, how = broken_paddle("hang")
    (tmp_path / "caller.py").write_text(LIBRARY_CALLER)
    env = doctor_env(nvml_machine(), [path], {**tag, **how, "FAKE_PADDLE_IMPORTED": str(imported)})
    caller = subprocess.Popen([sys.executable, str(tmp_path / "caller.py")], env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, start_new_session=True,
                              preexec_fn=_default_signals)
    try:
        assert wait_until(imported.exists, timeout=30), "the fake paddle was never imported"
        grandchild = wait_until(lambda: tagged(tag, "time.sleep(3600)"), timeout=10)
        assert grandchild, "the fake paddle's grandchild never started"
        caller.send_signal(signal.SIGTERM)
        out, err = caller.communicate(timeout=15)
    finally:
        if caller.poll() is None:
            caller.kill()
            caller.communicate()
    assert caller.returncode == -signal.SIGTERM, (out, err)
    assert out.splitlines() == ["calling"] and "Traceback" not in err, (out, err)
    assert wait_until(lambda: not tagged(tag), 3) is True, tagged(tag)


MODEL_CALLER = """\
import sys
sys.path.insert(0, {models!r})
import paddledoctor
paddledoctor.bench_model("real_models:plain", directory={dir!r}, device="cpu", timeout=300)
print("bench_model returned", flush=True)
"""


def test_a_library_bench_model_stopped_by_sigterm_leaves_nothing_in_its_dir(run_tag, tmp_path):
    """paddledoctor.bench_model() inside someone's program, stopped while its child trains the
    model: the program dies by SIGTERM, and neither the bench's folder nor a child is left."""
    tag = run_tag()
    work = tmp_path / "ckpt"
    work.mkdir()
    (tmp_path / "caller.py").write_text(MODEL_CALLER.format(
        models=str(ROOT / "tests" / "bench" / "models"), dir=str(work)))
    caller = subprocess.Popen([sys.executable, str(tmp_path / "caller.py")],
                              env=doctor_env(extra=tag), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, preexec_fn=_default_signals)
    try:
        child = wait_until(lambda: tagged(tag, "bench_model.py"), timeout=60)
        assert child, "the model's child never started"
        assert list(work.glob("paddledoctor-bench-*/model"))
        caller.send_signal(signal.SIGTERM)
        out, err = caller.communicate(timeout=30)
    finally:
        if caller.poll() is None:
            caller.kill()
            caller.communicate()
    assert caller.returncode == -signal.SIGTERM, (out, err)
    assert "Traceback" not in err and "returned" not in out, (out, err)
    assert list(work.iterdir()) == []
    assert wait_until(lambda: not tagged(tag), 3) is True, tagged(tag)


PARENT = """\
import subprocess, sys, time
sys.path.insert(0, {root!r})
from paddledoctor.probes import isolate
isolate.CHILD_DIR = __import__("pathlib").Path({dir!r})
isolate._USE_PDEATHSIG = {pdeathsig}
child = isolate.Child("hang.py", timeout=600)
if {pdeathsig}:  # a bystander that outlives us holds the lifeline open: no EOF, PDEATHSIG alone
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"],
                     pass_fds=(child.proc.stdin.fileno(),), start_new_session=True)
print(child.proc.pid, flush=True)
time.sleep(600)
"""

HANG = """\
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
time.sleep(3600)
"""


@pytest.mark.parametrize("pdeathsig", [True, False], ids=["pdeathsig", "lifeline-watchdog"])
def test_a_doctor_killed_with_sigkill_takes_its_child_along(run_tag, tmp_path, pdeathsig):
    """No finally of the doctor runs on SIGKILL: the child dies by itself. Each way is proven alone:
    PR_SET_PDEATHSIG (Linux) with the lifeline held open by a bystander, so that its EOF cannot be
    what kills the child; and, with PR_SET_PDEATHSIG forced off, the watchdog on the lifeline's EOF,
    which also kills what the child started."""
    if pdeathsig and not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux's")
    tag = run_tag()
    (tmp_path / "hang.py").write_text(HANG)
    (tmp_path / "parent.py").write_text(PARENT.format(root=str(ROOT), dir=str(tmp_path),
                                                      pdeathsig=pdeathsig))
    parent = subprocess.Popen([sys.executable, str(tmp_path / "parent.py")], stdout=subprocess.PIPE,
                              text=True, env={**os.environ, **tag})
    try:
        child = int(parent.stdout.readline())
        sleepers = wait_until(lambda: len(tagged(tag, "time.sleep(3600)")) == 1 + pdeathsig, 10)
        assert alive(child) and sleepers
        parent.kill()
        parent.wait(10)
        assert wait_until(lambda: not alive(child), 5), "the child outlived the doctor"
        if not pdeathsig:  # the watchdog kills the child's whole group
            assert wait_until(lambda: not tagged(tag), 5) is True, tagged(tag)
    finally:
        if parent.poll() is None:
            parent.kill()
