"""One checkpoint file to facts: its real format (by content, not by name), its tensors (name,
shape, dtype, bytes), totals, other values, and the problems met. Never imports paddle, never runs
anything from the file; every claimed size is checked against the file's size before reading."""

from __future__ import annotations

import json
import math
import os
import re
import struct
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from . import pir, safepickle, stats
from .dtypes import ITEMSIZE, NUMPY, SAFETENSORS
from .protobuf import WireError, program_parameters
from .tensorstream import looks_like_stream, read_stream

FORMAT_TITLES = {
    "pickle": "paddle.save pickle",
    "tensor-stream": "Paddle binary tensor stream (.pdiparams)",
    "program-desc": "Paddle program (ProgramDesc protobuf, .pdmodel)",
    "pir-json": "Paddle PIR program (.json)",
    "safetensors": "safetensors",
    "empty": "empty file",
    "unknown": "not a checkpoint format paddledoctor reads",
    "unreadable": "unreadable",
}
MAX_MODEL_FILE = 1 << 30      # a .pdmodel / .json / safetensors header read whole: at most this
MAX_SAFETENSORS_HEADER = 100 << 20
MAX_VALUES = 200              # plain values listed per file (the rest counted)
NAME_TABLE = "StructuredToParameterName@@"
UNPACK_INFO = "UnpackBigParamInfor@@"  # sic: paddle/framework/io_utils.py spells it so
# optimizer accumulators are named "<parameter name>_<accumulator>_<n>" (Optimizer._add_accumulator)
ACCUMULATOR = re.compile(r"_(moment\d*|velocity|beta\d_pow_acc|mean_square|mean_grad|squared|"
                         r"linear|inf_norm|moment\d_max|avg_squared_grad|avg_squared_update|"
                         r"asgd_[a-z]+|[a-z_]+_acc)_\d+$")


@dataclass
class Source:
    """Where a tensor's bytes are: segments (see stats.iter_bytes) of one file."""

    path: str
    segments: list
    dtype: str
    big_endian: bool = False


@dataclass
class FileReading:
    facts: dict
    sources: dict = field(default_factory=dict)   # tensor name -> Source


def sniff(head: bytes) -> str:
    if not head:
        return "empty"
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        return "pickle"
    if len(head) >= 9 and head[8:9] == b"{" and struct.unpack_from("<Q", head, 0)[0] >= 2:
        return "safetensors"
    if looks_like_stream(head):
        return "tensor-stream"
    stripped = head.lstrip()
    if stripped[:1] == b"{":
        return "pir-json"
    if head[:1] == b"\x0a":                      # ProgramDesc field 1 (blocks), length-delimited
        return "program-desc"
    if head[:1] in (b"(", b"}", b"]", b"c", b"N", b"I", b"S", b"V"):   # protocol 0/1 pickles
        return "pickle"
    return "unknown"


def read_file(path: str, with_stats: bool = False) -> FileReading:
    facts: dict = {"path": path, "extension": os.path.splitext(path)[1].lower(), "size": None,
                   "format": "unreadable", "kind": "other", "tensors": [], "values": [],
                   "opaque": [], "problems": [], "stats": with_stats}
    reading = FileReading(facts)
    try:
        if os.path.isdir(path):
            raise IsADirectoryError(f"{path} is a directory, not a checkpoint file")
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            facts["size"] = size
            head = f.read(4096)
            fmt = sniff(head)
            facts["format"] = fmt
            if fmt == "empty":
                _problem(facts, "empty", f"{path} is empty (0 bytes)")
            elif fmt == "unknown":
                _problem(facts, "unknown-format",
                         f"{path} is not a pickle, tensor stream, program or safetensors file "
                         f"(starts with {head[:8].hex()})")
            else:
                READERS[fmt](reading, f, size)
            if with_stats and reading.sources:
                _add_stats(reading, f)
    except FileNotFoundError:
        _problem(facts, "unreadable", f"{path}: no such file")
    except IsADirectoryError:
        _problem(facts, "unreadable", f"{path} is a directory, not a checkpoint file")
    except PermissionError:
        _problem(facts, "unreadable", f"{path}: permission denied")
    except OSError as exc:
        _problem(facts, "unreadable", f"{path}: {exc.strerror or exc}")
    except (MemoryError, RecursionError) as exc:
        _problem(facts, "limit", f"{path}: {type(exc).__name__} while reading")
    except Exception as exc:  # noqa: BLE001 - a reader bug is a finding, never a traceback
        _problem(facts, "corrupt", f"{path}: {type(exc).__name__}: {exc}",
                 internal=type(exc).__name__)
    _totals(facts)
    return reading


