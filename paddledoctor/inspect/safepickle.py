"""A restricted pickle reader: an opcode machine over the stream that never imports nor calls
anything named by the file.

``pickle.load`` (and so ``paddle.load``) imports every global the stream names and calls it: a
checkpoint can run any code. This machine understands the opcodes of protocols 0-4 (as
``pickletools`` documents them) and knows a short allowlist of exact (module, name) pairs, each
*emulated* here by a small function that builds an inert record (:class:`ArrayRecord`,
:class:`DType`, :class:`Opaque`) or a plain container. Any other global stops the reading with
:class:`Refused`, which names it ("refuses global os.system").

Tensor data is not read: a bytes opcode longer than 256 bytes (text: 4 KiB) becomes a :class:`Blob`
(offset and length in the file) and the machine seeks past it. Every length a file claims is
checked against the bytes that remain before anything is read or allocated.
"""

from __future__ import annotations

import _compat_pickle
import codecs
import io
import itertools
import math
import struct
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from . import budget

# The UNICODE opcode's codec, looked up now: Python imports codecs lazily, and reading a file must
# import nothing (a fuzzed file once made the reader import encodings.raw_unicode_escape).
codecs.lookup("raw-unicode-escape")

# Opcodes at most this long are read; longer ones become a Blob and are skipped with seek.
INLINE_BYTES = 256
INLINE_TEXT = 4096
MAX_LINE = 1 << 20          # a text-protocol line (INT, FLOAT, GLOBAL ...)
MAX_LONG_BYTES = 1 << 16    # a LONG4 integer
MAX_ITEMS = 5_000_000       # objects pushed (a real state dict pushes ~15 per tensor)
MAX_MATERIALIZE = 1 << 20   # a long text used as a name is read up to this size
MAX_ITEMSIZE = 64           # bytes per item of a numpy dtype (complex256: 32)


class PickleProblem(Exception):
    """The stream cannot be read as a checkpoint; ``kind`` says how (truncated, corrupt,
    refused, limit)."""

    kind = "corrupt"

    def __init__(self, message: str, offset: int | None = None):
        super().__init__(message)
        self.message = message
        self.offset = offset


class Truncated(PickleProblem):
    kind = "truncated"


class Corrupt(PickleProblem):
    kind = "corrupt"


class Refused(PickleProblem):
    """The stream names a global outside the allowlist: reading stops, nothing is imported."""

    kind = "refused"

    def __init__(self, module: str, name: str, offset: int | None = None, why: str = ""):
        self.module, self.name = module, name
        text = f"refuses global {module}.{name}" + (f" ({why})" if why else "")
        super().__init__(text, offset)


class Limit(PickleProblem):
    kind = "limit"


# --- inert records ---------------------------------------------------------------------------------

@dataclass(eq=False)
class Blob:
    """Bytes left in the file: ``length`` bytes at ``offset``. ``encoding`` "raw": the bytes
    themselves; "utf8-latin1": UTF-8 text whose code points are the bytes (protocol 2 writes
    bytes as ``_codecs.encode(text, 'latin1')``)."""

    offset: int
    length: int
    encoding: str = "raw"


@dataclass(eq=False)
class LazyText:
    """A long text opcode left in the file (UTF-8, ``length`` bytes at ``offset``)."""

    offset: int
    length: int


@dataclass(eq=False)
class DType:
    code: str                 # numpy's type string without byte order: "f4", "i8", "b1" ...
    byteorder: str = "<"
    itemsize: int | None = None
    structured: bool = False

    def setstate(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) < 3:
            raise Corrupt(f"numpy dtype state {_short(state)} is not understood")
        if isinstance(state[1], str) and state[1] in "<>|=":
            self.byteorder = state[1]
        # (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata])
        if len(state) >= 5 and (state[2] is not None or state[3] is not None or state[4] is not None):
            self.structured = True
        if len(state) >= 6 and isinstance(state[5], int) and state[5] > 0:
            if state[5] > MAX_ITEMSIZE:
                raise Corrupt(f"numpy dtype of {state[5]}-byte items (at most {MAX_ITEMSIZE})")
            self.itemsize = state[5]


@dataclass(eq=False)
class ArrayRecord:
    """A numpy array as the stream describes it; ``data`` is bytes (small), a Blob, or a list
    (object arrays)."""

    shape: tuple = ()
    dtype: DType | None = None
    fortran: bool = False
    data: Any = None
    legacy: bool = False      # a raw DenseTensor record (builtins.eval style)
    built: bool = False

    def setstate(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise Corrupt(f"numpy array state {_short(state)} is not understood")
        if len(state) == 5:
            state = state[1:]
        shape, dtype, fortran, data = state
        if not isinstance(shape, tuple) or len(shape) > budget.MAX_DIMS or not all(
                isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2 ** 62 for d in shape):
            raise Corrupt(f"numpy array shape {_short(shape)} is not a tuple of at most "
                          f"{budget.MAX_DIMS} sizes")
        if budget.checked_numel(shape) * (dtype.itemsize or 1) > budget.MAX_NBYTES \
                if isinstance(dtype, DType) else False:
            raise Corrupt(f"numpy array shape {_short(shape)} claims more than 2**62 bytes")
        if not isinstance(dtype, DType):
            raise Corrupt(f"numpy array dtype {_short(dtype)} is not a dtype")
        self.shape, self.dtype, self.fortran, self.data, self.built = shape, dtype, bool(fortran), data, True
        if self.is_object:
            return
        nbytes = self.nbytes
        if nbytes is None:
            return
        have = data_length(data)
        if isinstance(data, Blob) and data.encoding == "utf8-latin1":
            if not nbytes <= have <= 2 * nbytes:
                raise Corrupt(f"array of {nbytes} bytes carries {have} bytes of text")
        elif have != nbytes:
            raise Corrupt(f"array of shape {list(shape)} and dtype {dtype.code} needs {nbytes} "
                          f"bytes, the file holds {have}")

    @property
    def is_object(self) -> bool:
        return self.dtype is not None and self.dtype.code.startswith("O")

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int | None:
        if self.dtype is None or self.dtype.itemsize is None:
            return None
        return self.numel * self.dtype.itemsize


@dataclass(eq=False)
class Opaque:
    """An object the allowlist names but whose content is not a tensor (Paddle's GeneratorState):
    reported by type, never constructed."""

    module: str
    name: str
    state_type: str = ""

    def setstate(self, state: Any) -> None:
        self.state_type = type(state).__name__

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(eq=False)
class Emulated:
    """An allowlisted global: what REDUCE/NEWOBJ on it builds, emulated here."""

    module: str
    name: str
    reduce: Any = None        # fn(args) -> value, or None: not callable with REDUCE
    newobj: Any = None        # fn(args) -> value, or None

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}"


