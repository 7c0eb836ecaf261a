"""The checks on SYNTHESIZED reports of GPU machines with Paddle GPU builds (tests/fixtures/synthesized/,
made by tests/fixtures/synthesized/make_fixtures.py: real runs on simulated machines, not recordings): each fixture's facts, re-diagnosed by this doctor, give exactly
the error/warn findings in the table below, with the fix commands a user would run."""

from __future__ import annotations

import json

import pytest

import paddledoctor
from paddledoctor.doctor import diagnose, load_report_facts
from paddledoctor.model import Severity

from conftest import SYNTHESIZED as FIXTURES

INDEX = "https://www.paddlepaddle.org.cn/packages/stable/"
PIP = "python -m pip"
UNINSTALL_GPU = f"{PIP} uninstall -y paddlepaddle-gpu"

# fixture: {code: severity} of every error/warn finding, the exit code, and for some codes the text
# their title / fix must hold ("commands": the fix's commands exactly).
EXPECTED = {
    "gpu_build_ok_a100": dict(codes={}, exit=0),
    "gpu_build_ok_quick": dict(codes={}, exit=0),
    "driver_too_old": dict(codes={"PD201": "error"}, exit=1, text={"PD201": dict(
        title=["470.256.02", "CUDA 12.6", ">= 525.60.13"],
        commands=[UNINSTALL_GPU, f"{PIP} install paddlepaddle-gpu==3.3.0 -i {INDEX}cu118/"],
        fix=["Upgrade the driver", "cu118"], evidence={"minimum_driver": "525.60.13"})}),
    "driver_minor_compat": dict(codes={"PD201": "warn"}, exit=0, text={"PD201": dict(
        # the installed cu126 wheel runs on R535 through minor version compatibility: no reinstall
        title=["535.183.01", "550.54.14", "CUDA 12.6", "minor version compatibility"],
        commands=[],
        fix=["Upgrade the driver to >= 550.54.14"],
        evidence={"paddle_cuda": "12.6", "driver_supports_cuda_up_to": "12.2"})}),
    "arch_missing_rtx5090": dict(codes={"PD202": "error"}, exit=1, text={"PD202": dict(
        title=["GPU 0", "RTX 5090", "compute capability 12.0", "sm_61 sm_70 sm_75 sm_80 sm_86 sm_89 sm_90"],
        commands=[UNINSTALL_GPU, f"{PIP} install paddlepaddle-gpu==3.3.1 -i {INDEX}cu129/"],
        fix=["cu129 (CUDA 12.9)", "575.64.03"])}),
    "cudnn_missing": dict(codes={"PD203": "error"}, exit=1, text={"PD203": dict(
        title=["No cuDNN library found", "cuDNN 9.5.1"],
        commands=[f"{PIP} install 'nvidia-cudnn-cu12>=9.5.1,<10'"])}),
    "cudnn_missing_runtime": dict(codes={"PD203": "error", "PD504": "error"}, exit=1, count={"PD504": 2},
                                  text={"PD203": dict(title=["could not load cuDNN"]),
                                        "PD504": dict(title=["gpu:0", "libcudnn.so"])}),
    "cudnn_mismatch": dict(codes={"PD204": "error"}, exit=1, text={"PD204": dict(
        title=["cuDNN 8.9.7", "loaded by Paddle", "9.5.1"],
        commands=[f"{PIP} install 'nvidia-cudnn-cu12>=9.5.1,<10'"])}),
    "hidden_gpus": dict(codes={"PD205": "warn"}, exit=0, text={"PD205": dict(
        title=["1 of the 8 GPUs", "CUDA_VISIBLE_DEVICES='0'"],
        commands=["unset CUDA_VISIBLE_DEVICES"],
        evidence={"paddle_gpu_count": 1, "nvml_gpu_count": 8, "CUDA_VISIBLE_DEVICES": "0"})}),
    "hidden_gpus_empty_cvd": dict(codes={"PD209": "error"}, exit=1, text={"PD209": dict(
        title=["sees no GPU", "reports 8", "CUDA_VISIBLE_DEVICES=''"],
        commands=["unset CUDA_VISIBLE_DEVICES"])}),
    "nccl_missing_multi_gpu": dict(codes={"PD206": "warn"}, exit=0, text={"PD206": dict(
        title=["No NCCL library", "4 GPUs", "NCCL 2.25.1"],
        commands=[f"{PIP} install nvidia-nccl-cu12"])}),
    "gpu_build_no_gpu": dict(codes={"PD207": "warn"}, exit=0, info={"PD300"}, text={"PD207": dict(
        title=["3.3.1", "CUDA 12.6", "no NVIDIA GPU"],
        commands=[UNINSTALL_GPU, f"{PIP} install paddlepaddle==3.3.1"])}),  # pinned: never an upgrade
    "duplicate_paddle": dict(codes={"PD102": "error"}, exit=1, text={"PD102": dict(
        title=["2 installed distributions", "paddlepaddle 3.3.1", "paddlepaddle-gpu 3.3.1"],
        commands=[f"{PIP} uninstall -y paddlepaddle", UNINSTALL_GPU,
                  f"{PIP} install paddlepaddle-gpu==3.3.1 -i {INDEX}cu126/"],
        evidence={"files_on_disk_belong_to": ["paddlepaddle-gpu 3.3.1"]})}),
    "wheel_other_python": dict(codes={"PD103": "error"}, exit=1, text={"PD103": dict(
        title=["paddlepaddle-gpu 3.3.1", "cp310", "Python 3.11.9"],
        # 3.x GPU wheels are not on PyPI: the reinstall must name Paddle's index.
        commands=[f"{PIP} install --force-reinstall --no-deps paddlepaddle-gpu==3.3.1 -i {INDEX}cu126/"])}),
    "no_avx": dict(codes={"PD401": "error"}, exit=1, text={"PD401": dict(
        title=["QEMU Virtual CPU", "no AVX", "SIGILL"], fix=["-cpu host"])}),
    "small_shm": dict(codes={"PD402": "warn"}, exit=0, text={"PD402": dict(
        title=["/dev/shm is 64 MiB"], fix=["--shm-size"])}),
    "low_memory": dict(codes={"PD403": "warn"}, exit=0, text={"PD403": dict(
        title=["1.5 GiB", "container limit"])}),
    "low_disk": dict(codes={"PD404": "warn"}, exit=0, text={"PD404": dict(
        title=["2.3 GiB", "/home/user/project"],
        commands=["du -sh /home/user/project/* | sort -h | tail"])}),
    "op_wrong_gpu": dict(codes={"PD503": "error"}, exit=1, text={"PD503": dict(
        title=["gpu:1", "wrong result", "grad_w", "0.0625"],
        evidence={"device": "gpu:1", "outcome": "wrong"})}),
    "op_hang_gpu": dict(codes={"PD502": "error", "PD306": "warn"}, exit=1, text={
        "PD502": dict(title=["gpu:1", "hung", "60 s"]),
        # Another job (PID 48213) holds GPU 1; the doctor's own child (PID 2102) is not blamed.
        "PD306": dict(title=["GPU 1", "PID 48213 (python3)", "76 GiB"], not_title=["2102"],
                      commands=["nvidia-smi -i 1"])}),
    "import_sigill": dict(codes={"PD104": "error", "PD401": "error"}, exit=1, text={
        "PD104": dict(title=["SIGILL"], fix=["PD401"], evidence={"signal": "SIGILL", "outcome": "signal"},
                      commands=[f"{PIP} install --force-reinstall paddlepaddle-gpu==3.3.1 -i {INDEX}cu126/"]),
        "PD401": dict(title=["no AVX"])}),
}


