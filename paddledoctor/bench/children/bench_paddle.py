"""Child of `paddledoctor bench`: checkpoint round trips with the real Paddle.

Run as ``python bench_paddle.py FD JSON``. JSON: {"part": "checkpoint"|"formats", "dir": DIR,
"bytes": N, "device": "cpu"|"gpu:N"|"auto", "async_runs": R}. Writes JSON lines to FD: "stage"
before each step (so the parent can name the step that never finished), "result" with a key and
the figures, "failure" for a step that raised. Imports paddle once. Standard library, numpy,
paddle (and safetensors for the peer) only; never imports paddledoctor.

- checkpoint: a model of N bytes of float32 parameters, trained a few steps with AdamW and an LR
  scheduler; paddle.save of its state_dict (.pdparams) and of the optimizer's (.pdopt), each
  followed by fsync; the files' pages evicted, paddle.load cold; set_state_dict into fresh objects;
  every tensor compared bit for bit; the same state through safetensors (the peer). Peak extra RSS
  of each save and load (VmHWM reset through /proc/self/clear_refs).
- formats (small models): resume equivalence, paddle.static.save/load, save_inference_model,
  paddle.jit.save, and paddle.async_save consistency.
"""

import errno
import json
import os
import sys
import time
import traceback

from _channel import OUT, emit, error_text  # _start.py puts the channel's folder on sys.path
from bench_io import evict, proc_status  # this script's folder is first on sys.path

ARGS = json.loads(sys.argv[2])
DIR = ARGS["dir"]
STEPS = 2  # training steps before the checkpoint: every Adam accumulator is non-trivial
SAVE_PASSES = 3  # paddle.save of the same state, timed this many times


_ERRNO_TEXT = {"ENOSPC": ("No space left on device", "os error 28"),
               "EFBIG": ("File too large", "os error 27"),
               "EROFS": ("Read-only file system", "os error 30"),
               "EACCES": ("Permission denied", "os error 13"),
               "EDQUOT": ("Disk quota exceeded", "os error 122")}


def errno_of(exc):
    """The errno name behind an exception, also where a library wrapped the OSError in text."""
    seen = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno:
            return errno.errorcode.get(seen.errno, str(seen.errno))
        seen = seen.__cause__ or seen.__context__
    text = str(exc)
    for name, needles in _ERRNO_TEXT.items():
        if any(n in text for n in needles):
            return name
    return None


def step(stage, fn, *args):
    """Run one step; an exception becomes a "failure" event (with its errno) and None."""
    emit("stage", name=stage)
    try:
        return fn(*args)
    except Exception as exc:
        emit("failure", stage=stage, errno=errno_of(exc), error=error_text(exc),
             traceback=traceback.format_exc()[-2000:])
        return None


# --- memory ------------------------------------------------------------------------------------

class PeakRss:
    """Peak resident memory above the level at entry, during a with-block (Linux: VmHWM is reset
    by writing 5 to /proc/self/clear_refs)."""

    def __enter__(self):
        self.ok = True
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            self.ok = False
        self.before = proc_status("VmRSS")
        return self

    def __exit__(self, *exc):
        peak = proc_status("VmHWM")
        self.extra = (max(0, peak - self.before) if self.ok and peak is not None
                      and self.before is not None else None)
        return False


# --- files -------------------------------------------------------------------------------------

