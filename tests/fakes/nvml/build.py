"""Build the stand-in NVIDIA driver library (libnvidia-ml.c -> libnvidia-ml.so.1) with gcc, and turn a
test's JSON machine scenario into the environment that makes the REAL nvidia-ml-py load it.

Test-only and SYNTHESIZED: nothing here is NVIDIA's code. The library is built once per source
version into the test cache folder and reused; the product never names it.

Scenario keys (all optional), as the tests write them:
  init_error: "LibraryNotFound" (no library on the path at all) | "DriverNotLoaded" |
              "LibRmVersionMismatch" | "GpuIsLost" | "NoPermission" | "Unknown" | ...
  hang_in / crash_in: the NVML entry point that sleeps forever / segfaults (nvmlInit,
              nvmlDeviceGetCount, nvmlDeviceGetHandleByIndex, nvmlSystemGetDriverVersion)
  driver_version: "550.54.14"; cuda_driver_version: 12040
  libcuda: False (the driver's libcuda.so.1 is not on the loader's path; default: it is)
  gpus: [{name, uuid, pci_bus_id, cc: [8, 0], memory_total, memory_used, utilization,
          ecc_volatile_uncorrected, ecc_aggregate_uncorrected: int | "NotSupported",
          remapped_rows: [corr, unc, pending, failure] | "NotSupported",
          retired_pages_pending: 0 | 1 | "NotSupported",
          processes: [{pid, used_memory (None: not available)}] | "NotSupported",
          error: "GpuIsLost" | ..., handle_error: "NoPermission" (no handle for that GPU)}]
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "libnvidia-ml.c"
LIBNAME = "libnvidia-ml.so.1"

# NVML's return codes (nvml.h), by the names pynvml gives its exception classes.
ERRORS = {
    "Uninitialized": 1, "InvalidArgument": 2, "NotSupported": 3, "NoPermission": 4,
    "AlreadyInitialized": 5, "NotFound": 6, "InsufficientSize": 7, "InsufficientPower": 8,
    "DriverNotLoaded": 9, "Timeout": 10, "IrqIssue": 11, "LibraryNotFound": 12,
    "FunctionNotFound": 13, "CorruptedInforom": 14, "GpuIsLost": 15, "ResetRequired": 16,
    "OperatingSystem": 17, "LibRmVersionMismatch": 18, "InUse": 19, "Memory": 20, "NoData": 21,
    "Unknown": 999,
}


def _cache_root() -> Path:
    base = os.environ.get("PADDLEDOCTOR_TEST_BUILD_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "paddledoctor-tests")
    return Path(base)


CUDA_SOURCE = HERE / "libcuda.c"


def _built() -> Path:
    """The folder of this source version's build: nvml/libnvidia-ml.so.1 and cuda/libcuda.so.1,
    built now if this version was never built."""
    digest = hashlib.sha256(SOURCE.read_bytes() + CUDA_SOURCE.read_bytes()).hexdigest()[:16]
    out = _cache_root() / f"fake-nvml-{digest}"
    if (out / "nvml" / LIBNAME).is_file() and (out / "cuda" / "libcuda.so.1").is_file():
        return out
    gcc = shutil.which("gcc") or shutil.which("cc")
    if not gcc:
        raise RuntimeError("the tests simulate the NVIDIA driver with a C library and need gcc")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="fake-nvml-build-", dir=out.parent))
    try:
        for src, sub, name in ((SOURCE, "nvml", LIBNAME), (CUDA_SOURCE, "cuda", "libcuda.so.1")):
            (tmp / sub).mkdir()
            done = subprocess.run([gcc, "-shared", "-fPIC", "-O1", "-Wall", "-Wno-format-truncation",
                                   "-o", str(tmp / sub / name), str(src)],
                                  capture_output=True, text=True)
            if done.returncode:
                raise RuntimeError(f"building the stand-in {name} failed: {done.stderr.strip()}")
        try:
            tmp.rename(out)  # atomic: two test processes may build at once
        except OSError:
            if not (out / "nvml" / LIBNAME).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def library_dir() -> Path:
    """The folder holding the stand-in libnvidia-ml.so.1."""
    return _built() / "nvml"


def cuda_dir() -> Path:
    """The folder holding the stand-in libcuda.so.1 (the driver installs both)."""
    return _built() / "cuda"


def _code(kind: str) -> int:
    return ERRORS.get(kind, ERRORS["Unknown"])


def _value(v) -> str:
    return "NS" if v == "NotSupported" else str(int(v))


def spec(scenario: dict) -> str:
    """The scenario as the library's FAKE_NVML_SPEC text."""
    lines = []
    if scenario.get("init_error"):
        lines.append(f"init_error {_code(scenario['init_error'])}")
    for key in ("hang_in", "crash_in"):
        if scenario.get(key):
            lines.append(f"{key} {scenario[key]}")
    lines.append(f"driver {scenario.get('driver_version', '550.54.14')}")
    lines.append(f"cuda {int(scenario.get('cuda_driver_version', 12040))}")
    gpus = scenario.get("gpus", [])
    lines.append(f"gpus {len(gpus)}")
    for i, g in enumerate(gpus):
        put = lambda field, value: lines.append(f"gpu {i} {field} {value}")  # noqa: E731
        for key, field in (("name", "name"), ("uuid", "uuid"), ("pci_bus_id", "pci")):
            if key in g:
                put(field, str(g[key]).replace("\n", " "))
        if "cc" in g:
            put("cc", f"{int(g['cc'][0])} {int(g['cc'][1])}")
        if "memory_total" in g:
            put("mem_total", int(g["memory_total"]))
        if "memory_used" in g:
            put("mem_used", int(g["memory_used"]))
        if "utilization" in g:
            put("util", int(g["utilization"]))
        if "ecc_volatile_uncorrected" in g:
            put("ecc_volatile", _value(g["ecc_volatile_uncorrected"]))
        if "ecc_aggregate_uncorrected" in g:
            put("ecc_aggregate", _value(g["ecc_aggregate_uncorrected"]))
        if "remapped_rows" in g:
            r = g["remapped_rows"]
            put("remapped", "NS" if r == "NotSupported" else " ".join(str(int(x)) for x in r))
        if "retired_pages_pending" in g:
            put("retired", _value(g["retired_pages_pending"]))
        if g.get("error"):
            put("error", _code(g["error"]))
        if g.get("handle_error"):
            put("handle_error", _code(g["handle_error"]))
        if g.get("processes") == "NotSupported":
            put("procs_ns", 1)
        for p in (g.get("processes") if isinstance(g.get("processes"), list) else []):
            used = p.get("used_memory")
            put("proc", f"{int(p['pid'])} {-1 if used is None else int(used)}")
    return "\n".join(lines) + "\n"


