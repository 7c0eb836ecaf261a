"""A training job's checkpoint folder: which checkpoints it holds, in which framework's layout, and
the files each needs. Reads names and sizes here; every checkpoint file is then read by inspect's
own safe reader (never paddle, never the file's code). The checks (paddledoctor/checks/
checkpoint.py, PD811-PD816) judge each checkpoint complete, readable and consistent, and name the
newest one that is safe to resume from.

Layouts, from the frameworks' own save code:
- PaddleNLP / PaddleFormers ``Trainer`` (``paddlenlp/trainer/trainer.py``, ``utils/env.py``):
  ``checkpoint-<step>/`` with the weights as ``model_state.pdparams``, or sharded
  ``model_state.*.pdparams`` / ``model-*.safetensors`` named by ``model_state.pdparams.index.json``
  / ``model.safetensors.index.json`` (``weight_map``), the optimizer as ``optimizer.pdopt`` (or its
  index/shards, or ``optimizer.safetensors``), ``scheduler.pdparams``, ``trainer_state.json``
  (``global_step``), and optionally ``scaler.pdparams`` and ``rng_state.pth`` /
  ``rng_state_<world_size>.pth``.
- PaddleOCR (``ppocr/utils/save_load.py`` ``save_model``): ``<prefix>.pdparams``,
  ``<prefix>.pdopt`` and ``<prefix>.states`` (a pickle of epoch, global_step and the best
  metrics) for the prefixes ``latest``, ``best_accuracy`` and ``iter_epoch_<n>``; the best one is
  also copied to ``best_model/model.pdparams`` + ``model.pdopt``.
- PaddleSeg (``paddleseg/core/train.py``): ``iter_<n>/model.pdparams`` + ``model.pdopt``,
  ``best_model/model.pdparams``.
- PaddleDetection (``ppdet/utils/checkpoint.py`` ``save_model``) and hapi ``Model.save``:
  ``<name>.pdparams`` + ``<name>.pdopt`` pairs (``<epoch>``, ``model_final``, ``best_model``).
- ``paddle.distributed.checkpoint.save_state_dict`` (``python/paddle/distributed/checkpoint/
  save_state_dict.py``; ``flex_checkpoint/dcp`` in 3.3): ``<rank>_<n>.distcp`` shards (paddle.save
  pickles of each rank's tensors) and ``<n>.metadata`` (a pickle of ``Metadata`` whose
  ``storage_metadata`` names the shard file of every tensor piece). The metadata's shard names are
  read from its opcode stream (``pickletools.genops``: decoded, never executed).
"""

from __future__ import annotations

import json
import os
import pickletools
import re

MAX_ENTRIES = 10_000        # names listed per folder before the scan stops (a budget, said)
MAX_INDEX_BYTES = 64 << 20  # an index JSON larger than this is not read
_STEP = re.compile(r"(\d+)$")
TRAINER_DIR = re.compile(r"^checkpoint-(\d+)$")
SEG_DIR = re.compile(r"^iter_(\d+)$")
OCR_PREFIX = re.compile(r"^(latest|best_accuracy|iter_epoch_\d+)$")


def _listdir(path: str) -> list[str]:
    try:
        names = sorted(os.listdir(path))
    except OSError:
        return []
    return names[:MAX_ENTRIES]


def _is_file(path: str) -> bool:
    return os.path.isfile(path) and not os.path.islink(path) or (
        os.path.islink(path) and os.path.isfile(os.path.realpath(path)))


def _mtime(path: str) -> float | None:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def _step_of(name: str) -> int | None:
    m = _STEP.search(name)
    return int(m.group(1)) if m else None


def _read_index(path: str) -> dict:
    """A shard index: {"weight_map": {tensor: file}} (Hugging Face / PaddleNLP style)."""
    out: dict = {"path": path}
    try:
        if os.path.getsize(path) > MAX_INDEX_BYTES:
            out["error"] = f"larger than {MAX_INDEX_BYTES >> 20} MiB: not read"
            return out
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
        return out
    wmap = doc.get("weight_map") if isinstance(doc, dict) else None
    if not isinstance(wmap, dict):
        out["error"] = "no weight_map in the index"
        return out
    files = sorted({str(v) for v in wmap.values()})
    out["shards"] = files
    out["tensors"] = len(wmap)
    folder = os.path.dirname(path)
    out["missing"] = [f for f in files if os.path.basename(f) != f or not _is_file(os.path.join(folder, f))]
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    if isinstance(meta.get("total_size"), int):
        out["total_size"] = meta["total_size"]
    return out


