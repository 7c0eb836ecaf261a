"""The #10 corrections judged on the facts of the real paddlepaddle-gpu 2.6.2 wheel: its version
file (tests/fixtures/real/, read from the PyPI wheel) on a machine whose driver and GPUs are facts.
Each test has the wrong case beside it."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from paddledoctor import doctor
from paddledoctor.model import facts_from_document

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
REAL_262 = json.loads((FIXTURES / "real" / "paddle_gpu_2.6.2_version_file.json").read_text())


def base_facts() -> dict:
    path = next(p for p in (FIXTURES / "gpu_build_ok_a100.json",
                            FIXTURES / "synthesized" / "gpu_build_ok_a100.json") if p.exists())
    facts = copy.deepcopy(facts_from_document(json.loads(path.read_text())))
    facts["paddle"]["version_file"] = copy.deepcopy(REAL_262["version_file"])
    facts["distributions"]["paddle_providers"][0].update(name="paddlepaddle-gpu", version="2.6.2",
                                                         installer="pip")
    return facts


def with_gpus(facts, n=2, driver="535.247.01", cc="8.0", name="NVIDIA A100-SXM4-80GB"):
    gpu = copy.deepcopy(facts["nvml"]["gpus"][0])
    gpu.update(name=name, compute_capability=cc)
    facts["nvml"].update(driver_version=driver, gpus=[dict(gpu, index=i) for i in range(n)],
                         gpu_count=n)
    return facts


def codes(facts, **options):
    return {f.code: f for f in doctor.diagnose(facts, options).findings}


def test_the_real_262_version_file_has_no_nccl_literal():
    assert "nccl_version" not in REAL_262["version_file"]
    assert REAL_262["version_file"]["cuda_version"] == "11.8"


def test_no_false_built_without_nccl_on_the_official_262_wheel():
    facts = with_gpus(base_facts(), n=8)
    assert "PD206" not in codes(facts)
    # wrong case: a build that records NCCL 0 is built without it
    facts["paddle"]["version_file"]["nccl_version"] = "0"
    f = codes(facts)["PD206"]
    assert "built without NCCL" in f.title
    assert not any("uninstall" in c for c in f.fix.commands)  # never uninstalls the official wheel
    # the running paddle's own word decides too
    del facts["paddle"]["version_file"]["nccl_version"]
    facts["runtime"] = {"build": {"compiled_with_nccl": False}}
    assert "PD206" in codes(facts)


@pytest.mark.parametrize("value", [-1, 0])
def test_cudnn_version_at_or_below_zero_is_not_loaded(value):
    facts = with_gpus(base_facts())
    facts["runtime"] = {"import": {"ok": True}, "devices": {"gpu_count": 2, "cudnn_runtime": value}}
    f = codes(facts).get("PD203")
    assert f is not None and "returned" in f.title and str(value) in f.title
    # 2.x never searches pip's nvidia/cudnn/lib: the fix puts it on the library path
    assert any("LD_LIBRARY_PATH" in c for c in f.fix.commands)
    assert any("libcudnn.so" in c and "ln -sf" in c for c in f.fix.commands)
    facts["runtime"]["devices"]["cudnn_runtime"] = 8600  # loaded: 8.6.0
    assert "PD203" not in codes(facts)


def test_a_262_user_on_an_a100_is_offered_262_from_pypi():
    facts = with_gpus(base_facts(), driver="535.247.01", cc="8.0")
    facts["paddle"]["version_file"].update(cuda_version="False", cudnn_version="False")
    facts["distributions"]["paddle_providers"][0].update(name="paddlepaddle")
    f = codes(facts)["PD101"]
    assert f.fix.commands[-1] == "python -m pip install paddlepaddle-gpu==2.6.2"
    assert "major upgrade" not in f.fix.text


def test_a_262_user_on_an_h100_is_told_the_3x_move_is_a_major_upgrade():
    facts = with_gpus(base_facts(), driver="535.247.01", cc="9.0", name="NVIDIA H100 80GB HBM3")
    facts["paddle"]["version_file"].update(cuda_version="False", cudnn_version="False")
    facts["distributions"]["paddle_providers"][0].update(name="paddlepaddle")
    f = codes(facts)["PD101"]
    assert "/cu126/" in f.fix.commands[-1] and "paddlepaddle-gpu==3.3.1" in f.fix.commands[-1]
    assert "major upgrade" in f.fix.text and "minor version compatibility" in f.fix.text
    assert "cu118" not in f.fix.commands[-1]


def test_a_lost_gpu_reads_as_lost_not_none():
    from paddledoctor import checks
    facts = with_gpus(base_facts(), n=2)
    facts["nvml"]["gpus"][1] = {"index": 1, "error": "GpuIsLost", "message": "GPU is lost"}
    _, areas = checks.run(facts, {})
    line = next(a.summary for a in areas if a.area == "gpu")
    assert "GPU 1 lost" in line and "None" not in line
    assert "PD303" in codes(facts)
