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
sys.path.insert(0, str(FAKE_NVML_DIR))
import build as fake_nvml_build  # noqa: E402  (the stand-in libnvidia-ml.so.1)
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "paddledoctor-tests"
WHEEL = "paddlepaddle-gpu==2.6.2"

pytestmark = pytest.mark.skipif(os.environ.get("PADDLEDOCTOR_SKIP_INTEGRATION") == "1",
                                reason="PADDLEDOCTOR_SKIP_INTEGRATION=1")


def real_wheel(dist: str, version: str) -> Path:
    """A folder holding a real wheel's files from PyPI as pip installs them (paddle/ and its
    .dist-info), downloaded and unpacked once into the test cache."""
    stem = f"{dist.replace('-', '_')}-{version}"
    target = CACHE / stem
    if (target / "paddle" / "version" / "__init__.py").is_file() and any(target.glob("*.dist-info")):
        return target
    dl = CACHE / f"dl-{dist}-{version}"
    dl.mkdir(parents=True, exist_ok=True)
    wheels = list(dl.glob(f"{stem}-*.whl"))
    if not wheels:
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                               "--only-binary=:all:", f"{dist}=={version}", "-d", str(dl)],
                              capture_output=True, text=True, timeout=900)
        wheels = list(dl.glob(f"{stem}-*.whl"))
        if proc.returncode or not wheels:
            pytest.skip(f"the real {dist}=={version} wheel could not be downloaded: "
                        f"{proc.stderr[-300:]}")
    import tempfile
    tmp = Path(tempfile.mkdtemp(prefix=stem + ".", dir=CACHE))
    with zipfile.ZipFile(wheels[0]) as z:
        z.extractall(tmp)
    try:
        tmp.rename(target)
    except OSError:  # another test process unpacked it first
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    if dist == "paddlepaddle-gpu":
        wheels[0].unlink(missing_ok=True)  # 759 MB: the unpacked folder is what the tests use
    return target


@pytest.fixture(scope="module")
def gpu262() -> Path:
    return real_wheel("paddlepaddle-gpu", "2.6.2")


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
    env = fake_nvml_build.environment(nvml)
    env.update(NO_COLOR="1", PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]))
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


# The CPU build on each simulated GPU machine: PD101, and an install command for a wheel that has
# SASS for the GPU and that this driver runs. Expected per machine from the sources in
# knowledge/wheels.py (Paddle's install docs and cmake/cuda.cmake arch lists, NVIDIA's driver
# tables): written out here, not computed by the product's own table.
CPU_EXPECTED = {
    # machine: {user's release: (index variant, release to install, runs by minor compatibility)}
    "rtx5090_r570": {"3.3.1": ("cu129", "3.3.1", True), "2.6.2": ("cu129", "3.3.1", True)},
    "h100_r535": {"3.3.1": ("cu126", "3.3.1", True), "2.6.2": ("cu126", "3.3.1", True)},
    "h100_r550": {"3.3.1": ("cu126", "3.3.1", False), "2.6.2": ("cu126", "3.3.1", False)},
    "a100_r535": {"3.3.1": ("cu126", "3.3.1", True), "2.6.2": ("cu118", "2.6.2", False)},
    "a100_r580": {"3.3.1": ("cu130", "3.3.1", False), "2.6.2": ("cu118", "2.6.2", False)},
    "v100_r470": {"3.3.1": ("cu118", "3.3.0", False), "2.6.2": ("cu118", "2.6.2", False)},
    # sm_60: the 2.6 cu118 wheels start at sm_61 (measured on the real 2.6.2 GPU wheel), 3.x at 60
    "p100_r550": {"3.3.1": ("cu118", "3.3.0", False), "2.6.2": ("cu118", "3.3.0", False)},
}


@pytest.fixture(scope="module", params=["3.3.1", "2.6.2"])
def cpu_wheel(request) -> tuple[str, Path]:
    return request.param, real_wheel("paddlepaddle", request.param)