def _problem(facts: dict, kind: str, message: str, **extra: Any) -> None:
    facts["problems"].append({"kind": kind, "message": message, **extra})


def _totals(facts: dict) -> None:
    tensors = facts["tensors"]
    totals = {"tensors": len(tensors),
              "elements": sum(math.prod(t["shape"]) for t in tensors),
              "nbytes": sum(t.get("nbytes") or 0 for t in tensors)}
    if facts.get("stats") and any("nan" in t for t in tensors):
        totals["nan"] = sum(t.get("nan", 0) for t in tensors)
        totals["inf"] = sum(t.get("inf", 0) for t in tensors)
    facts["totals"] = totals


def _add_stats(reading: FileReading, f: BinaryIO) -> None:
    for t in reading.facts["tensors"]:
        src = reading.sources.get(t["name"])
        if src is None:
            continue
        try:
            t.update(stats.tensor_stats(f, src.segments, src.dtype, src.big_endian, t.get("nbytes")))
        except (EOFError, OSError, UnicodeError, ValueError) as exc:
            _problem(reading.facts, "corrupt", f"tensor {t['name']}: data unreadable: {exc}")


# --- pickles ---------------------------------------------------------------------------------------

def _read_pickle(reading: FileReading, f: BinaryIO, size: int) -> None:
    facts = reading.facts
    try:
        result = safepickle.load(f, size)
    except safepickle.Refused as exc:
        _problem(facts, "refused", exc.message, **{"global": f"{exc.module}.{exc.name}",
                                                   "offset": exc.offset})
        return
    except safepickle.PickleProblem as exc:
        _problem(facts, exc.kind, exc.message, offset=exc.offset)
        return
    facts["pickle"] = {"protocol": result.protocol, "globals": sorted(set(result.globals))}
    if result.end < size:
        _problem(facts, "corrupt", f"{size - result.end} bytes after the pickle's end "
                                   f"(offset {result.end})", offset=result.end)
    _describe(reading, result.value)


def _name(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, (int, float, bool)) or key is None:
        return repr(key)
    if isinstance(key, tuple):
        return "(" + ", ".join(_name(k) for k in key) + ")"
    return f"<{type(key).__name__}>"


def _join(path: str, part: str) -> str:
    return part if not path else f"{path}/{part}"


def _segments(record: safepickle.ArrayRecord) -> list:
    data = record.data
    if isinstance(data, safepickle.Blob):
        return [(data.encoding, data.offset, data.length)]
    if isinstance(data, str):
        return [("inline", data.encode("latin1"))]
    return [("inline", bytes(data))]