def data_length(data: Any) -> int:
    if isinstance(data, Blob):
        return data.length
    if isinstance(data, (bytes, bytearray)):
        return len(data)
    if isinstance(data, str):
        return len(data)  # latin1: one byte per character
    raise Corrupt(f"array data of type {type(data).__name__}")


class _Punct(str):
    """A bracket or separator that _short pushes among the values (told apart by its type)."""


def _short(value: Any, limit: int = 80) -> str:
    """A short text for a value from the file, at bounded cost: a shared structure (a "billion
    laughs" of lists in lists) is never expanded, only its first ``limit`` characters are built."""
    out: list[str] = []
    size = 0
    todo: list = [value]
    while todo and size <= limit:
        item = todo.pop()
        if type(item) is _Punct:
            piece = str(item)
        elif isinstance(item, (list, tuple, set, frozenset, dict)):
            brackets = {list: "[]", tuple: "()"}.get(type(item), "{}")
            pairs = item.items() if isinstance(item, dict) else ((None, v) for v in item)
            parts: list = []
            for k, v in itertools.islice(pairs, limit):
                parts.extend([_Punct(", ")] if parts else [])
                parts.extend([k, _Punct(": "), v] if isinstance(item, dict) else [v])
            todo.append(_Punct(brackets[1]))
            todo.extend(reversed(parts))
            piece = brackets[0]
        elif isinstance(item, (Blob, LazyText)):
            piece = f"<{type(item).__name__}>"
        elif isinstance(item, (str, bytes)):
            piece = repr(item[:limit])
        elif isinstance(item, (int, float, bool)) or item is None:
            piece = repr(item) if not isinstance(item, int) or item.bit_length() < 256 else "<int>"
        else:
            piece = f"<{type(item).__name__}>"
        out.append(piece)
        size += len(piece)
    text = "".join(out)
    return text if len(text) <= limit and not todo else text[:limit - 3] + "..."


# --- the allowlist -------------------------------------------------------------------------------

_TYPE_CODES = {"b1": 1, "i1": 1, "u1": 1, "i2": 2, "u2": 2, "f2": 2, "i4": 4, "u4": 4, "f4": 4,
               "i8": 8, "u8": 8, "f8": 8, "c8": 8, "c16": 16, "M8": 8, "m8": 8, "O8": 8, "O4": 4}


def _dtype(args: tuple) -> DType:
    if not args or not isinstance(args[0], str) or len(args[0]) > 16:
        raise Corrupt(f"numpy.dtype{_short(args)} is not understood")
    code = args[0]
    return DType(code=code, itemsize=_TYPE_CODES.get(code))


def _reconstruct(args: tuple) -> ArrayRecord:
    if len(args) != 3 or not (isinstance(args[0], Emulated) and args[0].name == "ndarray"):
        raise Corrupt(f"numpy _reconstruct{_short(args)} does not rebuild a plain ndarray")
    return ArrayRecord()


def _codecs_encode(args: tuple) -> Any:
    if len(args) != 2 or args[1] not in ("latin1", "latin-1", "iso-8859-1"):
        raise Corrupt(f"_codecs.encode{_short(args)}: only latin1 is emulated")
    text = args[0]
    if isinstance(text, LazyText):
        return Blob(text.offset, text.length, "utf8-latin1")
    if not isinstance(text, str):
        raise Corrupt("_codecs.encode of a non-text value")
    try:
        return text.encode("latin1")
    except UnicodeEncodeError:
        raise Corrupt("_codecs.encode: text outside latin1") from None


def _legacy_tensor(args: tuple) -> ArrayRecord:
    # paddle.save writes a DenseTensor as eval('data', {'data': ndarray}): the known shape is
    # emulated; any other expression is refused.
    if (len(args) == 2 and args[0] == "data" and isinstance(args[1], dict)
            and set(args[1]) == {"data"} and isinstance(args[1]["data"], ArrayRecord)):
        record = args[1]["data"]
        record.legacy = True
        return record
    raise Refused("builtins", "eval", why=f"eval{_short(args)} is not Paddle's tensor record "
                                           "eval('data', {'data': ndarray})")


def _scalar(args: tuple) -> Any:
    if len(args) != 2 or not isinstance(args[0], DType) or not isinstance(args[1], (bytes, str)):
        raise Corrupt(f"numpy scalar{_short(args)} is not understood")
    dtype, raw = args
    raw = raw.encode("latin1") if isinstance(raw, str) else raw
    fmt = {"b1": "?", "i1": "b", "u1": "B", "i2": "h", "u2": "H", "i4": "i", "u4": "I", "i8": "q",
           "u8": "Q", "f2": "e", "f4": "f", "f8": "d"}.get(dtype.code)
    if fmt is None or struct.calcsize(fmt) != len(raw):
        return Opaque("numpy", f"scalar[{dtype.code}]")
    return struct.unpack(("<" if dtype.byteorder != ">" else ">") + fmt, raw)[0]


def _ordered_dict(args: tuple) -> dict:
    if not args:
        return {}
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        return _dict_from_pairs(args[0])
    raise Corrupt(f"OrderedDict{_short(args)} is not understood")


def _dict_from_pairs(items: Any) -> dict:
    out = {}
    for pair in items:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise Corrupt("a dict built from something other than pairs")
        out[_key(pair[0])] = pair[1]
    return out


def _builtin(kind: str):
    def build(args: tuple) -> Any:
        if kind == "bytes" and args == ():
            return b""
        if kind in ("bytes", "bytearray") and len(args) == 2 and isinstance(args[0], (str, LazyText)):
            return _codecs_encode(args)
        if len(args) > 1:
            raise Corrupt(f"builtins.{kind}{_short(args)} is not understood")
        items = args[0] if args else ()
        if not isinstance(items, (list, tuple, set, frozenset, dict)):
            raise Corrupt(f"builtins.{kind} of a {type(items).__name__}")
        if kind == "tuple":
            return tuple(items)
        if kind == "list":
            return list(items)
        if kind == "dict":
            return dict(items) if isinstance(items, dict) else _dict_from_pairs(items)
        return (set if kind == "set" else frozenset)(_key(i) for i in items)
    return build


