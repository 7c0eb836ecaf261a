"""The paddle probe's GPU branch, run for real: a fake GPU build of Paddle (tests/fakes/paddle_gpu,
SYNTHESIZED: the CPU fake's numpy training step with a CUDA 12.6 version file and two devices) on
the stand-in driver's two A100s. The step on each GPU is judged on its own: one device wrong or hung
is that device's finding, and the others stay correct."""

from __future__ import annotations

import pytest

from conftest import FAKES, nvml_machine, run_json

GPU_PADDLE = FAKES / "paddle_gpu"


def check(mode: str, bad: str | None = "gpu:1", timeout: int = 20):
    env = {"FAKE_PADDLE_STEP": mode, **({"FAKE_PADDLE_BAD_DEVICE": bad} if bad else {})}
    proc, doc = run_json("check", "--timeout", str(timeout), nvml=nvml_machine(),
                         pythonpath=[GPU_PADDLE], env=env, timeout=180)
    ops = {o["device"]: o["outcome"] for o in doc["facts"]["runtime"]["ops"]}
    return proc, doc, ops


def by_code(doc, code):
    return [f for f in doc["findings"] if f["code"] == code]


def test_every_gpu_gets_its_own_checked_step():
    proc, doc, ops = check("ok", bad=None)
    assert ops == {"cpu": "ok", "gpu:0": "ok", "gpu:1": "ok"}
    devices = doc["facts"]["runtime"]["devices"]
    assert devices["gpu_count"] == 2 and devices["cudnn_runtime"] == 90501
    assert not by_code(doc, "PD503") and not by_code(doc, "PD502")
    # cuDNN was loaded by the running Paddle: no static "not found" beside it
    assert not by_code(doc, "PD203"), by_code(doc, "PD203")


def test_a_wrong_result_on_gpu1_only_is_named_for_gpu1():
    proc, doc, ops = check("wrong")
    assert ops == {"cpu": "ok", "gpu:0": "ok", "gpu:1": "wrong"}
    wrong = by_code(doc, "PD503")
    assert [f["evidence"]["device"] for f in wrong] == ["gpu:1"] and proc.returncode == 1


@pytest.mark.parametrize("mode, code", [("hang", "PD502"), ("raise", "PD504"), ("segv", "PD501")])
def test_gpu1_that_hangs_or_raises_keeps_the_other_results(mode, code):
    proc, doc, ops = check(mode, timeout=15)
    assert ops["cpu"] == "ok" and ops["gpu:0"] == "ok" and ops["gpu:1"] != "ok", ops
    assert [f["evidence"]["device"] for f in by_code(doc, code)] == ["gpu:1"], doc["findings"]
    assert proc.returncode == 1
