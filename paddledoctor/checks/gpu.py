"""The NVIDIA driver and each GPU's health, as NVML reports them."""

from __future__ import annotations

from ..model import NOT_IN_PASTE, Fix, Severity
from ..sizes import format_size
from . import check, finding, summary
from . import facts as F

BUSY_FRACTION = 0.5


@check("gpu")
def nvml_state(facts, options):
    nvml = F.get(facts, "nvml")
    if not nvml:
        return
    status, kind = nvml.get("status"), nvml.get("error_kind")
    pci = F.pci_gpu_count(facts)
    gpu_build = bool((F.build(facts) or {}).get("cuda"))
    evidence = {"nvml": kind or status, "message": nvml.get("error"), "nvidia_pci_devices": pci,
                "kernel_module": F.get(facts, "host", "nvidia_kernel_module"),
                "nvml_library": nvml.get("driver_version")}
    if status == "ok":
        if nvml.get("incomplete"):
            yield finding("PD307", f"NVML stopped answering: {nvml['incomplete']}", evidence,
                          Fix(["nvidia-smi"], "If nvidia-smi hangs too, the driver or a GPU is stuck: "
                                              "reset the GPU or reboot."))
        return
    if status == "probe_failed":
        yield finding("PD001", f"The NVML probe failed: {nvml.get('error')}", evidence,
                      Fix(["nvidia-smi"], "Compare with nvidia-smi; a hang here is a stuck driver."))
    elif kind == "PynvmlMissing":
        yield finding("PD307", f"pynvml cannot be imported: {nvml.get('error')}", evidence,
                      Fix([f"{F.pip(facts)} install nvidia-ml-py"], ""))
    elif kind == "LibraryNotFound" and F.get(facts, "driver_libs", "tegra_release"):
        # Jetson: the GPU is integrated, NVML does not exist on Tegra (L4T), and Paddle for Jetson
        # comes from Paddle Inference's Jetpack builds, not from the desktop wheels.
        yield finding("PD308", f"A Jetson/Tegra device ({F.get(facts, 'driver_libs', 'tegra_release')}): "
                               "NVML does not exist on Tegra, so GPU facts come from the Tegra release",
                      evidence | {"tegra_release": F.get(facts, "driver_libs", "tegra_release")},
                      Fix(["cat /etc/nv_tegra_release", "tegrastats"],
                          "Install Paddle for Jetson from the Paddle Inference Jetpack builds that match "
                          "this L4T release (paddle-inference docs, 'Install on Jetson'); the desktop "
                          "paddlepaddle-gpu wheels have no code for Tegra GPUs."),
                      severity=Severity.INFO)
    elif kind == "LibraryNotFound":
        if pci:
            yield finding("PD301", f"{pci} NVIDIA GPU(s) on the PCI bus but no NVIDIA driver "
                                   f"(NVML: {nvml.get('error')})", evidence,
                          Fix([], "Install the NVIDIA driver (in a container: run it with the NVIDIA "
                                  "container toolkit, `docker run --gpus all`)."))
        else:
            yield finding("PD300", "No NVIDIA driver (NVML library not found): a CPU-only machine",
                          evidence)
    elif kind == "DriverNotLoaded":
        yield finding("PD301", "The NVIDIA driver is installed but its kernel module is not loaded",
                      evidence, Fix(["sudo modprobe nvidia", "nvidia-smi"],
                                    "If modprobe fails, reinstall the driver for the running kernel "
                                    "(uname -r) and reboot."),
                      severity=Severity.ERROR if (pci or gpu_build) else Severity.WARN)
    elif kind == "LibRmVersionMismatch":
        yield finding("PD302", "The NVIDIA driver library and kernel module versions differ "
                               "(a driver upgrade without a reboot)", evidence,
                      Fix(["sudo reboot"], "Or, with no process using the GPU: "
                                           "`sudo rmmod nvidia_uvm nvidia_drm nvidia_modeset nvidia && "
                                           "sudo modprobe nvidia`."))
    elif kind == "GpuIsLost":
        yield finding("PD303", "A GPU has fallen off the bus; NVML cannot start", evidence,
                      Fix(["sudo nvidia-smi -r"], "Reset the GPU, or reboot; if it recurs, the GPU, "
                                                  "its power or its slot is failing."))
    else:
        yield finding("PD307", f"NVML could not start: {kind}: {nvml.get('error')}", evidence,
                      Fix(["nvidia-smi"], "NoPermission: run as a user in the video/render group."))


def _count(value) -> int:
    return value if isinstance(value, int) else 0


