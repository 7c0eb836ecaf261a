"""Child of `paddledoctor bench --model MODULE:FACTORY`: the user's own training, resumed.

Run as ``python bench_model.py FD JSON``. JSON: {"factory": "pkg.mod:make", "path": [dirs put first
on sys.path], "dir": DIR, "device": "cpu"|"gpu:N"|"auto", "steps": N, "seed": S}. Writes JSON
lines to FD ("stage", "result", "failure", "factory_error", "done"). Imports paddle once; standard
library, numpy and paddle only; never imports paddledoctor.

FACTORY() returns a dict: ``model`` (paddle.nn.Layer) and ``optimizer`` are required; ``scheduler``
(an LRScheduler; else the optimizer's own, if it has one), ``scaler`` (paddle.amp.GradScaler),
``batch(step) -> inputs`` and ``loss(model, inputs) -> Tensor`` are optional. Without ``batch`` the
inputs are random, from the ``input_spec`` the factory returns or the model declares.

What it does, every run from a fresh FACTORY() under ``unique_name.guard()`` with the same seed (as
a resumed process that seeds at its start, builds, loads and goes on):
- the straight run: N steps, twice (is this training deterministic here at all?);
- resumed runs: N/2 steps, the chosen pieces of state saved (model and optimizer through
  paddle.save files; the scheduler and scaler too; the RNG states of paddle, numpy and random in
  memory, as the caller would keep them), a fresh FACTORY(), those pieces loaded, N/2 more steps;
  compared bit for bit with the straight run (every loss, every parameter at the end);
- "typical" (model + optimizer, what most scripts save), "full" (everything), and "full without
  X" for each extra piece X when full resumes exactly and typical does not: the pieces whose
  absence breaks the resume are the ones the user must save;
- the checkpoint of the full state: save and cold-load times, bytes, peak extra RSS, and whether
  every saved piece comes back bit for bit.
"""

import importlib
import json
import os
import random
import sys
import time
import traceback

from _channel import emit, error_text  # _start.py puts the channel's folder on sys.path
from bench_io import evict, proc_status  # this script's folder is first on sys.path

ARGS = json.loads(sys.argv[2])
DIR = ARGS["dir"]
STEPS = max(2, int(ARGS.get("steps") or 6))
SEED = int(ARGS.get("seed") or 2024)
PIECES = ("scheduler", "scaler", "paddle_rng", "numpy_rng", "python_rng")


class FactoryError(Exception):
    """The user's FACTORY (or its batch/loss) cannot be used: reported as theirs, with its text."""


# --- the user's factory ------------------------------------------------------------------------

def resolve_factory():
    spec = ARGS["factory"]
    module_name, _, attr = spec.partition(":")
    for entry in reversed(ARGS.get("path") or []):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    try:
        target = importlib.import_module(module_name)
    except Exception as exc:
        raise FactoryError(f"cannot import {module_name}: {error_text(exc)}") from exc
    for part in attr.split("."):
        if not hasattr(target, part):
            raise FactoryError(f"{module_name} has no attribute {attr!r}")
        target = getattr(target, part)
    if not callable(target):
        raise FactoryError(f"{spec} is not callable")
    return target


