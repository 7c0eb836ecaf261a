"""Checks of the bench area (see paddledoctor/codes.py): pure judgements of facts["bench"], the
checkpoint round trip that `paddledoctor bench` (and `check --bench`) measured."""

from __future__ import annotations

from ..model import Fix, Unavailable
from . import check, finding, summary
from . import facts as F

SAVE_SHARE_MIN = 0.20      # paddle.save below this share of the disk's write+fsync rate: PD707
GPU_RESUME_TOLERANCE = 1e-5  # absolute: a GPU resume may differ by atomics' order, not more
FORMATS = (("dygraph", "paddle.save/paddle.load (.pdparams + .pdopt)"),
           ("safetensors", "safetensors (peer)"),
           ("static", "paddle.static.save/load"),
           ("inference", "paddle.static.save_inference_model"),
           ("jit", "paddle.jit.save/load"))


def bench(facts) -> dict:
    value = facts.get("bench") if isinstance(facts, dict) else None
    return value if isinstance(value, dict) else {}


def mbps(value) -> str:
    return f"{value:,.0f} MB/s" if isinstance(value, (int, float)) else "?"


@check("bench")
def round_trip_bit_exact(facts, options):
    b = bench(facts)
    for key, label in FORMATS:
        entry = b.get(key)
        if not isinstance(entry, dict) or entry.get("exact") is not False:
            continue
        yield finding("PD701", f"{label}: the checkpoint did not restore the state bit for bit "
                               f"({len(entry.get('mismatches') or [])} difference(s))",
                      {"format": key, "differences": entry.get("mismatches"),
                       "files": entry.get("files"), "device": entry.get("device")},
                      Fix(["paddledoctor explain PD701"],
                          "Save and load the same objects: Layer.state_dict() and "
                          "Optimizer.state_dict() (it holds LR_Scheduler), then set_state_dict on "
                          "fresh objects built the same way; do not cast or move tensors between "
                          "save and load."))


@check("bench")
def resume_equivalent(facts, options):
    r = bench(facts).get("resume")
    if not isinstance(r, dict):
        return
    on_gpu = str(r.get("device", "cpu")).startswith("gpu")
    diff = r.get("max_abs_diff_params")
    evidence = {"steps": r.get("steps"), "resumed_at_step": r.get("resume_at"),
                "device": r.get("device"), "max_abs_diff_params": diff,
                "max_abs_diff_loss": r.get("max_abs_diff_loss"),
                "losses_straight": r.get("losses_straight"),
                "losses_resumed": r.get("losses_resumed")}
    if r.get("bitwise") is False:
        if on_gpu and isinstance(diff, (int, float)) and diff <= GPU_RESUME_TOLERANCE:
            pass  # GPU kernels may sum in another order: reported in the summary, not a fault
        else:
            yield finding("PD702", f"Resuming after {r.get('resume_at')} of {r.get('steps')} steps "
                                   f"does not give the uninterrupted run's parameters "
                                   f"(max abs difference {diff})",
                          evidence,
                          Fix(["paddledoctor explain PD702"],
                              "Restore the optimizer state (.pdopt, with LR_Scheduler) as well as "
                              "the model's, into objects built the same way, before the next step."))
    if r.get("without_optimizer_detected") is False:
        yield finding("PD702", "A resume without the optimizer state was not told apart from the "
                               "uninterrupted run: the resume check cannot be trusted on this setup",
                      evidence, Fix(["paddledoctor explain PD702"], "Report this with the JSON."))