@check("gpu")
def gpu_health(facts, options):
    for g in F.nvml_gpus(facts):
        label = f"GPU {g.get('index')}" + (f" ({g['name']})" if isinstance(g.get("name"), str) else "")
        if g.get("error") == "GpuIsLost":
            yield finding("PD303", f"{label} has fallen off the bus", {"gpu": g.get("index")},
                          Fix(["sudo nvidia-smi -r -i %s" % g.get("index")], "Reset it, or reboot."))
            continue
        if g.get("error"):
            yield finding("PD307", f"{label}: NVML query failed: {g['error']}: {g.get('message')}",
                          {"gpu": g.get("index"), "error": g.get("error")})
            continue
        volatile = _count(g.get("ecc_uncorrected_volatile"))
        aggregate = _count(g.get("ecc_uncorrected_aggregate"))
        if volatile or aggregate:
            yield finding(
                "PD304",
                (f"{label} has {volatile} uncorrected ECC error(s) since boot"
                 + (f", {aggregate} in its lifetime" if aggregate else "")) if volatile else
                f"{label} has {aggregate} uncorrected ECC error(s) in its lifetime (none since boot)",
                {"gpu": g.get("index"), "uncorrected_volatile": volatile,
                 "uncorrected_aggregate": aggregate},
                Fix([f"nvidia-smi -q -d ECC,ROW_REMAPPER -i {g.get('index')}"],
                    "Errors since boot corrupt results: drain the GPU and reset it; if they return, "
                    "replace it. Lifetime errors alone are history: watch them."),
                severity=Severity.ERROR if volatile else Severity.WARN)
        rows = g.get("remapped_rows")
        pending_pages = g.get("retired_pages_pending") is True
        if isinstance(rows, dict) and (rows.get("pending") or rows.get("failure")) or pending_pages:
            failure = isinstance(rows, dict) and rows.get("failure")
            yield finding(
                "PD305",
                f"{label}: " + ("row remapping failed" if failure
                                else "memory row remaps/page retirements are pending a GPU reset"),
                {"gpu": g.get("index"), "remapped_rows": rows, "retired_pages_pending": pending_pages},
                Fix([f"sudo nvidia-smi -r -i {g.get('index')}"],
                    "A reset applies the pending remaps." + (" A failed remap means the GPU needs "
                                                            "replacing." if failure else "")),
                severity=Severity.ERROR if failure else Severity.WARN)


@check("gpu")
def gpu_not_busy(facts, options):
    ours = set(F.get(facts, "doctor", "child_pids", default=[]) or [])
    for g in F.nvml_gpus(facts):
        mem = g.get("memory")
        if not isinstance(mem, dict) or not mem.get("total"):
            continue
        if F.reason(g, "processes") == NOT_IN_PASTE:
            continue  # a pasted nvidia-smi cut before its process table: whose memory is unknown
        procs = g.get("processes") if isinstance(g.get("processes"), list) else []
        named = [p for p in procs if isinstance(p.get("used_memory"), int)]
        others = [p for p in named if p.get("pid") not in ours]
        by_others = sum(p["used_memory"] for p in others)
        # Memory no process accounts for: NVML cannot attribute it from inside a container (other
        # containers' processes are not listed, or listed without their memory) or the query failed.
        used = mem.get("used") if isinstance(mem.get("used"), int) else None
        unnamed = max(0, used - sum(p["used_memory"] for p in named)) if used is not None else 0
        held = by_others + unnamed
        if held < BUSY_FRACTION * mem["total"]:
            continue
        top = sorted(others, key=lambda p: -p["used_memory"])[:3]
        names = [f"PID {p['pid']}" + (f" ({p['name']})" if p.get("name") else "")
                 + f" {format_size(p.get('used_memory'))}" for p in top]
        if unnamed >= BUSY_FRACTION * mem["total"] or not names:
            names.append(f"{format_size(unnamed)} by processes NVML cannot name (another container or VM"
                         " on this GPU; memory.used says it is in use)")
        yield finding(
            "PD306",
            f"GPU {g.get('index')} ({g.get('name')}): {format_size(held)} of "
            f"{format_size(mem['total'])} held by "
            f"other processes: {', '.join(names)}",
            {"gpu": g.get("index"), "used_by_others": held, "total": mem["total"],
             "memory_used": used, "unattributed": unnamed,
             "processes": top, "utilization_gpu": g.get("utilization_gpu")},
            Fix([f"nvidia-smi -i {g.get('index')}"],
                "Wait for that job, stop it, or train on another GPU (CUDA_VISIBLE_DEVICES)."))


def _lost(g: dict) -> bool:
    """A GPU NVML reports as lost (GPU_IS_LOST), or whose every identifying field is missing."""
    error = str(g.get("error") or g.get("error_kind") or "")
    return "Lost" in error or "LOST" in error or (
        g.get("name") is None and g.get("compute_capability") is None)


@summary("gpu")
def summarize(facts, options):
    nvml = F.get(facts, "nvml")
    if not nvml:
        return "skipped", f"NVML probe unavailable: {F.reason(facts, 'nvml')}"
    if nvml.get("status") != "ok":
        tegra = F.get(facts, "driver_libs", "tegra_release")
        if tegra:
            return "ok", f"Jetson/Tegra device ({tegra}); no NVML on Tegra"
        return "ok", f"no NVIDIA driver ({nvml.get('error_kind') or nvml.get('error')})"
    gpus = F.nvml_gpus(facts)
    names = {}
    for g in gpus:
        if _lost(g):  # fallen off the bus: NVML answers nothing for it, so say so, not "None"
            key = f"GPU {g.get('index')} lost ({g.get('pci_bus_id') or g.get('error') or 'GpuIsLost'})"
        else:
            key = (f"{g.get('name') or 'unnamed GPU'} (cc {g.get('compute_capability') or '?'}, "
                   f"{format_size(F.get(g, 'memory', 'total'))})")
        names[key] = names.get(key, 0) + 1
    listed = ", ".join(f"{n}× {k}" for k, n in names.items()) or "no GPU"
    return "ok", (f"driver {nvml.get('driver_version') or '?'} "
                  f"(CUDA {nvml.get('cuda_driver_version') or '?'}), {listed}")