def build(paddle, np, factory, seed):
    """A fresh FACTORY() with the seeds set. Callers hold ``process(paddle)`` around a build and
    everything done with it, as one process would: parameter and accumulator names restart."""
    paddle.seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    try:
        parts = factory()
    except Exception as exc:
        raise FactoryError(f"FACTORY() raised {error_text(exc)}") from exc
    if not isinstance(parts, dict):
        raise FactoryError(f"FACTORY() returned a {type(parts).__name__}, not a dict with "
                           "'model' and 'optimizer'")
    model, opt = parts.get("model"), parts.get("optimizer")
    if not isinstance(model, paddle.nn.Layer):
        raise FactoryError("FACTORY()['model'] is missing or not a paddle.nn.Layer")
    if not isinstance(opt, paddle.optimizer.Optimizer):
        raise FactoryError("FACTORY()['optimizer'] is missing or not a paddle.optimizer.Optimizer")
    from paddle.optimizer.lr import LRScheduler
    sched = parts.get("scheduler")
    if sched is None and isinstance(getattr(opt, "_learning_rate", None), LRScheduler):
        sched = opt._learning_rate
    if sched is not None and not isinstance(sched, LRScheduler):
        raise FactoryError("FACTORY()['scheduler'] is not a paddle.optimizer.lr.LRScheduler")
    scaler = parts.get("scaler")
    if scaler is not None and not isinstance(scaler, paddle.amp.GradScaler):
        raise FactoryError("FACTORY()['scaler'] is not a paddle.amp.GradScaler")
    batch = parts.get("batch")
    if batch is not None and not callable(batch):
        raise FactoryError("FACTORY()['batch'] is not callable (batch(step) -> inputs)")
    loss = parts.get("loss")
    if loss is not None and not callable(loss):
        raise FactoryError("FACTORY()['loss'] is not callable (loss(model, inputs) -> Tensor)")
    if batch is None:
        batch = spec_batch(paddle, np, parts.get("input_spec") or getattr(model, "input_spec", None)
                           or getattr(model, "_input_spec", None))
    return {"model": model, "optimizer": opt, "scheduler": sched, "scaler": scaler,
            "batch": batch, "loss": loss}


def process(paddle):
    """What a new process starts with: unique names counted from zero."""
    return paddle.utils.unique_name.guard()


def spec_batch(paddle, np, spec):
    """batch(step) from an InputSpec list: random inputs, the same for the same step."""
    if not spec:
        raise FactoryError("FACTORY() gives no 'batch' and the model declares no input spec: "
                           "return 'batch': lambda step: inputs (or 'input_spec': [InputSpec...])")
    specs = spec if isinstance(spec, (list, tuple)) else [spec]
    shapes = []
    for s in specs:
        shape = [2 if (d is None or d < 0) else int(d) for d in (getattr(s, "shape", None) or [])]
        dtype = str(getattr(s, "dtype", "float32")).replace("paddle.", "")
        shapes.append((shape, dtype))

    def batch(step):
        rng = np.random.RandomState(10_000 + step)  # its own generator: the user's RNG untouched
        out = []
        for shape, dtype in shapes:
            if "int" in dtype:
                out.append(paddle.to_tensor(rng.randint(0, 2, size=shape).astype(dtype)))
            else:
                out.append(paddle.to_tensor(rng.standard_normal(shape).astype("float32")).astype(dtype))
        return out
    return batch


# --- training ----------------------------------------------------------------------------------

def forward_loss(paddle, parts, inputs):
    model = parts["model"]
    if parts["loss"] is not None:
        return parts["loss"](model, inputs)
    if isinstance(inputs, dict):
        out = model(**inputs)
    elif isinstance(inputs, (list, tuple)):
        out = model(*inputs)
    else:
        out = model(inputs)
    if isinstance(out, (list, tuple)):
        out = out[0]
    return out.astype("float32").mean()


def train(paddle, parts, start, stop, losses):
    opt, sched, scaler = parts["optimizer"], parts["scheduler"], parts["scaler"]
    parts["model"].train()
    for step in range(start, stop):
        try:
            inputs = parts["batch"](step)
        except Exception as exc:
            raise FactoryError(f"batch({step}) raised {error_text(exc)}") from exc
        if scaler is not None:
            with paddle.amp.auto_cast():
                loss = forward_loss(paddle, parts, inputs)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss = forward_loss(paddle, parts, inputs)
            loss.backward()
            opt.step()
        opt.clear_grad()
        if sched is not None:
            sched.step()
        losses.append(float(loss.astype("float32").numpy().reshape(-1)[0]))


def snapshot(np, parts):
    return {k: np.array(v.numpy(), copy=True) for k, v in parts["model"].state_dict().items()}


def same_bits(np, a, b):
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    return a.tobytes() == b.tobytes()


