"""A minimal protobuf wire-format decoder (no protobuf dependency) and the few messages of
Paddle's framework.proto that name the parameters of a ``.pdmodel`` (ProgramDesc)."""

from __future__ import annotations

from typing import Iterator

from .dtypes import VARTYPE


class WireError(ValueError):
    pass


def varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise WireError("a varint runs past the end of the message")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise WireError("a varint longer than 10 bytes")


def fields(buf: memoryview) -> Iterator[tuple[int, int, object]]:
    """(field number, wire type, value): an int for varint/fixed, a memoryview for length-delimited."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        if wire == 0:
            value, pos = varint(buf, pos)
        elif wire == 1:
            if pos + 8 > end:
                raise WireError("a fixed64 runs past the end")
            value, pos = int.from_bytes(buf[pos:pos + 8], "little"), pos + 8
        elif wire == 2:
            n, pos = varint(buf, pos)
            if n > end - pos:
                raise WireError(f"a field claims {n} bytes, {end - pos} remain")
            value, pos = buf[pos:pos + n], pos + n
        elif wire == 5:
            if pos + 4 > end:
                raise WireError("a fixed32 runs past the end")
            value, pos = int.from_bytes(buf[pos:pos + 4], "little"), pos + 4
        else:
            raise WireError(f"wire type {wire} (groups are not used by Paddle)")
        yield number, wire, value


def signed64(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def tensor_desc(buf: memoryview) -> tuple[str, list[int]]:
    """VarType.TensorDesc {Type data_type = 1; repeated int64 dims = 2}."""
    dtype, dims = None, []
    for number, wire, value in fields(buf):
        if number == 1 and wire == 0:
            dtype = value
        elif number == 2 and wire == 0:
            dims.append(signed64(value))
        elif number == 2 and wire == 2:  # packed
            pos, packed = 0, value
            while pos < len(packed):
                v, pos = varint(packed, pos)
                dims.append(signed64(v))
    if dtype is None:
        raise WireError("a TensorDesc without data_type")
    return VARTYPE.get(dtype, f"vartype_{dtype}"), dims


# VarType.Type values of variables that are never saved as parameters
_NOT_SAVED = {9, 10, 15, 17}  # FEED_MINIBATCH, FETCH_LIST, READER, RAW


def program_parameters(buf: memoryview) -> list[dict]:
    """The persistable variables of a ProgramDesc (what save_inference_model writes into the
    .pdiparams, sorted by name), each {name, shape, dtype}."""
    found: dict[str, dict] = {}
    blocks = 0
    for number, wire, block in fields(buf):
        if number != 1 or wire != 2:
            continue
        blocks += 1
        for bn, bw, var in fields(block):
            if bn != 3 or bw != 2:          # BlockDesc.vars
                continue
            name, persistable, vtype, desc = None, False, None, None
            for vn, vw, value in fields(var):
                if vn == 1 and vw == 2:
                    name = bytes(value).decode("utf-8", "replace")
                elif vn == 3 and vw == 0:
                    persistable = bool(value)
                elif vn == 2 and vw == 2:   # VarDesc.type: VarType
                    for tn, tw, tv in fields(value):
                        if tn == 1 and tw == 0:
                            vtype = tv
                        elif tn == 3 and tw == 2:   # lod_tensor: DenseTensorDesc {tensor = 1}
                            for ln, lw, lv in fields(tv):
                                if ln == 1 and lw == 2:
                                    desc = tensor_desc(lv)
            if name and persistable and vtype not in _NOT_SAVED and desc is not None:
                found.setdefault(name, {"name": name, "shape": desc[1], "dtype": desc[0]})
    if not blocks:
        raise WireError("no blocks: not a ProgramDesc")
    return [found[k] for k in sorted(found)]