def _opaque(module: str, name: str):
    return lambda args: Opaque(module, name)


def _allowlist() -> dict[tuple[str, str], Emulated]:
    table: dict[tuple[str, str], Emulated] = {}

    def add(module: str, name: str, reduce=None, newobj=None) -> None:
        table[(module, name)] = Emulated(module, name, reduce, newobj)

    add("collections", "OrderedDict", _ordered_dict, _ordered_dict)
    for kind in ("tuple", "list", "dict", "set", "frozenset", "bytes", "bytearray"):
        add("builtins", kind, _builtin(kind))
    add("builtins", "eval", _legacy_tensor)
    add("_codecs", "encode", _codecs_encode)
    for module in ("numpy._core.multiarray", "numpy.core.multiarray"):  # numpy 2.x, 1.x
        add(module, "_reconstruct", _reconstruct)
        add(module, "scalar", _scalar)
    add("numpy", "ndarray")
    add("numpy", "dtype", _dtype)
    for module in ("paddle.base.libpaddle", "paddle.fluid.libpaddle", "paddle.fluid.core_avx",
                   "paddle.fluid.core_noavx"):
        add(module, "GeneratorState", _opaque(module, "GeneratorState"),
            _opaque(module, "GeneratorState"))
    return table


ALLOWLIST = _allowlist()


def resolve(module: str, name: str, protocol: int) -> tuple[str, str]:
    """The (module, name) pickle.Unpickler really imports for a global named so: under protocols
    0-2 its fix_imports maps Python 2 names through the tables of the standard library's
    _compat_pickle (NAME_MAPPING first, then IMPORT_MAPPING), as _pickle.c's find_class does."""
    if protocol < 3:
        if (module, name) in _compat_pickle.NAME_MAPPING:
            return _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
    return module, name


def lookup(module: str, name: str, offset: int | None = None, protocol: int = 0) -> Emulated:
    entry = ALLOWLIST.get(resolve(module, name, protocol))
    if entry is None:
        raise Refused(module, name, offset)
    return entry


MAX_KEY_NODES = 4096        # values inside one dict key or set item, shared ones counted each time


def _key(value: Any) -> Any:
    """A value used as a dict key or set item: hashable, and small. Hashing a tuple walks it
    whole, shared parts once per use: a key of tuples sharing tuples costs 2**depth, so a key is
    walked (each shared part counted every time) and refused past MAX_KEY_NODES."""
    todo, seen = [value], 0
    while todo:
        item = todo.pop()
        seen += 1
        if seen > MAX_KEY_NODES:
            raise Limit(f"a dict key or set item of more than {MAX_KEY_NODES} values")
        if isinstance(item, (list, dict, set, bytearray)):
            raise Corrupt(f"an unhashable {type(item).__name__} used as a dict key")
        if isinstance(item, (tuple, frozenset)):
            todo.extend(item)
    return value


# --- the machine ---------------------------------------------------------------------------------

class _Mark:
    pass


MARK = _Mark()


@dataclass
class Result:
    value: Any
    protocol: int
    end: int                                   # offset after STOP
    globals: list = field(default_factory=list)  # "module.name" of each allowlisted global named
    evals: int = 0


class Machine:
    def __init__(self, f: BinaryIO, size: int, start: int = 0):
        self.f, self.size = f, size
        self.f.seek(start)
        self.stack: list = []
        self.metastack: list = []
        self.memo: dict = {}
        self.items = 0
        self.protocol = 0
        self.globals: list[str] = []
        self.evals = 0             # builtins.eval calls checked to be Paddle's tensor record
        self.budget = None

    # -- reading, every length checked against what remains
    def pos(self) -> int:
        return self.f.tell()

    def read(self, n: int) -> bytes:
        if n < 0:
            raise Corrupt(f"negative length {n}", self.pos())
        remaining = self.size - self.pos()
        if n > remaining:
            raise Truncated(f"needs {n} bytes at offset {self.pos()}, only {max(remaining, 0)} remain",
                            self.pos())
        data = self.f.read(n)
        if len(data) != n:
            raise Truncated(f"file ended at offset {self.pos()}", self.pos())
        return data

    def skip(self, n: int) -> int:
        start = self.pos()
        remaining = self.size - start
        if n < 0 or n > remaining:
            raise Truncated(f"claims {n} bytes at offset {start}, only {max(remaining, 0)} remain", start)
        self.f.seek(n, io.SEEK_CUR)
        return start

    def readline(self) -> bytes:
        out = bytearray()
        while True:
            chunk = self.f.readline(MAX_LINE + 1 - len(out))
            if not chunk:
                raise Truncated(f"file ended inside a line at offset {self.pos()}", self.pos())
            out += chunk
            if out.endswith(b"\n"):
                return bytes(out[:-1])
            if len(out) > MAX_LINE:
                raise Limit(f"a text line longer than {MAX_LINE} bytes at offset {self.pos()}")

    def u(self, fmt: str) -> int:
        return struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]

    # -- stack helpers
    def push(self, value: Any) -> None:
        self.items += 1
        if self.items > MAX_ITEMS:
            raise Limit(f"more than {MAX_ITEMS} objects")
        self.stack.append(value)

    def pop(self) -> Any:
        if not self.stack:
            raise Corrupt("stack underflow", self.pos())
        return self.stack.pop()

    def top(self) -> Any:
        if not self.stack:
            raise Corrupt("stack underflow", self.pos())
        return self.stack[-1]

    def pop_mark(self) -> list:
        if not self.metastack:
            raise Corrupt("no MARK to pop to", self.pos())
        items = self.stack
        self.stack = self.metastack.pop()
        if any(i is MARK for i in items):
            raise Corrupt("MARK inside marked items", self.pos())
        return items

    def text(self, raw: bytes, errors: str = "strict") -> str:
        try:
            return raw.decode("utf-8", errors)
        except UnicodeDecodeError:
            raise Corrupt(f"invalid UTF-8 text at offset {self.pos()}") from None

    def global_(self, module: str, name: str, at: int) -> Emulated:
        if not isinstance(module, str) or not isinstance(name, str):
            raise Corrupt("STACK_GLOBAL of non-text names", at)
        entry = lookup(module, name, at, self.protocol)
        self.globals.append(entry.qualname)
        return entry

    def bytes_op(self, n: int, inline: int) -> Any:
        if n <= inline:
            return self.read(n)
        return Blob(self.skip(n), n, "raw")

    def text_op(self, n: int) -> Any:
        if n <= INLINE_TEXT:
            return self.text(self.read(n))
        return LazyText(self.skip(n), n)

    def build_key(self, value: Any) -> Any:
        if isinstance(value, LazyText):
            if value.length > MAX_MATERIALIZE:
                raise Limit(f"a {value.length}-byte text used as a key")
            here = self.pos()
            self.f.seek(value.offset)
            text = self.text(self.read(value.length))
            self.f.seek(here)
            return text
        return _key(value)

    # -- the opcodes
    def run(self) -> Result:
        f = self.f
        while True:
            at = f.tell()
            op = f.read(1)
            if not op:
                raise Truncated(f"file ended at offset {at} before the pickle's STOP", at)
            c = op[0]
            handler = _DISPATCH.get(c)
            if handler is None:
                raise Corrupt(f"unknown pickle opcode 0x{c:02x} at offset {at}", at)
            if c == 0x2E:  # STOP: the top value, as pickle.load returns it (the rest is dropped)
                return Result(self.pop(), self.protocol, f.tell(), self.globals, self.evals)
            if self.budget is not None:
                self.budget.tick()
            try:
                handler(self, at)
            except PickleProblem as exc:
                if exc.offset is None:
                    exc.offset = at
                raise
            except (TypeError, ValueError, KeyError, IndexError, OverflowError, AttributeError) as exc:
                raise Corrupt(f"opcode 0x{c:02x} at offset {at}: {type(exc).__name__}: {exc}", at) from None