@check("bench")
def checkpoint_written(facts, options):
    b = bench(facts)
    for failure in b.get("failures") or []:
        if failure.get("kind") != "write":
            continue
        code = failure.get("errno")
        what = {"ENOSPC": "the disk is full", "EDQUOT": "the disk quota is exhausted",
                "EFBIG": "a file-size limit was hit (ulimit -f)",
                "EROFS": "the file system is read-only", "EACCES": "permission denied",
                "EPERM": "not permitted", "ENOTDIR": "a part of the path is not a folder",
                "ENOENT": "nothing can be created in it"}.get(code, code or "write failed")
        directory = F.get(b, "options", "dir")
        fixes = {"ENOSPC": [f"df -h {directory}"], "EDQUOT": [f"df -h {directory}"],
                 "EFBIG": ["ulimit -f unlimited"]}.get(code, [f"ls -ld {directory}"])
        yield finding("PD703", f"The checkpoint could not be written in {directory}: {what} "
                               f"({failure.get('stage')})",
                      {"dir": directory, "errno": code, "stage": failure.get("stage"),
                       "error": failure.get("error"), "size": F.get(b, "options", "size")},
                      Fix(fixes, "Point --dir (and your job's checkpoints) at a folder with room "
                                 "for the checkpoint and its temporary copies, which you can write."))


@check("bench")
def fits_in_memory(facts, options):
    b = bench(facts)
    for failure in b.get("failures") or []:
        if failure.get("kind") == "memory":
            mem = b.get("memory") if isinstance(b.get("memory"), dict) else {}
            yield finding("PD704", failure.get("error"),
                          {"size": F.get(b, "options", "size"), "needed": mem.get("needed"),
                           "available": mem.get("available"), "cgroup_room": mem.get("cgroup_room")},
                          Fix(["paddledoctor bench --size 256MiB"],
                              "Run the bench with a smaller --size; use --project to project the "
                              "figures to your real checkpoint's size."))
    refused = b.get("gpu_memory_refused")
    if isinstance(refused, dict):
        yield finding("PD704", f"--size {F.get(b, 'options', 'size_text')} needs about "
                               f"{F.gib(refused.get('needed'))} on {refused.get('device')}; "
                               f"{F.gib(refused.get('free'))} is free",
                      refused, Fix(["paddledoctor bench --size 256MiB"],
                                   "Run the bench with a smaller --size."))


@check("bench")
def steps_ran(facts, options):
    b = bench(facts)
    for failure in b.get("failures") or []:
        if failure.get("kind") not in ("crash", "timeout", "error", "deadline"):
            continue
        how = {"crash": "crashed", "timeout": "hung", "error": "raised an error",
               "deadline": "did not run: the deadline passed before it"}[failure["kind"]]
        yield finding("PD705", f"A checkpoint step {how}: {failure.get('stage')}",
                      {"part": failure.get("part"), "stage": failure.get("stage"),
                       "error": failure.get("error"), "stderr": failure.get("stderr")},
                      Fix(["paddledoctor check"],
                          "Read the error above; `paddledoctor check` tells whether Paddle itself "
                          "works here. A hang: raise --timeout, or try a smaller --size."))


@check("bench")
def device_usable(facts, options):
    device = bench(facts).get("device")
    if isinstance(device, dict) and device.get("usable") is False:
        yield finding("PD706", f"Device {device.get('requested')} is not usable: {device.get('reason')}",
                      device,
                      Fix(["paddledoctor check", "paddledoctor bench --device cpu"],
                          "Install a GPU build of Paddle that fits this driver (see `paddledoctor "
                          "check`), or bench on the CPU."))


@check("bench")
def save_near_disk_speed(facts, options):
    b = bench(facts)
    dyg, disk, peer = b.get("dygraph"), b.get("disk"), b.get("safetensors")
    if not (isinstance(dyg, dict) and isinstance(disk, dict)):
        return
    save, limit = dyg.get("save_mbps"), disk.get("write_mbps")
    if not (isinstance(save, (int, float)) and isinstance(limit, (int, float)) and limit > 0):
        return
    share = save / limit
    if share >= SAVE_SHARE_MIN:
        return
    evidence = {"paddle_save": mbps(save), "disk_write_fsync": mbps(limit),
                "efficiency": f"{share:.0%}", "state": F.get(b, "dygraph", "file_bytes")}
    text = ("paddle.save pickles every tensor (protocol 4) and writes the copy; ")
    if isinstance(peer, dict) and isinstance(peer.get("save_mbps"), (int, float)):
        evidence["safetensors_save"] = mbps(peer["save_mbps"])
        evidence["safetensors_efficiency"] = f"{peer['save_mbps'] / limit:.0%}"
        text += (f"safetensors saved the same state here at {mbps(peer['save_mbps'])} "
                 f"({peer['save_mbps'] / limit:.0%} of the disk): safetensors.paddle.save_file for "
                 "the tensors, and the optimizer's LR_Scheduler entry in a small JSON beside them.")
    else:
        text += "a format that writes tensors' bytes directly (safetensors) avoids the copy."
    yield finding("PD707", f"paddle.save reaches {share:.0%} of this disk's bandwidth "
                           f"({mbps(save)} vs {mbps(limit)} write+fsync)", evidence,
                  Fix(["python -m pip install safetensors"], text))


