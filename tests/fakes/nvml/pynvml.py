"""A fake NVML for the tests: a module named ``pynvml`` that the doctor's NVML probe imports the normal
way when this folder is first on PYTHONPATH. It simulates the GPUs described by a JSON scenario in
the environment variable FAKE_NVML (a file path or the JSON itself). Test-only: the product never
names this folder nor that variable.

Scenario keys (all optional):
  init_error: "LibraryNotFound" | "DriverNotLoaded" | "LibRmVersionMismatch" | "GpuIsLost" | ...
  hang_in / crash_in: the name of an NVML function that sleeps forever / segfaults
  driver_version: "550.54.14"; cuda_driver_version: 12040
  gpus: [{name, uuid, serial, pci_bus_id, cc: [8, 0], memory_total, memory_used, utilization,
          ecc_volatile_uncorrected, ecc_aggregate_uncorrected, remapped_rows: [corr, unc, pending,
          failure] | "NotSupported", retired_pages_pending: 0 | 1 | "NotSupported",
          processes: [{pid, used_memory}], error: "GpuIsLost" (every query on it raises),
          handle_error: "NoPermission" (nvmlDeviceGetHandleByIndex raises it)}]
"""

import json
import os
import signal
import time
from types import SimpleNamespace


class NVMLError(Exception):
    def __init__(self, value="Unknown"):
        self.value = value
        super().__init__(value)

    def __str__(self):
        return _MESSAGES.get(type(self).__name__, type(self).__name__)


_MESSAGES = {
    "NVMLError_LibraryNotFound": "NVML Shared Library Not Found",
    "NVMLError_DriverNotLoaded": "Driver Not Loaded",
    "NVMLError_LibRmVersionMismatch": "RM has detected an NVML/RM version mismatch.",
    "NVMLError_GpuIsLost": "GPU is lost",
    "NVMLError_NotSupported": "Not Supported",
    "NVMLError_NoPermission": "Insufficient Permissions",
    "NVMLError_Unknown": "Unknown Error",
    "NVMLError_InvalidArgument": "Invalid Argument",
}
for _name in _MESSAGES:
    globals()[_name] = type(_name, (NVMLError,), {})

NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1
NVML_MEMORY_ERROR_TYPE_CORRECTED = 0
NVML_VOLATILE_ECC = 0
NVML_AGGREGATE_ECC = 1

_raw = os.environ.get("FAKE_NVML", "{}")
SCENARIO = json.loads(open(_raw).read() if os.path.isfile(_raw) else _raw)
_initialized = False


def _enter(fn):
    if SCENARIO.get("hang_in") == fn:
        time.sleep(3600)
    if SCENARIO.get("crash_in") == fn:
        os.kill(os.getpid(), signal.SIGSEGV)


def _raise(kind):
    raise globals()[f"NVMLError_{kind}"](kind)


def _gpu(handle):
    gpu = SCENARIO["gpus"][handle]
    if gpu.get("error"):
        _raise(gpu["error"])
    return gpu


def _maybe(value):
    if value == "NotSupported":
        _raise("NotSupported")
    return value


def nvmlInit():
    global _initialized
    _enter("nvmlInit")
    if SCENARIO.get("init_error"):
        _raise(SCENARIO["init_error"])
    _initialized = True


def nvmlShutdown():
    pass


def nvmlSystemGetDriverVersion():
    return SCENARIO.get("driver_version", "550.54.14")


def nvmlSystemGetCudaDriverVersion_v2():
    return SCENARIO.get("cuda_driver_version", 12040)


def nvmlSystemGetNVMLVersion():
    return "12." + SCENARIO.get("driver_version", "550.54.14")


def nvmlDeviceGetCount():
    _enter("nvmlDeviceGetCount")
    return len(SCENARIO.get("gpus", []))


def nvmlDeviceGetHandleByIndex(index):
    _enter("nvmlDeviceGetHandleByIndex")
    if index >= len(SCENARIO.get("gpus", [])):
        _raise("InvalidArgument")
    if SCENARIO["gpus"][index].get("error") == "GpuIsLost":
        _raise("GpuIsLost")
    if SCENARIO["gpus"][index].get("handle_error"):  # e.g. NoPermission: /dev/nvidiaN not allowed
        _raise(SCENARIO["gpus"][index]["handle_error"])
    return index


def nvmlDeviceGetName(h):
    return _gpu(h).get("name", "NVIDIA A100-SXM4-80GB")


def nvmlDeviceGetUUID(h):
    return _gpu(h).get("uuid", f"GPU-00000000-0000-0000-0000-00000000000{h}")


def nvmlDeviceGetSerial(h):
    return _gpu(h).get("serial", f"132042000000{h}")


def nvmlDeviceGetPciInfo(h):
    return SimpleNamespace(busId=_gpu(h).get("pci_bus_id", f"00000000:0{h}:00.0"))


def nvmlDeviceGetCudaComputeCapability(h):
    return tuple(_gpu(h).get("cc", [8, 0]))


def nvmlDeviceGetMemoryInfo(h):
    g = _gpu(h)
    total = g.get("memory_total", 80 << 30)
    used = g.get("memory_used", 0)
    return SimpleNamespace(total=total, used=used, free=total - used)


def nvmlDeviceGetUtilizationRates(h):
    return SimpleNamespace(gpu=_gpu(h).get("utilization", 0), memory=0)


def nvmlDeviceGetTotalEccErrors(h, error_type, counter_type):
    g = _gpu(h)
    if error_type != NVML_MEMORY_ERROR_TYPE_UNCORRECTED:
        return 0
    key = "ecc_volatile_uncorrected" if counter_type == NVML_VOLATILE_ECC else "ecc_aggregate_uncorrected"
    return _maybe(g.get(key, 0))


def nvmlDeviceGetRemappedRows(h):
    return tuple(_maybe(_gpu(h).get("remapped_rows", [0, 0, 0, 0])))


def nvmlDeviceGetRetiredPagesPendingStatus(h):
    return _maybe(_gpu(h).get("retired_pages_pending", 0))


def nvmlDeviceGetComputeRunningProcesses(h):
    return [SimpleNamespace(pid=p["pid"], usedGpuMemory=p.get("used_memory"))
            for p in _gpu(h).get("processes", [])]
