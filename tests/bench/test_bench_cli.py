"""`paddledoctor bench` run as a user runs it, with the real (CPU) Paddle: the round trips are
exact, the figures are there, nothing is left behind, and the JSON re-diagnoses with check --from."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import codes_of, run_cli


def bench_json(tmp_path: Path, *args: str, timeout: float = 300):
    proc = run_cli("bench", "--dir", str(tmp_path), "--json", *args, timeout=timeout)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc, json.loads(proc.stdout)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """One full bench at 4 MiB, shared by the tests that read its report."""
    where = tmp_path_factory.mktemp("bench")
    proc, doc = bench_json(where, "--size", "4MiB", "--project", "40GB")
    return where, proc, doc


def test_every_round_trip_is_exact_and_the_resume_identical(small_run):
    where, proc, doc = small_run
    b = doc["facts"]["bench"]
    assert doc["mode"] == "bench" and [a["area"] for a in doc["areas"]] == ["bench"]
    assert not b["failures"], b["failures"]
    for fmt in ("dygraph", "safetensors", "static", "inference", "jit"):
        assert b[fmt]["exact"] is True, (fmt, b[fmt])
    r = b["resume"]
    assert r["bitwise"] is True and r["losses_straight"] == r["losses_resumed"]
    assert r["without_optimizer_detected"] is True and r["without_optimizer_max_abs_diff"] > 0
    assert r["unique_name_trap"]["raised"] is True
    assert "should in state dict" in r["unique_name_trap"]["error"]
    assert r["safetensors_optimizer_trap"]["raised"] is True
    assert "LR_Scheduler" in r["safetensors_optimizer_trap"]["error"]
    assert b["dygraph"]["scheduler"]["last_epoch"] == b["dygraph"]["steps"]
    assert b["device"]["used"] == "cpu"  # --device auto on a CPU build
    assert proc.returncode == doc["exit_code"] == (1 if "PD701" in codes_of(doc) else 0)


def test_the_figures_are_measured(small_run):
    _, _, doc = small_run
    b = doc["facts"]["bench"]
    assert b["disk"]["write_mbps"] > 0 and b["disk"]["read_mbps"] > 0
    assert b["disk"]["cold_method"] in ("posix_fadvise(DONTNEED)", "O_DIRECT", "none")
    for fmt in ("dygraph", "safetensors"):
        assert b[fmt]["save_mbps"] > 0 and b[fmt]["load_mbps"] > 0
        assert b[fmt]["save_rss_extra"] is not None
        assert b[fmt]["save_efficiency"] == pytest.approx(b[fmt]["save_mbps"] / b["disk"]["write_mbps"])
    # the checkpoint is the parameters and Adam's two moments: about 3x --size
    assert 2.9 * (4 << 20) < b["dygraph"]["file_bytes"] < 3.2 * (4 << 20)
    assert set(b["dygraph"]["files"]) == {"model.pdparams", "model.pdopt"}
    assert "model.pdparams" in b["static"]["files"] and "model.pdopt" in b["static"]["files"]
    assert {"model.json", "model.pdmodel"} & set(b["static"]["files"])  # PIR: .json
    assert "model.pdiparams" in b["inference"]["files"] and "model.pdiparams" in b["jit"]["files"]
    a = b["async_save"]
    assert a["runs"] >= 5 and len(a["torn_tensors"]) == a["runs"]
    assert b["projection"]["bytes"] == 40 * 10**9 and b["projection"]["paddle_save_s"] > 0


def test_nothing_is_left_behind(small_run):
    where, _, doc = small_run
    b = doc["facts"]["bench"]
    assert b["cleanup"]["removed"] is True
    assert Path(b["temp_dir"]).parent == where
    assert list(where.iterdir()) == []


def test_the_json_re_diagnoses_with_check_from(small_run, tmp_path):
    _, proc, doc = small_run
    saved = tmp_path / "bench.json"
    saved.write_text(json.dumps(doc))
    again = run_cli("check", "--from", str(saved), "--json")
    redone = json.loads(again.stdout)
    # exactly the same judgement: no machine findings (PD100) on a document that holds none
    assert codes_of(redone) == codes_of(doc) and redone["verdict"] == doc["verdict"]
    assert redone["mode"] == "bench" and again.returncode == doc["exit_code"]
    assert redone["facts"]["bench"]["dygraph"]["exact"] is True


def test_the_terminal_output_has_the_table_and_the_verdict(tmp_path):
    proc = run_cli("bench", "--size", "2MiB", "--dir", str(tmp_path), timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    for text in ("paddle.save/load", "safetensors (peer)", "static.save/load", "inference model",
                 "jit.save/load", "disk (write+fsync/read)", "resume (6 steps straight",
                 "paddle.async_save:", "small models"):
        assert text in proc.stdout, text
    assert proc.stdout.rstrip().splitlines()[-1].startswith("Checkpoints round-trip exactly")
    assert list(tmp_path.iterdir()) == []


def test_gpu_on_a_cpu_build_is_a_finding_not_a_crash(tmp_path):
    proc, doc = bench_json(tmp_path, "--device", "gpu:0", "--size", "2MiB")
    assert proc.returncode == 1
    assert "PD706" in codes_of(doc)
    assert "CPU build" in doc["facts"]["bench"]["device"]["reason"]
    assert list(tmp_path.iterdir()) == []


def test_check_bench_adds_the_short_round_trip():
    proc = run_cli("check", "--bench", "--json", timeout=300)
    doc = json.loads(proc.stdout)
    b = doc["facts"]["bench"]
    assert b["options"]["size"] == 64 << 20 and b["options"]["short"] is True
    assert b["dygraph"]["exact"] is True and b["disk"]["write_mbps"] > 0
    assert "unavailable" in b["safetensors"] and "resume" not in b
    assert not Path(b["temp_dir"]).exists()
    assert "bench" in [a["area"] for a in doc["areas"]]


def test_the_command_module_imports_neither_paddle_nor_numpy_nor_rich():
    code = ("import sys, paddledoctor.cli, paddledoctor.bench, paddledoctor.bench.command; "
            "heavy = {'paddle', 'numpy', 'rich', 'safetensors'} & set(sys.modules); "
            "assert not heavy, heavy")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert proc.returncode == 0, proc.stderr