def fixture_names() -> list[str]:
    return sorted(p.stem for p in FIXTURES.glob("*.json"))


def diagnosed(name: str, options: dict | None = None):
    return diagnose(load_report_facts(FIXTURES / f"{name}.json"), options)


def test_every_fixture_has_an_expectation():
    assert fixture_names() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_findings(name):
    want = EXPECTED[name]
    report = diagnosed(name)
    got = {f.code: f.severity.value for f in report.findings if f.severity is not Severity.INFO}
    assert got == want["codes"], [f.title for f in report.findings]
    assert {f.code for f in report.findings if f.severity is Severity.INFO} == want.get("info", set())
    assert report.exit_code() == want["exit"]
    assert report.exit_code(strict=True) == (1 if want["codes"] else 0)
    for code, n in want.get("count", {}).items():
        assert sum(f.code == code for f in report.findings) == n
    for code, expect in want.get("text", {}).items():
        finding = next(f for f in report.findings if f.code == code)
        for s in expect.get("title", []):
            assert s in finding.title, (s, finding.title)
        for s in expect.get("not_title", []):
            assert s not in finding.title
        if "commands" in expect:
            assert finding.fix is not None and finding.fix.commands == expect["commands"]
        for s in expect.get("fix", []):
            assert s in finding.fix.text, (s, finding.fix.text)
        for key, value in expect.get("evidence", {}).items():
            assert finding.evidence[key] == value


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_is_a_real_report(name):
    """The same document `check --json` writes: its facts carry every probe's area, the Paddle
    found is the GPU build, and the findings stored in it are this doctor's codes (so a reader of the
    file sees what the test checks; regenerate with make_fixtures.py when a check changes)."""
    doc = json.loads((FIXTURES / f"{name}.json").read_text())
    assert doc["schema_version"] == 1 and doc["mode"] in ("quick", "full")
    facts = load_report_facts(FIXTURES / f"{name}.json")
    assert set(facts) == {"host", "distributions", "paddle", "cuda_libs", "nvml", "runtime", "doctor"}
    assert facts["paddle"]["version_file"]["cuda_version"] == "12.6"
    names = [p["name"] for p in facts["distributions"]["paddle_providers"]]
    assert names == (["paddlepaddle", "paddlepaddle-gpu"] if name == "duplicate_paddle"
                     else ["paddlepaddle-gpu"])
    assert (doc["mode"] == "full") == isinstance(facts["runtime"], dict)
    stored = sorted((f["code"], f["severity"]) for f in doc["findings"])
    report = diagnose(facts, doc["options"], mode=doc["mode"])
    assert stored == sorted((f.code, f.severity.value) for f in report.findings)
    assert doc["exit_code"] == report.exit_code()


