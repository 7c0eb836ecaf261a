"""The user's stated expectations turned into findings: --require gpu, --min-gpus N, and the
pre-flight requirements (--min-free-gpu-mem, --min-free-disk, --checkpoint-dir, a required --bench)."""

from __future__ import annotations

from ..model import Fix, Unavailable
from ..sizes import format_size
from . import check, finding, summary
from . import facts as F


def usable_gpus(facts) -> tuple[int, str]:
    """How many GPUs Paddle can train on here, and how that was established."""
    b = F.build(facts)
    if not b or not b["cuda"]:
        return 0, "the installed Paddle is not a CUDA build" if b else "Paddle is not installed"
    if F.runtime_ran(facts):
        ops = F.get(facts, "runtime", "ops", default=[]) or []
        return (sum(1 for o in ops if str(o.get("device")).startswith("gpu")
                    and o.get("outcome") == "ok"), "GPUs where the training step was correct")
    healthy = [g for g in F.nvml_gpus(facts) if not g.get("error")]
    return len(healthy), "GPUs NVML reports healthy (static check: no training step run)"


@check("requirements")
def required_gpus(facts, options):
    need = max(int(options.get("min_gpus") or 0), 1 if options.get("require_gpu") else 0)
    if not need:
        return
    have, how = usable_gpus(facts)
    if have >= need:
        return
    evidence = {"required": need, "usable": have, "counted_as": how,
                "nvml_gpus": F.nvml_gpu_count(facts)}
    fix = Fix([], "See the findings above for why the GPUs are not usable.")
    if options.get("require_gpu") and have == 0:
        yield finding("PD601", f"A GPU is required, none is usable ({how})", evidence, fix)
    else:
        yield finding("PD602", f"{need} GPU(s) required, {have} usable ({how})", evidence, fix)


def _free_gpu_memory(facts) -> list[dict]:
    """Each GPU NVML can query, with its free memory (bytes) or None where unknown."""
    out = []
    for i, g in enumerate(F.nvml_gpus(facts)):
        mem = g.get("memory") if isinstance(g.get("memory"), dict) else {}
        free = mem.get("free") if isinstance(mem.get("free"), int) and not g.get("error") else None
        out.append({"index": g.get("index", i), "name": g.get("name"), "free": free,
                    "total": mem.get("total")})
    return out


@check("requirements")
def enough_free_gpu_memory(facts, options):
    want = int(options.get("min_free_gpu_mem") or 0)
    if not want:
        return
    need = max(int(options.get("min_gpus") or 0), 1)
    gpus = _free_gpu_memory(facts)
    enough = [g for g in gpus if g["free"] is not None and g["free"] >= want]
    if len(enough) >= need:
        return
    per_gpu = [f"gpu {g['index']}: {format_size(g['free'])} free of {format_size(g['total'])}" for g in gpus]
    why = ("NVML reports no GPU" if not gpus else ", ".join(per_gpu))
    yield finding("PD603", f"{need} GPU(s) with {format_size(want)} free required, {len(enough)} have it "
                           f"({why})",
                  {"required_free": want, "required_gpus": need, "gpus_with_enough": len(enough),
                   "free_per_gpu": per_gpu, "nvml_status": F.get(facts, "nvml", "status")},
                  Fix(["nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv"],
                      "Another process holds the GPU memory: stop it (the command lists them), or "
                      "ask the scheduler for GPUs of your own."))


def _disk_target(facts, options) -> tuple[str | None, object]:
    if options.get("checkpoint_dir") and isinstance(facts.get("checkpoint_dir"), dict):
        cd = facts["checkpoint_dir"]
        return cd.get("path"), cd.get("free")
    disk = F.get(facts, "host", "disk", "cwd")
    return (disk.get("path"), disk.get("free")) if disk else (None, None)


@check("requirements")
def enough_free_disk(facts, options):
    want = int(options.get("min_free_disk") or 0)
    if not want:
        return
    path, free = _disk_target(facts, options)
    if isinstance(free, int) and free >= want:
        return
    if isinstance(free, int):
        title = f"{format_size(want)} free disk required at {path}, {format_size(free)} free"
    else:
        why = free.reason if isinstance(free, Unavailable) else "not measured"
        title = f"{format_size(want)} free disk required at {path or '?'}, free space unknown ({why})"
    yield finding("PD604", title, {"path": path, "required_free": want,
                                   "free": free if isinstance(free, int) else None},
                  Fix([f"du -sh {(path or '.').rstrip('/')}/* | sort -h | tail"],
                      "Free some space (old checkpoints first), or point --checkpoint-dir at a "
                      "filesystem with room."))


@check("requirements")
def checkpoint_dir_writable(facts, options):
    if not options.get("checkpoint_dir"):
        return
    cd = facts.get("checkpoint_dir")
    if isinstance(cd, Unavailable):
        yield finding("PD605", f"The checkpoint directory {options['checkpoint_dir']} could not be "
                               f"checked: {cd.reason}",
                      {"path": options["checkpoint_dir"], "error": cd.reason},
                      Fix([], "Check that the path is right and its filesystem is mounted."))
        return
    if not isinstance(cd, dict) or cd.get("writable") is not False and not cd.get("error"):
        return
    where = cd.get("path")
    target = where if cd.get("exists") else cd.get("nearest_existing") or where
    yield finding("PD605", f"Cannot write checkpoints to {where}: {cd.get('error') or 'not writable'}",
                  {"path": where, "exists": cd.get("exists"), "tested_in": target,
                   "error": cd.get("error")},
                  Fix([f"ls -ld {target}", f"id -u; stat -c '%U %a' {target}"],
                      "Make the folder writable by the training job's user, or mount the shared "
                      "filesystem it should live on (an unmounted mount point is often a "
                      "read-only or root-owned empty folder)."))


@check("requirements")
def required_bench_ran(facts, options):
    bench = facts.get("bench")
    if not options.get("bench") or not isinstance(bench, Unavailable):
        return
    yield finding("PD606", f"A checkpoint round trip was required but could not run: {bench.reason}",
                  {"reason": bench.reason},
                  Fix(["paddledoctor bench --size 64MiB"],
                      "Run the round trip on its own to see why, or drop the bench requirement."))


@summary("requirements")
def summarize(facts, options):
    parts = []
    need = max(int(options.get("min_gpus") or 0), 1 if options.get("require_gpu") else 0)
    if need:
        have, how = usable_gpus(facts)
        parts.append(f"{need} GPU(s) required, {have} usable ({how})")
    if options.get("min_free_gpu_mem"):
        parts.append(f"{format_size(options['min_free_gpu_mem'])} free per GPU required")
    if options.get("min_free_disk"):
        path, free = _disk_target(facts, options)
        parts.append(f"{format_size(options['min_free_disk'])} free disk required, {format_size(free)} free "
                     f"at {path}")
    if options.get("checkpoint_dir"):
        parts.append(f"checkpoints to {options['checkpoint_dir']}")
    if options.get("bench"):
        parts.append("checkpoint round trip required")
    if not parts:
        return "hidden", ""
    return "ok", "; ".join(parts)
