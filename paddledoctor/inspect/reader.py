"""One checkpoint file to facts: its real format (by content, not by name), its tensors (name,
shape, dtype, bytes), totals, other values, and the problems met. Never imports paddle, never runs
anything from the file; every claimed size is checked against the file's size before reading."""

from __future__ import annotations

import json
import math
import os
import re
import stat
import struct
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from . import budget, pir, safepickle, stats
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


# the first byte of a pickle without a PROTO header (protocols 0 and 1: a container, a global,
# a number or a text)
_PROTOCOL_0_1 = frozenset(b"(}])cNIJKMLFGSTUVXi\x88\x89")


def sniff(head: bytes) -> str:
    """The format the first bytes suggest. Only a suggestion for pickles: what decides is how
    pickle.load walks the file (see _judge)."""
    if not head:
        return "empty"
    if len(head) >= 9 and head[8:9] in (b"{", b" ") and struct.unpack_from("<Q", head, 0)[0] >= 2:
        return "safetensors"
    if head[:1] == b"\x80" and len(head) > 1 and head[1] <= 5:
        return "pickle"
    if looks_like_stream(head):
        return "tensor-stream"
    stripped = head.lstrip()
    if stripped[:1] == b"{":
        return "pir-json"
    if head[:1] == b"\x0a":                      # ProgramDesc field 1 (blocks), length-delimited
        return "program-desc"
    if head[0] in _PROTOCOL_0_1:
        return "pickle"
    return "unknown"


class NotRegular(OSError):
    """A path that is not a regular file (a FIFO, a device, a socket): never read, since reading
    one can block forever or never end."""


_KINDS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a directory"}


def _open_regular(path: str) -> BinaryIO:
    """Open without blocking (O_NONBLOCK: a FIFO with no writer would block the open itself),
    then fstat the open file: anything but a regular file is refused at once."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
                 | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(path)
        if not stat.S_ISREG(mode):
            raise NotRegular(f"{path} is {_KINDS.get(stat.S_IFMT(mode), 'not a regular file')}, "
                             "not a checkpoint file: not read")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_file(path: str, with_stats: bool = False) -> FileReading:
    facts: dict = {"path": path, "extension": os.path.splitext(path)[1].lower(), "size": None,
                   "format": "unreadable", "kind": "other", "tensors": [], "values": [],
                   "opaque": [], "problems": [], "stats": with_stats}
    reading = FileReading(facts)
    try:
        with _open_regular(path) as f:
            size = os.fstat(f.fileno()).st_size
            facts["size"] = size
            cost = budget.Budget()
            _judge(reading, f, size, cost)
            if with_stats and reading.sources:
                _add_stats(reading, f, size, cost)
    except FileNotFoundError:
        _problem(facts, "unreadable", f"{path}: no such file")
    except IsADirectoryError:
        _problem(facts, "unreadable", f"{path} is a directory, not a checkpoint file")
    except PermissionError:
        _problem(facts, "unreadable", f"{path}: permission denied")
    except NotRegular as exc:
        _problem(facts, "unreadable", str(exc))
    except OSError as exc:
        _problem(facts, "unreadable", f"{path}: {exc.strerror or exc}")
    except (budget.OverBudget, safepickle.Limit, MemoryError, RecursionError) as exc:
        _over_budget(reading, exc)
    except Exception as exc:  # noqa: BLE001 - a reader bug is the doctor's, never a traceback
        _doctor_bug(reading, exc)
    _totals(facts)
    return reading


def _over_budget(reading: FileReading, exc: BaseException) -> None:
    """Reading stopped at the budget: nothing read is listed (it would be a partial verdict)."""
    facts = reading.facts
    message = getattr(exc, "message", None) or f"{type(exc).__name__} while reading"
    facts["tensors"], reading.sources = [], {}
    _problem(facts, "over-budget", f"{facts['path']}: {message}")


def _doctor_bug(reading: FileReading, exc: BaseException) -> None:
    """An exception no reader expects is a bug of paddledoctor, said so with where it happened
    (for the bug report), never shown as the user's corrupt file."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else "?"
    facts = reading.facts
    facts["tensors"], reading.sources = [], {}
    _problem(facts, "doctor-bug", f"{facts['path']}: {type(exc).__name__} in the reader at {where}",
             internal=type(exc).__name__, where=where)