def max_abs_diff(np, a, b):
    try:
        return float(np.max(np.abs(a.astype("float64") - b.astype("float64")))) if a.size else 0.0
    except (TypeError, ValueError):
        return None


def compare(np, ref_losses, ref_params, losses, params):
    """Bit for bit: the first step whose loss differs, the parameters that differ at the end."""
    first = next((i for i, (x, y) in enumerate(zip(ref_losses, losses))
                  if np.float32(x).tobytes() != np.float32(y).tobytes()), None)
    if first is None and len(losses) < len(ref_losses):
        first = len(losses)  # the run stopped early
    differing = [k for k in ref_params if k not in params or not same_bits(np, ref_params[k], params[k])]
    diffs = [max_abs_diff(np, ref_params[k], params[k]) for k in differing if k in params]
    return {"exact": first is None and not differing, "first_differing_step": first,
            "params_differing": len(differing), "params_differing_names": differing[:5],
            "max_abs_diff_params": max((d for d in diffs if d is not None), default=0.0),
            "max_abs_diff_loss": max((abs(x - y) for x, y in zip(ref_losses, losses)), default=0.0)}


# --- saving and loading the pieces -------------------------------------------------------------

def capture(paddle, np, parts, pieces, work):
    """Save the pieces: model, optimizer, scheduler, scaler through paddle.save files (fsync'd);
    the RNG states in memory."""
    os.makedirs(work, exist_ok=True)
    saved = {"files": {}}
    to_file = {"model": parts["model"].state_dict(), "optimizer": parts["optimizer"].state_dict()}
    if "scheduler" in pieces and parts["scheduler"] is not None:
        to_file["scheduler"] = parts["scheduler"].state_dict()
    if "scaler" in pieces and parts["scaler"] is not None:
        to_file["scaler"] = parts["scaler"].state_dict()
    for name, state in to_file.items():
        path = os.path.join(work, f"{name}.pd{'params' if name != 'optimizer' else 'opt'}")
        paddle.save(state, path)
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        saved["files"][name] = path
    if "paddle_rng" in pieces:
        saved["paddle_rng"] = paddle.get_rng_state()
        if paddle.device.get_device().startswith("gpu"):
            saved["cuda_rng"] = paddle.get_cuda_rng_state()
    if "numpy_rng" in pieces:
        saved["numpy_rng"] = np.random.get_state()
    if "python_rng" in pieces:
        saved["python_rng"] = random.getstate()
    saved["optimizer_state"] = {k: (np.array(v.numpy(), copy=True) if hasattr(v, "numpy") else v)
                                for k, v in to_file["optimizer"].items()}
    return saved


def restore(paddle, np, parts, saved):
    """Load every saved piece into the fresh objects; returns the optimizer keys that did not come
    back (state keyed to names the rebuilt model no longer has)."""
    files = saved["files"]
    parts["model"].set_state_dict(paddle.load(files["model"]))
    try:
        parts["optimizer"].set_state_dict(paddle.load(files["optimizer"]))
        refused = None
    except (AssertionError, KeyError, ValueError) as exc:  # Paddle refuses keys it cannot place
        refused = error_text(exc)
    if "scheduler" in files:
        parts["scheduler"].set_state_dict(paddle.load(files["scheduler"]))
    if "scaler" in files:
        parts["scaler"].load_state_dict(paddle.load(files["scaler"]))
    if "paddle_rng" in saved:
        paddle.set_rng_state(saved["paddle_rng"])
    if "cuda_rng" in saved:
        paddle.set_cuda_rng_state(saved["cuda_rng"])
    if "numpy_rng" in saved:
        np.random.set_state(saved["numpy_rng"])
    if "python_rng" in saved:
        random.setstate(saved["python_rng"])
    loaded = {} if refused else parts["optimizer"].state_dict()
    lost = []
    for key, want in saved["optimizer_state"].items():
        if key in ("LR_Scheduler", "master_weights") or not hasattr(want, "tobytes"):
            continue
        got = loaded.get(key)
        if got is None or not same_bits(np, want, np.array(got.numpy())):
            lost.append(key)
    return lost, refused


