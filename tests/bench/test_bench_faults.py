"""Bad input and faults, each for real: an unwritable --dir, a full disk (a real 8 MiB tmpfs in a
user+mount namespace), a file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored so write gets EFBIG), a
--size that does not fit in memory, a deadline, Ctrl-C. Each: one clear finding or usage line, the
right exit code, no traceback, and no temporary file left behind."""

from __future__ import annotations

import json
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, codes_of, doctor_env, run_cli, sigint_as_at_a_terminal

from paddledoctor.bench import check_bench_facts


def no_traceback(proc):
    """Nothing printed for a person carries a traceback (a JSON report may keep the child's in
    its facts, for a maintainer)."""
    assert "Traceback" not in proc.stderr, proc.stderr
    if not proc.stdout.startswith("{"):
        assert "Traceback" not in proc.stdout


def usage_error(proc, words):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    no_traceback(proc)
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and words in errors[0], proc.stderr


@pytest.mark.parametrize("args, words", [
    (["--size", "lots"], "not a size"),
    (["--size", "10KiB"], "smallest size"),
    (["--device", "tpu"], "auto, cpu or gpu:N"),
    (["--dir", "/nonexistent/paddledoctor"], "no such folder"),
    (["--dir", "/etc/hostname"], "not a folder"),
])
def test_bad_input_is_one_usage_line(args, words):
    usage_error(run_cli("bench", *args, timeout=60), words)


def test_a_dir_under_a_regular_file_is_a_usage_error(tmp_path):
    regular = tmp_path / "file"
    regular.write_text("x")
    usage_error(run_cli("bench", "--dir", str(regular / "sub"), timeout=60), "no such folder")
    assert regular.read_text() == "x"


def test_a_dir_nothing_can_be_created_in_is_a_finding():
    # /proc exists and is a folder, and not even root can create anything in it
    proc = run_cli("bench", "--dir", "/proc", "--size", "2MiB", "--json", timeout=60)
    no_traceback(proc)
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1 and "PD703" in codes_of(doc)
    assert "dygraph" in doc["facts"]["bench"] and "unavailable" in doc["facts"]["bench"]["dygraph"]


def test_the_library_never_raises_on_an_unwritable_dir():
    facts = check_bench_facts(directory="/proc", timeout=30)
    assert facts["failures"][0]["kind"] == "write"
    assert "unavailable" in facts["dygraph"].to_json()