def _judge(reading: FileReading, f: BinaryIO, size: int, cost: budget.Budget) -> None:
    """The file's format as paddle.load reads it: paddle.load (without safetensors=True) always
    calls pickle.load on the open file first and tries its other readers only when that raises
    UnpicklingError. So the pickle walk decides: a global pickle.load would import outside the
    allowlist is refused whatever else the file is; a file pickle.load reads to its STOP is a
    pickle, and if it is also a valid file of another format it is a polyglot (refused); only a
    file pickle.load rejects before any global is read as the format its content shows."""
    facts = reading.facts
    head = f.read(4096)
    sniffed = sniff(head)
    facts["format"] = sniffed
    if sniffed == "empty":
        _problem(facts, "empty", f"{facts['path']} is empty (0 bytes)")
        return
    walk = safepickle.scan(f, size, cost)
    if walk.refused is not None:
        facts["format"] = "pickle"
        _refused(facts, walk.refused)
        return
    if walk.completed or walk.globals:
        facts["format"] = "pickle"
        if walk.completed and sniffed not in ("pickle", "unknown") and \
                _valid_as(sniffed, facts["path"], f, size, cost):
            _problem(facts, "polyglot", f"{facts['path']} is both a complete pickle and a valid "
                                        f"{FORMAT_TITLES[sniffed]} file: paddle.load unpickles it, "
                                        f"a {sniffed} reader reads something else",
                     other=sniffed, pickle_end=walk.end)
            return
        _read_pickle_file(reading, f, size, cost, walk)
    elif sniffed == "unknown":
        _problem(facts, "unknown-format",
                 f"{facts['path']} is not a pickle, tensor stream, program or safetensors file "
                 f"(starts with {head[:8].hex()})")
    else:
        if sniffed == "pickle":   # pickle.load stops before any global: a broken pickle
            _read_pickle_file(reading, f, size, cost, walk)
        else:
            READERS[sniffed](reading, f, size, cost)


def _valid_as(fmt: str, path: str, f: BinaryIO, size: int, cost: budget.Budget) -> bool:
    """Whether the file also reads without a problem as ``fmt``."""
    other = FileReading({"path": path, "tensors": [], "values": [], "opaque": [], "problems": []})
    READERS[fmt](other, f, size, cost)
    return not other.facts["problems"]


def _refused(facts: dict, exc: safepickle.Refused) -> None:
    _problem(facts, "refused", exc.message, **{"global": f"{exc.module}.{exc.name}",
                                               "offset": exc.offset})


def _problem(facts: dict, kind: str, message: str, **extra: Any) -> None:
    facts["problems"].append({"kind": kind, "message": message, **extra})


def _totals(facts: dict) -> None:
    tensors = facts["tensors"]
    for t in tensors:
        if (t.get("nbytes") or 0) > (facts.get("size") or 0) and "offset" in t:
            _problem(facts, "corrupt", f"{t['name']}: claims {t['nbytes']} bytes, the file holds "
                                       f"{facts.get('size')}")
    totals = {"tensors": len(tensors),
              "elements": sum(budget.checked_numel(t["shape"]) for t in tensors),
              "nbytes": sum(t.get("nbytes") or 0 for t in tensors)}
    if facts.get("stats") and any("nan" in t for t in tensors):
        totals["nan"] = sum(t.get("nan", 0) for t in tensors)
        totals["inf"] = sum(t.get("inf", 0) for t in tensors)
    facts["totals"] = totals


def _add_stats(reading: FileReading, f: BinaryIO, size: int, cost: budget.Budget) -> None:
    """--stats: each tensor's data read once. A hostile pickle can name one slice or one array
    many times; the bytes read for all tensors together are held to STATS_READS times the file."""
    allowed, planned = budget.STATS_READS * size, 0
    for t in reading.facts["tensors"]:
        src = reading.sources.get(t["name"])
        if src is None:
            continue
        planned += sum(seg[2] if seg[0] != "inline" else len(seg[1]) for seg in src.segments)
        if planned > allowed:
            raise budget.OverBudget(f"--stats would read {planned} bytes or more from a "
                                    f"{size}-byte file (the same data named again and again)")
        cost.check()
        try:
            t.update(stats.tensor_stats(f, src.segments, src.dtype, src.big_endian, t.get("nbytes")))
        except (EOFError, OSError, UnicodeError, ValueError) as exc:
            _problem(reading.facts, "corrupt", f"tensor {t['name']}: data unreadable: {exc}")


