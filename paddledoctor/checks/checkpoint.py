"""Checks of the checkpoint area (see paddledoctor/codes.py): pure judgements of facts["inspect"],
the facts `paddledoctor inspect` reads from checkpoint files (paddledoctor/inspect/)."""

from __future__ import annotations

import os
import shlex

from ..model import Fix
from . import check, finding, summary

MAX_NAMES = 8
MODEL_EXTS = (".pdparams",)
OPTIMIZER_EXTS = (".pdopt",)


def _files(facts: dict) -> list[dict]:
    inspected = facts.get("inspect")
    if not isinstance(inspected, dict):
        return []
    return [f for f in inspected.get("files") or [] if isinstance(f, dict)]


def _problems(f: dict, *kinds: str) -> list[dict]:
    return [p for p in f.get("problems") or [] if isinstance(p, dict) and p.get("kind") in kinds]


def _first(names: list, n: int = MAX_NAMES) -> list:
    names = list(names)
    return names[:n] + ([f"... ({len(names) - n} more)"] if len(names) > n else [])


def _inspect_cmd(*paths: str) -> str:
    return "paddledoctor inspect " + " ".join(shlex.quote(p) for p in paths)


@check("checkpoint")
def file_is_readable(facts, options):
    for f in _files(facts):
        for p in _problems(f, "unreadable"):
            yield finding("PD806", p["message"], {"path": f.get("path")},
                          Fix([], "Give the path of a checkpoint file (ls -l shows it); a "
                                  "directory saved by save_inference_model holds .json/.pdmodel "
                                  "and .pdiparams files: pass those."))


@check("checkpoint")
def file_is_known_format(facts, options):
    for f in _files(facts):
        for p in _problems(f, "unknown-format"):
            yield finding("PD805", p["message"],
                          {"path": f.get("path"), "size": f.get("size")},
                          Fix([f"file {shlex.quote(str(f.get('path')))}"],
                              "Check that this is the file you meant: paddledoctor reads "
                              "paddle.save pickles (.pdparams/.pdopt), .pdiparams, .pdmodel, PIR "
                              ".json and .safetensors."))


@check("checkpoint")
def file_is_whole(facts, options):
    for f in _files(facts):
        path = f.get("path")
        for p in _problems(f, "empty", "truncated", "corrupt", "limit"):
            if p["kind"] == "empty":
                title = f"{path} is empty: the save never wrote it (a crash or a full disk)"
            elif p["kind"] == "truncated":
                title = f"{path} is truncated: {p['message']}"
            elif p["kind"] == "limit":
                title = f"{path} was not read to the end: {p['message']}"
            else:
                title = f"{path} is corrupt: {p['message']}"
            yield finding("PD801", title,
                          {"path": path, "size": f.get("size"), "format": f.get("format"),
                           "offset": p.get("offset"),
                           "tensors_read": len(f.get("tensors") or [])},
                          Fix([f"df -h {shlex.quote(os.path.dirname(str(path)) or '.')}"],
                              "Save the checkpoint again (check the free disk space first), or "
                              "copy it again from where it came and compare its checksum "
                              "(sha256sum)."))


@check("checkpoint")
def pickle_asks_to_run_code(facts, options):
    for f in _files(facts):
        for p in _problems(f, "refused"):
            name = p.get("global", "?")
            yield finding("PD804", f"{f.get('path')}: refuses global {name}: loading this file "
                                   "with paddle.load would import and call it",
                          {"path": f.get("path"), "global": name, "offset": p.get("offset"),
                           "detail": p.get("message")
                           if p.get("message") != f"refuses global {name}" else None},
                          Fix([], "Do not paddle.load this file. Ask its author for a "
                                  "safetensors copy, or re-save it from a trusted environment."))


@check("checkpoint")
def file_is_one_format(facts, options):
    for f in _files(facts):
        for p in _problems(f, "polyglot"):
            yield finding("PD830", p["message"],
                          {"path": f.get("path"), "also": p.get("other"),
                           "pickle_ends_at": p.get("pickle_end")},
                          Fix([], "Do not paddle.load this file, nor trust what a safetensors reader "
                                  "shows of it: it was built to look like two things. Get the "
                                  "checkpoint again from a source you trust."))


@check("checkpoint")
def file_is_within_budget(facts, options):
    for f in _files(facts):
        for p in _problems(f, "over-budget"):
            yield finding("PD831", p["message"], {"path": f.get("path"), "size": f.get("size")},
                          Fix([], "A real checkpoint stays far inside the budget "
                                  "(docs/inspect.md): this file asks for exponential or repeated "
                                  "work. Do not paddle.load it."))