def _op(code: str):
    def register(fn):
        _DISPATCH[ord(code)] = fn
        return fn
    return register


_DISPATCH: dict[int, Any] = {}


@_op("\x80")
def _proto(m: Machine, at: int) -> None:
    m.protocol = m.read(1)[0]
    if m.protocol > 5:
        raise Corrupt(f"pickle protocol {m.protocol} is unknown", at)


@_op("\x95")
def _frame(m: Machine, at: int) -> None:
    n = m.u("<Q")
    if n > m.size - m.pos():
        raise Truncated(f"frame claims {n} bytes at offset {at}, only {m.size - m.pos()} remain", at)


@_op(".")
def _stop(m: Machine, at: int) -> None:  # handled in run()
    pass


@_op("(")
def _mark(m: Machine, at: int) -> None:
    m.metastack.append(m.stack)
    m.stack = []


@_op("0")
def _pop(m: Machine, at: int) -> None:
    if m.stack:
        m.stack.pop()
    else:
        m.pop_mark()


@_op("1")
def _pop_mark(m: Machine, at: int) -> None:
    m.pop_mark()


@_op("2")
def _dup(m: Machine, at: int) -> None:
    m.push(m.top())


def _c_line(line: bytes) -> bytes:
    """A text argument as CPython's C unpickler parses a number from it: as a C string, which ends at
    its first NUL byte ("p4\\0garbage\\n" is PUT 4 there, and what follows the line runs)."""
    return line.split(b"\0", 1)[0]


def _c_int(line: bytes, base: int = 10, strtol: bool = False) -> int:
    """A number as the C unpickler reads it from a line (PyLong_FromString on the C string, or for
    INT strtol, where a leading 0 is octal); a ValueError where it raises."""
    text = _c_line(line)
    if len(text) >= 4300:
        _too_long()
    digits = text.strip().lstrip(b"+-")
    if strtol and digits[:1] == b"0" and digits[1:].isdigit():
        return int(text, 8)
    return int(text, base)


# numbers
@_op("I")
def _int(m: Machine, at: int) -> None:
    line = m.readline()
    value = _c_int(line, 0, strtol=True)
    if len(line) == 2 and value in (0, 1):  # "00"/"01" (two bytes, as C counts them): a bool
        m.push(bool(value))
    else:
        m.push(value)


def _too_long():
    raise Limit("an integer literal longer than 4300 digits")


@_op("J")
def _binint(m: Machine, at: int) -> None:
    m.push(m.u("<i"))


@_op("K")
def _binint1(m: Machine, at: int) -> None:
    m.push(m.read(1)[0])


@_op("M")
def _binint2(m: Machine, at: int) -> None:
    m.push(m.u("<H"))


@_op("L")
def _long(m: Machine, at: int) -> None:
    line = m.readline()
    if line.endswith(b"L"):
        line = line[:-1]
    m.push(_c_int(line, 0))


@_op("\x8a")
def _long1(m: Machine, at: int) -> None:
    n = m.read(1)[0]
    m.push(int.from_bytes(m.read(n), "little", signed=True))


@_op("\x8b")
def _long4(m: Machine, at: int) -> None:
    n = m.u("<i")
    if n > m.size - m.pos():    # pickle.load fails on the short read first: truncated, not big
        m.read(n)
    if n > MAX_LONG_BYTES:
        raise Limit(f"a {n}-byte integer", at)
    m.push(int.from_bytes(m.read(n), "little", signed=True))


@_op("F")
def _float(m: Machine, at: int) -> None:
    m.push(float(_c_line(m.readline())))


@_op("G")
def _binfloat(m: Machine, at: int) -> None:
    m.push(m.u(">d"))


@_op("N")
def _none(m: Machine, at: int) -> None:
    m.push(None)


@_op("\x88")
def _true(m: Machine, at: int) -> None:
    m.push(True)


@_op("\x89")
def _false(m: Machine, at: int) -> None:
    m.push(False)


# strings and bytes
@_op("S")
def _string(m: Machine, at: int) -> None:
    line = m.readline()
    if len(line) < 2 or line[0] != line[-1] or line[:1] not in (b"'", b'"'):
        raise Corrupt("STRING opcode argument must be quoted", at)
    m.push(codecs.escape_decode(line[1:-1])[0].decode("latin1"))


@_op("T")
def _binstring(m: Machine, at: int) -> None:
    n = m.u("<i")
    value = m.bytes_op(n, INLINE_TEXT)  # Python 2 str: read as latin1 (as paddle.load does)
    m.push(value.decode("latin1") if isinstance(value, bytes) else value)


@_op("U")
def _short_binstring(m: Machine, at: int) -> None:
    m.push(m.read(m.read(1)[0]).decode("latin1"))


