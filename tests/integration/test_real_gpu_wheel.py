"""Integration tier: the doctor against the REAL paddlepaddle-gpu 2.6.2 wheel from PyPI (the only GPU
wheel there: CUDA 11.8, 759 MB), installed --no-deps into a folder of the test cache, on GPU
machines simulated at the NVML boundary (RTX 5090, H100, A100, V100, P100 with R470-R580 drivers).
The static layer (`check --quick`) judges the wheel from its own binaries (the .nv_fatbin of
libphi.so: SASS 61 70 75 80 86, no PTX), so the verdict is the wheel's truth, not a table's.

Runs in CI. Without the network (the wheel cannot be had) it skips with the reason, never passes.
Set PADDLEDOCTOR_SKIP_INTEGRATION=1 to leave it out on a slow link."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAKE_NVML_DIR = ROOT / "tests" / "fakes" / "nvml"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "paddledoctor-tests"
WHEEL = "paddlepaddle-gpu==2.6.2"

pytestmark = pytest.mark.skipif(os.environ.get("PADDLEDOCTOR_SKIP_INTEGRATION") == "1",
                                reason="PADDLEDOCTOR_SKIP_INTEGRATION=1")


@pytest.fixture(scope="module")
def gpu262() -> Path:
    """A folder holding the real wheel's files as pip installs them (paddle/ and its .dist-info)."""
    target = CACHE / "paddlepaddle_gpu-2.6.2"
    if (target / "paddle" / "version" / "__init__.py").is_file() and any(target.glob("*.dist-info")):
        return target
    dl = CACHE / "dl-paddlepaddle-gpu-2.6.2"
    dl.mkdir(parents=True, exist_ok=True)
    wheels = list(dl.glob("paddlepaddle_gpu-2.6.2-*.whl"))
    if not wheels:
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                               "--only-binary=:all:", WHEEL, "-d", str(dl)],
                              capture_output=True, text=True, timeout=900)
        wheels = list(dl.glob("paddlepaddle_gpu-2.6.2-*.whl"))
        if proc.returncode or not wheels:
            pytest.skip(f"the real {WHEEL} wheel could not be downloaded: {proc.stderr[-300:]}")
    tmp = target.with_name(target.name + ".partial")
    with zipfile.ZipFile(wheels[0]) as z:
        z.extractall(tmp)
    tmp.rename(target)
    wheels[0].unlink()  # 759 MB: the unpacked folder is what the tests use
    return target


@pytest.fixture(scope="module")
def python() -> str:
    """An interpreter with the doctor's own dependencies only (no paddle of its own): the real
    wheel's folder is then the only Paddle it sees, as on a user's machine."""
    venv = CACHE / "venv-doctor-only"
    exe = venv / "bin" / "python"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        proc = subprocess.run([str(exe), "-m", "pip", "install", "-q", "click>=8.0", "psutil>=5.8",
                               "nvidia-ml-py>=12.535", "rich>=12.0", "packaging>=21"],
                              capture_output=True, text=True, timeout=600)
        if proc.returncode:
            import shutil
            shutil.rmtree(venv, ignore_errors=True)
            pytest.skip(f"the doctor's dependencies could not be installed: {proc.stderr[-300:]}")
    return str(exe)


MACHINES = {
    # name: (driver, CUDA driver version, GPU name, compute capability, memory GiB)
    "rtx5090_r570": ("570.172.08", 12080, "NVIDIA GeForce RTX 5090", (12, 0), 32),
    "h100_r535": ("535.247.01", 12020, "NVIDIA H100 80GB HBM3", (9, 0), 80),
    "h100_r550": ("550.163.01", 12040, "NVIDIA H100 80GB HBM3", (9, 0), 80),
    "a100_r535": ("535.247.01", 12020, "NVIDIA A100-SXM4-80GB", (8, 0), 80),
    "a100_r580": ("580.95.05", 13000, "NVIDIA A100-SXM4-80GB", (8, 0), 80),
    "v100_r470": ("470.256.02", 11040, "Tesla V100-SXM2-32GB", (7, 0), 32),
    "p100_r550": ("550.163.01", 12040, "Tesla P100-PCIE-16GB", (6, 0), 16),
}


def machine(name: str, n: int = 2) -> dict:
    driver, cuda, gpu, cc, gib = MACHINES[name]
    return {"driver_version": driver, "cuda_driver_version": cuda,
            "gpus": [{"name": gpu, "cc": list(cc), "memory_total": gib << 30} for _ in range(n)]}


def doctor(python: str, site: Path, nvml: dict) -> dict:
    env = dict(os.environ, FAKE_NVML=json.dumps(nvml), NO_COLOR="1",
               PYTHONPATH=os.pathsep.join([str(FAKE_NVML_DIR), str(site), str(ROOT)]))
    proc = subprocess.run([python, "-m", "paddledoctor", "check", "--quick", "--json"],
                          capture_output=True, text=True, env=env, timeout=300, cwd=str(site))
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    doc["_exit"] = proc.returncode
    return doc


def codes(doc: dict) -> dict:
    return {f["code"]: f for f in doc["findings"]}


@pytest.mark.parametrize("name, cc", [("rtx5090_r570", "12.0"), ("h100_r535", "9.0"),
                                      ("h100_r550", "9.0"), ("p100_r550", "6.0")])
def test_the_real_262_wheel_has_no_code_for_these_gpus(python, gpu262, name, cc):
    doc = doctor(python, gpu262, machine(name))
    found = codes(doc)
    assert doc["_exit"] == 1 and "can train" not in doc["verdict"].replace("cannot train", "")
    assert "PD202" in found, [f["title"] for f in doc["findings"]]
    assert f"compute capability {cc}" in found["PD202"]["title"] or cc in found["PD202"]["title"]
    sass = doc["facts"]["binaries"]["build"]["sass"]
    assert sorted(sass) == [61, 70, 75, 80, 86], sass
    # the fix names a wheel that has code for this GPU: never 2.6.2 itself, never cu118 past 8.6
    fix = found["PD202"]["fix"]["commands"] if found["PD202"].get("fix") else []
    assert fix and not any(c.endswith("paddlepaddle-gpu==2.6.2") for c in fix), fix
    install = fix[-1]
    want = {"12.0": "/cu129/", "9.0": "/cu126/", "6.0": "/cu118/"}[cc]
    assert want in install and "paddlepaddle-gpu==3." in install, install
    assert found["PD202"]["severity"] == "error"


@pytest.mark.parametrize("name", ["a100_r535", "a100_r580", "v100_r470"])
def test_the_real_262_wheel_runs_on_these_gpus(python, gpu262, name):
    doc = doctor(python, gpu262, machine(name, n=8))
    found = codes(doc)
    assert "PD202" not in found and "PD212" not in found
    # the official wheel is built with NCCL although its version file records none
    assert "PD206" not in found, found.get("PD206")


def test_the_version_file_of_the_real_wheel_has_no_arch_list(gpu262):
    """Why the binaries must be read: 2.x records no compiled_cuda_archs (nor nccl_version)."""
    text = (gpu262 / "paddle" / "version" / "__init__.py").read_text()
    assert "compiled_cuda_archs" not in text and "nccl_version" not in text