@check("checkpoint")
def reader_did_not_fail(facts, options):
    for f in _files(facts):
        for p in _problems(f, "doctor-bug"):
            yield finding("PD832", p["message"],
                          {"path": f.get("path"), "exception": p.get("internal"),
                           "where": p.get("where")},
                          Fix([], "This is paddledoctor's fault, not your file's: report it with "
                                  "the file (or its first bytes) and this message."))


@check("checkpoint")
def safetensors_library_accepts(facts, options):
    for f in _files(facts):
        for p in _problems(f, "safetensors-refused"):
            yield finding("PD833", f"{f.get('path')}: safetensors would refuse it: {p['message']}",
                          {"path": f.get("path"), "size": f.get("size")},
                          Fix([], "paddle.load(path, safetensors=True) raises on this file. Write "
                                  "it again with paddle.save(..., safetensors=True) or "
                                  "safetensors.numpy.save_file; if it came from elsewhere, copy "
                                  "it again and compare its checksum."))


@check("checkpoint")
def inference_params_used_as_training_params(facts, options):
    for f in _files(facts):
        ext, fmt, path = f.get("extension"), f.get("format"), str(f.get("path"))
        tensors = f.get("tensors") or []
        if fmt == "tensor-stream" and ext in MODEL_EXTS + OPTIMIZER_EXTS:
            first = tensors[0]["name"] if tensors else "?"
            yield finding("PD802", f"{path} is an inference .pdiparams (a tensor stream), not a "
                                   f"paddle.save state dict: paddle.load returns only its first "
                                   f"tensor, {len(tensors) - 1 if tensors else 0} of "
                                   f"{len(tensors)} silently dropped",
                          {"path": path, "format": fmt, "tensors": len(tensors),
                           "first_tensor": first},
                          Fix([_inspect_cmd(path)],
                              "Load it with paddle.jit.load / paddle.inference (with its "
                              ".json/.pdmodel), or use the training checkpoint (.pdparams written "
                              "by paddle.save(layer.state_dict(), ...))."))
        elif fmt in ("pickle", "safetensors") and ext == ".pdiparams":
            yield finding("PD802", f"{path} is named .pdiparams but is a {fmt} state dict "
                                   "(a training checkpoint): Paddle Inference fails with "
                                   "\"Deserialize to tensor failed\"",
                          {"path": path, "format": fmt, "tensors": len(tensors)},
                          Fix([], "Rename it to .pdparams and load it with paddle.load + "
                                  "set_state_dict; for inference, export the model with "
                                  "paddle.jit.save."))


def _owner(acc: str, params: set[str]) -> str | None:
    """The parameter an accumulator belongs to: it is named "<param>_<accumulator>_<n>"."""
    best = None
    for p in params:
        if acc.startswith(p + "_") and (best is None or len(p) > len(best)):
            best = p
    return best


def _pairs(files: list[dict]) -> list[tuple[dict, dict]]:
    """Each optimizer file with its model file: same stem if given, else the only model file."""
    models = [f for f in files if f.get("kind") == "model" and f.get("parameter_names")]
    out = []
    for opt in files:
        if opt.get("kind") != "optimizer" or not opt.get("accumulators"):
            continue
        stem = os.path.splitext(str(opt.get("path")))[0]
        same = [m for m in models if os.path.splitext(str(m.get("path")))[0] == stem]
        if same:
            out.append((opt, same[0]))
        elif len(models) == 1:
            out.append((opt, models[0]))
    return out


@check("checkpoint")
def optimizer_matches_model(facts, options):
    for opt, model in _pairs(_files(facts)):
        params = set(model["parameter_names"])
        accs = opt["accumulators"]
        orphans = [a for a in accs if _owner(a, params) is None]
        if not orphans:
            continue
        owned = {_owner(a, params) for a in accs} - {None}
        yield finding("PD803", f"{len(orphans)} of {len(accs)} optimizer accumulators in "
                               f"{opt['path']} name no parameter of {model['path']}: "
                               "set_state_dict fails with \"Optimizer set error, ... should in "
                               "state dict\"",
                      {"optimizer": opt["path"], "model": model["path"],
                       "unmatched_accumulators": _first(orphans),
                       "model_parameters": _first(sorted(params)),
                       "parameters_with_state": len(owned)},
                      Fix([_inspect_cmd(model["path"], opt["path"])],
                          "Resume from a .pdparams and .pdopt saved together, and build the "
                          "model the same way (parameter names such as linear_0.w_0 come from "
                          "creation order): create the model and the optimizer before any other "
                          "layer, or start a fresh optimizer."))


@check("checkpoint")
def stream_matches_program(facts, options):
    for f in _files(facts):
        mism = _problems(f, "mismatch")
        if mism:
            yield finding("PD808", f"{f.get('path')} does not match {f.get('names_from')}: "
                                   f"{mism[0]['message']}",
                          {"path": f.get("path"), "program": f.get("names_from"),
                           "mismatches": _first([m["message"] for m in mism])},
                          Fix([], "Export the model again with paddle.jit.save (or "
                                  "save_inference_model) so the program and its parameters are "
                                  "written together."))


