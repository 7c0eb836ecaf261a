"""paddledoctor.preflight(): returns the report when the machine meets the job's requirements, raises
PreflightError (failing findings, fixes, a readable str()) when not. Quick mode (no paddle import)
keeps these fast; the real training step is covered by the check tests."""

from __future__ import annotations

import json
import pickle
import sys
import types

import pytest

from conftest import SYNTHESIZED as FIXTURES, codes_of, gpu, nvml_machine

import paddledoctor
from paddledoctor import PreflightError, preflight
from paddledoctor.config import ConfigError
from paddledoctor.doctor import diagnose, probe_checkpoint_dir
from paddledoctor.model import Severity, decode

TiB = 1 << 40


def test_the_package_exports_the_function_not_the_module():
    import paddledoctor.preflight  # noqa: F401  importing the module must not shadow the function

    module = sys.modules["paddledoctor.preflight"]
    assert paddledoctor.preflight is preflight and callable(preflight)
    assert module.preflight is preflight
    assert "preflight" in paddledoctor.__all__ and "PreflightError" in paddledoctor.__all__


def test_met_requirements_return_the_report(fake_nvml, tmp_path):
    report = preflight(quick=True, min_free_disk="1KiB", checkpoint_dir=tmp_path / "ckpt",
                       config=False)
    assert report.exit_code() == 0
    assert report.options["min_free_disk"] == 1024
    assert report.options["checkpoint_dir"] == str(tmp_path / "ckpt")
    ckpt = report.facts["checkpoint_dir"]
    assert ckpt["writable"] is True and ckpt["exists"] is False
    assert ckpt["nearest_existing"] == str(tmp_path)
    assert not (tmp_path / "ckpt").exists(), "the probe must not create the folder"
    assert list(tmp_path.iterdir()) == [], "the write test must leave nothing behind"
    area = {a.area: a for a in report.areas}["requirements"]
    assert area.status == "ok" and "1 KiB free disk required" in area.summary


def test_gpu_required_on_a_cpu_machine_raises_with_findings_and_fixes(fake_nvml):
    with pytest.raises(PreflightError) as info:
        preflight(require_gpu=True, min_gpus=2, quick=True, config=False)
    err = info.value
    assert codes_of(err.report) >= {"PD601"} or codes_of(err.report) >= {"PD602"}
    assert all(f.severity is Severity.ERROR for f in err.findings)
    text = str(err)
    assert text.startswith("paddledoctor pre-flight failed: 1 problem(s).")
    assert "ERROR PD60" in text and "more: paddledoctor explain PD60" in text
    assert "fix: " in text
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == text and [f.code for f in again.findings] == [f.code for f in err.findings]


def test_free_gpu_memory_is_judged_per_gpu(fake_nvml):
    busy = gpu(memory_total=80 << 30, memory_used=70 << 30)
    free = gpu(memory_total=80 << 30, memory_used=1 << 30)
    fake_nvml(nvml_machine(gpus=[busy, free]))
    # (this is the CPU build of Paddle, so PD101 fails both; PD603 only where memory falls short)
    with pytest.raises(PreflightError) as info:
        preflight(min_free_gpu_mem="20GiB", quick=True, config=False)  # one GPU is enough
    assert [f.code for f in info.value.findings] == ["PD101"]
    with pytest.raises(PreflightError) as info:
        preflight(min_free_gpu_mem="20GiB", min_gpus=2, quick=True, config=False)
    assert [f.code for f in info.value.findings] == ["PD101", "PD602", "PD603"]
    pd603 = [f for f in info.value.findings if f.code == "PD603"]
    assert "2 GPU(s) with 20 GiB free required, 1 have it" in pd603[0].title
    assert "gpu 0: 10 GiB free of 80 GiB" in pd603[0].title
    assert pd603[0].fix.commands and "nvidia-smi" in pd603[0].fix.commands[0]


def test_free_gpu_memory_without_any_gpu_fails(fake_nvml):
    with pytest.raises(PreflightError) as info:
        preflight(min_free_gpu_mem="1GiB", quick=True, config=False)
    assert [f.code for f in info.value.findings] == ["PD603"]
    assert "NVML reports no GPU" in info.value.findings[0].title


def test_free_disk_is_measured_where_the_checkpoints_go(fake_nvml, tmp_path):
    with pytest.raises(PreflightError) as info:
        preflight(min_free_disk=1000 * TiB, checkpoint_dir=tmp_path, quick=True, config=False)
    (f,) = info.value.findings
    assert f.code == "PD604" and f"at {tmp_path}," in f.title
    assert f.evidence["required_free"] == 1000 * TiB and f.evidence["free"] < 1000 * TiB


