"""`paddledoctor bench --model`: the user's own training, with real Paddle, resumed from what it saves.

Each factory in tests/bench/models/real_models.py is a real Paddle model whose resume needs a
different piece of state; the bench must name exactly that piece (found by elimination), or the
cause when no piece helps. The "plain" model is the control: nothing is reported for it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import paddledoctor
from paddledoctor.bench.model import FactorySpecError, factory_spec

MODELS = Path(__file__).resolve().parent / "models"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def models_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(MODELS))


def run(name: str, tmp_path, **kw):
    report = paddledoctor.bench_model(f"real_models:{name}", directory=tmp_path, device="cpu",
                                      timeout=300, **kw)
    assert not list(tmp_path.iterdir()), "the bench left files behind"
    return report


def codes(report) -> list[str]:
    return sorted(f.code for f in report.findings)


@pytest.mark.parametrize("name, required", [
    ("dropout", ["paddle_rng"]),
    ("numpy_data", ["numpy_rng"]),
    ("detached_scheduler", ["scheduler"]),
    ("everything", ["paddle_rng", "python_rng"]),
])
def test_the_piece_to_save_is_named(name, required, tmp_path):
    report = run(name, tmp_path)
    assert codes(report) == ["PD713"], [f.title for f in report.findings]
    run_facts = report.facts["bench"]["model_run"]
    assert run_facts["required"] == required
    assert run_facts["variants"]["typical"]["exact"] is False
    assert run_facts["variants"]["full"]["exact"] is True
    assert report.exit_code() == 0 and report.exit_code(strict=True) == 1


def test_paddle_rng_fix_names_the_call(tmp_path):
    f = run("dropout", tmp_path).findings[0]
    assert "Paddle's RNG" in f.title and "paddle.get_rng_state()" in f.fix.text


@pytest.mark.parametrize("name", ["plain", "scheduler", "with_input_spec"])
def test_a_training_that_resumes_exactly_gets_no_finding(name, tmp_path):
    report = run(name, tmp_path)
    assert codes(report) == []
    r = report.facts["bench"]["model_run"]
    assert r["deterministic"] and r["variants"]["typical"]["exact"]
    cost = report.facts["bench"]["model_checkpoint"]
    assert cost["exact"] and cost["file_bytes"] > 0 and cost["save_mbps"] > 0
    # the scheduler inside the optimizer is saved with it (LR_Scheduler in .pdopt): nothing to add
    assert "required" in r and r["required"] == []


def test_state_outside_every_saved_object_is_pd714(tmp_path):
    report = run("hidden_state", tmp_path)
    assert codes(report) == ["PD714"]
    assert report.exit_code() == 1


def test_renamed_parameters_are_pd716_with_paddles_own_words(tmp_path):
    report = run("renamed", tmp_path)
    assert codes(report) == ["PD716"]
    assert "should in state dict" in report.findings[0].evidence["paddle_said"]


def test_the_cpu_grad_scaler_is_said_to_be_disabled(tmp_path):
    report = run("amp_scaler", tmp_path)
    assert report.facts["bench"]["model_run"]["scaler_enabled"] is False
    assert "scaler" in report.facts["bench"]["model_run"]["pieces_present"]


@pytest.mark.parametrize("name, words", [
    ("no_inputs", "no 'batch' and the model declares no input spec"),
    ("not_a_dict", "returned a MLP, not a dict"),
    ("raises", "the dataset folder /data/train is missing"),
    ("does_not_exist", "has no attribute 'does_not_exist'"),
])
def test_an_unusable_factory_is_pd712_in_the_users_words(name, words, tmp_path):
    report = run(name, tmp_path)
    assert codes(report) == ["PD712"]
    assert words in report.findings[0].title
    assert report.exit_code() == 1


def test_factory_spec_refuses_what_a_child_cannot_import():
    assert factory_spec("pkg.mod:make") == "pkg.mod:make"
    assert factory_spec(factory_spec) == "paddledoctor.bench.model:factory_spec"
    for bad in ("nocolon", "a:b:c", "1mod:f"):
        with pytest.raises(FactorySpecError):
            factory_spec(bad)
    with pytest.raises(FactorySpecError, match="lambda"):
        factory_spec(lambda: None)

    def local():
        return {}
    with pytest.raises(FactorySpecError, match="local function"):
        factory_spec(local)


def test_cli_json_and_text(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(MODELS), str(ROOT)]))
    out = subprocess.run([sys.executable, "-m", "paddledoctor", "bench", "--model",
                          "real_models:dropout", "--dir", str(tmp_path), "--device", "cpu",
                          "--json"], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert [f["code"] for f in doc["findings"]] == ["PD713"]
    text = subprocess.run([sys.executable, "-m", "paddledoctor", "bench", "--model",
                           "real_models:dropout", "--dir", str(tmp_path), "--device", "cpu"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert "to resume exactly, save also: paddle_rng" in text.stdout
    assert "WARN PD713" in text.stdout and "Traceback" not in text.stdout + text.stderr


def test_cli_bad_spec_is_one_line_and_exit_2():
    out = subprocess.run([sys.executable, "-m", "paddledoctor", "bench", "--model", "nocolon"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "MODULE:FACTORY" in out.stderr and "Traceback" not in out.stderr