def _trainer_unit(path: str, name: str) -> dict:
    names = set(_listdir(path))
    unit: dict = {"name": name, "path": path, "layout": "paddlenlp-trainer",
                  "step": _step_of(name), "files": {}, "missing": [], "indexes": [],
                  "optional_missing": []}
    files = unit["files"]

    def pick(role: str, single: list[str], indexes: list[str], prefixes: tuple[str, ...]):
        for n in single:
            if n in names:
                files[role] = [os.path.join(path, n)]
                return
        for n in indexes:
            if n in names:
                index = _read_index(os.path.join(path, n))
                index["role"] = role
                unit["indexes"].append(index)
                files[role] = [os.path.join(path, s) for s in index.get("shards") or []
                               if s not in index.get("missing", [])]
                return
        variants = sorted(n for n in names if n.startswith(prefixes) and n.endswith(
            (".pdparams", ".pdopt", ".safetensors")) and not n.endswith(".json"))
        if variants:  # per-rank variants (model_state.tp00_pp00.pdparams) without an index
            files[role] = [os.path.join(path, n) for n in variants]
            return
        unit["missing"].append(single[0])

    pick("model", ["model_state.pdparams", "model.safetensors"],
         ["model_state.pdparams.index.json", "model.safetensors.index.json"],
         ("model_state.", "model-"))
    pick("optimizer", ["optimizer.pdopt", "optimizer.safetensors"],
         ["optimizer.pdopt.index.json", "optimizer.safetensors.index.json"], ("optimizer.",))
    for role, n in (("scheduler", "scheduler.pdparams"),):
        if n in names:
            files[role] = [os.path.join(path, n)]
        else:
            unit["missing"].append(n)
    if "scaler.pdparams" in names:
        files["scaler"] = [os.path.join(path, "scaler.pdparams")]
    rng = sorted(n for n in names if re.fullmatch(r"rng_state(_\d+)?\.pth", n))
    if rng:
        files["rng"] = [os.path.join(path, n) for n in rng]
    else:
        unit["optional_missing"].append("rng_state.pth")
    if "trainer_state.json" in names:
        state_path = os.path.join(path, "trainer_state.json")
        unit["trainer_state"] = _trainer_state(state_path)
    else:
        unit["missing"].append("trainer_state.json")
    return unit


