"""The GPUs of the tests are simulated at the C boundary: the REAL nvidia-ml-py loads a stand-in
libnvidia-ml.so.1 (tests/fakes/nvml/libnvidia-ml.c, built with gcc now). These tests prove that the
simulation sits where the driver sits, and that the doctor's process never imports a fake module."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import fake_nvml_build, gpu, nvml_machine, run_json

PROBE = r"""
import json, pynvml
out = {"module": pynvml.__file__}
try:
    pynvml.nvmlInit()
    h = pynvml.nvmlDeviceGetHandleByIndex(0)
    out.update(driver=pynvml.nvmlSystemGetDriverVersion(), count=pynvml.nvmlDeviceGetCount(),
               name=pynvml.nvmlDeviceGetName(h), cc=pynvml.nvmlDeviceGetCudaComputeCapability(h),
               lib=pynvml.nvmlLib._name)
except pynvml.NVMLError as exc:
    out["error"] = type(exc).__name__
print(json.dumps(out))
"""


def probe(scenario):
    env = fake_nvml_build.environment(scenario)
    env.pop("PYTHONPATH", None)
    proc = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_the_real_nvidia_ml_py_loads_the_stand_in_driver_library():
    out = probe(nvml_machine(driver="535.104.05", gpus=[gpu("NVIDIA H100 80GB HBM3", (9, 0))] * 3))
    assert "site-packages" in out["module"] and "tests" not in out["module"], out
    assert out["lib"] == "libnvidia-ml.so.1"
    assert out == {**out, "driver": "535.104.05", "count": 3, "name": "NVIDIA H100 80GB HBM3",
                   "cc": [9, 0]}


def test_without_the_library_the_real_nvidia_ml_py_finds_no_driver():
    # The wrong case: the same probe on this machine as it really is (no NVIDIA driver).
    assert probe({"init_error": "LibraryNotFound"})["error"] == "NVMLError_LibraryNotFound"


def test_an_init_error_comes_back_through_the_c_return_code():
    assert probe({"init_error": "LibRmVersionMismatch"})["error"] == "NVMLError_LibRmVersionMismatch"


def test_the_doctor_reads_the_simulated_machine_through_its_own_probe():
    _, doc = run_json("check", "--quick", nvml=nvml_machine(
        driver="570.86.15", cuda=12080, gpus=[gpu("NVIDIA GeForce RTX 5090", (12, 0))]))
    nvml = doc["facts"]["nvml"]
    assert nvml["driver_version"] == "570.86.15" and nvml["cuda_driver_version"] == "12.8"
    assert [g["compute_capability"] for g in nvml["gpus"]] == ["12.0"]