@check("checkpoint")
def tensors_are_finite(facts, options):
    for f in _files(facts):
        bad = [t for t in f.get("tensors") or [] if t.get("nan") or t.get("inf")]
        if not bad:
            continue
        nan = sum(t.get("nan", 0) for t in bad)
        inf = sum(t.get("inf", 0) for t in bad)
        yield finding("PD807", f"{f.get('path')}: {len(bad)} tensor(s) hold {nan} NaN and {inf} "
                               "Inf values",
                      {"path": f.get("path"),
                       "tensors": _first([f"{t['name']} (nan {t.get('nan', 0)}, inf "
                                          f"{t.get('inf', 0)})" for t in bad])},
                      Fix([], "Resume from an earlier checkpoint saved before the loss diverged; "
                              "lower the learning rate or enable gradient clipping."))


@check("checkpoint")
def records_that_are_not_tensors(facts, options):
    for f in _files(facts):
        opaque = f.get("opaque") or []
        if opaque:
            kinds = sorted({o.get("type", "?") for o in opaque})
            yield finding("PD810", f"{f.get('path')} holds {len(opaque)} record(s) of "
                                   f"{', '.join(kinds)}: listed by type, not read",
                          {"path": f.get("path"), "records": _first([o.get("name") or "<root>"
                                                                     for o in opaque])})


@check("checkpoint")
def checkpoints_differ(facts, options):
    inspected = facts.get("inspect")
    d = inspected.get("diff") if isinstance(inspected, dict) else None
    if not isinstance(d, dict):
        return
    n = (len(d.get("only_in_a") or []) + len(d.get("only_in_b") or [])
         + len(d.get("shape_mismatch") or []) + len(d.get("dtype_mismatch") or []))
    if not n:
        return
    yield finding("PD809", f"{d.get('a')} and {d.get('b')} differ: "
                           f"{len(d.get('only_in_a') or [])} tensor(s) only in the first, "
                           f"{len(d.get('only_in_b') or [])} only in the second, "
                           f"{len(d.get('shape_mismatch') or [])} shape and "
                           f"{len(d.get('dtype_mismatch') or [])} dtype mismatch(es)",
                  {"only_in_a": _first(d.get("only_in_a") or []),
                   "only_in_b": _first(d.get("only_in_b") or []),
                   "shape_mismatch": _first([f"{m['name']}: {m['a']} vs {m['b']}"
                                             for m in d.get("shape_mismatch") or []]),
                   "dtype_mismatch": _first([f"{m['name']}: {m['a']} vs {m['b']}"
                                             for m in d.get("dtype_mismatch") or []])},
                  Fix([], "set_state_dict skips or rejects these tensors: check that both files "
                          "come from the same model definition."))


@summary("checkpoint")
def checkpoint_summary(facts, options):
    files = _files(facts)
    if not files:
        return "hidden", ""
    tensors = sum(len(f.get("tensors") or []) for f in files)
    nbytes = sum((f.get("totals") or {}).get("nbytes", 0) for f in files)
    text = (f"{len(files)} file(s) read without running their code: {tensors} tensor(s), "
            f"{_size(nbytes)}")
    d = (facts.get("inspect") or {}).get("diff")
    if isinstance(d, dict) and d.get("compared") and isinstance(d.get("max_abs_diff"), (int, float)):
        text += f"; {d['compared']} tensor(s) compared, max abs diff {d['max_abs_diff']:.6g}"
    return "ok", text


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


# --- a training job's checkpoint folder (facts["inspect"]["folders"], inspect/folders.py) ------

LAYOUT_TITLES = {"paddlenlp-trainer": "PaddleNLP/PaddleFormers Trainer", "paddleocr": "PaddleOCR",
                 "paddleseg": "PaddleSeg", "paddle-save": "paddle.save pairs (PaddleDetection, hapi)",
                 "paddle-distributed-checkpoint": "paddle.distributed.checkpoint (save_state_dict)"}


def _folders(facts: dict) -> list[dict]:
    inspected = facts.get("inspect")
    if not isinstance(inspected, dict):
        return []
    return [f for f in inspected.get("folders") or [] if isinstance(f, dict)]