# --- pickles ---------------------------------------------------------------------------------------

def _read_pickle(reading: FileReading, f: BinaryIO, size: int, cost: budget.Budget,
                 walk: safepickle.Scan) -> None:
    facts = reading.facts
    machine = safepickle.Machine(f, size)
    machine.budget = cost
    try:
        result = machine.run()
    except safepickle.Refused as exc:
        _refused(facts, exc)
        return
    except safepickle.Limit:
        raise
    except safepickle.PickleProblem as exc:
        if walk.eval_calls > machine.evals:  # pickle.load goes on to call eval: judge it unchecked
            _refused(facts, safepickle.Refused("builtins", "eval", exc.offset,
                                               why="called with arguments inspect could not check"))
            return
        _problem(facts, exc.kind, exc.message, offset=exc.offset)
        return
    facts["pickle"] = {"protocol": result.protocol, "globals": sorted(set(result.globals))}
    if result.end < size:
        _problem(facts, "corrupt", f"{size - result.end} bytes after the pickle's end "
                                   f"(offset {result.end})", offset=result.end)
    _describe(reading, result.value, cost)


def _name(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, (int, float, bool)) or key is None:
        return repr(key)
    if isinstance(key, tuple):
        return safepickle._short(key, 200)
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


def _describe(reading: FileReading, top: Any, cost: budget.Budget) -> None:
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
        cost.tick()
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
        if len(codes_) != 1 or sum(p.numel for p in parts) != budget.checked_numel(shape):
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

def _read_stream(reading: FileReading, f: BinaryIO, size: int, cost: budget.Budget) -> None:
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


def _read_program(reading: FileReading, f: BinaryIO, size: int, cost: budget.Budget) -> None:
    facts = reading.facts
    facts["kind"] = "program"
    try:
        facts["parameters"] = program_parameters(memoryview(_read_whole(f, size, "program")))
    except WireError as exc:
        facts["format"] = "unknown"
        _problem(facts, "unknown-format", f"{facts['path']} is not a ProgramDesc: {exc}")
    except ValueError as exc:
        _problem(facts, "limit", str(exc))


def _read_pir(reading: FileReading, f: BinaryIO, size: int, cost: budget.Budget) -> None:
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

ST_MAX_HEADER = 100_000_000   # the safetensors library's MAX_HEADER_SIZE


class _Refusal(Exception):
    """Why the safetensors library (safe_open, load_file) refuses this header."""


class _JSONFloat(float):
    """A JSON number written with a fraction or exponent: serde refuses it where an integer goes."""


def _no_duplicates(pairs: list) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            out.setdefault("\0duplicates", []).append(key)
        out[key] = value
    return out


def _refuse_constant(name: str):
    raise _Refusal(f"invalid JSON: {name}")


def _size_t(value: Any) -> bool:
    return type(value) is int and 0 <= value < 1 << 64


def _header(f: BinaryIO, size: int) -> tuple[dict, int]:
    """The parsed header and where the data begins, as strict as the safetensors library."""
    f.seek(0)
    (n,) = struct.unpack("<Q", f.read(8))
    if n > ST_MAX_HEADER:
        raise _Refusal(f"a {n}-byte header (the library allows {ST_MAX_HEADER})")
    if n > size - 8:
        raise _Refusal(f"the header claims {n} bytes, only {size - 8} remain")
    raw = f.read(n)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Refusal("the header is not UTF-8") from None
    try:
        header = json.loads(text, object_pairs_hook=_no_duplicates, parse_float=_JSONFloat,
                            parse_constant=_refuse_constant)
    except RecursionError:
        raise _Refusal("the header nests too deep") from None
    except ValueError as exc:
        raise _Refusal(f"the header is not JSON: {safepickle._short(str(exc), 120)}") from None
    if not isinstance(header, dict):
        raise _Refusal("the header is not a JSON object")
    if "__metadata__" in header.get("\0duplicates", []):
        raise _Refusal("__metadata__ given twice")
    meta = header.get("__metadata__")
    if meta is not None and not (isinstance(meta, dict) and "\0duplicates" not in meta and
                                 all(isinstance(v, str) for v in meta.values())):
        raise _Refusal("__metadata__ is not a map of texts to texts")
    return header, 8 + n