@_op("B")
def _binbytes(m: Machine, at: int) -> None:
    m.push(m.bytes_op(m.u("<I"), INLINE_BYTES))


@_op("C")
def _short_binbytes(m: Machine, at: int) -> None:
    m.push(m.read(m.read(1)[0]))


@_op("\x8e")
def _binbytes8(m: Machine, at: int) -> None:
    m.push(m.bytes_op(m.u("<Q"), INLINE_BYTES))


@_op("\x96")
def _bytearray8(m: Machine, at: int) -> None:
    m.push(m.bytes_op(m.u("<Q"), INLINE_BYTES))


@_op("V")
def _unicode(m: Machine, at: int) -> None:
    m.push(m.readline().decode("raw-unicode-escape"))


@_op("\x8c")
def _short_binunicode(m: Machine, at: int) -> None:
    m.push(m.text(m.read(m.read(1)[0])))


@_op("X")
def _binunicode(m: Machine, at: int) -> None:
    m.push(m.text_op(m.u("<I")))


@_op("\x8d")
def _binunicode8(m: Machine, at: int) -> None:
    m.push(m.text_op(m.u("<Q")))


# containers
@_op("]")
def _empty_list(m: Machine, at: int) -> None:
    m.push([])


@_op("a")
def _append(m: Machine, at: int) -> None:
    value = m.pop()
    target = m.top()
    if not isinstance(target, list):
        raise Corrupt(f"APPEND to a {type(target).__name__}", at)
    target.append(value)


@_op("e")
def _appends(m: Machine, at: int) -> None:
    items = m.pop_mark()
    target = m.top()
    if not isinstance(target, list):
        raise Corrupt(f"APPENDS to a {type(target).__name__}", at)
    target.extend(items)


@_op("l")
def _list(m: Machine, at: int) -> None:
    m.push(m.pop_mark())


@_op(")")
def _empty_tuple(m: Machine, at: int) -> None:
    m.push(())


@_op("t")
def _tuple(m: Machine, at: int) -> None:
    m.push(tuple(m.pop_mark()))


@_op("\x85")
def _tuple1(m: Machine, at: int) -> None:
    m.push((m.pop(),))


@_op("\x86")
def _tuple2(m: Machine, at: int) -> None:
    b, a = m.pop(), m.pop()
    m.push((a, b))


@_op("\x87")
def _tuple3(m: Machine, at: int) -> None:
    c, b, a = m.pop(), m.pop(), m.pop()
    m.push((a, b, c))


@_op("}")
def _empty_dict(m: Machine, at: int) -> None:
    m.push({})


def _set_items(m: Machine, target: Any, items: list, at: int) -> None:
    if not isinstance(target, dict):
        raise Corrupt(f"SETITEM(S) on a {type(target).__name__}", at)
    if len(items) % 2:
        raise Corrupt("SETITEMS with an odd number of items", at)
    for i in range(0, len(items), 2):
        target[m.build_key(items[i])] = items[i + 1]


@_op("d")
def _dict(m: Machine, at: int) -> None:
    items = m.pop_mark()
    out: dict = {}
    _set_items(m, out, items, at)
    m.push(out)


@_op("s")
def _setitem(m: Machine, at: int) -> None:
    value, key = m.pop(), m.pop()
    _set_items(m, m.top(), [key, value], at)


@_op("u")
def _setitems(m: Machine, at: int) -> None:
    items = m.pop_mark()
    _set_items(m, m.top(), items, at)


@_op("\x8f")
def _empty_set(m: Machine, at: int) -> None:
    m.push(set())


@_op("\x90")
def _additems(m: Machine, at: int) -> None:
    items = m.pop_mark()
    target = m.top()
    if not isinstance(target, set):
        raise Corrupt(f"ADDITEMS to a {type(target).__name__}", at)
    target.update(m.build_key(i) for i in items)


@_op("\x91")
def _frozenset(m: Machine, at: int) -> None:
    m.push(frozenset(m.build_key(i) for i in m.pop_mark()))


# memo
def _memo_get(m: Machine, key: int, at: int) -> None:
    if key not in m.memo:
        raise Corrupt(f"memo entry {key} read before it was written", at)
    m.push(m.memo[key])


def _memo_put(m: Machine, key: int) -> None:
    if len(m.memo) >= MAX_ITEMS:
        raise Limit(f"more than {MAX_ITEMS} memo entries")
    m.memo[key] = m.top()


@_op("g")
def _get(m: Machine, at: int) -> None:
    _memo_get(m, _c_int(m.readline()), at)


@_op("h")
def _binget(m: Machine, at: int) -> None:
    _memo_get(m, m.read(1)[0], at)


@_op("j")
def _long_binget(m: Machine, at: int) -> None:
    _memo_get(m, m.u("<I"), at)


@_op("p")
def _put(m: Machine, at: int) -> None:
    _memo_put(m, _c_int(m.readline()))


@_op("q")
def _binput(m: Machine, at: int) -> None:
    _memo_put(m, m.read(1)[0])


@_op("r")
def _long_binput(m: Machine, at: int) -> None:
    _memo_put(m, m.u("<I"))


@_op("\x94")
def _memoize(m: Machine, at: int) -> None:
    _memo_put(m, len(m.memo))


# globals and objects: only the allowlist, emulated
@_op("c")
def _global(m: Machine, at: int) -> None:
    module = m.readline().decode("utf-8", "replace")
    name = m.readline().decode("utf-8", "replace")
    m.push(m.global_(module, name, at))


@_op("\x93")
def _stack_global(m: Machine, at: int) -> None:
    name, module = m.pop(), m.pop()
    m.push(m.global_(module, name, at))


@_op("R")
def _reduce(m: Machine, at: int) -> None:
    args, fn = m.pop(), m.pop()
    if not isinstance(fn, Emulated) or fn.reduce is None:
        raise Corrupt(f"REDUCE calls {_short(fn)}", at)
    if not isinstance(args, tuple):
        raise Corrupt("REDUCE arguments are not a tuple", at)
    m.push(_call(m, fn, args))


@_op("\x81")
def _newobj(m: Machine, at: int) -> None:
    args, cls = m.pop(), m.pop()
    if not isinstance(cls, Emulated) or cls.newobj is None or not isinstance(args, tuple):
        raise Corrupt(f"NEWOBJ of {_short(cls)}", at)
    m.push(cls.newobj(args))