def resumed_run(paddle, np, factory, pieces, ref_losses, ref_params, tag):
    half = STEPS // 2
    losses = []
    with process(paddle):
        parts = build(paddle, np, factory, SEED)
        train(paddle, parts, 0, half, losses)
        saved = capture(paddle, np, parts, pieces, os.path.join(DIR, tag))
        del parts
    with process(paddle):
        fresh = build(paddle, np, factory, SEED)
        lost, refused = restore(paddle, np, fresh, saved)
        try:
            train(paddle, fresh, half, STEPS, losses)
        except AssertionError as exc:
            # Paddle places loaded accumulators lazily: the first step after the load raises
            # "Optimizer set error, <name>_moment1_0 should in state dict" for a renamed parameter.
            if "state dict" not in str(exc):
                raise
            refused = error_text(exc)
        params = snapshot(np, fresh)
    out = compare(np, ref_losses, ref_params, losses, params)
    out.update({"pieces": ["model", "optimizer", *pieces], "optimizer_keys_lost": lost[:10],
                "optimizer_keys_lost_count": len(lost), "optimizer_load_error": refused,
                "losses": losses})
    for path in saved["files"].values():
        try:
            os.remove(path)
        except OSError:
            pass
    return out


# --- the checkpoint's cost ---------------------------------------------------------------------

def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return proc_status("VmRSS")
    except OSError:
        return None