def fsync_file(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def files_in(directory):
    out = {}
    for name in sorted(os.listdir(directory)):
        p = os.path.join(directory, name)
        if os.path.isfile(p):
            out[name] = os.path.getsize(p)
    return out


# --- comparing ---------------------------------------------------------------------------------

def as_numpy(np, value):
    if hasattr(value, "numpy"):
        return value.numpy()
    return np.asarray(value)


def same_bits(np, a, b):
    """Bit for bit (so NaN == NaN with the same payload, and -0.0 != 0.0), with dtype and shape."""
    a, b = as_numpy(np, a), as_numpy(np, b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False, f"dtype/shape {a.dtype}{list(a.shape)} != {b.dtype}{list(b.shape)}"
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    if np.array_equal(a.reshape(-1).view(np.uint8), b.reshape(-1).view(np.uint8)):
        return True, ""
    if a.dtype.kind == "f":
        diff = float(np.nanmax(np.abs(a.astype("float64") - b.astype("float64"))))
        return False, f"max abs diff {diff:.3g}"
    return False, "values differ"


def compare_dicts(np, want, got, what, mismatches, limit=10):
    """Every entry of want is in got with the same bits (tensors) or the same value (the rest)."""
    count = 0
    for key, value in want.items():
        if key not in got:
            mismatches.append(f"{what}[{key}]: missing after load")
            continue
        other = got[key]
        if isinstance(value, dict):
            count += compare_dicts(np, value, other if isinstance(other, dict) else {},
                                   f"{what}[{key}]", mismatches, limit)
            continue
        if hasattr(value, "numpy") or hasattr(value, "dtype"):
            count += 1
            ok, why = same_bits(np, value, other)
            if not ok:
                mismatches.append(f"{what}[{key}]: {why}")
        elif value != other:
            mismatches.append(f"{what}[{key}]: {value!r} != {other!r}")
    for key in got:
        if key not in want:
            mismatches.append(f"{what}[{key}]: not in the saved state")
    del mismatches[limit:]
    return count


# --- the model ---------------------------------------------------------------------------------

def make_model(paddle, nbytes, seed):
    """A stack of square Linear layers holding about nbytes of float32 parameters, its AdamW and
    LR scheduler. Built under unique_name.guard() so a second build in this process gets the same
    parameter names (optimizer state is keyed by them: "linear_0.w_0_moment1_0")."""
    layers = 8 if nbytes >= (64 << 20) else 4
    width = max(8, int((nbytes / 4 / layers) ** 0.5))
    with paddle.utils.unique_name.guard():
        paddle.seed(seed)
        model = paddle.nn.Sequential(*[paddle.nn.Linear(width, width) for _ in range(layers)])
        sched = paddle.optimizer.lr.StepDecay(learning_rate=1e-3, step_size=1, gamma=0.5)
        opt = paddle.optimizer.AdamW(learning_rate=sched, parameters=model.parameters(),
                                     weight_decay=0.01)
    return model, opt, sched, width


def train(paddle, model, opt, sched, width, steps, start=0, losses=None):
    for i in range(start, start + steps):
        x = paddle.to_tensor(data(width, i))
        loss = (model(x) ** 2).mean()
        loss.backward()
        opt.step()
        opt.clear_grad(set_to_zero=False)  # frees the gradients: less memory held at save time
        sched.step()
        if losses is not None:
            losses.append(float(loss.numpy()))


def data(width, i):
    import numpy as np
    rng = np.random.default_rng(1000 + i)
    return (rng.standard_normal((4, width)) / 8).astype("float32")


def state_bytes(state):
    total = 0
    for v in state.values():
        if isinstance(v, dict):
            total += state_bytes(v)
        elif hasattr(v, "numel") and hasattr(v, "element_size"):
            total += int(v.numel()) * int(v.element_size())
    return total


# --- device ------------------------------------------------------------------------------------

def choose_device(paddle):
    """The device asked for, if usable; else a "device" result saying why not."""
    asked = ARGS.get("device", "auto")
    cuda = bool(paddle.is_compiled_with_cuda())
    count = 0
    if cuda:
        try:
            count = int(paddle.device.cuda.device_count())
        except Exception:
            count = 0
    facts = {"requested": asked, "compiled_with_cuda": cuda, "gpu_count": count,
             "paddle_version": getattr(paddle, "__version__", None)}
    if asked == "auto":
        used = "gpu:0" if count else "cpu"
    elif asked == "cpu":
        used = "cpu"
    else:
        index = int(asked.split(":", 1)[1])
        if not cuda:
            facts["usable"] = False
            facts["reason"] = (f"{asked} was asked for, but this Paddle "
                               f"({facts['paddle_version']}) is the CPU build")
            return None, facts
        if index >= count:
            facts["usable"] = False
            facts["reason"] = f"{asked} was asked for, but Paddle sees {count} GPU(s)"
            return None, facts
        used = asked
    facts["used"] = used
    facts["usable"] = True
    if used.startswith("gpu"):
        try:
            props = paddle.device.cuda.get_device_properties(int(used.split(":")[1]))
            facts["gpu_name"] = props.name
            facts["gpu_total_memory"] = int(props.total_memory)
        except Exception as exc:
            facts["gpu_properties"] = {"unavailable": error_text(exc)}
    paddle.set_device(used)
    return used, facts


def gpu_memory_refusal(paddle, device, need):
    """On a GPU: refuse before allocating when the bench cannot fit (total minus what is reserved
    here; other processes' use is NVML's to tell)."""
    if not device.startswith("gpu"):
        return None
    try:
        index = int(device.split(":")[1])
        total = int(paddle.device.cuda.get_device_properties(index).total_memory)
        reserved = int(paddle.device.cuda.memory_reserved(index))
    except Exception:
        return None
    free = total - reserved
    if need > free:
        return {"device": device, "needed": need, "free": free, "total": total}
    return None


# --- part 1: the checkpoint at --size ----------------------------------------------------------

def part_checkpoint(paddle, np, device):
    nbytes = int(ARGS["bytes"])
    need_gpu = 4 * nbytes + (256 << 20)
    refusal = gpu_memory_refusal(paddle, device, need_gpu)
    if refusal:
        emit("result", key="gpu_memory_refused", value=refusal)
        return
    work = os.path.join(DIR, "dygraph")
    os.makedirs(work)
    built = step("dygraph: build and train the model", build_and_train, paddle, nbytes)
    if built is None:
        return
    model, opt, sched, width = built
    model_state, opt_state = model.state_dict(), opt.state_dict()
    result = {"width": width, "layers": len(model_state) // 2, "steps": STEPS,
              "tensors": len(model_state) + sum(1 for v in opt_state.values() if hasattr(v, "numel")),
              "param_bytes": state_bytes(model_state), "opt_bytes": state_bytes(opt_state),
              "scheduler": dict(opt_state.get("LR_Scheduler", {})),
              "optimizer": type(opt).__name__, "device": device}
    result["bytes"] = result["param_bytes"] + result["opt_bytes"]
    paths = {"pdparams": os.path.join(work, "model.pdparams"),
             "pdopt": os.path.join(work, "model.pdopt")}

    if device.startswith("gpu"):
        result.update(copy_rates(paddle, np, model_state) or {})

    def save():
        with PeakRss() as rss:
            t0 = time.perf_counter()
            paddle.save(model_state, paths["pdparams"])
            fsync_file(paths["pdparams"])
            paddle.save(opt_state, paths["pdopt"])
            fsync_file(paths["pdopt"])
            seconds = time.perf_counter() - t0
        return seconds, rss.extra

    # Several passes (one file pair, rewritten): one pass can land on a stall of the disk, and a
    # verdict on one pass comes and goes between runs. The median is reported, the best judged
    # against the disk's best pass (like for like), the spread shown.
    passes = []
    for n in range(SAVE_PASSES):
        saved = step(f"dygraph: paddle.save .pdparams + .pdopt (+ fsync), pass {n + 1}", save)
        if saved is None:
            return
        passes.append(saved)
    times = sorted(s for s, _ in passes)
    result["save_s"] = times[len(times) // 2]
    extras = [x for _, x in passes if x is not None]
    result["save_rss_extra"] = max(extras) if extras else None
    result["files"] = files_in(work)
    result["file_bytes"] = sum(result["files"].values())
    result["save_mbps"] = result["file_bytes"] / result["save_s"] / 1e6
    result["save_passes_mbps"] = [result["file_bytes"] / s / 1e6 for s, _ in passes]
    result["save_best_mbps"] = max(result["save_passes_mbps"])

    def load():
        for p in paths.values():
            evict(p)
        with PeakRss() as rss:
            t0 = time.perf_counter()
            loaded_model = paddle.load(paths["pdparams"])
            loaded_opt = paddle.load(paths["pdopt"])
            seconds = time.perf_counter() - t0
        return seconds, rss.extra, loaded_model, loaded_opt

    loaded = step("dygraph: paddle.load (cold)", load)
    if loaded is None:
        return
    result["load_s"], result["load_rss_extra"], loaded_model, loaded_opt = loaded
    result["load_mbps"] = result["file_bytes"] / result["load_s"] / 1e6

    def verify(loaded_model, loaded_opt):
        mismatches = []
        compare_dicts(np, model_state, loaded_model, "pdparams", mismatches)
        compare_dicts(np, opt_state, loaded_opt, "pdopt", mismatches)
        # Into fresh objects, as a resumed job does.
        fresh_model, fresh_opt, fresh_sched, _ = make_model(paddle, nbytes, seed=99)
        fresh_model.set_state_dict(loaded_model)
        fresh_opt.set_state_dict(loaded_opt)
        compare_dicts(np, model_state, fresh_model.state_dict(), "fresh model", mismatches)
        # Accumulators are created at the optimizer's first step, from what set_state_dict was
        # given: every one the saved state holds must be named after a parameter of the fresh model.
        names = {p.name for p in fresh_model.parameters()}
        orphans = [k for k in loaded_opt if k not in ("LR_Scheduler", "master_weights")
                   and not any(k.startswith(n + "_") for n in names)]
        if orphans:
            mismatches.append(f"optimizer state names no parameter of the fresh model: {orphans[:3]}")
        if fresh_sched.state_dict() != sched.state_dict():
            mismatches.append(f"LR scheduler: {fresh_sched.state_dict()} != {sched.state_dict()}")
        return mismatches

    mismatches = step("dygraph: compare every tensor bit for bit", verify, loaded_model, loaded_opt)
    del loaded_model, loaded_opt
    for p in paths.values():  # room on the disk for the peer
        os.unlink(p)
    if mismatches is not None:
        result["exact"] = not mismatches
        result["mismatches"] = mismatches
    emit("result", key="dygraph", value=result)

    if not ARGS.get("peer", True):
        return
    peer = step("safetensors: save_file + load_file of the same state", safetensors_peer,
                paddle, np, model_state, opt_state, work)
    if peer is not None:
        emit("result", key="safetensors", value=peer)


def build_and_train(paddle, nbytes):
    with paddle.utils.unique_name.guard():  # as a job of its own (see make_model)
        model, opt, sched, width = make_model(paddle, nbytes, seed=7)
        train(paddle, model, opt, sched, width, STEPS)
    return model, opt, sched, width


def copy_rates(paddle, np, state):
    """Device→host and host→device copy rates of the model's state (GPU only)."""
    tensors = [v for v in state.values() if hasattr(v, "numel")]
    total = sum(int(t.numel()) * int(t.element_size()) for t in tensors)
    paddle.device.synchronize()
    t0 = time.perf_counter()
    host = [t.cpu() for t in tensors]
    paddle.device.synchronize()
    d2h = time.perf_counter() - t0
    t0 = time.perf_counter()
    back = [h.cuda() for h in host]
    paddle.device.synchronize()
    h2d = time.perf_counter() - t0
    del host, back
    return {"d2h_mbps": total / d2h / 1e6, "h2d_mbps": total / h2d / 1e6}


def safetensors_peer(paddle, np, model_state, opt_state, work):
    try:
        from safetensors.paddle import load_file, save_file
    except Exception as exc:
        return {"unavailable": f"safetensors is not installed ({error_text(exc)})"}
    # safetensors holds tensors only: the optimizer's LR_Scheduler entry (plain numbers) goes to a
    # JSON file beside it, as a user must do (paddle.save(..., safetensors=True) refuses it).
    tensors = dict(model_state)
    tensors.update({f"opt/{k}": v for k, v in opt_state.items() if hasattr(v, "numel")})
    path = os.path.join(work, "model.safetensors")
    side = os.path.join(work, "scheduler.json")
    out = {"bytes": state_bytes(tensors)}
    with PeakRss() as rss:
        t0 = time.perf_counter()
        save_file(tensors, path)
        fsync_file(path)
        with open(side, "w", encoding="utf-8") as f:
            json.dump(opt_state.get("LR_Scheduler", {}), f)
        out["save_s"] = time.perf_counter() - t0
    out["save_rss_extra"] = rss.extra
    out["file_bytes"] = os.path.getsize(path)
    out["save_mbps"] = out["file_bytes"] / out["save_s"] / 1e6
    evict(path)
    with PeakRss() as rss:
        t0 = time.perf_counter()
        # load_file maps the file and reads nothing yet: time it until every byte has been read
        # once (one sum per tensor), as paddle.load reads the whole file.
        loaded = load_file(path)
        for t in loaded.values():
            if int(t.numel()):
                float(t.astype("float64").sum() if t.dtype == paddle.bool else t.sum())
        out["load_s"] = time.perf_counter() - t0
    out["load_rss_extra"] = rss.extra
    out["load_note"] = "mmap; timed until every byte was read once"
    out["load_mbps"] = out["file_bytes"] / out["load_s"] / 1e6
    mismatches = []
    compare_dicts(np, tensors, loaded, "safetensors", mismatches)
    with open(side, encoding="utf-8") as f:
        if json.load(f) != json.loads(json.dumps(opt_state.get("LR_Scheduler", {}))):
            mismatches.append("scheduler.json: the LR scheduler's state differs")
    out["exact"] = not mismatches
    out["mismatches"] = mismatches
    out["files"] = {"model.safetensors": out["file_bytes"], "scheduler.json": os.path.getsize(side)}
    del loaded
    return out


# --- part 2: formats on small models -----------------------------------------------------------

RESUME_STEPS = 6
SMALL = 64 << 10  # bytes of parameters in the small models


def part_formats(paddle, np, device):
    for key, stage, fn in (
            ("resume", "resume equivalence (small model)", resume_equivalence),
            ("static", "paddle.static.save/load (small program)", static_round_trip),
            ("inference", "paddle.static.save_inference_model (small program)", inference_round_trip),
            ("jit", "paddle.jit.save/load (small model)", jit_round_trip),
            ("async_save", "paddle.async_save consistency", async_save_consistency)):
        value = step(stage, fn, paddle, np, device)
        if value is not None:
            emit("result", key=key, value=value)


def max_abs_diff(np, a, b):
    a, b = as_numpy(np, a).astype("float64"), as_numpy(np, b).astype("float64")
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def resume_equivalence(paddle, np, device):
    half = RESUME_STEPS // 2
    work = os.path.join(DIR, "resume")
    os.makedirs(work)
    guard = paddle.utils.unique_name.guard  # each job as if in a process of its own
    # N steps straight
    with guard():
        model, opt, sched, width = make_model(paddle, SMALL, seed=7)
        straight = []
        train(paddle, model, opt, sched, width, RESUME_STEPS, losses=straight)
        straight_params = {k: v.numpy() for k, v in model.state_dict().items()}
    # N/2 steps, save, load into fresh objects, N/2 steps
    with guard():
        model, opt, sched, width = make_model(paddle, SMALL, seed=7)
        resumed = []
        train(paddle, model, opt, sched, width, half, losses=resumed)
        paddle.save(model.state_dict(), os.path.join(work, "half.pdparams"))
        paddle.save(opt.state_dict(), os.path.join(work, "half.pdopt"))
    del model, opt, sched

    def resume(with_optimizer):
        with guard():
            fresh, fopt, fsched, _ = make_model(paddle, SMALL, seed=123)  # other init: load must win
            fresh.set_state_dict(paddle.load(os.path.join(work, "half.pdparams")))
            if with_optimizer:
                fopt.set_state_dict(paddle.load(os.path.join(work, "half.pdopt")))
            losses = []
            train(paddle, fresh, fopt, fsched, width, RESUME_STEPS - half, start=half, losses=losses)
            return losses, {k: v.numpy() for k, v in fresh.state_dict().items()}

    tail, resumed_params = resume(True)
    resumed += tail
    out = {"steps": RESUME_STEPS, "resume_at": half, "device": device,
           "losses_straight": straight, "losses_resumed": resumed}
    out["max_abs_diff_params"] = max(max_abs_diff(np, straight_params[k], resumed_params[k])
                                     for k in straight_params)
    out["max_abs_diff_loss"] = max(abs(a - b) for a, b in zip(straight, resumed))
    out["bitwise"] = (straight == resumed and all(
        same_bits(np, straight_params[k], resumed_params[k])[0] for k in straight_params))
    # What breaks it: a resume that leaves the optimizer state out must be seen to differ.
    tail, no_opt_params = resume(False)
    out["without_optimizer_max_abs_diff"] = max(
        max_abs_diff(np, straight_params[k], no_opt_params[k]) for k in straight_params)
    out["without_optimizer_detected"] = out["without_optimizer_max_abs_diff"] > 0
    # The trap: a model built twice without unique_name.guard() gets new parameter names, and the
    # saved optimizer state (keyed by the old names) no longer fits.
    out["unique_name_trap"] = unique_name_trap(paddle, work, width)
    out["safetensors_optimizer_trap"] = safetensors_optimizer_trap(paddle, work)
    return out


def safetensors_optimizer_trap(paddle, work):
    """paddle.save(opt.state_dict(), path, safetensors=True): the LR_Scheduler entry is a dict,
    which safetensors cannot hold; it has to be stored apart."""
    try:  # first: does this Paddle's paddle.save take safetensors= at all (3.2+), for plain tensors?
        paddle.save({"w": paddle.zeros([2])}, os.path.join(work, "probe.safetensors"), safetensors=True)
    except Exception as exc:
        return {"raised": False, "supported": False, "error": error_text(exc),
                "note": f"paddle.save of Paddle {paddle.__version__} has no safetensors= option"}
    try:
        opt_state = paddle.load(os.path.join(work, "half.pdopt"))
        paddle.save(opt_state, os.path.join(work, "opt.safetensors"), safetensors=True)
    except Exception as exc:
        return {"raised": True, "error": error_text(exc)}
    return {"raised": False}


def unique_name_trap(paddle, work, width):
    try:
        paddle.seed(7)
        first = paddle.nn.Linear(width, width)
        opt = paddle.optimizer.Adam(parameters=first.parameters())
        (first(paddle.ones([1, width])).mean()).backward()
        opt.step()
        state = opt.state_dict()
        second = paddle.nn.Linear(width, width)  # same process, no guard: linear_N+1
        opt2 = paddle.optimizer.Adam(parameters=second.parameters())
        opt2.set_state_dict(state)
        (second(paddle.ones([1, width])).mean()).backward()
        opt2.step()
    except Exception as exc:
        return {"raised": True, "error": error_text(exc),
                "names": [first.weight.name, second.weight.name]}
    return {"raised": False, "names": [first.weight.name, second.weight.name]}


def static_program(paddle, train_it):
    x = paddle.static.data("x", [None, 32], "float32")
    y = paddle.static.nn.fc(x, 32, weight_attr=paddle.ParamAttr(name="bench_w"),
                            bias_attr=paddle.ParamAttr(name="bench_b"))
    if train_it:
        paddle.optimizer.Adam(0.01).minimize(paddle.mean(y * y))
    return x, y


_STATIC = {}


def static_setup(paddle, np, device):
    """Two programs sharing the parameters by name: the training one and the forward one."""
    if _STATIC:
        return _STATIC
    paddle.enable_static()
    place = paddle.CUDAPlace(int(device.split(":")[1])) if device.startswith("gpu") else paddle.CPUPlace()
    main, startup = paddle.static.Program(), paddle.static.Program()
    with paddle.static.program_guard(main, startup):
        static_program(paddle, True)
    infer, infer_startup = paddle.static.Program(), paddle.static.Program()
    with paddle.static.program_guard(infer, infer_startup):
        x, y = static_program(paddle, False)
    exe = paddle.static.Executor(place)
    exe.run(startup)
    xin = data(32, 0)
    for _ in range(STEPS):
        exe.run(main, feed={"x": xin})
    ref = exe.run(infer, feed={"x": xin}, fetch_list=[y])[0]
    _STATIC.update(main=main, startup=startup, infer=infer, x=x, y=y, exe=exe, xin=xin, ref=ref,
                   place=place)
    return _STATIC


def static_round_trip(paddle, np, device):
    s = static_setup(paddle, np, device)
    work = os.path.join(DIR, "static")
    os.makedirs(work)
    snapshot = {k: np.array(v) for k, v in s["main"].state_dict().items()}
    t0 = time.perf_counter()
    paddle.static.save(s["main"], os.path.join(work, "model"))
    save_s = time.perf_counter() - t0
    s["exe"].run(s["startup"])  # re-initialise everything: the load must bring it all back
    t0 = time.perf_counter()
    paddle.static.load(s["main"], os.path.join(work, "model"), s["exe"])
    load_s = time.perf_counter() - t0
    mismatches = []
    compare_dicts(np, snapshot, {k: np.array(v) for k, v in s["main"].state_dict().items()},
                  "static", mismatches)
    out = s["exe"].run(s["infer"], feed={"x": s["xin"]}, fetch_list=[s["y"]])[0]
    ok, why = same_bits(np, s["ref"], out)
    if not ok:
        mismatches.append(f"output on the same input: {why}")
    files = files_in(work)
    return {"exact": not mismatches, "mismatches": mismatches, "files": files,
            "variables": len(snapshot), "save_s": save_s, "load_s": load_s,
            "pir": bool(paddle.framework.in_pir_mode()) if hasattr(paddle.framework, "in_pir_mode")
            else None}


def inference_round_trip(paddle, np, device):
    s = static_setup(paddle, np, device)
    work = os.path.join(DIR, "inference")
    os.makedirs(work)
    prefix = os.path.join(work, "model")
    t0 = time.perf_counter()
    paddle.static.save_inference_model(prefix, [s["x"]], [s["y"]], s["exe"], program=s["infer"])
    save_s = time.perf_counter() - t0
    with paddle.static.scope_guard(paddle.static.Scope()):  # nothing of the trained scope is reused
        exe = paddle.static.Executor(s["place"])
        t0 = time.perf_counter()
        prog, feeds, fetches = paddle.static.load_inference_model(prefix, exe)
        load_s = time.perf_counter() - t0
        out = exe.run(prog, feed={feeds[0]: s["xin"]}, fetch_list=fetches)[0]
    ok, why = same_bits(np, s["ref"], out)
    return {"exact": ok, "mismatches": [] if ok else [f"output on the same input: {why}"],
            "files": files_in(work), "save_s": save_s, "load_s": load_s}


def jit_round_trip(paddle, np, device):
    paddle.disable_static()
    work = os.path.join(DIR, "jit")
    os.makedirs(work)
    with paddle.utils.unique_name.guard():
        paddle.seed(7)
        model = paddle.nn.Sequential(paddle.nn.Linear(32, 32), paddle.nn.ReLU(), paddle.nn.Linear(32, 32))
    model.eval()
    xin = paddle.to_tensor(data(32, 0))
    ref = model(xin).numpy()
    prefix = os.path.join(work, "model")
    t0 = time.perf_counter()
    paddle.jit.save(model, prefix, input_spec=[paddle.static.InputSpec([None, 32], "float32", "x")])
    save_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    loaded = paddle.jit.load(prefix)
    load_s = time.perf_counter() - t0
    loaded.eval()
    out = loaded(xin)
    out = out[0] if isinstance(out, (list, tuple)) else out
    ok, why = same_bits(np, ref, out.numpy())
    mismatches = [] if ok else [f"output on the same input: {why}"]
    # The loaded layer names its parameters its own way: compare them as a set of byte strings.
    def fingerprints(state):
        return sorted((str(a.dtype), a.shape, a.tobytes())
                      for a in (as_numpy(np, v) for v in state.values()))
    if fingerprints(model.state_dict()) != fingerprints(loaded.state_dict()):
        mismatches.append("the parameters in .pdiparams are not those of the saved model")
    return {"exact": not mismatches, "mismatches": mismatches, "files": files_in(work),
            "save_s": save_s, "load_s": load_s}


def async_save_consistency(paddle, np, device):
    """paddle.async_save returns before the file is written; a training step that updates the
    parameters in place right after the call may land in the file (a torn checkpoint)."""
    paddle.disable_static()
    runs = int(ARGS.get("async_runs", 8))
    work = os.path.join(DIR, "async")
    os.makedirs(work)
    with paddle.utils.unique_name.guard():
        model = paddle.nn.Sequential(*[paddle.nn.Linear(256, 256) for _ in range(32)])
    state = model.state_dict()
    torn_runs, torn_counts = 0, []
    for run in range(runs):
        path = os.path.join(work, f"run{run}.pdparams")
        with paddle.no_grad():
            for t in state.values():
                t.set_value(paddle.full(t.shape, float(run), t.dtype))
            # a dict of its own: on a GPU async_save swaps its entries for pinned host copies
            paddle.async_save(dict(state), path)
            for t in state.values():  # the next training step, right after the call returned
                t.add_(paddle.ones(t.shape, t.dtype))
        paddle.framework.io.clear_async_save_task_queue()
        loaded = paddle.load(path)
        torn = sum(1 for v in loaded.values() if not bool((as_numpy(np, v) == float(run)).all()))
        torn_counts.append(torn)
        torn_runs += torn > 0
        os.unlink(path)
    return {"runs": runs, "tensors": len(state), "torn_runs": torn_runs, "torn_tensors": torn_counts,
            "device": device}


def main():
    t0 = time.monotonic()
    sys.path[0] = os.getcwd()
    emit("stage", name="import paddle")
    try:
        import numpy as np
        import paddle
    except BaseException as exc:
        emit("failure", stage="import paddle", errno=None, error=error_text(exc))
        return
    emit("import", seconds=round(time.monotonic() - t0, 3), version=paddle.__version__)
    device, facts = choose_device(paddle)
    emit("result", key="device", value=facts)
    if device is None:
        return
    if ARGS["part"] == "checkpoint":
        part_checkpoint(paddle, np, device)
    else:
        part_formats(paddle, np, device)
    emit("done", seconds=round(time.monotonic() - t0, 3))


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:
        emit("failure", stage="bench", errno=errno_of(exc), error=error_text(exc),
             traceback=traceback.format_exc()[-2000:])
    OUT.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
