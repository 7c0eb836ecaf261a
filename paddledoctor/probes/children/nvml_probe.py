"""Child probe: what the NVIDIA driver says, through NVML (pynvml), independently of Paddle.

Run as ``python nvml_probe.py FD``; writes JSON lines to file descriptor FD. Standard library and
pynvml only: it must start fast and never import paddledoctor or paddle. An unsupported query gives
{"unavailable": reason} for that field, never an exception.
"""

import time

from _channel import emit  # _start.py puts the channel's folder on sys.path


def error_kind(exc):
    name = type(exc).__name__
    return name[len("NVMLError_"):] if name.startswith("NVMLError_") else name


def unavailable(exc):
    return {"unavailable": f"{error_kind(exc)}: {exc}"}


def text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def query(fn, *args, convert=lambda v: v):
    try:
        return convert(fn(*args))
    except pynvml.NVMLError as exc:
        return unavailable(exc)
    except (AttributeError, TypeError) as exc:  # an older pynvml without the function
        return {"unavailable": f"not available in this pynvml: {exc}"}


def process_name(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def gpu_facts(index):
    handle = pynvml.nvmlDeviceGetHandleByIndex(index)
    facts = {"index": index}
    facts["name"] = query(pynvml.nvmlDeviceGetName, handle, convert=text)
    facts["uuid"] = query(pynvml.nvmlDeviceGetUUID, handle, convert=text)
    facts["pci_bus_id"] = query(pynvml.nvmlDeviceGetPciInfo, handle, convert=lambda p: text(p.busId))
    facts["compute_capability"] = query(
        pynvml.nvmlDeviceGetCudaComputeCapability, handle, convert=lambda cc: f"{cc[0]}.{cc[1]}")
    facts["memory"] = query(pynvml.nvmlDeviceGetMemoryInfo, handle,
                            convert=lambda m: {"total": m.total, "used": m.used, "free": m.free})
    facts["utilization_gpu"] = query(pynvml.nvmlDeviceGetUtilizationRates, handle,
                                     convert=lambda u: u.gpu)
    facts["ecc_uncorrected_volatile"] = query(
        pynvml.nvmlDeviceGetTotalEccErrors, handle,
        pynvml.NVML_MEMORY_ERROR_TYPE_UNCORRECTED, pynvml.NVML_VOLATILE_ECC)
    facts["ecc_uncorrected_aggregate"] = query(
        pynvml.nvmlDeviceGetTotalEccErrors, handle,
        pynvml.NVML_MEMORY_ERROR_TYPE_UNCORRECTED, pynvml.NVML_AGGREGATE_ECC)
    facts["remapped_rows"] = query(
        pynvml.nvmlDeviceGetRemappedRows, handle,
        convert=lambda r: {"corrected": r[0], "uncorrected": r[1], "pending": bool(r[2]),
                           "failure": bool(r[3])})
    facts["retired_pages_pending"] = query(
        pynvml.nvmlDeviceGetRetiredPagesPendingStatus, handle, convert=bool)
    procs = query(pynvml.nvmlDeviceGetComputeRunningProcesses, handle)
    if isinstance(procs, list):
        procs = [{"pid": p.pid, "name": process_name(p.pid),
                  "used_memory": p.usedGpuMemory} for p in procs]
    facts["processes"] = procs
    return facts


def main():
    global pynvml
    t0 = time.monotonic()
    try:
        import pynvml
    except Exception as exc:  # nvidia-ml-py not installed or broken
        emit("init", ok=False, kind="PynvmlMissing", message=f"{type(exc).__name__}: {exc}")
        return
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        emit("init", ok=False, kind=error_kind(exc), message=str(exc),
             seconds=round(time.monotonic() - t0, 3))
        return
    driver = query(pynvml.nvmlSystemGetDriverVersion, convert=text)
    cuda = query(pynvml.nvmlSystemGetCudaDriverVersion_v2,
                 convert=lambda v: f"{v // 1000}.{(v % 1000) // 10}")
    nvml_version = query(pynvml.nvmlSystemGetNVMLVersion, convert=text)
    try:
        count = pynvml.nvmlDeviceGetCount()
    except pynvml.NVMLError as exc:
        emit("init", ok=False, kind=error_kind(exc), message=str(exc),
             driver_version=driver, seconds=round(time.monotonic() - t0, 3))
        return
    emit("init", ok=True, driver_version=driver, cuda_driver_version=cuda,
         nvml_version=nvml_version, gpu_count=count, seconds=round(time.monotonic() - t0, 3))
    for index in range(count):
        try:
            emit("gpu", **gpu_facts(index))
        except pynvml.NVMLError as exc:
            emit("gpu", index=index, error=error_kind(exc), message=str(exc))
    try:
        pynvml.nvmlShutdown()
    except pynvml.NVMLError:
        pass
    emit("done", seconds=round(time.monotonic() - t0, 3))


if __name__ == "__main__":
    main()