def in_namespace(script: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """Run a shell script as root of a new user+mount namespace (a real tmpfs, no privilege)."""
    assert shutil.which("unshare"), "unshare (util-linux) is needed for the disk-full test"
    return subprocess.run(["unshare", "-rm", "sh", "-ec", script], capture_output=True, text=True,
                          timeout=timeout, env=doctor_env(), cwd=str(ROOT))


def test_disk_full_mid_save(tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    # 8 MiB: the 4 MiB disk-limit probe fits, the 12 MiB checkpoint (params + Adam moments) does not
    proc = in_namespace(
        f"mount -t tmpfs -o size=8m tmpfs {mnt}\n"
        f"echo keep > {mnt}/users-file\n"
        f"{sys.executable} -m paddledoctor bench --size 4MiB --dir {mnt} --json > {tmp_path}/out.json"
        f" || echo exit=$?\n"
        f"echo left: $(ls -A {mnt})\n"
        f"cat {mnt}/users-file\n")
    assert "exit=1" in proc.stdout, proc.stdout + proc.stderr
    assert "left: users-file\nkeep" in proc.stdout  # only the user's own file, untouched
    doc = json.loads((tmp_path / "out.json").read_text())
    assert "Traceback" not in proc.stderr, proc.stderr
    f = [f for f in doc["findings"] if f["code"] == "PD703"]
    assert f and f[0]["evidence"]["errno"] == "ENOSPC" and "disk is full" in f[0]["title"]
    assert "paddle.save" in f[0]["evidence"]["stage"]  # mid-save, after the disk probe succeeded
    assert doc["facts"]["bench"]["disk"]["write_mbps"] > 0
    assert "PD710" in codes_of(doc)  # tmpfs: no cold read; said so


def test_a_read_only_dir_is_a_finding(tmp_path):
    mnt = tmp_path / "ro"
    mnt.mkdir()
    proc = in_namespace(
        f"mount -t tmpfs -o size=1m,ro tmpfs {mnt}\n"
        f"{sys.executable} -m paddledoctor bench --size 2MiB --dir {mnt} --json > {tmp_path}/out.json"
        f" || echo exit=$?\n")
    assert "exit=1" in proc.stdout, proc.stdout + proc.stderr
    doc = json.loads((tmp_path / "out.json").read_text())
    [f] = [f for f in doc["findings"] if f["code"] == "PD703"]
    assert f["evidence"]["errno"] == "EROFS" and "read-only" in f["title"]


def test_file_size_limit_mid_save(tmp_path):
    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # so write() fails with EFBIG, not a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (6 << 20, 6 << 20))

    proc = subprocess.run([sys.executable, "-m", "paddledoctor", "bench", "--size", "4MiB",
                           "--dir", str(tmp_path), "--json"], capture_output=True, text=True,
                          timeout=180, env=doctor_env(), preexec_fn=limit_file_size)
    no_traceback(proc)
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1
    [f] = [f for f in doc["findings"] if f["code"] == "PD703"]
    assert f["evidence"]["errno"] == "EFBIG" and "ulimit -f" in f["title"]
    assert list(tmp_path.iterdir()) == []


def test_a_size_that_does_not_fit_in_memory_is_refused_before_allocating(tmp_path):
    t0 = time.monotonic()
    proc = run_cli("bench", "--size", "64TiB", "--dir", str(tmp_path), "--json", timeout=60)
    no_traceback(proc)
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1 and "PD704" in codes_of(doc)
    assert "temp_dir" not in doc["facts"]["bench"] and list(tmp_path.iterdir()) == []
    assert time.monotonic() - t0 < 60  # refused, not attempted (measured: about 2 s; no temp_dir above)


def test_the_deadline_kills_the_child_and_cleans_up(tmp_path):
    proc = run_cli("bench", "--size", "512MiB", "--timeout", "5", "--dir", str(tmp_path), "--json",
                   timeout=120)
    no_traceback(proc)
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1
    # killed mid-step (hung), or, where the disk probe alone took the 5 s, the rest not started
    hung = [f for f in doc["findings"] if f["code"] == "PD705"]
    assert hung and ("hung" in hung[0]["title"] or "deadline" in hung[0]["title"]), doc["findings"]
    assert list(tmp_path.iterdir()) == []
    assert not children_of(doc["facts"]["bench"]["temp_dir"])


def children_of(temp_dir: str) -> list[int]:
    """Processes whose command line names the bench's temporary folder (its children)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if temp_dir.encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def test_ctrl_c_is_one_line_exit_130_and_leaves_nothing(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "paddledoctor", "bench", "--size", "64MiB",
                             "--dir", str(tmp_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=doctor_env(),
                            preexec_fn=sigint_as_at_a_terminal)
    deadline = time.monotonic() + 120
    temp = None
    while time.monotonic() < deadline:  # wait until the paddle child is at work
        stages = list(tmp_path.glob("paddledoctor-bench-*/checkpoint.stages"))
        if stages and "dygraph" in stages[0].read_text():
            temp = stages[0].parent
            break
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    assert temp is not None, "the bench never reached the checkpoint"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert err.strip().splitlines()[-1] == "paddledoctor: interrupted"
    assert "Traceback" not in err
    assert not temp.exists() and list(tmp_path.iterdir()) == []
    time.sleep(0.2)
    assert not children_of(str(temp))


@pytest.mark.parametrize("how, words", [("segv", "crashed"), ("raise", "raised an error")])
def test_a_paddle_that_crashes_or_raises_on_import_is_a_finding(tmp_path, how, words):
    from conftest import broken_paddle
    path, env = broken_paddle(how)
    proc = run_cli("bench", "--size", "2MiB", "--dir", str(tmp_path), "--json",
                   pythonpath=[path], env=env, timeout=120)
    no_traceback(proc)
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1
    found = [f for f in doc["findings"] if f["code"] == "PD705"]
    assert found and words in found[0]["title"] and "import paddle" in found[0]["title"]
    assert doc["facts"]["bench"]["disk"]["write_mbps"] > 0  # the parts before still report
    assert list(tmp_path.iterdir()) == []
