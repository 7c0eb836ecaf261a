"""Checks of the bench area (see paddledoctor/codes.py): pure judgements of facts["bench"], the
checkpoint round trip that `paddledoctor bench` (and `check --bench`) measured."""

from __future__ import annotations

from ..model import Fix, Unavailable
from ..sizes import format_size
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
                               f"{format_size(refused.get('needed'))} on {refused.get('device')}; "
                               f"{format_size(refused.get('free'))} is free",
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
    # Judged on the best of the save passes against the disk's best pass (like for like), so that
    # one pass landing on a stall of the disk does not flip the verdict between runs.
    save = dyg.get("save_best_mbps", dyg.get("save_mbps"))
    limit = disk.get("write_mbps")
    if not (isinstance(save, (int, float)) and isinstance(limit, (int, float)) and limit > 0):
        return
    share = save / limit
    if share >= SAVE_SHARE_MIN:
        return
    evidence = {"paddle_save": mbps(save), "disk_write_fsync": mbps(limit),
                "efficiency": f"{share:.0%}", "state": F.get(b, "dygraph", "file_bytes")}
    passes = dyg.get("save_passes_mbps")
    if isinstance(passes, list) and passes:
        evidence["paddle_save_passes"] = ", ".join(mbps(x) for x in passes)
    if isinstance(disk.get("write_passes_mbps"), list):
        evidence["disk_passes"] = ", ".join(mbps(x) for x in disk["write_passes_mbps"])
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
    yield finding("PD709", f"Saving a {format_size(p.get('bytes'))} checkpoint with paddle.save "
                           f"needs about {format_size(p.get('save_memory'))} of memory; "
                           f"{format_size(p.get('memory_total'))} is installed",
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
    if "model_run" in b or "factory_error" in b:
        return "ok", model_summary(b)
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



# --- bench --model: the user's own training (facts["bench"]["model_run"] and ["model_checkpoint"])

SAVE_HOW = {
    "scheduler": ("the LR scheduler's state",
                  "paddle.save(scheduler.state_dict(), 'scheduler.pdparams') and, on resume, "
                  "scheduler.set_state_dict(paddle.load('scheduler.pdparams'))"),
    "scaler": ("the GradScaler's loss scale and its counters",
               "paddle.save(scaler.state_dict(), 'scaler.pdparams') and, on resume, "
               "scaler.load_state_dict(paddle.load('scaler.pdparams'))"),
    "paddle_rng": ("Paddle's RNG state (dropout and paddle.rand draw from it)",
                   "keep paddle.get_rng_state() (and paddle.get_cuda_rng_state() on a GPU) with the "
                   "checkpoint and restore them with paddle.set_rng_state(...) / "
                   "paddle.set_cuda_rng_state(...)"),
    "numpy_rng": ("numpy's RNG state (your data pipeline or augmentation draws from it)",
                  "keep np.random.get_state() with the checkpoint and restore it with "
                  "np.random.set_state(...)"),
    "python_rng": ("Python's random module state",
                   "keep random.getstate() with the checkpoint and restore it with random.setstate(...)"),
}


def _model_run(facts) -> dict:
    run = bench(facts).get("model_run")
    return run if isinstance(run, dict) else {}


@check("bench")
def model_factory_usable(facts, options):
    err = bench(facts).get("factory_error")
    if not isinstance(err, dict):
        return
    yield finding("PD712", f"bench --model {err.get('factory')}: {err.get('error')}",
                  {"factory": err.get("factory"), "error": err.get("error"),
                   "traceback": err.get("traceback")},
                  Fix([], "FACTORY() must return a dict with 'model' (a paddle.nn.Layer) and "
                          "'optimizer'; optional 'scheduler', 'scaler' (paddle.amp.GradScaler), "
                          "'batch' (batch(step) -> inputs) and 'loss' (loss(model, inputs) -> Tensor). "
                          "See `paddledoctor explain PD712`."))


@check("bench")
def model_deterministic(facts, options):
    run = _model_run(facts)
    det = run.get("determinism")
    if run.get("deterministic") is False and isinstance(det, dict):
        yield finding("PD715", f"Two identical runs of {F.get(bench(facts), 'options', 'model')} "
                               f"differ (from step {det.get('first_differing_step')}; max abs diff of "
                               f"the parameters {det.get('max_abs_diff_params'):.3g}): a resume cannot "
                               "be checked bit for bit",
                      {"first_differing_step": det.get("first_differing_step"),
                       "max_abs_diff_params": det.get("max_abs_diff_params"),
                       "device": F.get(bench(facts), "device", "used")},
                      Fix([], "Look for state the factory or batch() does not reset (a global counter, "
                              "data read in another order), or nondeterministic kernels "
                              "(FLAGS_cudnn_deterministic=1 on a GPU)."))


@check("bench")
def model_resume_pieces(facts, options):
    run = _model_run(facts)
    variants = run.get("variants") if isinstance(run.get("variants"), dict) else {}
    typical, full = variants.get("typical"), variants.get("full")
    if run.get("deterministic") is False or not isinstance(typical, dict):
        return
    if any(isinstance(v, dict) and v.get("optimizer_load_error") for v in variants.values()):
        return  # the optimizer state did not load at all: PD716 names that cause
    name = F.get(bench(facts), "options", "model")
    if isinstance(full, dict) and full.get("exact") is False:
        yield finding("PD714", f"{name}: resumed with the model, optimizer, scheduler, scaler and "
                               "every RNG state restored, training still differs from the "
                               f"uninterrupted run (from step {full.get('first_differing_step')}; "
                               f"{full.get('params_differing')} parameter(s) differ)",
                      {"resume_at": run.get("resume_at"), "steps": run.get("steps"),
                       "pieces_saved": full.get("pieces"),
                       "first_differing_step": full.get("first_differing_step"),
                       "params_differing": full.get("params_differing_names"),
                       "max_abs_diff_params": full.get("max_abs_diff_params")},
                      Fix([], "Some state lives outside these objects: buffers that are not "
                              "registered (use register_buffer), a step counter kept in Python, "
                              "or a data order that restarts; save it with the checkpoint."))
        return
    required = run.get("required") or []
    if typical.get("exact") is False and isinstance(full, dict) and full.get("exact") and required:
        texts = [SAVE_HOW.get(p, (p, ""))[0] for p in required]
        how = [f"{SAVE_HOW[p][0]}: {SAVE_HOW[p][1]}" for p in required if p in SAVE_HOW]
        yield finding("PD713", f"{name}: a resume from the model and optimizer alone differs from "
                               f"the uninterrupted run (from step {typical.get('first_differing_step')}); "
                               f"save also {', '.join(texts)}",
                      {"required": required, "resume_at": run.get("resume_at"),
                       "steps": run.get("steps"),
                       "first_differing_step": typical.get("first_differing_step"),
                       "max_abs_diff_params": typical.get("max_abs_diff_params"),
                       "found_by": "each piece left out in turn from a resume that is exact"},
                      Fix([], "; ".join(how)))


@check("bench")
def model_optimizer_loaded(facts, options):
    variants = _model_run(facts).get("variants")
    if not isinstance(variants, dict):
        return
    for label, v in variants.items():
        if isinstance(v, dict) and (v.get("optimizer_keys_lost_count") or v.get("optimizer_load_error")):
            count = v.get("optimizer_keys_lost_count") or "the"
            yield finding("PD716", f"{count} optimizer accumulator(s) did not load into the rebuilt "
                                   "optimizer: the state is keyed to parameter names the rebuilt "
                                   "model no longer has",
                          {"keys_not_loaded": v.get("optimizer_keys_lost"), "resume": label,
                           "paddle_said": v.get("optimizer_load_error")},
                          Fix([], "Build the model the same way, in the same order, before loading; "
                                  "inside one process wrap each build in "
                                  "`with paddle.utils.unique_name.guard():` so parameter names "
                                  "restart, or give the layers fixed names."))
            return


@check("bench")
def model_checkpoint_exact(facts, options):
    cost = bench(facts).get("model_checkpoint")
    if isinstance(cost, dict) and cost.get("exact") is False:
        yield finding("PD701", f"paddle.save/paddle.load of {F.get(bench(facts), 'options', 'model')}'s "
                               f"state did not restore it bit for bit ({len(cost.get('mismatches') or [])} "
                               "difference(s))",
                      {"differences": cost.get("mismatches"), "pieces": cost.get("pieces")},
                      Fix(["paddledoctor explain PD701"],
                          "Save and load the same objects' state_dict(); do not cast or move "
                          "tensors between save and load."))


def model_summary(b: dict) -> str:
    run = b.get("model_run") if isinstance(b.get("model_run"), dict) else {}
    cost = b.get("model_checkpoint") if isinstance(b.get("model_checkpoint"), dict) else {}
    parts = [f"{F.get(b, 'options', 'model')} on {F.get(b, 'device', 'used') or F.get(b, 'options', 'device')}"]
    typical = F.get(run, "variants", "typical")
    if isinstance(typical, dict):
        parts.append("resume from model + optimizer: " +
                     ("exact" if typical.get("exact") else "differs"))
    if cost.get("file_bytes"):
        disk = b.get("disk") if isinstance(b.get("disk"), dict) else {}
        text = f"checkpoint {format_size(cost['file_bytes'])} saved at {mbps(cost.get('save_mbps'))}"
        if disk.get("write_mbps"):
            text += f" = {cost['save_mbps'] / disk['write_mbps']:.0%} of the disk's {mbps(disk['write_mbps'])}"
        parts.append(text)
    return "; ".join(parts)