def test_no_check_crashes_on_any_fixture():
    for name in EXPECTED:
        report = diagnosed(name)
        assert not [f for f in report.findings if f.code in ("PD001", "PD002", "PD003")], name
        assert not [a for a in report.areas if "summary failed" in a.summary], name


def test_from_file_through_the_library():
    report = paddledoctor.check(from_file=FIXTURES / "driver_too_old.json")
    assert report.mode == "from" and report.source.endswith("driver_too_old.json")
    assert [f.code for f in report.findings] == ["PD201"]
    assert report.to_json()["exit_code"] == 1


def test_requirements_on_recorded_reports():
    # 8 GPUs present but CUDA_VISIBLE_DEVICES=0: one usable, counted from the training steps.
    report = diagnosed("hidden_gpus", {"min_gpus": 8})
    need = next(f for f in report.findings if f.code == "PD602")
    assert "8 GPU(s) required, 1 usable" in need.title
    # Quick mode counts the GPUs NVML reports healthy.
    assert "PD602" not in {f.code for f in diagnosed("gpu_build_ok_quick", {"min_gpus": 2}).findings}
    assert "PD602" in {f.code for f in diagnosed("gpu_build_ok_quick", {"min_gpus": 4}).findings}
    # A hung step on gpu:1 leaves one usable GPU.
    assert "PD602" in {f.code for f in diagnosed("op_hang_gpu", {"min_gpus": 2}).findings}
    report = diagnosed("gpu_build_no_gpu", {"require_gpu": True})
    assert "PD601" in {f.code for f in report.findings} and report.exit_code() == 1
