"""The driver's user-space side as the loader sees it: libcuda.so.1 (PD211), WSL2's driver folder and
a Jetson's Tegra release (PD308). Device trees are built under tmp_path (synthesized); the loader
search itself is the real one of this machine."""

from __future__ import annotations

from paddledoctor import doctor
from paddledoctor.probes import loader


def tree(tmp_path, files):
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return str(tmp_path)


def test_a_jetson_is_recognised_by_its_tegra_release(tmp_path):
    root = tree(tmp_path, {"etc/nv_tegra_release":
                           "# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref\n", "dev/null": ""})
    d = loader.probe_driver_library(root)
    assert d["tegra_release"].startswith("R35 (release), REVISION: 4.1")
    assert d["dev_nvidia"] == [] and d["wsl"] is False


def test_wsl2_is_recognised_with_or_without_its_libcuda(tmp_path):
    root = tree(tmp_path, {"dev/dxg": "", "usr/lib/wsl/lib/libcuda.so.1": ""})
    d = loader.probe_driver_library(root)
    assert d["wsl"] is True and d["wsl_lib_has_libcuda"] is True
    (tmp_path / "usr/lib/wsl/lib/libcuda.so.1").unlink()
    assert loader.probe_driver_library(root)["wsl_lib_has_libcuda"] is False


def test_device_nodes_are_listed(tmp_path):
    root = tree(tmp_path, {"dev/nvidia0": "", "dev/nvidiactl": "", "dev/nvidia-uvm": "", "dev/sda": ""})
    assert loader.probe_driver_library(root)["dev_nvidia"] == ["nvidia-uvm", "nvidia0", "nvidiactl"]


def _facts(tegra=None, gpu_build=True):
    vf = {"full_version": "2.6.2", "cuda_version": "11.8" if gpu_build else "False",
          "cudnn_version": "8.6.0" if gpu_build else "False"}
    return {"paddle": {"version_file": vf},
            "nvml": {"status": "error", "error_kind": "LibraryNotFound",
                     "error": "NVML Shared Library Not Found"},
            "driver_libs": {"name": "libcuda.so.1", "path": None, "how": "not found",
                            "dev_nvidia": [], "wsl": False,
                            **({"tegra_release": tegra} if tegra else {})}}


def test_pd308_on_a_jetson_and_not_pd300(tmp_path):
    # hand-made facts: no Jetson here; the probe's side is tested on a device tree above
    codes = {f.code for f in doctor.diagnose(_facts(tegra="R35 (release), REVISION: 4.1")).findings}
    assert "PD308" in codes and "PD300" not in codes and "PD211" not in codes
    # the wrong case: the same machine without a Tegra release is a machine without a driver
    codes = {f.code for f in doctor.diagnose(_facts()).findings}
    assert "PD308" not in codes and "PD300" in codes


def test_gpu_device_nodes_without_libcuda_on_the_loader_path_is_pd211(tmp_path):
    root = tree(tmp_path, {"dev/nvidia0": "", "dev/nvidiactl": ""})
    d = loader.probe_driver_library(root)
    if d.get("path"):
        import pytest
        pytest.skip(f"this machine's loader finds a libcuda.so.1 ({d['path']})")
    facts = {**_facts(), "driver_libs": d}
    found = {f.code: f for f in doctor.diagnose(facts).findings}
    f = found["PD211"]
    assert f.evidence["searched"].startswith("LD_LIBRARY_PATH, ")
    assert f.evidence["searched"].endswith(", the default folders")
    assert f.evidence["dev_nvidia"] == "nvidia0, nvidiactl"
    assert f.fix.commands == ["nvidia-smi"]  # NVML fails too: the driver is missing
    assert "PD002" not in found


def test_wsl2_without_libcuda_on_the_loader_path_is_pd211_with_the_wsl_folder(tmp_path):
    root = tree(tmp_path, {"dev/dxg": "", "usr/lib/wsl/lib/libcuda.so.1": ""})
    d = loader.probe_driver_library(root)
    if d.get("path"):
        import pytest
        pytest.skip(f"this machine's loader finds a libcuda.so.1 ({d['path']})")
    f = {x.code: x for x in doctor.diagnose({**_facts(), "driver_libs": d}).findings}["PD211"]
    assert f.evidence["wsl"] is True
    assert f.fix.commands == ['export LD_LIBRARY_PATH="/usr/lib/wsl/lib:$LD_LIBRARY_PATH"']
    assert f.fix.text == "WSL2 keeps the Windows driver's libcuda.so.1 in /usr/lib/wsl/lib."
    # the wrong case: the folder without libcuda.so.1 says the Windows driver must be updated
    (tmp_path / "usr/lib/wsl/lib/libcuda.so.1").unlink()
    d = loader.probe_driver_library(root)
    f = {x.code: x for x in doctor.diagnose({**_facts(), "driver_libs": d}).findings}["PD211"]
    assert f.fix.text.endswith("(not there now: update the NVIDIA driver on Windows, then `wsl --shutdown`).")