def _describe(reading: FileReading, top: Any) -> None:
    facts = reading.facts
    if isinstance(top, dict):
        top = dict(top)
        if isinstance(top.get(UNPACK_INFO), dict):
            _merge_slices(reading, top)
        table = top.pop(NAME_TABLE, None)
        if isinstance(table, dict):
            facts["name_table"] = {_name(k): _name(v) for k, v in table.items()}
    seen: set[int] = set()
    todo: list[tuple[str, Any, int]] = [("", top, 0)]
    values_total = 0
    while todo:
        path, value, depth = todo.pop()
        if isinstance(value, (dict, list, tuple, set, frozenset)):
            if id(value) in seen:
                continue
            seen.add(id(value))
            if depth > 64:
                _problem(facts, "limit", f"{path}: nested deeper than 64 levels, not listed")
                continue
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str) \
                and isinstance(value[1], safepickle.ArrayRecord):
            # a Tensor saved by paddle.save: (tuple, ((name, ndarray),)), see reduce_varbase
            _tensor(reading, path or value[0], value[1], param_name=value[0])
        elif isinstance(value, safepickle.ArrayRecord):
            _tensor(reading, path, value)
        elif isinstance(value, dict):
            items = list(value.items())
            todo.extend((_join(path, _name(k)), v, depth + 1) for k, v in reversed(items))
        elif isinstance(value, (list, tuple)):
            todo.extend((_join(path, str(i)), v, depth + 1) for i, v in reversed(list(enumerate(value))))
        elif isinstance(value, safepickle.Opaque):
            facts["opaque"].append({"name": path, "type": value.qualname})
        else:
            values_total += 1
            if len(facts["values"]) < MAX_VALUES:
                facts["values"].append({"name": path, "type": _type_name(value),
                                        "value": _plain(value)})
    if values_total > MAX_VALUES:
        facts["values_total"] = values_total
    facts["kind"] = _kind(facts)
    if facts["kind"] == "model":
        facts["parameter_names"] = sorted(set(facts.get("name_table", {}).values())) or \
            [t["name"] for t in facts["tensors"]]
    elif facts["kind"] == "optimizer":
        facts["accumulators"] = [t["name"] for t in facts["tensors"]
                                 if "/" not in t["name"] and ACCUMULATOR.search(t["name"])]


def _type_name(value: Any) -> str:
    if isinstance(value, safepickle.Blob):
        return "bytes"
    if isinstance(value, safepickle.LazyText):
        return "str"
    if isinstance(value, safepickle.Emulated):
        return "global"
    if isinstance(value, safepickle.ArrayRecord):
        return "ndarray[object]"
    if isinstance(value, safepickle.DType):
        return "dtype"
    return type(value).__name__


def _plain(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value if not isinstance(value, int) or abs(value) < 2 ** 53 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, str):
        return value if len(value) <= 200 else value[:200] + "…"
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if isinstance(value, (safepickle.Blob, safepickle.LazyText)):
        return f"<{value.length} bytes in the file>"
    if isinstance(value, safepickle.Emulated):
        return value.qualname
    if isinstance(value, safepickle.DType):
        return value.code
    if isinstance(value, safepickle.ArrayRecord):
        return f"<object array {list(value.shape)}>"
    return f"<{type(value).__name__}>"


def _tensor(reading: FileReading, name: str, record: safepickle.ArrayRecord,
            param_name: str | None = None) -> None:
    facts = reading.facts
    if not record.built:
        _problem(facts, "corrupt", f"{name or '<root>'}: an array whose state was never set")
        return
    if record.is_object:
        facts["values"].append({"name": name, "type": "ndarray[object]",
                                "value": f"<object array {list(record.shape)}>"})
        return
    dtype = NUMPY.get(record.dtype.code)
    if dtype is None or record.dtype.structured:
        _problem(facts, "corrupt", f"{name}: numpy dtype {record.dtype.code!r} is not a tensor type")
        return
    entry: dict = {"name": name, "shape": list(record.shape), "dtype": dtype,
                   "nbytes": record.nbytes}
    if param_name is not None:
        entry["param_name"] = param_name
    if record.legacy:
        entry["record"] = "DenseTensor"
    if record.fortran and len(record.shape) > 1:
        entry["order"] = "F"
    if isinstance(record.data, safepickle.Blob):
        entry["offset"] = record.data.offset
    facts["tensors"].append(entry)
    reading.sources[name] = Source(facts["path"], _segments(record), dtype,
                                   record.dtype.byteorder == ">")


