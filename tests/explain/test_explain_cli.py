"""`paddledoctor explain CODE|LOGFILE|-` as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import FIXTURES, doctor_env, nvml_machine, run_cli

LOGS = FIXTURES / "logs"
SET_DEVICE_LOG = LOGS / "real_set_device_gpu_cpu_build.log"


def test_a_code_prints_its_page():
    proc = run_cli("explain", "pd101")
    assert proc.returncode == 0
    assert proc.stdout.startswith("# PD101") and "## How to fix" in proc.stdout


def test_a_log_file_gives_code_cause_fix_and_source():
    proc = run_cli("explain", str(SET_DEVICE_LOG))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "1 known error(s)" in out and "PD101 (line 13)" in out
    assert "cause:" in out and "CPU build" in out and "fix:" in out and "paddlepaddle-gpu" in out
    assert "source: https://github.com/PaddlePaddle/Paddle" in out


def test_standard_input():
    text = (LOGS / "real_optimizer_set_error.log").read_text()
    proc = subprocess.run([sys.executable, "-m", "paddledoctor", "explain", "-", "--json"],
                          input=text, capture_output=True, text=True, env=doctor_env(), timeout=60)
    assert proc.returncode == 0, proc.stderr
    (match,) = json.loads(proc.stdout)["matches"]
    assert match["code"] == "PD803" and match["line"] == 14
    assert "unique_name.guard" in match["fix"]


def test_a_log_with_no_known_error_exits_1(tmp_path):
    log = tmp_path / "fine.log"
    log.write_text("epoch 1 loss 0.5\nepoch 2 loss 0.4\n")
    proc = run_cli("explain", str(log))
    assert proc.returncode == 1
    assert "No known PaddlePaddle error" in proc.stdout


def test_undecodable_bytes_do_not_stop_the_scan(tmp_path):
    log = tmp_path / "mixed.log"
    log.write_bytes(b"\xff\xfe garbage \x00\x81\n" + SET_DEVICE_LOG.read_bytes())
    proc = run_cli("explain", str(log), "--json")
    assert proc.returncode == 0
    assert [m["code"] for m in json.loads(proc.stdout)["matches"]] == ["PD101"]


@pytest.mark.parametrize("target,message", [
    ("PD999", "unknown code PD999"),
    ("no-such.log", "no such file: no-such.log"),
    (".", "is a directory"),
])
def test_bad_input_is_one_line_and_exit_2(target, message):
    proc = run_cli("explain", target)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_check_says_the_cause_is_still_here_on_a_gpu_machine_with_the_cpu_build():
    """The same log on a (simulated) GPU machine that still has the CPU build: still present."""
    proc = run_cli("explain", str(SET_DEVICE_LOG), "--check", "--quick", "--json",
                   nvml=nvml_machine())
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    (match,) = doc["matches"]
    assert match["on_this_machine"]["status"] == "present"
    assert "PD101" in match["on_this_machine"]["detail"]
    assert "PD101" in {f["code"] for f in doc["check"]["findings"]}


def test_check_says_the_cause_is_gone_where_the_machine_no_longer_shows_it():
    """On this machine (no GPU), the CPU build is the right one: the cause is not here now."""
    proc = run_cli("explain", str(SET_DEVICE_LOG), "--check", "--quick")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "not on this machine now" in proc.stdout
    assert "This machine:" in proc.stdout


def test_check_on_the_launcher_log_with_cuda_visible_devices_still_set():
    proc = run_cli("explain", str(LOGS / "real_launch_cvd_with_cpu_build.log"), "--check", "--quick",
                   "--json", env={"CUDA_VISIBLE_DEVICES": "0,1"})
    doc = json.loads(proc.stdout)
    assert doc["matches"][0]["code"] == "PD208"
    assert doc["matches"][0]["on_this_machine"]["status"] == "present"
    assert proc.returncode == 1


def test_check_names_file_problems_as_not_machine_facts():
    proc = run_cli("explain", str(LOGS / "real_truncated_pdparams.log"), "--check", "--quick", "--json")
    (match,) = json.loads(proc.stdout)["matches"]
    assert match["on_this_machine"]["status"] == "elsewhere"
    assert "paddledoctor inspect" in match["on_this_machine"]["detail"]
    assert proc.returncode == 0
