"""The stack checks (PD112-PD116, PD150, PD151) on REAL distributions from PyPI: their dist-info
folders (METADATA exactly as the wheel ships it) beside a real Paddle's, as `pip install --no-deps`
leaves them. The headline case of issue #15: paddleocr / paddlex 3.0.0 beside paddlepaddle 2.6.2.
Each detector has its wrong case (the same toolkits beside Paddle 3.3.1, numpy 1.26 instead of 2.x).
Without PyPI the tests skip with the reason."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import realdists as R  # noqa: E402  (beside this file)

from paddledoctor import checks  # noqa: E402
from paddledoctor.probes import stack as stack_probe  # noqa: E402


def judge(site: Path, **facts) -> dict:
    """The findings (code -> [Finding]) of every check on the stack facts of this folder."""
    all_facts = {"stack": stack_probe.probe([str(site)]), **facts}
    findings, _ = checks.run(all_facts, {})
    out: dict = {}
    for f in findings:
        out.setdefault(f.code, []).append(f)
    return out


@pytest.fixture(scope="module")
def paddle262() -> Path:
    return R.dist_info("paddlepaddle==2.6.2")


@pytest.fixture(scope="module")
def ocr3() -> list[Path]:
    return [R.dist_info("paddleocr==3.0.0"), R.dist_info("paddlex==3.0.0")]


def test_the_probe_reads_real_metadata_without_importing(tmp_path, paddle262, ocr3):
    site = R.site(tmp_path, paddle262, *ocr3)
    s = stack_probe.probe([str(site)])
    d = s["distributions"]
    assert d["paddlepaddle"]["why"] == "paddle" and d["paddlepaddle"]["version"] == "2.6.2"
    assert d["paddleocr"]["why"] == "toolkit" and d["paddlex"]["why"] == "toolkit"
    assert "paddlex[ie,multimodal,ocr]==3.0.0" in d["paddleocr"]["requires"]
    assert 'protobuf (>=3.20.2) ; platform_system != "Windows"' in d["paddlepaddle"]["requires"]
    assert s["marker_environment"]["platform_system"]  # recorded for --from
    assert "paddle" not in sys.modules or sys.modules["paddle"].__file__ != str(site / "paddle")


def test_paddleocr_and_paddlex_3_beside_paddle_2_6_2_is_pd114_with_the_install(tmp_path, paddle262,
                                                                               ocr3):
    found = judge(R.site(tmp_path, paddle262, *ocr3))
    pd114 = {f.evidence["toolkit"]: f for f in found["PD114"]}
    assert set(pd114) == {"paddleocr 3.0.0", "paddlex 3.0.0"}, list(pd114)
    ocr = pd114["paddleocr 3.0.0"]
    assert ocr.severity.value == "error"
    assert "Paddle 2.6.2 is installed" in ocr.title
    # the fix names a Paddle 3.x release that fits (on CPU: not the 3.3.x releases that crash)
    assert ocr.fix.commands == ["python -m pip install paddlepaddle==3.2.2"], ocr.fix.commands
    assert '"paddleocr<3"' in ocr.fix.text
    assert "set_optimization_level" in pd114["paddlex 3.0.0"].title
    assert "PD115" not in found  # 2.6.2 has no oneDNN/PIR crash


def test_the_same_toolkits_beside_paddle_3_3_1_are_no_pd114_but_the_known_crash(tmp_path, ocr3):
    paddle331 = R.venv_dist_info("paddlepaddle")  # the real 3.3.1 CPU wheel of the test venv
    found = judge(R.site(tmp_path, paddle331, *ocr3))
    assert "PD114" not in found, [f.title for f in found.get("PD114", [])]
    (bad,) = found["PD115"]
    assert "3.3.1" in bad.title and "oneDNN" in bad.title
    assert bad.fix.commands == ["python -m pip install paddlepaddle==3.2.2"]
    assert "enable_mkldnn=False" in bad.fix.text


def test_no_known_crash_on_3_3_1_without_the_toolkits_it_hits(tmp_path):
    found = judge(R.site(tmp_path, R.venv_dist_info("paddlepaddle")))
    assert "PD115" not in found


def test_missing_requirements_of_a_toolkit_are_pd112_with_one_pip_install(tmp_path, paddle262, ocr3):
    found = judge(R.site(tmp_path, paddle262, *ocr3))
    by = {f.evidence["distribution"]: f for f in found["PD112"]}
    ocr = by["paddleocr 3.0.0"]
    # paddlex is installed at the pinned version: only the extras' packages are unmet
    unmet = {u["requirement"] for u in ocr.evidence["unmet"]}
    assert not any(r.startswith("paddlex") for r in unmet), unmet
    px = by["paddlex 3.0.0"]
    reqs = {u["requirement"] for u in px.evidence["unmet"]}
    # paddleocr asks for paddlex[ocr]: PaddleX's ocr extra is judged too (opencv-contrib pin)
    assert any(r.startswith("opencv-contrib-python==4.10.0.84") and
               any(f'extra == "{e}"' in r for e in ("ie", "multimodal", "ocr")) for r in reqs), reqs
    # an extra nobody asked for is not judged
    assert not any('extra == "serving"' in r for r in reqs), reqs
    assert px.fix.commands[0].startswith("python -m pip install ")
    assert '"opencv-contrib-python==4.10.0.84"' in px.fix.commands[0]


def test_a_requirement_at_a_version_it_does_not_accept_names_both(tmp_path, paddle262):
    site = R.site(tmp_path, paddle262, R.dist_info("protobuf==3.19.6"))
    found = judge(site)
    (pd112,) = [f for f in found["PD112"] if f.evidence["distribution"] == "paddlepaddle 2.6.2"]
    proto = [u for u in pd112.evidence["unmet"] if u["requirement"].startswith("protobuf")]
    assert proto == [{"requirement": 'protobuf (>=3.20.2) ; platform_system != "Windows"',
                      "installed": "3.19.6"}]
    assert '"protobuf>=3.20.2"' in pd112.fix.commands[0]


def test_markers_are_judged_with_the_recorded_environment(tmp_path, paddle262):
    """protobuf 4.25 meets 2.6.2's Linux requirement, not its Windows one (<=3.20.2)."""
    site = R.site(tmp_path, paddle262, R.dist_info("protobuf==4.25.3"))
    s = stack_probe.probe([str(site)])

    def proto_unmet(env_patch):
        s2 = dict(s, marker_environment=dict(s["marker_environment"], **env_patch))
        found, _ = checks.run({"stack": s2}, {})
        return [u for f in found if f.code == "PD112" for u in f.evidence["unmet"]
                if u["requirement"].startswith("protobuf")]

    assert proto_unmet({"platform_system": "Linux"}) == []
    assert [u["installed"] for u in proto_unmet({"platform_system": "Windows"})] == ["4.25.3"]


