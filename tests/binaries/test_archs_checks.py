"""PD202/PD212/PD213 from the binaries: the real paddlepaddle-gpu 2.6.2 arch set (read by the reader
from the real wheel, kept in real_paddlepaddle_gpu_2_6_2_binaries.json with the wheel's sha256)
against simulated GPUs, and small synthesized builds for the PTX and cross-check cases."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from paddledoctor.checks import archs as archs_checks  # noqa: F401 (registration)
from paddledoctor.doctor import diagnose

HERE = Path(__file__).resolve().parent
REAL = json.loads((HERE / "real_paddlepaddle_gpu_2_6_2_binaries.json").read_text())

GPUS = {
    "H100": ("NVIDIA H100 80GB HBM3", "9.0"),
    "RTX5090": ("NVIDIA GeForce RTX 5090", "12.0"),
    "P100": ("Tesla P100-PCIE-16GB", "6.0"),
    "V100": ("Tesla V100-SXM2-32GB", "7.0"),
    "A100": ("NVIDIA A100-SXM4-80GB", "8.0"),
    "A10": ("NVIDIA A10", "8.6"),
}


def facts_for(gpu: str, version_file=None, binaries=None, driver="550.54.14") -> dict:
    name, cc = GPUS[gpu]
    return {
        "host": {"os": {"system": "Linux"}, "python": {"version": "3.11.7"}, "env": {}},
        "distributions": {"paddle_providers": [{"name": "paddlepaddle-gpu", "version": "2.6.2",
                                                "location": "/site"}], "packages": {}},
        "paddle": {"found": True, "location": "/site/paddle",
                   "version_file": version_file if version_file is not None
                   else copy.deepcopy(REAL["version_file"])},
        "binaries": binaries if binaries is not None else copy.deepcopy(REAL["binaries"]),
        "nvml": {"status": "ok", "driver_version": driver, "cuda_driver_version": "12.4",
                 "gpu_count": 1, "gpus": [{"index": 0, "name": name, "compute_capability": cc}]},
    }


def arch_findings(facts):
    report = diagnose(facts, {"quick": True}, mode="quick")
    return [f for f in report.findings if f.code in ("PD202", "PD212", "PD213")]


def test_fixture_is_the_real_wheel():
    assert REAL["sha256"] == "29694686383d935fb0966dd393f9af32a87d2d6674c8603583df5b08f9457f45"
    assert REAL["binaries"]["build"]["sass"] == [61, 70, 75, 80, 86]
    assert REAL["binaries"]["build"]["ptx"] == []
    # 2.x records no arch list: the binaries are the only source
    assert "compiled_cuda_archs" not in REAL["version_file"]


@pytest.mark.parametrize("gpu", ["H100", "RTX5090", "P100"])
def test_no_code_for_the_gpu_is_pd202_error(gpu):
    found = arch_findings(facts_for(gpu))
    assert [(f.code, f.severity.value) for f in found] == [("PD202", "error")]
    f = found[0]
    assert f"compute capability {GPUS[gpu][1]}" in f.title
    assert "libphi.so" in f.title and "sm_61 sm_70 sm_75 sm_80 sm_86" in f.title
    assert f.evidence["sass"] == "sm_61 sm_70 sm_75 sm_80 sm_86" and f.evidence["ptx"] == "none"
    assert f.evidence["from"] == "libphi.so (.nv_fatbin)"
    assert "Install a build whose binaries include" in f.fix.text


@pytest.mark.parametrize("gpu", ["V100", "A100", "A10"])
def test_gpus_with_sass_in_the_build_are_ok(gpu):
    assert arch_findings(facts_for(gpu)) == []


def test_the_union_is_not_the_build_set():
    """libwarpctc.so of 2.6.2 carries sm_90 (and so does one of libphi.so's 666 containers): an H100
    must still get PD202, because the kernels in libphi.so have no sm_90."""
    libs = {lib["path"].rsplit("/", 1)[1]: lib for lib in REAL["binaries"]["libraries"]}
    assert 90 in libs["libwarpctc.so"]["sass"]
    assert libs["libphi.so"]["sass_any"]["sm_90"] == 1 and libs["libphi.so"]["containers"] == 666
    assert 90 in REAL["binaries"]["build"]["union_sass"]
    assert [f.code for f in arch_findings(facts_for("H100"))] == ["PD202"]


def test_wrong_case_an_sm90_build_runs_on_h100():
    """The same check on a build whose binaries do hold sm_90: no finding (the check can pass)."""
    b = copy.deepcopy(REAL["binaries"])
    b["build"]["sass"] = [61, 70, 75, 80, 86, 90]
    assert arch_findings(facts_for("H100", binaries=b)) == []


def _build(sass, ptx=()):
    return {"libraries": [], "build": {"sass": list(sass), "ptx": list(ptx), "has_gpu_code": True,
                                       "primary": "/site/paddle/libs/libphi.so"}}


def test_ptx_only_is_pd212_warn():
    found = arch_findings(facts_for("H100", binaries=_build([70, 80], [80])))
    assert [(f.code, f.severity.value) for f in found] == [("PD212", "warn")]
    assert "compute_80" in found[0].title and "JIT" in found[0].title


def test_ptx_newer_than_the_gpu_does_not_serve_it():
    found = arch_findings(facts_for("A100", binaries=_build([70], [90])))
    assert [f.code for f in found] == ["PD202"]


def test_sass_of_the_same_major_serves_a_higher_minor():
    assert arch_findings(facts_for("A10", binaries=_build([80]))) == []
    # but not across a major: sm_86 does not run on 9.0, nor sm_90 on 12.0
    assert [f.code for f in arch_findings(facts_for("H100", binaries=_build([86])))] == ["PD202"]
    assert [f.code for f in arch_findings(facts_for("RTX5090", binaries=_build([90, 100])))] == ["PD202"]


def _vf(archs):
    vf = copy.deepcopy(REAL["version_file"])
    vf.update(full_version="3.3.1", cuda_version="12.6", cudnn_version="9.5.1",
              compiled_cuda_archs=list(archs))
    return vf


def test_recorded_list_disagreeing_with_binaries_is_pd213():
    found = arch_findings(facts_for("A100", version_file=_vf([61, 70, 75, 80, 86, 89, 90]),
                                    binaries=_build([61, 70, 75, 80, 86])))
    assert [(f.code, f.severity.value) for f in found] == [("PD213", "warn")]
    f = found[0]
    assert f.evidence["compiled_cuda_archs"] == [61, 70, 75, 80, 86, 89, 90]
    assert f.evidence["binaries_sass"] == [61, 70, 75, 80, 86]
    assert "recorded but absent from libphi.so: 89 90" in f.title


def test_recorded_list_agreeing_with_binaries_is_silent():
    assert arch_findings(facts_for("A100", version_file=_vf([75, 80, 86, 89, 90]),
                                   binaries=_build([75, 80, 86, 89, 90]))) == []


def test_binaries_win_over_the_recorded_list():
    """The list says 90, the binaries have no sm_90: the H100 gets PD202 (and PD213)."""
    found = arch_findings(facts_for("H100", version_file=_vf([80, 90]), binaries=_build([80])))
    assert sorted(f.code for f in found) == ["PD202", "PD213"]


def test_without_binaries_the_recorded_list_judges():
    b = {"libraries": [], "build": {"sass": [], "ptx": [], "has_gpu_code": False}}
    found = arch_findings(facts_for("RTX5090", version_file=_vf([75, 80, 86, 89, 90]), binaries=b))
    assert [(f.code, f.severity.value) for f in found] == [("PD202", "error")]
    assert found[0].evidence["from"] == "paddle/version/__init__.py"
    # exact arch missing, a lesser one of the same major there: Paddle's own warning, PD202 warn
    found = arch_findings(facts_for("A10", version_file=_vf([75, 80]), binaries=b))
    assert [(f.code, f.severity.value) for f in found] == [("PD202", "warn")]


def test_cpu_build_and_unavailable_binaries_give_nothing():
    from paddledoctor.model import Unavailable
    vf = copy.deepcopy(REAL["version_file"])
    vf["cuda_version"] = "False"
    assert arch_findings(facts_for("H100", version_file=vf)) == []
    assert arch_findings(facts_for("H100", binaries=Unavailable("probe failed"))) == []
