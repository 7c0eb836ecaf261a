"""The bench's checks are pure: judged here on the facts of a real recorded run
(data/bench_cpu_4mib.json, `paddledoctor bench --size 4MiB --project 10GB --json` on the CPU),
altered the way a faulty machine would report them."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from paddledoctor import doctor
from paddledoctor.bench import bench_report
from paddledoctor.model import Severity, Unavailable, facts_from_document

RECORDED = Path(__file__).resolve().parent / "data" / "bench_cpu_4mib.json"


@pytest.fixture
def facts() -> dict:
    return copy.deepcopy(facts_from_document(json.loads(RECORDED.read_text()))["bench"])


def codes(bench: dict) -> dict:
    return {f.code: f for f in bench_report(bench).findings}


def test_recorded_run_is_exact_and_only_async_save_is_flagged(facts):
    report = bench_report(facts)
    assert set(codes(facts)) == {"PD708"}  # async_save tore the checkpoint on this CPU
    assert report.exit_code() == 0
    [area] = report.areas
    assert area.area == "bench" and "bit-exact" in area.summary and "resume identical" in area.summary


def test_a_tensor_that_differs_after_load_is_an_error(facts):
    facts["dygraph"]["exact"] = False
    facts["dygraph"]["mismatches"] = ["pdopt[linear_0.w_0_moment1_0]: max abs diff 0.0039"]
    found = codes(facts)
    assert found["PD701"].severity is Severity.ERROR
    assert "paddle.save" in found["PD701"].title
    assert bench_report(facts).exit_code() == 1


@pytest.mark.parametrize("fmt", ["safetensors", "static", "inference", "jit"])
def test_every_format_is_judged_bit_for_bit(facts, fmt):
    facts[fmt]["exact"] = False
    assert "PD701" in codes(facts)


def test_resume_that_differs_is_an_error_on_cpu_but_a_tiny_gpu_difference_is_not(facts):
    facts["resume"].update(bitwise=False, max_abs_diff_params=1e-7)
    assert "PD702" in codes(facts)
    facts["resume"]["device"] = "gpu:0"
    assert "PD702" not in codes(facts)
    facts["resume"]["max_abs_diff_params"] = 0.01
    assert "PD702" in codes(facts)


def test_a_resume_without_optimizer_state_must_be_detected(facts):
    facts["resume"]["without_optimizer_detected"] = False
    assert "not told apart" in codes(facts)["PD702"].title


@pytest.mark.parametrize("errno, words", [("ENOSPC", "disk is full"), ("EFBIG", "ulimit -f"),
                                          ("EROFS", "read-only")])
def test_write_failures_name_the_cause(facts, errno, words):
    facts["failures"] = [{"stage": "dygraph: paddle.save", "kind": "write", "errno": errno,
                          "error": "OSError"}]
    f = codes(facts)["PD703"]
    assert words in f.title and f.evidence["errno"] == errno


def test_memory_refusal_and_crash_and_device(facts):
    facts["failures"] = [
        {"stage": "memory check", "kind": "memory", "error": "--size 10 TiB needs about 80 TiB"},
        {"stage": "paddle.load (cold)", "kind": "crash", "error": "killed by SIGSEGV"}]
    facts["device"] = {"requested": "gpu:0", "usable": False, "reason": "CPU build"}
    found = codes(facts)
    assert {"PD704", "PD705", "PD706"} <= set(found)
    assert "crashed" in found["PD705"].title


def test_slow_save_warns_with_the_measured_alternative(facts):
    facts["disk"]["write_mbps"] = 2000.0
    facts["dygraph"]["save_mbps"] = 215.0
    facts["safetensors"]["save_mbps"] = 1900.0
    f = codes(facts)["PD707"]
    assert f.severity is Severity.WARN and "11%" in f.title
    assert "1,900 MB/s" in f.fix.text
    facts["dygraph"]["save_mbps"] = 1500.0
    assert "PD707" not in codes(facts)


def test_slow_save_is_judged_on_the_best_pass_not_one_stall(facts):
    """One save pass that lands on a stall of the disk does not flip PD707: the best of the passes
    is judged against the disk's best, and the spread is shown."""
    facts["disk"]["write_mbps"] = 2000.0
    facts["dygraph"].update(save_mbps=300.0, save_passes_mbps=[300.0, 250.0, 900.0],
                            save_best_mbps=900.0)
    assert "PD707" not in codes(facts)  # the median alone (15%) would have warned
    facts["dygraph"].update(save_passes_mbps=[300.0, 250.0, 310.0], save_best_mbps=310.0)
    f = codes(facts)["PD707"]
    assert "16%" in f.title and f.evidence["paddle_save_passes"] == "300 MB/s, 250 MB/s, 310 MB/s"


def test_projection_that_does_not_fit_warns(facts):
    facts["projection"].update(fits_in_memory=False, save_memory=90 << 30, memory_total=24 << 30)
    assert "PD709" in codes(facts)


def test_warm_read_and_leftovers(facts):
    facts["disk"].update(cold=False, note="tmpfs keeps files in memory")
    facts["cleanup"]["removed"] = False
    found = codes(facts)
    assert found["PD710"].severity is Severity.INFO and found["PD711"].severity is Severity.WARN


def test_unavailable_parts_do_not_break_the_checks(facts):
    for key in ("disk", "dygraph", "safetensors", "resume", "static", "inference", "jit",
                "async_save", "device"):
        facts[key] = Unavailable("not run: a write failed")
    report = bench_report(facts)
    assert not [f for f in report.findings if f.code in ("PD001", "PD002")]


def test_the_bench_area_stays_out_of_a_check_without_bench():
    report = doctor.diagnose({}, {}, areas=["bench"])
    assert report.areas == [] and report.findings == []


def test_a_bench_report_round_trips_through_json(facts):
    doc = json.loads(json.dumps(bench_report(facts).to_json()))
    again = doctor.diagnose(facts_from_document(doc), {}, mode="from", areas=["bench"])
    assert [f.code for f in again.findings] == [f["code"] for f in doc["findings"]]


def test_a_step_the_deadline_left_no_time_for_is_an_error_not_a_silent_gap(facts):
    facts["failures"] = [{"stage": "dygraph checkpoint (64 MiB of parameters) (not started)",
                          "part": "checkpoint", "kind": "deadline",
                          "error": "the bench's deadline passed before the dygraph checkpoint step "
                                   "could start"}]
    facts["dygraph"] = Unavailable("not run: the bench's deadline had passed")
    report = bench_report(facts)
    found = codes(facts)
    assert "PD705" in found and "deadline" in found["PD705"].title
    assert report.exit_code() == 1