def test_numpy_2_beside_paddle_2_6_2_is_pd113_undeclared(tmp_path, paddle262):
    found = judge(R.site(tmp_path, paddle262, R.dist_info("numpy==2.1.3")))
    (f,) = found["PD113"]
    assert f.severity.value == "error" and "numpy 2.1.3 breaks Paddle 2.6.2" in f.title
    assert f.fix.commands == ['python -m pip install "numpy<2"']
    assert f.evidence["declared"] is False
    # 2.6.2 declares numpy>=1.13 only: pip's own check is silent about it
    assert not any(u["requirement"].startswith("numpy") for g in found.get("PD112", [])
                   for u in g.evidence["unmet"])


def test_numpy_1_26_beside_paddle_2_6_2_is_fine(tmp_path, paddle262):
    found = judge(R.site(tmp_path, paddle262, R.dist_info("numpy==1.26.4")))
    assert "PD113" not in found


def test_numpy_2_beside_paddle_3_3_1_is_fine(tmp_path):
    found = judge(R.site(tmp_path, R.venv_dist_info("paddlepaddle"), R.dist_info("numpy==2.1.3")))
    assert "PD113" not in found


def test_a_declared_numpy_limit_of_a_toolkit_is_pd112(tmp_path, paddle262):
    """paddledet 2.6.0 declares numpy<1.24 in its METADATA."""
    found = judge(R.site(tmp_path, paddle262, R.dist_info("paddledet==2.6.0"),
                         R.dist_info("numpy==1.26.4")))
    (det,) = [f for f in found["PD112"] if f.evidence["distribution"] == "paddledet 2.6.0"]
    assert {"requirement": "numpy (<1.24)", "installed": "1.26.4"} in det.evidence["unmet"]


def test_a_fluid_era_toolkit_on_paddle_2_6_is_pd114(tmp_path, paddle262):
    found = judge(R.site(tmp_path, paddle262, R.dist_info("paddlespeech==1.4.1")))
    (f,) = [f for f in found["PD114"] if f.evidence["toolkit"] == "paddlespeech 1.4.1"]
    assert "paddle.fluid" in f.title