def _entry(name: str, entry: Any) -> tuple[str, list, int, int]:
    """(dtype, shape, begin, end) of one header entry, or why the library refuses it."""
    if not isinstance(entry, dict) or "\0duplicates" in entry:
        raise _Refusal(f"{name}: the entry is not a tensor description")
    dtype = SAFETENSORS.get(entry.get("dtype")) if isinstance(entry.get("dtype"), str) else None
    shape, offsets = entry.get("shape"), entry.get("data_offsets")
    if dtype is None:
        raise _Refusal(f"{name}: dtype {safepickle._short(entry.get('dtype'), 40)} is unknown")
    if not isinstance(shape, list) or not all(_size_t(d) for d in shape):
        raise _Refusal(f"{name}: shape {safepickle._short(shape, 60)} is not a list of integers")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_size_t(x) for x in offsets):
        raise _Refusal(f"{name}: data_offsets {safepickle._short(offsets, 60)} are not two integers")
    return dtype, shape, offsets[0], offsets[1]


def _read_safetensors(reading: FileReading, f: BinaryIO, size: int, cost: budget.Budget) -> None:
    """The header only, validated as the safetensors library validates it (Metadata::validate):
    known dtypes, integer dims and offsets, each tensor's bytes matching its shape, the tensors
    sorted by offset tiling the data section exactly (no hole, no overlap, nothing left over).
    What the library refuses is said so (PD833); a duplicated name, which it takes silently
    (the last one wins), is reported as corrupt."""
    facts = reading.facts
    facts["kind"] = "model"
    try:
        header, base = _header(f, size)
    except _Refusal as exc:
        _problem(facts, "safetensors-refused", str(exc))
        return
    data_size = size - base
    for name in header.pop("\0duplicates", []):
        _problem(facts, "corrupt", f"tensor {name} is named twice in the header (readers differ "
                                   "on which one they keep)")
    meta = header.pop("__metadata__", None)
    if meta is not None:
        facts["metadata"] = meta
    spans, entries = [], []
    try:
        for name, entry in header.items():
            cost.tick()
            dtype, shape, begin, end = _entry(name, entry)
            try:
                nbytes = budget.checked_numel(shape) * ITEMSIZE[dtype]
            except budget.OverBudget:
                raise _Refusal(f"{name}: shape {safepickle._short(shape, 60)} overflows") from None
            if end < begin or end - begin != nbytes:
                raise _Refusal(f"{name}: data_offsets [{begin}, {end}] do not hold {dtype} "
                               f"{safepickle._short(shape, 60)} ({nbytes} bytes)")
            spans.append((begin, end, name))
            entries.append((name, shape, dtype, nbytes, begin))
        covered = 0
        for begin, end, name in sorted(spans):
            if begin != covered:
                raise _Refusal(f"{name}: data begins at {begin}, not at {covered} where the "
                               "previous tensor ends (a hole or an overlap)")
            covered = end
        if covered != data_size:
            raise _Refusal(f"the tensors cover {covered} bytes of a {data_size}-byte data section")
    except _Refusal as exc:
        _problem(facts, "safetensors-refused", str(exc))
        return
    for name, shape, dtype, nbytes, begin in entries:
        facts["tensors"].append({"name": name, "shape": shape, "dtype": dtype, "nbytes": nbytes,
                                 "offset": base + begin})
        reading.sources[name] = Source(facts["path"], [("raw", base + begin, nbytes)], dtype)
    facts["parameter_names"] = [t["name"] for t in facts["tensors"]]


def _fix_merged_sources(reading: FileReading) -> None:
    for t in reading.facts["tensors"]:
        merged = reading.sources.pop(f"\0merged:{t['name']}", None)
        if merged is not None:
            reading.sources[t["name"]].segments = merged
            t.pop("offset", None)


def _read_pickle_file(reading: FileReading, f: BinaryIO, size: int, cost: budget.Budget,
                      walk: safepickle.Scan) -> None:
    _read_pickle(reading, f, size, cost, walk)
    _fix_merged_sources(reading)


READERS = {"tensor-stream": _read_stream,
           "program-desc": _read_program, "pir-json": _read_pir,
           "safetensors": _read_safetensors}