@_op("\x92")
def _newobj_ex(m: Machine, at: int) -> None:
    kwargs, args, cls = m.pop(), m.pop(), m.pop()
    if not isinstance(cls, Emulated) or cls.newobj is None or not isinstance(args, tuple) or kwargs:
        raise Corrupt(f"NEWOBJ_EX of {_short(cls)}", at)
    m.push(cls.newobj(args))


@_op("b")
def _build(m: Machine, at: int) -> None:
    state = m.pop()
    target = m.top()
    if isinstance(target, (ArrayRecord, DType, Opaque)):
        target.setstate(state)
    elif isinstance(target, dict) and isinstance(state, dict):
        target.update(state)
    else:
        raise Corrupt(f"BUILD on a {type(target).__name__}", at)


@_op("i")
def _inst(m: Machine, at: int) -> None:
    module = m.readline().decode("utf-8", "replace")
    name = m.readline().decode("utf-8", "replace")
    cls = m.global_(module, name, at)
    args = tuple(m.pop_mark())
    if cls.reduce is None:
        raise Corrupt(f"INST of {cls.qualname}", at)
    m.push(_call(m, cls, args))


@_op("o")
def _obj(m: Machine, at: int) -> None:
    items = m.pop_mark()
    if not items or not isinstance(items[0], Emulated) or items[0].reduce is None:
        raise Corrupt("OBJ of something not emulated", at)
    m.push(_call(m, items[0], tuple(items[1:])))


def _call(m: Machine, fn: Emulated, args: tuple) -> Any:
    value = fn.reduce(args)
    if fn.qualname == "builtins.eval":
        m.evals += 1
    return value


def _refuse_ext(m: Machine, at: int) -> None:
    raise Refused("copyreg", "extension registry", at, why="EXT opcodes import by registry code")


def _refuse_persid(m: Machine, at: int) -> None:
    raise Refused("pickle", "persistent_load", at, why="persistent ids are resolved by the reader's code")


def _refuse_buffer(m: Machine, at: int) -> None:
    raise Corrupt("out-of-band buffers (protocol 5) are not part of a file", at)


for _code in "\x82\x83\x84":
    _DISPATCH[ord(_code)] = _refuse_ext
for _code in "PQ":
    _DISPATCH[ord(_code)] = _refuse_persid
for _code in "\x97\x98":
    _DISPATCH[ord(_code)] = _refuse_buffer


def load(f: BinaryIO, size: int, start: int = 0, budget=None) -> Result:
    """Run the machine over one pickle in ``f`` (``size`` bytes in all) from ``start``."""
    machine = Machine(f, size, start)
    machine.budget = budget
    return machine.run()


# --- the scan: the stream as CPython's C unpickler walks a file -----------------------------------

@dataclass(frozen=True)
class _Op:
    """One opcode as pickletools documents it: its argument ("line": up to a newline, "lines":
    two of them, "len<fmt>": a length in struct format then that many bytes, an int: that many
    bytes) and its stack effect (``before`` items popped; ``mark``: a MARK and the items above it
    popped first; ``after``: the kinds pushed)."""

    name: str
    arg: Any = None
    before: int = 0
    mark: bool = False
    after: tuple = ()


def _ops() -> dict[int, _Op]:
    # (code, name, argument, popped, mark, pushed): the table of pickletools.opcodes, written out
    # so that reading a file never imports pickle (the test of no imports proves it)
    rows = [
        ("I", "INT", "line", 0, 0, "n"), ("J", "BININT", 4, 0, 0, "n"), ("K", "BININT1", 1, 0, 0, "n"),
        ("M", "BININT2", 2, 0, 0, "n"), ("L", "LONG", "line", 0, 0, "n"),
        ("\x8a", "LONG1", "len<B", 0, 0, "n"), ("\x8b", "LONG4", "len<i", 0, 0, "n"),
        ("S", "STRING", "line", 0, 0, "s"), ("T", "BINSTRING", "len<i", 0, 0, "s"),
        ("U", "SHORT_BINSTRING", "len<B", 0, 0, "s"), ("B", "BINBYTES", "len<I", 0, 0, "n"),
        ("C", "SHORT_BINBYTES", "len<B", 0, 0, "n"), ("\x8e", "BINBYTES8", "len<Q", 0, 0, "n"),
        ("\x96", "BYTEARRAY8", "len<Q", 0, 0, "n"), ("\x97", "NEXT_BUFFER", None, 0, 0, "a"),
        ("\x98", "READONLY_BUFFER", None, 1, 0, "a"), ("N", "NONE", None, 0, 0, "n"),
        ("\x88", "NEWTRUE", None, 0, 0, "n"), ("\x89", "NEWFALSE", None, 0, 0, "n"),
        ("V", "UNICODE", "line", 0, 0, "s"), ("\x8c", "SHORT_BINUNICODE", "len<B", 0, 0, "s"),
        ("X", "BINUNICODE", "len<I", 0, 0, "s"), ("\x8d", "BINUNICODE8", "len<Q", 0, 0, "s"),
        ("F", "FLOAT", "line", 0, 0, "n"), ("G", "BINFLOAT", 8, 0, 0, "n"),
        ("]", "EMPTY_LIST", None, 0, 0, "n"), ("a", "APPEND", None, 2, 0, "n"),
        ("e", "APPENDS", None, 1, 1, "n"), ("l", "LIST", None, 0, 1, "n"),
        (")", "EMPTY_TUPLE", None, 0, 0, "n"), ("t", "TUPLE", None, 0, 1, "n"),
        ("\x85", "TUPLE1", None, 1, 0, "n"), ("\x86", "TUPLE2", None, 2, 0, "n"),
        ("\x87", "TUPLE3", None, 3, 0, "n"), ("}", "EMPTY_DICT", None, 0, 0, "n"),
        ("d", "DICT", None, 0, 1, "n"), ("s", "SETITEM", None, 3, 0, "n"),
        ("u", "SETITEMS", None, 1, 1, "n"), ("\x8f", "EMPTY_SET", None, 0, 0, "n"),
        ("\x90", "ADDITEMS", None, 1, 1, "n"), ("\x91", "FROZENSET", None, 0, 1, "n"),
        ("0", "POP", None, 1, 0, ""), ("2", "DUP", None, 1, 0, "aa"), ("(", "MARK", None, 0, 0, ""),
        ("1", "POP_MARK", None, 0, 1, ""), ("g", "GET", "line", 0, 0, ""), ("h", "BINGET", 1, 0, 0, ""),
        ("j", "LONG_BINGET", 4, 0, 0, ""), ("p", "PUT", "line", 0, 0, ""), ("q", "BINPUT", 1, 0, 0, ""),
        ("r", "LONG_BINPUT", 4, 0, 0, ""), ("\x94", "MEMOIZE", None, 0, 0, ""),
        ("\x82", "EXT1", 1, 0, 0, "a"), ("\x83", "EXT2", 2, 0, 0, "a"), ("\x84", "EXT4", 4, 0, 0, "a"),
        ("c", "GLOBAL", "lines", 0, 0, "a"), ("\x93", "STACK_GLOBAL", None, 2, 0, "a"),
        ("R", "REDUCE", None, 2, 0, "a"), ("b", "BUILD", None, 2, 0, "a"),
        ("i", "INST", "lines", 0, 1, "a"), ("o", "OBJ", None, 0, 1, "a"),
        ("\x81", "NEWOBJ", None, 2, 0, "a"), ("\x92", "NEWOBJ_EX", None, 3, 0, "a"),
        ("\x80", "PROTO", 1, 0, 0, ""), (".", "STOP", None, 1, 0, ""), ("\x95", "FRAME", 8, 0, 0, ""),
        ("P", "PERSID", "line", 0, 0, "a"), ("Q", "BINPERSID", None, 1, 0, "a"),
    ]
    return {ord(code): _Op(name, arg, before, bool(mark), tuple(after))
            for code, name, arg, before, mark, after in rows}