def checkpoint_faults(unit: dict, by_path: dict, stats: bool) -> list[str]:
    """Why this checkpoint cannot be resumed from: complete (every file its layout needs, every
    shard its index names), readable (inspect's safe reader found no problem), consistent (the
    optimizer's accumulators name the model's parameters, the trainer state's step is the
    folder's, and with --stats no NaN/Inf)."""
    faults = [f"missing {name}" for name in unit.get("missing") or []]
    for index in unit.get("indexes") or []:
        name = os.path.basename(str(index.get("path")))
        if index.get("error"):
            faults.append(f"{name} cannot be read: {index['error']}")
        if index.get("missing"):
            faults.append(f"{name} names {len(index['missing'])} shard(s) that are missing: "
                          + ", ".join(_first(index["missing"], 4)))
    for role, paths in (unit.get("files") or {}).items():
        for path in paths:
            reading = by_path.get(path)
            if not isinstance(reading, dict):
                continue
            for problem in reading.get("problems") or []:
                if isinstance(problem, dict):
                    faults.append(f"{os.path.basename(path)}: {problem.get('message')}")
            if stats:
                bad = [t for t in reading.get("tensors") or [] if t.get("nan") or t.get("inf")]
                if bad:
                    faults.append(f"{os.path.basename(path)}: {len(bad)} tensor(s) hold NaN or Inf")
    models = [by_path.get(p) for p in (unit.get("files") or {}).get("model", [])]
    opts = [by_path.get(p) for p in (unit.get("files") or {}).get("optimizer", [])]
    params = {n for m in models if isinstance(m, dict) for n in m.get("parameter_names") or []}
    accs = [a for o in opts if isinstance(o, dict) for a in o.get("accumulators") or []]
    if params and accs:
        orphans = [a for a in accs if _owner(a, params) is None]
        if orphans:
            faults.append(f"{len(orphans)} of {len(accs)} optimizer accumulators name no parameter "
                          f"of the model ({', '.join(_first(orphans, 3))})")
    state = unit.get("trainer_state")
    if isinstance(state, dict):
        if state.get("error"):
            faults.append(f"trainer_state.json cannot be read: {state['error']}")
        elif isinstance(unit.get("step"), int) and isinstance(state.get("global_step"), int) \
                and state["global_step"] != unit["step"]:
            faults.append(f"trainer_state.json records global_step {state['global_step']}, the "
                          f"folder is {unit.get('name')}")
    return faults


def _judged(folder: dict, facts: dict) -> list[tuple[dict, list[str]]]:
    by_path = {f.get("path"): f for f in _files(facts)}
    stats = bool((facts.get("inspect") or {}).get("stats"))
    units = {u.get("name"): u for u in folder.get("checkpoints") or [] if isinstance(u, dict)}
    order = [n for n in folder.get("order") or [] if n in units]
    return [(units[n], checkpoint_faults(units[n], by_path, stats)) for n in order]


@check("checkpoint")
def folder_newest_resumable(facts, options):
    for folder in _folders(facts):
        judged = _judged(folder, facts)
        where = folder.get("path")
        if not judged:
            yield finding("PD814", f"{where} holds no checkpoint in a layout paddledoctor knows",
                          {"folder": where},
                          Fix([f"ls -la {shlex.quote(str(where))}"],
                              "Give the folder your training writes its checkpoints to (the "
                              "Trainer's output_dir with checkpoint-N/, PaddleOCR's "
                              "save_model_dir, PaddleSeg's save_dir), or the checkpoint files."))
            continue
        safe = [u for u, faults in judged if not faults]
        newest, newest_faults = judged[-1]
        for unit, faults in judged[:-1]:
            if faults:
                yield finding("PD812", f"{unit['name']} in {where} cannot be resumed from: "
                                       f"{faults[0]}" + (f" (+{len(faults) - 1} more)" if len(faults) > 1 else ""),
                              {"checkpoint": unit.get("path"), "layout": unit.get("layout"),
                               "faults": _first(faults)},
                              Fix([], "Delete or ignore it; resume from the one PD813 names."))
        best = safe[-1] if safe else None
        if newest_faults:
            yield finding("PD811", f"The newest checkpoint, {newest['name']} in {where}, cannot be "
                                   f"resumed from: {newest_faults[0]}"
                                   + (f" (+{len(newest_faults) - 1} more)" if len(newest_faults) > 1 else ""),
                          {"checkpoint": newest.get("path"),
                           "layout": LAYOUT_TITLES.get(newest.get("layout"), newest.get("layout")),
                           "faults": _first(newest_faults),
                           "newest_safe": best.get("path") if best else "none"},
                          Fix([], f"Resume from {best['path']}, the newest checkpoint that is whole."
                              if best else "No checkpoint in this folder is whole: start from the "
                                           "pretrained weights, and check the disk and the job's "
                                           "end (a killed job or async_save tears the last one)."))
        if best is not None:
            yield finding("PD813", f"Resume from {best['name']} ({best.get('path')}): the newest "
                                   "checkpoint that is complete, readable and consistent",
                          {"checkpoint": best.get("path"),
                           "layout": LAYOUT_TITLES.get(best.get("layout"), best.get("layout")),
                           "files": sorted(os.path.basename(p) for ps in best["files"].values()
                                           for p in ps)[:MAX_NAMES],
                           "checkpoints": len(judged), "safe": len(safe)})