def test_paddle2onnx_2_on_paddle_2_6_and_1_x_on_it_is_fine(tmp_path, paddle262):
    found = judge(R.site(tmp_path, paddle262, R.dist_info("paddle2onnx==2.0.1")))
    assert any(f.evidence["toolkit"] == "paddle2onnx 2.0.1" for f in found["PD114"])
    found = judge(R.site(tmp_path / "b", paddle262, R.dist_info("paddle2onnx==1.3.1")))
    assert "PD114" not in found


# --- other frameworks (metadata from PyPI: the wheels are too large to download) ------------------

@pytest.fixture(scope="module")
def torch270() -> Path:
    return R.pypi_metadata("torch==2.7.0")


def test_torch_and_tensorflow_pins_clash_on_one_nccl(tmp_path, torch270):
    tf = R.pypi_metadata("tensorflow==2.17.0")
    nccl = R.pypi_metadata("nvidia-nccl-cu12==2.26.2")
    found = judge(R.site(tmp_path, torch270, tf, nccl))
    clash = {f.evidence["library"]: f for f in found["PD116"]}
    f = clash["nvidia-nccl-cu12"]
    assert "torch 2.7.0 pins nvidia-nccl-cu12==2.26.2" in f.title
    assert "tensorflow 2.17.0 pins nvidia-nccl-cu12==2.19.3" in f.title
    assert "tensorflow gets a NCCL it was not built against" in f.fix.text
    # the clash is PD116's; PD112 does not repeat the nvidia pin
    assert not any(u["requirement"].startswith("nvidia-nccl") for g in found.get("PD112", [])
                   for u in g.evidence["unmet"])


def test_torch_alone_with_its_own_nccl_is_no_clash(tmp_path, torch270):
    found = judge(R.site(tmp_path, torch270, R.pypi_metadata("nvidia-nccl-cu12==2.26.2")))
    assert "PD116" not in found or all(f.evidence["library"] != "nvidia-nccl-cu12"
                                       for f in found["PD116"])


def test_two_nccl_majors_side_by_side_are_pd150(tmp_path):
    found = judge(R.site(tmp_path, R.pypi_metadata("nvidia-nccl-cu12==2.26.2"),
                         R.pypi_metadata("nvidia-nccl-cu13==2.27.7")))
    (f,) = found["PD150"]
    assert f.evidence["library"] == "NCCL" and "CUDA 12 wheel" in f.title and "CUDA 13" in f.title
    found = judge(R.site(tmp_path / "b", R.pypi_metadata("nvidia-nccl-cu12==2.26.2")))
    assert "PD150" not in found


def test_three_nccl_majors_are_one_pd150_whose_fix_keeps_the_last(tmp_path):
    found = judge(R.site(tmp_path, R.pypi_metadata("nvidia-nccl-cu11==2.21.5"),
                         R.pypi_metadata("nvidia-nccl-cu12==2.26.2"),
                         R.pypi_metadata("nvidia-nccl-cu13==2.27.7")))
    (f,) = found["PD150"]
    assert "CUDA 11 wheel, CUDA 12 wheel, CUDA 13 wheel" in f.title, f.title
    assert ("`python -m pip uninstall nvidia-nccl-cu11 nvidia-nccl-cu12` if nvidia-nccl-cu13 is the "
            "one in use") in f.fix.text, f.fix.text


# A CUDA 12.6 build's version-file literals (synthesized: the GPU 3.x wheels are not on PyPI)
GPU_BUILD_SYNTHESIZED = {"found": True, "version_file": {
    "full_version": "3.1.0", "cuda_version": "12.6", "cudnn_version": "9.5.1",
    "nccl_version": "22501", "with_pip_cuda_libraries": "ON"}}


def test_torch_beside_a_paddle_gpu_build_with_another_nccl_is_pd151(tmp_path, torch270):
    found = judge(R.site(tmp_path, torch270, R.pypi_metadata("nvidia-nccl-cu12==2.26.2")),
                  paddle=GPU_BUILD_SYNTHESIZED)
    (f,) = found["PD151"]
    assert "ncclCommInitRankScalable" in f.title and "Import torch before paddle" in f.fix.text
    same = {"found": True, "version_file": dict(GPU_BUILD_SYNTHESIZED["version_file"],
                                                nccl_version="22602")}
    found = judge(R.site(tmp_path / "b", torch270, R.pypi_metadata("nvidia-nccl-cu12==2.26.2")),
                  paddle=same)
    assert "PD151" not in found
    cpu = {"found": True, "version_file": {"full_version": "3.3.1", "cuda_version": "False"}}
    assert "PD151" not in judge(R.site(tmp_path / "c", torch270), paddle=cpu)