def environment(scenario: dict | str | None, base: dict | None = None) -> dict:
    """``base`` (default os.environ) with the simulated driver of ``scenario`` (a dict, its JSON, or
    a path to a JSON file). A scenario whose init_error is LibraryNotFound puts no library on the
    path, as on a machine without the NVIDIA driver."""
    env = dict(os.environ if base is None else base)
    if isinstance(scenario, str):
        scenario = json.loads(Path(scenario).read_text() if os.path.isfile(scenario) else scenario)
    scenario = scenario or {"init_error": "LibraryNotFound"}
    env.pop("FAKE_NVML_SPEC", None)
    paths = [p for p in env.get("LD_LIBRARY_PATH", "").split(os.pathsep)
             if p and not Path(p).parent.name.startswith("fake-nvml-")]
    if scenario.get("init_error") != "LibraryNotFound":
        env["FAKE_NVML_SPEC"] = spec(scenario)
        paths.insert(0, str(library_dir()))
        if scenario.get("libcuda", True):  # False: a driver whose libcuda.so.1 is not on the path
            paths.insert(1, str(cuda_dir()))
    if paths:
        env["LD_LIBRARY_PATH"] = os.pathsep.join(paths)
    else:
        env.pop("LD_LIBRARY_PATH", None)
    return env