def _merge_slices(reading: FileReading, top: dict) -> None:
    """paddle.save under protocol 2/3 splits a parameter over 2**30-1 bytes into flat slices
    "<name>@@.<i>" and records them in UnpackBigParamInfor@@; paddle.load joins them
    (_pack_loaded_dict). So does this listing."""
    facts = reading.facts
    info = top.pop(UNPACK_INFO)
    for key, entry in info.items():
        slices = entry.get("slices") if isinstance(entry, dict) else None
        shape = entry.get("OriginShape") if isinstance(entry, dict) else None
        if not isinstance(slices, list) or not isinstance(shape, (list, tuple)) or \
                not all(isinstance(d, int) and d >= 0 for d in shape):
            _problem(facts, "corrupt", f"{UNPACK_INFO}[{_name(key)}] is not understood")
            continue
        parts = [top.get(s) for s in slices]
        if not parts or not all(isinstance(p, safepickle.ArrayRecord) and p.built for p in parts):
            _problem(facts, "corrupt", f"{_name(key)}: slices {slices} are missing")
            continue
        codes_ = {p.dtype.code for p in parts}
        if len(codes_) != 1 or sum(p.numel for p in parts) != math.prod(shape):
            _problem(facts, "corrupt", f"{_name(key)}: its slices do not add up to shape {list(shape)}")
            continue
        merged = safepickle.ArrayRecord(shape=tuple(shape), dtype=parts[0].dtype, built=True)
        segments = []
        for s, p in zip(slices, parts):
            segments.extend(_segments(p))
            top.pop(s, None)
        merged.data = b""  # the segments carry the data
        top[key] = merged
        reading.facts.setdefault("sliced", []).append({"name": _name(key), "slices": len(slices)})
        reading.sources[f"\0merged:{_name(key)}"] = segments


def _kind(facts: dict) -> str:
    names = [t["name"] for t in facts["tensors"]]
    top = {n.split("/", 1)[0] for n in names} | {v["name"].split("/", 1)[0] for v in facts["values"]}
    if "LR_Scheduler" in top or "master_weights" in top or \
            (names and any(ACCUMULATOR.search(n) for n in names)):
        return "optimizer"
    if facts["opaque"] and not names:
        return "rng-state" if any(o["type"].endswith("GeneratorState") for o in facts["opaque"]) \
            else "other"
    if names and "name_table" in facts:
        return "model"
    if names and all("/" not in n for n in names):
        return "model"
    return "other" if not names else "state"


# --- the tensor stream (.pdiparams) ----------------------------------------------------------------

def _read_stream(reading: FileReading, f: BinaryIO, size: int) -> None:
    facts = reading.facts
    tensors, problems = read_stream(f, size)
    facts["kind"] = "inference-params"
    for i, t in enumerate(tensors):
        name = f"#{i}"
        facts["tensors"].append({"name": name, "shape": t["shape"], "dtype": t["dtype"],
                                 "nbytes": t["nbytes"], "offset": t["offset"]})
        reading.sources[name] = Source(facts["path"], [("raw", t["offset"], t["nbytes"])], t["dtype"])
    facts["problems"].extend(problems)


def name_stream(reading: FileReading, model: dict) -> None:
    """Name a .pdiparams' tensors after its program's persistable variables (sorted by name, the
    order save_inference_model writes them), checking each shape and dtype."""
    facts = reading.facts
    params = model.get("parameters") or []
    facts["names_from"] = model["path"]
    tensors = facts["tensors"]
    if len(params) != len(tensors):
        _problem(facts, "mismatch", f"{model['path']} declares {len(params)} parameters, "
                                    f"{facts['path']} holds {len(tensors)} tensors")
        return
    renamed = {}
    for t, p in zip(tensors, params):
        declared = [d for d in p["shape"]]
        if p["dtype"] != t["dtype"] or (declared and declared != t["shape"]):
            _problem(facts, "mismatch", f"{p['name']}: the program declares {p['dtype']} "
                                        f"{declared}, the file holds {t['dtype']} {t['shape']}")
        renamed[t["name"]] = p["name"]
        t["name"] = p["name"]
    reading.sources = {renamed.get(k, k): v for k, v in reading.sources.items()}


# --- programs ---------------------------------------------------------------------------------------

def _read_whole(f: BinaryIO, size: int, what: str) -> bytes:
    if size > MAX_MODEL_FILE:
        raise ValueError(f"a {what} of {size} bytes is larger than {MAX_MODEL_FILE} bytes")
    f.seek(0)
    return f.read(size)