_OPS = _ops()
_NONSTR = type("NonStr", (), {"__repr__": lambda self: "<not a str>"})()   # a value known not a str
_UNKNOWN = type("Unknown", (), {"__repr__": lambda self: "<a call's result>"})()
_LONG_TEXT = type("LongText", (), {"__repr__": lambda self: "<a long text>"})()
_EVAL = ("builtins", "eval")
_PUSHES_STR = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING", "BINSTRING",
               "SHORT_BINSTRING"}


@dataclass(frozen=True)
class _Global:
    module: str
    name: str


_EVAL_GLOBAL = _Global(*_EVAL)


@dataclass
class Scan:
    """What ``pickle.load(file)`` (CPython's C unpickler, as paddle.load calls it) would walk:
    ``completed`` when it reaches STOP with a value; else ``stop`` says where and why it stops.
    ``refused``: the first global outside the allowlist it would import. ``eval_calls``: the
    calls of the allowlisted builtins.eval (each must be Paddle's tensor record, which only the
    machine can check)."""

    completed: bool = False
    end: int = 0
    stop: str = ""
    protocol: int = 0
    globals: list = field(default_factory=list)
    refused: Refused | None = None
    eval_calls: int = 0


class _Stop(Exception):
    """Where the C unpickler surely stops (it raises there), so the scan stops too."""