@pytest.mark.parametrize("name", sorted(CPU_EXPECTED))
def test_the_real_cpu_wheel_on_a_gpu_machine_gets_a_wheel_with_code_for_the_gpu(python, cpu_wheel, name):
    release, site = cpu_wheel
    doc = doctor(python, site, machine(name))
    found = codes(doc)
    assert doc["_exit"] == 1 and "PD101" in found, [f["title"] for f in doc["findings"]]
    fix = found["PD101"]["fix"]
    install = fix["commands"][-1]
    tag, to, minor_compat = CPU_EXPECTED[name][release]
    if to == "2.6.2":  # the one GPU wheel on PyPI: no index URL
        assert install.endswith("install paddlepaddle-gpu==2.6.2"), install
    else:
        assert f"paddlepaddle-gpu=={to} " in install and f"/stable/{tag}/" in install, install
    assert ("minor" in fix["text"].lower()) == minor_compat, fix["text"]
    if release.startswith("2.") and to.startswith("3."):
        assert "major" in fix["text"].lower(), fix["text"]  # the 3.x move is named for what it is


# --- the libraries the real 2.6.2 wheel loads at run time, as its own dlopen would find them ---

def _shared_lib(folder: Path, soname: str, links: tuple[str, ...] = ()) -> None:
    """A real (empty) ELF shared library with that SONAME, built by gcc, and symlinks to it."""
    folder.mkdir(parents=True, exist_ok=True)
    src = folder / "empty.c"
    src.write_text("int paddledoctor_test_symbol(void) { return 0; }\n")
    subprocess.run(["gcc", "-shared", "-fPIC", f"-Wl,-soname,{soname}", "-o", str(folder / soname),
                    str(src)], check=True, capture_output=True)
    for link in links:
        (folder / link).symlink_to(soname)


def doctor_with(python: str, site: Path, nvml: dict, ld_path: Path | None) -> dict:
    env = fake_nvml_build.environment(nvml)
    if ld_path is not None:
        env["LD_LIBRARY_PATH"] = f"{env.get('LD_LIBRARY_PATH', '')}:{ld_path}".strip(":")
    env.update(NO_COLOR="1", PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]))
    proc = subprocess.run([python, "-m", "paddledoctor", "check", "--quick", "--json"],
                          capture_output=True, text=True, env=env, timeout=300, cwd=str(site))
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    return json.loads(proc.stdout)


def test_cublas_11_on_the_loader_path_is_what_the_262_wheel_needs(python, gpu262, tmp_path):
    _shared_lib(tmp_path / "cuda11", "libcublas.so.11", ("libcublas.so",))
    doc = doctor_with(python, gpu262, machine("a100_r535"), tmp_path / "cuda11")
    assert "PD210" not in codes(doc), codes(doc).get("PD210")
    lib = doc["facts"]["cuda_runtime"]["libraries"]["cublas"]
    assert lib["soname"] == "libcublas.so" and lib["major"] == "11" and lib["how"] == "LD_LIBRARY_PATH"


def test_an_unversioned_cublas_of_another_cuda_is_pd210(python, gpu262, tmp_path):
    # the wrong case: libcublas.so is there, but it is CUDA 13's (as a CUDA 13 toolkit installs it)
    _shared_lib(tmp_path / "cuda13", "libcublas.so.13", ("libcublas.so",))
    doc = doctor_with(python, gpu262, machine("a100_r535"), tmp_path / "cuda13")
    found = codes(doc)
    assert "PD210" in found and "another CUDA" in found["PD210"]["title"], found.get("PD210")
    commands = found["PD210"]["fix"]["commands"]
    assert commands[0].endswith("install 'nvidia-cublas-cu11'"), commands
    assert any("ln -sf" in c and "libcublas.so.11" in c for c in commands), commands


def test_no_cublas_anywhere_is_pd210(python, gpu262):
    import ctypes.util
    if ctypes.util.find_library("cublas"):
        pytest.skip("this machine has a cuBLAS on the loader's path")
    found = codes(doctor_with(python, gpu262, machine("a100_r535"), None))
    assert "PD210" in found and "libcublas.so not found" in found["PD210"]["title"]


def test_the_driver_without_its_libcuda_is_pd211(python, gpu262):
    scenario = dict(machine("a100_r535"), libcuda=False)
    found = codes(doctor_with(python, gpu262, scenario, None))
    assert "PD211" in found, [f["code"] for f in found.values()]
    assert found["PD211"]["fix"]["commands"][0] == "sudo ldconfig"
    # and the right case: the same driver with its libcuda.so.1 on the path
    assert "PD211" not in codes(doctor_with(python, gpu262, machine("a100_r535"), None))


def test_the_cpu_build_never_gets_pd210_or_pd211(python, cpu_wheel):
    _, site = cpu_wheel
    found = codes(doctor_with(python, site, dict(machine("a100_r535"), libcuda=False), None))
    assert "PD210" not in found and "PD211" not in found