@check("bench")
def async_save_consistent(facts, options):
    a = bench(facts).get("async_save")
    if not isinstance(a, dict) or not a.get("torn_runs"):
        return
    counts = a.get("torn_tensors") or []
    yield finding("PD708", f"paddle.async_save: in {a['torn_runs']} of {a.get('runs')} runs the file "
                           f"held values written after the call returned (up to "
                           f"{max(counts, default=0)} of {a.get('tensors')} tensors): a torn "
                           "checkpoint",
                  {"runs": a.get("runs"), "torn_runs": a["torn_runs"], "torn_tensors": counts,
                   "device": a.get("device")},
                  Fix([], "Do not change the parameters until the save has finished: call "
                          "paddle.framework.io.clear_async_save_task_queue() before the next "
                          "optimizer step, or pass copies (t.clone()) to paddle.async_save."))


@check("bench")
def projection_fits(facts, options):
    p = bench(facts).get("projection")
    if not isinstance(p, dict) or p.get("fits_in_memory") is not False:
        return
    yield finding("PD709", f"Saving a {F.gib(p.get('bytes'))} checkpoint with paddle.save needs about "
                           f"{F.gib(p.get('save_memory'))} of memory; {F.gib(p.get('memory_total'))} "
                           "is installed",
                  p, Fix([], "Save with safetensors (no extra copy), or in shards (one file per "
                             "layer group)."))


@check("bench")
def cold_read(facts, options):
    disk = bench(facts).get("disk")
    if isinstance(disk, dict) and disk.get("cold") is False:
        yield finding("PD710", f"The load figures come from memory: {disk.get('note')}",
                      {"fs_type": disk.get("fs_type"), "note": disk.get("note")},
                      Fix(["paddledoctor bench --dir /path/on/the/checkpoint/disk"],
                          "Bench in a folder on the disk your checkpoints go to."))


@check("bench")
def nothing_left_behind(facts, options):
    cleanup = bench(facts).get("cleanup")
    if isinstance(cleanup, dict) and cleanup.get("removed") is False:
        yield finding("PD711", f"The bench could not remove {cleanup.get('temp_dir')}", cleanup,
                      Fix([f"rm -rf {cleanup.get('temp_dir')}"]))


@summary("bench")
def summarize(facts, options):
    b = bench(facts)
    if not b:
        return "hidden", ""
    if isinstance(facts.get("bench"), Unavailable):
        return "skipped", facts["bench"].reason
    size = F.get(b, "options", "size_text") or "?"
    exact = [label.split(" ")[0] for key, label in FORMATS
             if isinstance(b.get(key), dict) and b[key].get("exact") is True]
    parts = [f"{size} of parameters on {F.get(b, 'device', 'used') or F.get(b, 'options', 'device')}"]
    if exact:
        parts.append("bit-exact: " + ", ".join(exact))
    r = b.get("resume")
    if isinstance(r, dict):
        parts.append("resume identical" if r.get("bitwise") else
                     f"resume max abs diff {r.get('max_abs_diff_params')}")
    dyg, disk = b.get("dygraph"), b.get("disk")
    if isinstance(dyg, dict) and isinstance(disk, dict) and dyg.get("save_mbps") and disk.get("write_mbps"):
        parts.append(f"paddle.save {mbps(dyg['save_mbps'])} = "
                     f"{dyg['save_mbps'] / disk['write_mbps']:.0%} of the disk's {mbps(disk['write_mbps'])}")
    return "ok", "; ".join(parts)

