"""The host: CPU features, shared memory, free memory and disk."""

from __future__ import annotations

from ..model import Fix
from ..sizes import format_size
from . import check, finding, summary
from . import facts as F

SHM_MIN = 1 * F.GiB        # Docker's default is 64 MiB; DataLoader workers pass batches through it
MEMORY_MIN = 2 * F.GiB
DISK_MIN = 5 * F.GiB


@check("host")
def cpu_has_avx(facts, options):
    flags = F.get(facts, "host", "cpu", "flags")
    machine = (F.get(facts, "host", "os", "machine") or "").lower()
    if not flags or machine not in ("x86_64", "amd64") or flags.get("avx", True):
        return
    yield finding("PD401", f"The CPU ({F.get(facts, 'host', 'cpu', 'model') or '?'}) has no AVX: "
                           "import paddle dies with SIGILL (Illegal instruction)",
                  {"cpu": F.get(facts, "host", "cpu", "model"), "flags": flags},
                  Fix([], "Run on a CPU with AVX (any x86-64 CPU since 2011); in a VM, expose the "
                          "host CPU's features (e.g. QEMU/KVM `-cpu host`). Paddle no longer ships "
                          "noavx wheels."))


@check("host")
def shm_large_enough(facts, options):
    shm = F.get(facts, "host", "shm")
    if not shm or shm.get("total", SHM_MIN) >= SHM_MIN:
        return
    yield finding("PD402", f"/dev/shm is {format_size(shm['total'])}: DataLoader workers "
                           "(num_workers > 0) die with a bus error",
                  {"shm_total": shm["total"], "shm_free": shm.get("free")},
                  Fix([], "Docker: run with `--shm-size=8g` (or `--ipc=host`); Kubernetes: mount an "
                          "emptyDir with medium: Memory at /dev/shm. Or use num_workers=0."))


@check("host")
def enough_memory(facts, options):
    mem = F.get(facts, "host", "memory")
    if not mem or not isinstance(mem.get("available"), int):
        return
    available = mem["available"]
    limit = mem.get("cgroup_limit")
    if isinstance(limit, int):
        available = min(available, limit)
    if available >= MEMORY_MIN:
        return
    yield finding("PD403", f"Only {format_size(available)} of memory available"
                           + (f" (container limit {format_size(limit)})" if isinstance(limit, int) else ""),
                  {"available": available, "host_available": mem["available"],
                   "total": mem.get("total"), "cgroup_limit": limit},
                  Fix([], "Stop other processes or give the job more memory."))


@check("host")
def enough_disk(facts, options):
    seen = set()
    for name, disk in (F.get(facts, "host", "disk", default={}) or {}).items():
        if not isinstance(disk, dict) or not isinstance(disk.get("free"), int):
            continue
        fs = disk.get("fsid") or disk["path"]
        if disk["free"] >= DISK_MIN or fs in seen:
            continue  # one finding per filesystem
        seen.add(fs)
        yield finding("PD404", f"Only {format_size(disk['free'])} free on {disk['path']} ({name})",
                      {"path": disk["path"], "free": disk["free"], "total": disk.get("total")},
                      Fix([f"du -sh {disk['path']}/* | sort -h | tail"],
                          "Checkpoints and caches need room: free some, or point them elsewhere."))


@summary("host")
def summarize(facts, options):
    if F.reason(facts, "host"):
        return "skipped", f"host facts unavailable: {F.reason(facts, 'host')}"
    h = F.get(facts, "host", default={})
    osf, py, cpu = h.get("os") or {}, h.get("python") or {}, h.get("cpu") or {}
    flags = cpu.get("flags") if isinstance(cpu.get("flags"), dict) else None
    if not flags:  # not read (macOS, Windows, no /proc/cpuinfo): unknown, which is not "no AVX"
        simd = "CPU flags unknown"
    else:
        simd = "/".join(n.upper() for n in ("avx", "avx2", "avx512f") if flags.get(n)) or "no AVX"
    mem = h.get("memory") or {}
    available = mem.get("available")
    if isinstance(available, int) and isinstance(mem.get("cgroup_limit"), int):
        available = min(available, mem["cgroup_limit"])
    shm = h.get("shm") if isinstance(h.get("shm"), dict) else None
    # a part whose facts are unknown (a pasted text, an older report) is left out, not "None"
    system = " ".join(str(v) for v in (osf.get("distribution") or osf.get("system"),
                                        osf.get("machine")) if v)
    cpus = cpu.get("usable_cpus") or cpu.get("logical_cpus")
    parts = [system or None,
             f"Python {py.get('version')}" if py.get("version") else None,
             (f"{cpus} CPUs" if cpus else "CPU") + (f" ({simd})" if simd else "")
             if cpus or simd else None,
             f"{format_size(available)} RAM free" if isinstance(available, int) else None]
    if shm:
        parts.append(f"/dev/shm {format_size(shm['total'])}")
    disk = F.get(facts, "host", "disk", "cwd")
    if disk:
        parts.append(f"{format_size(disk['free'])} disk free")
    return "ok", ", ".join(p for p in parts if p) or "no host facts"
