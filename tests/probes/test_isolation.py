"""The isolation, proven end to end: a Paddle that crashes, hangs, raises or exits on import (or in the
training step) is put first on the doctor's PYTHONPATH on a simulated two-GPU machine. Each time the
doctor names what happened, still reports the static headline (CPU build on a GPU machine: PD101),
prints no traceback of its own, and leaves no child process behind.

The fakes (tests/fakes/paddle_broken, paddle_step) carry the real CPU wheel's version file literals followed by code
that leaves a mark if it is ever executed; the static layer reads them with ast and must not run it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from conftest import FAKES, broken_paddle, codes_of, nvml_machine, run_cli
from procs import alive, new_tag, tagged, wait_until

TIMEOUT = 3


def _run(tmp_path: Path, fake: str, *args: str, step: str | None = None, as_json: bool = True):
    """Run `check` with the fake paddle; return (process, report or None, seconds, markers, tag)."""
    tag = new_tag()
    markers = {"imported": tmp_path / "imported", "version_executed": tmp_path / "version_executed"}
    env = {**tag, "FAKE_PADDLE_IMPORTED": str(markers["imported"]),
           "FAKE_PADDLE_VERSION_EXECUTED": str(markers["version_executed"])}
    if step:
        env["FAKE_PADDLE_STEP"] = step
    if fake == "paddle_step":
        path = FAKES / fake
    else:  # "paddle_segv" and the like: the broken paddle, told how to break
        path, how = broken_paddle(fake[len("paddle_"):])
        env.update(how)
    t0 = time.monotonic()
    proc = run_cli("check", *args, *(["--json"] if as_json else []), nvml=nvml_machine(),
                   pythonpath=[path], env=env, timeout=60)
    seconds = time.monotonic() - t0
    doc = json.loads(proc.stdout) if as_json else None
    return proc, doc, seconds, markers, tag


def _finding(doc: dict, code: str) -> dict:
    found = [f for f in doc["findings"] if f["code"] == code]
    assert found, f"{code} not among {sorted(codes_of(doc))}"
    return found[0]


def _words(finding: dict) -> str:
    return " ".join([finding["title"], json.dumps(finding["evidence"]), finding["fix"]["text"],
                     *finding["fix"]["commands"]])


def _assert_static_headline(doc: dict) -> None:
    pd101 = _finding(doc, "PD101")
    assert pd101["severity"] == "error"
    assert "CPU build of PaddlePaddle 3.3.1" in pd101["title"]
    assert pd101["evidence"]["build_info_from"] == "paddle/version/__init__.py"
    assert any("pip install paddlepaddle-gpu==3.3.1" in c for c in pd101["fix"]["commands"])


def _assert_clean_exit(proc, markers, tag, doc=None) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert not markers["version_executed"].exists(), markers["version_executed"].read_text()
    # Every process the run started is gone: the probes (by the pids the report names) and
    # anything they started (by the tag in their environment).
    pids = doc["facts"]["doctor"]["child_pids"] if doc else []
    assert wait_until(lambda: not any(alive(p) for p in pids), 3), pids
    assert wait_until(lambda: not tagged(tag), 3) is True, tagged(tag)
    assert not tagged(tag, "paddle_probe.py")


IMPORT_FAILURES = [
    # fake, code, words the finding must contain
    ("paddle_segv", "PD104", ["SIGSEGV"]),
    ("paddle_sigill", "PD104", ["SIGILL", "AVX"]),
    ("paddle_raise", "PD106",
     ["ImportError: libcudart.so.12: cannot open shared object file: No such file or directory"]),
    ("paddle_exit", "PD106", ["exited with status 3"]),
]


def _assert_import_failure(tmp_path, fake, code, words):
    proc, doc, seconds, markers, tag = _run(tmp_path, fake, "--timeout", str(TIMEOUT))

    assert proc.returncode == 1, proc.stderr
    assert seconds < TIMEOUT + 10
    finding = _finding(doc, code)
    assert finding["severity"] == "error"
    for word in words:
        assert word in _words(finding), finding
    _assert_static_headline(doc)
    # The import really happened, in the paddle child and not in the doctor.
    importer_pids = [int(line) for line in markers["imported"].read_text().split()]
    assert importer_pids == [doc["facts"]["doctor"]["child_pids"][1]]
    assert doc["facts"]["runtime"]["import"]["ok"] is False
    _assert_clean_exit(proc, markers, tag, doc)
    return doc, seconds


@pytest.mark.parametrize("fake, code, words", IMPORT_FAILURES, ids=[f[0] for f in IMPORT_FAILURES])
def test_import_failure_is_named_and_the_static_headline_survives(tmp_path, fake, code, words):
    _assert_import_failure(tmp_path, fake, code, words)


def test_import_crash_in_the_terminal_report(tmp_path):
    proc, _, _, markers, tag = _run(tmp_path, "paddle_sigill", "--timeout", str(TIMEOUT),
                                    as_json=False)

    assert proc.returncode == 1
    out = proc.stdout
    assert "ERROR PD104 import paddle was killed by SIGILL" in out
    assert "AVX" in out
    assert "ERROR PD101 CPU build of PaddlePaddle 3.3.1 on a machine with 2 NVIDIA GPU(s)" in out
    assert "$ python -m pip install paddlepaddle-gpu==3.3.1 -i " in out
    assert "cannot train with PaddlePaddle" in out
    _assert_clean_exit(proc, markers, tag)


def test_import_hang_is_cut_at_the_timeout(tmp_path):
    """The hanging fake also starts a grandchild; the deadline kills both, and promptly."""
    doc, seconds = _assert_import_failure(tmp_path, "paddle_hang", "PD105",
                                          [f"no answer in {TIMEOUT} s (killed)"])

    assert seconds > TIMEOUT - 0.5
    imp = doc["facts"]["runtime"]["import"]
    assert imp["outcome"] == "timeout"
    assert imp["stage"] == "import paddle"
    assert "fake paddle: initialising CUDA..." in _finding(doc, "PD105")["evidence"]["stderr_tail"]


STEP_FAILURES = [
    # FAKE_PADDLE_STEP, code, outcome, words
    ("hang", "PD502", "timeout", [f"no answer in {TIMEOUT} s (killed)"]),
    ("segv", "PD501", "signal", ["SIGSEGV"]),
    ("wrong", "PD503", "wrong", ["w_after", "b_after"]),
    ("raise", "PD504", "exception", ["fake kernel 'matmul' is not registered for cpu"]),
]


@pytest.mark.parametrize("step, code, outcome, words", STEP_FAILURES, ids=[s[0] for s in STEP_FAILURES])
def test_training_step_failure_is_named(tmp_path, step, code, outcome, words):
    proc, doc, seconds, markers, tag = _run(tmp_path, "paddle_step", "--timeout", str(TIMEOUT),
                                            step=step)

    assert proc.returncode == 1, proc.stderr
    assert seconds < TIMEOUT + 10
    runtime = doc["facts"]["runtime"]
    assert runtime["import"]["ok"] is True
    assert runtime["build"]["version"] == "3.3.1"
    [op] = runtime["ops"]
    assert op["device"] == "cpu" and op["outcome"] == outcome
    finding = _finding(doc, code)
    assert "A training step on cpu" in finding["title"]
    for word in words:
        assert word in _words(finding), finding
    _assert_static_headline(doc)
    _assert_clean_exit(proc, markers, tag, doc)


def test_a_correct_fake_step_passes(tmp_path):
    """The control: the same fake, behaving, gives no training-step finding."""
    proc, doc, _, markers, tag = _run(tmp_path, "paddle_step", "--timeout", str(TIMEOUT), step="ok")

    assert proc.returncode == 1  # the CPU build on a GPU machine is still an error
    assert doc["facts"]["runtime"]["ops"][0]["outcome"] == "ok"
    assert not codes_of(doc) & {"PD501", "PD502", "PD503", "PD504", "PD505"}
    _assert_static_headline(doc)
    _assert_clean_exit(proc, markers, tag, doc)


@pytest.mark.parametrize("fake", ["paddle_segv", "paddle_hang"])
def test_quick_never_imports_paddle(tmp_path, fake):
    proc, doc, seconds, markers, tag = _run(tmp_path, fake, "--quick", "--timeout", "60")

    assert proc.returncode == 1, proc.stderr
    assert seconds < 10  # the hang would take the whole 60 s if paddle were imported
    assert not markers["imported"].exists()
    assert "unavailable" in doc["facts"]["runtime"]
    assert not codes_of(doc) & {"PD104", "PD105", "PD106"}
    _assert_static_headline(doc)
    _assert_clean_exit(proc, markers, tag, doc)