def _read_program(reading: FileReading, f: BinaryIO, size: int) -> None:
    facts = reading.facts
    facts["kind"] = "program"
    try:
        facts["parameters"] = program_parameters(memoryview(_read_whole(f, size, "program")))
    except WireError as exc:
        facts["format"] = "unknown"
        _problem(facts, "unknown-format", f"{facts['path']} is not a ProgramDesc: {exc}")
    except ValueError as exc:
        _problem(facts, "limit", str(exc))


def _read_pir(reading: FileReading, f: BinaryIO, size: int) -> None:
    facts = reading.facts
    try:
        doc = json.loads(_read_whole(f, size, "program").decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        facts["format"] = "unknown"
        _problem(facts, "unknown-format", f"{facts['path']} is not a PIR program: "
                                          f"{str(exc).splitlines()[0][:200]}")
        return
    if not pir.is_pir(doc):
        facts["format"] = "unknown"
        _problem(facts, "unknown-format", f"{facts['path']} is JSON but not a PIR program "
                                          "(no base_code.magic == 'pir')")
        return
    facts["kind"] = "program"
    facts["parameters"] = pir.parameters(doc)


# --- safetensors ------------------------------------------------------------------------------------

def _read_safetensors(reading: FileReading, f: BinaryIO, size: int) -> None:
    facts = reading.facts
    f.seek(0)
    (n,) = struct.unpack("<Q", f.read(8))
    if n > size - 8:
        _problem(facts, "truncated", f"the header claims {n} bytes, only {size - 8} remain")
        return
    if n > MAX_SAFETENSORS_HEADER:
        _problem(facts, "limit", f"a {n}-byte header (more than {MAX_SAFETENSORS_HEADER})")
        return
    try:
        header = json.loads(f.read(n).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        _problem(facts, "corrupt", f"the safetensors header is not JSON: {str(exc)[:200]}")
        return
    if not isinstance(header, dict):
        _problem(facts, "corrupt", "the safetensors header is not a JSON object")
        return
    base, data_size = 8 + n, size - 8 - n
    meta = header.pop("__metadata__", None)
    if meta is not None:
        facts["metadata"] = meta if isinstance(meta, dict) else {}
    spans = []
    for name, entry in header.items():
        try:
            dtype = SAFETENSORS[entry["dtype"]]
            shape = [int(d) for d in entry["shape"]]
            begin, end = (int(x) for x in entry["data_offsets"])
        except (KeyError, TypeError, ValueError):
            _problem(facts, "corrupt", f"{name}: the header entry {str(entry)[:120]} is not understood")
            continue
        nbytes = math.prod(shape) * ITEMSIZE[dtype]
        if any(d < 0 for d in shape) or not 0 <= begin <= end or end - begin != nbytes:
            _problem(facts, "corrupt", f"{name}: data_offsets [{begin}, {end}] do not hold "
                                       f"{dtype} {shape} ({nbytes} bytes)")
            continue
        if end > data_size:
            _problem(facts, "truncated", f"{name}: data ends at {end}, the file holds {data_size} "
                                         "bytes of data")
            continue
        spans.append((begin, end))
        facts["tensors"].append({"name": name, "shape": shape, "dtype": dtype, "nbytes": nbytes,
                                 "offset": base + begin})
        reading.sources[name] = Source(facts["path"], [("raw", base + begin, nbytes)], dtype)
    spans.sort()
    covered = 0
    for begin, end in spans:
        if begin < covered:
            _problem(facts, "corrupt", "tensors overlap in the data section")
            break
        covered = end
    facts["kind"] = "model"
    facts["parameter_names"] = [t["name"] for t in facts["tensors"]]


def _fix_merged_sources(reading: FileReading) -> None:
    for t in reading.facts["tensors"]:
        merged = reading.sources.pop(f"\0merged:{t['name']}", None)
        if merged is not None:
            reading.sources[t["name"]].segments = merged
            t.pop("offset", None)


def _read_pickle_file(reading: FileReading, f: BinaryIO, size: int) -> None:
    _read_pickle(reading, f, size)
    _fix_merged_sources(reading)


READERS = {"pickle": _read_pickle_file, "tensor-stream": _read_stream,
           "program-desc": _read_program, "pir-json": _read_pir,
           "safetensors": _read_safetensors}