def _trainer_state(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return {"path": path, "error": f"{type(exc).__name__}: {exc}"}
    if not isinstance(doc, dict):
        return {"path": path, "error": "not a JSON object"}
    return {"path": path, "global_step": doc.get("global_step"), "epoch": doc.get("epoch")}


MAX_METADATA_BYTES = 64 << 20
DISTCP = re.compile(r"^\d+_\d+\.distcp$")
METADATA = re.compile(r"^\d+\.metadata$")


def _metadata_shards(path: str) -> tuple[list[str], str | None]:
    """The ``*.distcp`` names a distributed checkpoint's metadata pickle refers to, from its opcode
    stream only (nothing is executed, no global is resolved); and an error where it is unreadable."""
    try:
        if os.path.getsize(path) > MAX_METADATA_BYTES:
            return [], f"larger than {MAX_METADATA_BYTES >> 20} MiB: not read"
        with open(path, "rb") as f:
            data = f.read(MAX_METADATA_BYTES)
        names = set()
        for op, arg, _pos in pickletools.genops(data):
            if isinstance(arg, str) and DISTCP.match(arg):
                names.add(arg)
        return sorted(names), None
    except (OSError, ValueError, EOFError) as exc:
        return [], f"{type(exc).__name__}: {exc}"


def _dcp_unit(folder: str, name: str, here: list[str]) -> dict:
    unit: dict = {"name": name, "path": folder, "layout": "paddle-distributed-checkpoint",
                  "step": _step_of(os.path.basename(folder)), "files": {}, "missing": [],
                  "indexes": [], "optional_missing": []}
    shards = [n for n in here if DISTCP.match(n)]
    metas = [n for n in here if METADATA.match(n)]
    if not metas:
        unit["missing"].append("0.metadata")
    named: set = set()
    for m in metas:
        names, error = _metadata_shards(os.path.join(folder, m))
        index = {"path": os.path.join(folder, m), "role": "model", "shards": names,
                 "tensors": None, "missing": [n for n in names if n not in shards]}
        if error:
            index["error"] = error
        unit["indexes"].append(index)
        named.update(names)
    unit["files"]["model"] = [os.path.join(folder, n) for n in shards]
    if not shards:
        unit["missing"].append("*.distcp")
    return unit


def _pair_unit(folder: str, stem: str, layout: str, name: str | None = None) -> dict:
    base = os.path.join(folder, stem)
    unit: dict = {"name": name or stem, "path": base, "layout": layout, "step": _step_of(stem),
                  "files": {}, "missing": [], "indexes": [], "optional_missing": []}
    for role, ext in (("model", ".pdparams"), ("optimizer", ".pdopt")):
        if _is_file(base + ext):
            unit["files"][role] = [base + ext]
        else:
            unit["missing"].append(os.path.basename(base + ext))
    if layout == "paddleocr":
        if _is_file(base + ".states"):
            unit["files"]["states"] = [base + ".states"]
        else:
            unit["missing"].append(os.path.basename(base + ".states"))
    return unit


def scan_folder(path: str) -> dict:
    """The checkpoints in a training job's folder (one level of subfolders, and the folder itself).
    Each: name, layout, step (from its name; PaddleOCR's from its .states), mtime, files by role,
    the names its layout needs that are missing, and its shard indexes."""
    path = os.path.abspath(path)
    out: dict = {"path": path, "checkpoints": []}
    units = out["checkpoints"]
    names = _listdir(path)
    if len(names) >= MAX_ENTRIES:
        out["truncated"] = f"only the first {MAX_ENTRIES} entries were scanned"

    def folder_units(folder: str, prefix: str = "") -> None:
        here = _listdir(folder)
        if any(DISTCP.match(n) or METADATA.match(n) for n in here):
            units.append(_dcp_unit(folder, prefix or os.path.basename(folder), here))
            return
        if "trainer_state.json" in here or "model_state.pdparams" in here or \
                "model_state.pdparams.index.json" in here:
            units.append(_trainer_unit(folder, prefix or os.path.basename(folder)))
            return
        if "model.pdparams" in here:
            u = _pair_unit(folder, "model", "paddleseg" if SEG_DIR.match(os.path.basename(folder))
                           else "paddle-save", prefix or os.path.basename(folder))
            u["step"] = _step_of(os.path.basename(folder))
            u["path"] = folder
            units.append(u)
            return
        stems = sorted({n[:-len(".pdparams")] for n in here if n.endswith(".pdparams")} |
                       {n[:-len(".pdopt")] for n in here if n.endswith(".pdopt")})
        for stem in stems:
            layout = ("paddleocr" if OCR_PREFIX.match(stem) or os.path.isfile(
                os.path.join(folder, stem + ".states")) else "paddle-save")
            units.append(_pair_unit(folder, stem, layout,
                                    f"{prefix}/{stem}" if prefix else stem))

    for name in names:
        sub = os.path.join(path, name)
        if os.path.isdir(sub) and not os.path.islink(sub):
            if TRAINER_DIR.match(name):
                units.append(_trainer_unit(sub, name))
            else:
                folder_units(sub, name)
    folder_units(path, "")
    for unit in units:
        paths = [p for ps in unit["files"].values() for p in ps]
        times = [t for t in (_mtime(p) for p in paths) if t is not None]
        unit["mtime"] = max(times) if times else _mtime(unit["path"])
        unit["layout_files"] = sorted(unit["files"])
    out["layouts"] = sorted({u["layout"] for u in units})
    out["order"] = newest_last(units)
    return out


def checkpoint_files(folder: dict) -> list[str]:
    """Every file the folder's checkpoints name, for the safe reader."""
    seen: list[str] = []
    for unit in folder.get("checkpoints") or []:
        for paths in unit["files"].values():
            for p in paths:
                if p not in seen:
                    seen.append(p)
    return seen


def newest_last(units: list[dict]) -> list[str]:
    """The checkpoints' names, newest last: by step where every one has a step (from its name or
    trainer_state.json), else by the time its files were written."""
    def step(u: dict):
        state = u.get("trainer_state") if isinstance(u.get("trainer_state"), dict) else {}
        return state["global_step"] if isinstance(state.get("global_step"), int) else u.get("step")

    if units and all(isinstance(step(u), int) for u in units):
        key = lambda u: (step(u), u.get("mtime") or 0.0)  # noqa: E731
    else:
        key = lambda u: (u.get("mtime") or 0.0, step(u) or -1)  # noqa: E731
    return [u["name"] for u in sorted(units, key=key)]