def checkpoint_cost(paddle, np, factory, present):
    """Save and cold-load the whole state of a trained model: bytes, seconds, MB/s, peak extra RSS;
    and whether each piece comes back bit for bit (paddle.save's own round trip)."""
    with process(paddle):
        parts = build(paddle, np, factory, SEED)
        train(paddle, parts, 0, 1, [])
    work = os.path.join(DIR, "cost")
    os.makedirs(work, exist_ok=True)
    states = {"model": parts["model"].state_dict(), "optimizer": parts["optimizer"].state_dict()}
    if "scheduler" in present:
        states["scheduler"] = parts["scheduler"].state_dict()
    if "scaler" in present:
        states["scaler"] = parts["scaler"].state_dict()
    before = _reset_peak()
    t0 = time.perf_counter()
    paths = {}
    for name, state in states.items():
        paths[name] = os.path.join(work, name + (".pdopt" if name == "optimizer" else ".pdparams"))
        paddle.save(state, paths[name])
        fd = os.open(paths[name], os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    save_s = time.perf_counter() - t0
    peak = proc_status("VmHWM")
    save_extra = max(0, peak - before) if before is not None and peak is not None else None
    nbytes = sum(os.path.getsize(p) for p in paths.values())
    cold = True
    for p in paths.values():
        try:
            evict(p)
        except (OSError, AttributeError):
            cold = False
    before = _reset_peak()
    t0 = time.perf_counter()
    loaded = {name: paddle.load(p) for name, p in paths.items()}
    load_s = time.perf_counter() - t0
    peak = proc_status("VmHWM")
    load_extra = max(0, peak - before) if before is not None and peak is not None else None
    mismatches = []
    for name, state in states.items():
        got = loaded[name]
        for key, value in state.items():
            if not hasattr(value, "numpy"):
                if key in got and got[key] != value and not isinstance(value, dict):
                    mismatches.append(f"{name}:{key}")
                continue
            other = got.get(key)
            if other is None or not same_bits(np, np.array(value.numpy()), np.array(
                    other.numpy() if hasattr(other, "numpy") else other)):
                mismatches.append(f"{name}:{key}")
    for p in paths.values():
        os.remove(p)
    params = sum(int(np.prod(v.shape)) for v in parts["model"].state_dict().values())
    return {"file_bytes": nbytes, "parameters": params, "save_s": save_s, "load_s": load_s,
            "save_mbps": nbytes / save_s / 1e6 if save_s > 0 else None,
            "load_mbps": nbytes / load_s / 1e6 if load_s > 0 else None,
            "save_rss_extra": save_extra, "load_rss_extra": load_extra, "cold": cold,
            "exact": not mismatches, "mismatches": mismatches[:10],
            "pieces": sorted(states)}


# --- main --------------------------------------------------------------------------------------

def step(stage, fn, *args):
    emit("stage", name=stage)
    return fn(*args)


def main():
    emit("stage", name="import paddle")
    t0 = time.perf_counter()
    import numpy as np
    import paddle
    emit("import", version=paddle.__version__, seconds=time.perf_counter() - t0)
    device = ARGS.get("device") or "auto"
    if device == "auto":
        device = "gpu:0" if paddle.device.is_compiled_with_cuda() and \
            paddle.device.cuda.device_count() > 0 else "cpu"
    try:
        paddle.set_device(device)
    except Exception as exc:
        emit("result", key="device", value={"requested": ARGS.get("device"), "usable": False,
                                            "reason": error_text(exc)})
        return
    emit("result", key="device", value={"requested": ARGS.get("device"), "used": device,
                                        "usable": True})
    try:
        factory = step("import the factory", resolve_factory)
        with process(paddle):
            probe = step("FACTORY()", build, paddle, np, factory, SEED)
            present = [p for p in ("scheduler", "scaler") if probe[p] is not None]
            scaler_enabled = (probe["scaler"].is_enable() if probe["scaler"] is not None
                              and hasattr(probe["scaler"], "is_enable") else None)
            del probe
        pieces_all = [p for p in PIECES if p not in ("scheduler", "scaler") or p in present]
        ref_losses = []
        with process(paddle):
            parts = step(f"straight run ({STEPS} steps)", build, paddle, np, factory, SEED)
            train(paddle, parts, 0, STEPS, ref_losses)
            ref_params = snapshot(np, parts)
            del parts
        again_losses = []
        with process(paddle):
            parts = step("straight run again (determinism)", build, paddle, np, factory, SEED)
            train(paddle, parts, 0, STEPS, again_losses)
            determinism = compare(np, ref_losses, ref_params, again_losses, snapshot(np, parts))
            del parts
        result = {"steps": STEPS, "resume_at": STEPS // 2, "pieces_present": ["model", "optimizer",
                                                                              *present],
                  "scaler_enabled": scaler_enabled,
                  "losses_straight": ref_losses, "deterministic": determinism["exact"],
                  "determinism": determinism, "variants": {}}
        emit("result", key="model_run", value=result)
        variants = result["variants"]
        emit("stage", name="resume: model + optimizer")
        variants["typical"] = resumed_run(paddle, np, factory, [], ref_losses, ref_params, "typical")
        emit("result", key="model_run", value=result)
        emit("stage", name="resume: everything")
        variants["full"] = resumed_run(paddle, np, factory, pieces_all, ref_losses, ref_params, "full")
        emit("result", key="model_run", value=result)
        required = []
        if determinism["exact"] and variants["full"]["exact"] and not variants["typical"]["exact"]:
            for piece in pieces_all:
                emit("stage", name=f"resume: everything but {piece}")
                rest = [p for p in pieces_all if p != piece]
                variants[f"without_{piece}"] = resumed_run(paddle, np, factory, rest, ref_losses,
                                                           ref_params, f"without_{piece}")
                if not variants[f"without_{piece}"]["exact"]:
                    required.append(piece)
                emit("result", key="model_run", value=result)
            if not required:  # none alone: they matter together
                required = list(pieces_all)
        result["required"] = required
        emit("result", key="model_run", value=result)
        cost = step("checkpoint save and cold load", checkpoint_cost, paddle, np, factory, present)
        emit("result", key="model_checkpoint", value=cost)
    except FactoryError as exc:
        cause = exc.__cause__
        emit("factory_error", error=str(exc),
             traceback="".join(traceback.format_exception(type(cause), cause, cause.__traceback__))[-2500:]
             if cause is not None else "")
        return
    emit("done")


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:
        emit("failure", stage="bench --model", error=error_text(exc),
             traceback=traceback.format_exc()[-2000:])