def test_unwritable_checkpoint_dir_fails(fake_nvml, tmp_path):
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("x")
    with pytest.raises(PreflightError) as info:
        preflight(checkpoint_dir=a_file / "ckpt", quick=True, config=False)
    (f,) = info.value.findings
    assert f.code == "PD605" and "is a file" in f.title
    # /proc takes no new files, even from root
    with pytest.raises(PreflightError) as info:
        preflight(checkpoint_dir="/proc/paddledoctor-ckpt", quick=True, config=False)
    assert [f.code for f in info.value.findings] == ["PD605"]


def test_checkpoint_dir_probe_on_an_existing_writable_folder(tmp_path):
    facts = probe_checkpoint_dir(tmp_path)
    assert facts["exists"] is True and facts["writable"] is True
    assert isinstance(facts["free"], int) and facts["free"] > 0 and facts["total"] >= facts["free"]


def test_strict_turns_warnings_into_failures(fake_nvml, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")  # PD208 (warn) with this CPU build
    report = preflight(quick=True, config=False)
    assert "PD208" in codes_of(report)
    with pytest.raises(PreflightError) as info:
        preflight(quick=True, strict=True, config=False)
    assert [f.code for f in info.value.findings] == ["PD208"]


def test_bad_values_raise_config_error_before_any_probe():
    for kwargs, words in [({"min_free_disk": "lots"}, "not a size"),
                          ({"min_gpus": -1}, "whole number"),
                          ({"require_gpu": "yes"}, "true or false")]:
        with pytest.raises(ConfigError, match=words):
            preflight(config=False, **kwargs)
    assert issubclass(ConfigError, ValueError)


# --- bench (the contract: paddledoctor.bench.check_bench_facts(directory=..., timeout=...)) --------

def test_bench_runs_the_round_trip_into_the_checkpoint_dir(fake_nvml, tmp_path, monkeypatch):
    """The wiring, against the bench contract: a stand-in module records the call."""
    calls = []

    def check_bench_facts(directory=None, timeout=None):
        calls.append((directory, timeout))
        return {"directory": str(directory), "outcome": "ok"}

    stand_in = types.ModuleType("paddledoctor.bench")
    stand_in.check_bench_facts = check_bench_facts
    monkeypatch.setitem(sys.modules, "paddledoctor.bench", stand_in)
    report = preflight(bench=True, checkpoint_dir=tmp_path, quick=True, config=False)
    assert calls == [(str(tmp_path), 120.0)]
    assert report.facts["bench"] == {"directory": str(tmp_path), "outcome": "ok"}
    assert "PD606" not in codes_of(report)


def test_bench_real_round_trip_into_the_checkpoint_dir(fake_nvml, tmp_path):
    report = preflight(bench=True, checkpoint_dir=tmp_path, quick=True, config=False)
    dygraph = report.facts["bench"]["dygraph"]
    assert dygraph["exact"] is True and dygraph["bytes"] > 0
    assert report.facts["bench"]["options"]["dir"] == str(tmp_path)
    assert list(tmp_path.iterdir()) == [], "the round trip cleans up after itself"


def test_bench_that_cannot_run_is_reported_not_faked(fake_nvml, monkeypatch):
    monkeypatch.setitem(sys.modules, "paddledoctor.bench", types.ModuleType("paddledoctor.bench"))
    with pytest.raises(PreflightError) as info:
        preflight(bench=True, quick=True, config=False)
    (f,) = info.value.findings
    assert f.code == "PD606" and "could not run" in f.title
    assert "not available in this paddledoctor" in f.evidence["reason"]


# --- the pure checks on recorded facts ---------------------------------------------------------------

def _a100_facts(**gpu_memory) -> dict:
    doc = json.loads((FIXTURES / "gpu_build_ok_a100.json").read_text())
    facts = decode(doc["facts"])
    for g, (used, total) in zip(facts["nvml"]["gpus"], gpu_memory.values()):
        g["memory"] = {"total": total, "used": used, "free": total - used}
    return facts


def test_recorded_gpu_report_meets_the_memory_requirement_on_8_of_2_gpus_only_when_asked():
    facts = _a100_facts(g0=(0, 80 << 30), g1=(79 << 30, 80 << 30))
    report = diagnose(facts, {"min_free_gpu_mem": 20 << 30})
    assert "PD603" not in codes_of(report)
    report = diagnose(facts, {"min_free_gpu_mem": 20 << 30, "min_gpus": 2})
    assert "PD603" in codes_of(report) and "PD602" not in codes_of(report)
    report = diagnose(facts, {"min_free_gpu_mem": 20 << 30, "min_gpus": 8})
    assert {"PD602", "PD603"} <= codes_of(report)


def test_requirement_checks_skip_what_a_recorded_report_lacks():
    facts = _a100_facts()
    report = diagnose(facts, {"checkpoint_dir": "/mnt/ckpt", "bench": True})
    assert not {"PD604", "PD605", "PD606"} & codes_of(report)