class _Scanner:
    """The opcode walk of pickle.load over a file: every argument read as _pickle.c reads it
    (frames only prefetch: an opcode may run past its frame's end, and does run), the stack's
    depth and the memo kept exactly (underflow and a missing memo entry stop the C unpickler
    too), and values only as far as they matter: the texts that STACK_GLOBAL takes as names.
    Where the C unpickler's outcome depends on what a call returns, the scan goes on: it may walk
    further than pickle.load would, never less far. So every global pickle.load could import
    is seen here."""

    def __init__(self, f: BinaryIO, size: int, budget):
        self.m = Machine(f, size)
        self.f, self.size, self.budget = f, size, budget
        self.stack: list = []
        self.marks: list = []
        self.memo: dict = {}
        self.out = Scan()

    def pop(self) -> Any:
        if not self.stack:
            raise _Stop("stack underflow")
        return self.stack.pop()

    def pop_mark(self) -> list:
        if not self.marks:
            raise _Stop("no MARK")
        items, self.stack = self.stack, self.marks.pop()
        return items

    def push(self, value: Any) -> None:
        if len(self.stack) + len(self.memo) > MAX_ITEMS:
            raise Limit(f"more than {MAX_ITEMS} objects on the stack and in the memo")
        self.stack.append(value)

    def line(self) -> bytes:
        try:
            return self.m.readline()
        except Truncated:
            raise _Stop("file ended inside a line") from None

    def sized(self, n: int, keep: bool) -> bytes | None:
        if n < 0 or n > self.size - self.f.tell():
            raise _Stop(f"{n} bytes claimed, fewer remain")
        if keep:
            return self.f.read(n)
        self.f.seek(n, io.SEEK_CUR)
        return None

    def fixed(self, n: int) -> bytes:
        data = self.f.read(n)
        if len(data) != n:
            raise _Stop("file ended inside an argument")
        return data

    def global_(self, module: Any, name: Any, at: int) -> _Global:
        if (module, name) == (_UNKNOWN, _UNKNOWN) or _UNKNOWN in (module, name) or \
                _LONG_TEXT in (module, name):
            raise Refused("<computed>", "<computed>", at,
                          why="STACK_GLOBAL takes a name the stream computes")
        if not isinstance(module, str) or not isinstance(name, str):
            raise _Stop("STACK_GLOBAL requires str")
        real = resolve(module, name, self.out.protocol)
        self.out.globals.append((f"{real[0]}.{real[1]}", at))
        if real not in ALLOWLIST:
            raise Refused(module, name, at)
        return _Global(*real)

    def text_pair(self) -> tuple[str, str]:
        raw = self.line(), self.line()
        try:
            return raw[0].decode("utf-8"), raw[1].decode("utf-8")
        except UnicodeDecodeError:
            raise _Stop("a global's name is not UTF-8") from None

    def call(self, fn: Any) -> None:
        if fn == _EVAL_GLOBAL:
            self.out.eval_calls += 1

    def as_data(self, values) -> None:
        """``values`` consumed as data (an item, a key, an argument, a state). builtins.eval is
        allowlisted only as the function of a call: stored in an object's state it is called by
        the C unpickler's own lookups (BUILD calls an instance's ``__setstate__``, APPEND its
        ``append``, APPENDS ``extend``, ADDITEMS ``add``), and an OrderedDict takes instance
        attributes, so a state ``{"__setstate__": eval}`` runs any text. Refused."""
        if any(type(v) is _Global and v == _EVAL_GLOBAL for v in values):
            raise Refused("builtins", "eval", None, why="builtins.eval stored as data, where "
                          "the unpickler's BUILD/APPEND/ADDITEMS would call it with any text")

    def step(self, op, at: int) -> bool:
        """One opcode; True at a STOP that returns a value."""
        name, arg = op.name, op.arg
        value: Any = _NONSTR
        if name == "STOP":
            if not self.stack:
                raise _Stop("STOP with an empty stack")
            return True
        if name in ("GLOBAL", "INST"):
            if name == "INST" and not self.marks:
                raise _Stop("no MARK")
            g = self.global_(*self.text_pair(), at)
            if name == "INST":
                self.call(g)
                self.as_data(self.pop_mark())
                value = _UNKNOWN
            else:
                value = g
            self.push(value)
            return False
        if arg == "line":
            raw = self.line()
            value = self.line_value(name, raw)
        elif isinstance(arg, int):
            raw = self.fixed(arg)
            value = self.fixed_value(name, raw)
        elif arg is not None:
            width = arg[3:]
            n = struct.unpack(width, self.fixed(struct.calcsize(width)))[0]
            keep = name in _PUSHES_STR and 0 <= n <= INLINE_TEXT
            data = self.sized(n, keep)
            value = _LONG_TEXT if name in _PUSHES_STR and data is None else \
                self.text_value(name, data) if data is not None else _NONSTR
        if value is None:
            return False
        return self.effect(op, value, at)

    def line_value(self, name: str, raw: bytes) -> Any:
        if name in ("GET", "PUT"):
            try:
                index = _c_int(raw)
            except ValueError:
                raise _Stop("a memo index that is not a number") from None
            return self.memo_op(name, index)
        if name == "UNICODE":
            try:
                return raw.decode("raw-unicode-escape")
            except UnicodeDecodeError:
                raise _Stop("UNICODE argument undecodable") from None
        if name == "STRING":
            if len(raw) < 2 or raw[:1] != raw[-1:] or raw[:1] not in (b"'", b'"'):
                raise _Stop("STRING argument not quoted")
            try:
                return codecs.escape_decode(raw[1:-1])[0].decode("latin1")
            except ValueError:
                raise _Stop("STRING argument undecodable") from None
        if name == "PERSID":
            raise Refused("pickle", "persistent_load", None,
                          why="persistent ids are resolved by the reader's code")
        return _NONSTR

    def fixed_value(self, name: str, raw: bytes) -> Any:
        if name == "PROTO":
            if raw[0] > pickle_highest():
                raise _Stop(f"unsupported protocol {raw[0]}")
            self.out.protocol = raw[0]
            return None
        if name == "FRAME":
            n = struct.unpack("<Q", raw)[0]
            if n > self.size - self.f.tell():
                raise _Stop(f"frame of {n} bytes, fewer remain")
            return None
        if name in ("BINGET", "LONG_BINGET", "BINPUT", "LONG_BINPUT"):
            index = raw[0] if len(raw) == 1 else struct.unpack("<I", raw)[0]
            return self.memo_op(name, index)
        if name.startswith("EXT"):
            raise Refused("copyreg", "extension registry", None,
                          why="EXT opcodes import by registry code")
        return _NONSTR

    def text_value(self, name: str, data: bytes) -> Any:
        if name in ("BINSTRING", "SHORT_BINSTRING"):
            return data.decode("latin1")
        if name in _PUSHES_STR:
            try:
                return data.decode("utf-8", "surrogatepass")
            except UnicodeDecodeError:
                raise _Stop("text argument is not UTF-8") from None
        return _NONSTR

    def memo_op(self, name: str, index: int) -> Any:
        if name.endswith("GET"):
            if index not in self.memo:
                raise _Stop(f"memo entry {index} missing")
            self.push(self.memo[index])
            return None
        if index < 0:
            raise _Stop("negative memo index")
        if not self.stack:
            raise _Stop("stack underflow")
        self.memo[index] = self.stack[-1]
        return None

    def effect(self, op, value: Any, at: int) -> bool:
        name = op.name
        if name == "MARK":
            self.marks.append(self.stack)
            self.stack = []
        elif name == "POP":
            if self.stack:
                self.stack.pop()
            else:
                self.pop_mark()
        elif name == "DUP":
            top = self.pop()
            self.push(top)
            self.push(top)
        elif name == "MEMOIZE":
            if not self.stack:
                raise _Stop("stack underflow")
            self.memo[len(self.memo)] = self.stack[-1]
        elif name == "STACK_GLOBAL":
            name_, module = self.pop(), self.pop()
            self.push(self.global_(module, name_, at))
        elif name in ("REDUCE", "OBJ"):
            if name == "OBJ":
                items = self.pop_mark()
                if not items:
                    raise _Stop("OBJ without a class")
                self.as_data(items[1:])
                self.call(items[0])
            else:
                self.as_data([self.pop()])
                self.call(self.pop())
            self.push(_UNKNOWN)
        elif name in ("NEXT_BUFFER", "READONLY_BUFFER"):
            raise _Stop("out-of-band buffers without buffers=")
        elif name == "BINPERSID":
            raise Refused("pickle", "persistent_load", at,
                          why="persistent ids are resolved by the reader's code")
        else:
            if op.mark:
                self.as_data(self.pop_mark())
            self.as_data([self.pop() for _ in range(op.before)])
            for kind in op.after:
                self.push(value if kind == "s" else _UNKNOWN if kind == "a" else _NONSTR)
        return False

    def run(self) -> Scan:
        out = self.out
        self.f.seek(0)
        while True:
            self.budget.tick()
            at = self.f.tell()
            code = self.f.read(1)
            op = _OPS.get(code[0]) if code else None
            try:
                if op is None:
                    raise _Stop("unknown opcode" if code else "file ended before STOP")
                if self.step(op, at):
                    out.completed, out.end = True, self.f.tell()
                    return out
            except _Stop as exc:
                out.stop, out.end = str(exc), at
                return out
            except Refused as exc:
                if exc.offset is None:
                    exc.offset = at
                out.refused, out.end = exc, at
                return out


def pickle_highest() -> int:
    return 5  # pickle.HIGHEST_PROTOCOL of the Pythons Paddle supports (3.9-3.13)


def scan(f: BinaryIO, size: int, budget) -> Scan:
    """Walk the file as ``pickle.load`` would (see :class:`_Scanner`); raises Limit or the
    budget's OverBudget when the walk itself would cost too much."""
    return _Scanner(f, size, budget).run()
