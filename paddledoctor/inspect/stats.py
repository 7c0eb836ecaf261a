"""Reading tensor data, only when asked (``--stats``, ``--diff``): NaN/Inf counts, min/max/mean,
a SHA-256 of the bytes, and the largest difference between two tensors.

Pure standard library (array, struct); numpy is used for speed when it can be imported, with the
same results: counts, min and max are exact either way, the mean is summed per block in float64
and rounded to 10 significant digits. ``PADDLEDOCTOR_NO_NUMPY=1`` forces the pure path.
"""

from __future__ import annotations

import array
import codecs
import hashlib
import math
import os
import struct
import sys
from typing import Any, BinaryIO, Iterator

BLOCK = 1 << 22  # bytes per block (a multiple of every itemsize)


def _numpy():
    if os.environ.get("PADDLEDOCTOR_NO_NUMPY"):
        return None
    try:
        import numpy
    except Exception:  # noqa: BLE001 - numpy is optional
        return None
    return numpy


# A source of tensor bytes: a list of segments, each ("inline", bytes) or ("raw"|"utf8-latin1",
# offset, length) in the file.
Segment = tuple


def iter_bytes(f: BinaryIO, segments: list, block: int = BLOCK) -> Iterator[bytes]:
    """The tensor's bytes in blocks of exactly ``block`` bytes (the last may be shorter)."""
    pending = bytearray()
    for seg in segments:
        for piece in _segment_pieces(f, seg):
            pending += piece
            while len(pending) >= block:
                yield bytes(pending[:block])
                del pending[:block]
    if pending:
        yield bytes(pending)


def _segment_pieces(f: BinaryIO, seg: Segment) -> Iterator[bytes]:
    if seg[0] == "inline":
        yield seg[1]
        return
    kind, offset, length = seg
    f.seek(offset)
    decoder = codecs.getincrementaldecoder("utf-8")() if kind == "utf8-latin1" else None
    left = length
    while left > 0:
        data = f.read(min(BLOCK, left))
        if not data:
            raise EOFError(f"file ended inside tensor data at offset {offset + length - left}")
        left -= len(data)
        if decoder is not None:
            data = decoder.decode(data, final=left == 0).encode("latin1")
        yield data


# dtype -> (array typecode, or a special decoder name)
_ARRAY = {"int8": "b", "uint8": "B", "int16": "h", "uint16": "H", "int32": "i", "uint32": "I",
          "int64": "q", "uint64": "Q", "float32": "f", "float64": "d", "complex64": "f",
          "complex128": "d"}
_NUMPY = {"bool": "?", "int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2", "int32": "i4",
          "uint32": "u4", "int64": "i8", "uint64": "u8", "float16": "f2", "float32": "f4",
          "float64": "f8", "complex64": "f4", "complex128": "f8"}
FLOATS = {"float16", "bfloat16", "float32", "float64", "complex64", "complex128"}
SUPPORTED = set(_NUMPY) | {"bfloat16"}


def _pure_values(chunk: bytes, dtype: str, big_endian: bool) -> Any:
    if dtype == "bool":
        return [1 if b else 0 for b in chunk]
    if dtype == "float16":
        return list(struct.unpack(f"{'>' if big_endian else '<'}{len(chunk) // 2}e", chunk))
    if dtype == "bfloat16":  # the high half of a float32
        wide = bytearray(len(chunk) * 2)
        if big_endian:
            wide[0::4], wide[1::4] = chunk[0::2], chunk[1::2]
        else:
            wide[2::4], wide[3::4] = chunk[0::2], chunk[1::2]
        values = array.array("f", bytes(wide))
        if big_endian != (sys.byteorder == "big"):
            values.byteswap()
        return values
    values = array.array(_ARRAY[dtype], chunk)
    if big_endian != (sys.byteorder == "big"):
        values.byteswap()
    return values


def _numpy_values(np, chunk: bytes, dtype: str, big_endian: bool):
    order = ">" if big_endian else "<"
    if dtype == "bfloat16":
        half = np.frombuffer(chunk, dtype=order + "u2").astype(np.uint32) << 16
        return half.view(np.float32)
    return np.frombuffer(chunk, dtype=(order + _NUMPY[dtype]) if dtype != "bool" else "?")


def _mean(total: float, count: int) -> float | None:
    return float(f"{total / count:.10g}") if count else None


def tensor_stats(f: BinaryIO, segments: list, dtype: str, big_endian: bool = False,
                 nbytes: int | None = None) -> dict:
    """{nan, inf, min, max, mean, sha256} over the tensor's elements (min/max/mean over the finite
    ones; complex: NaN/Inf of either part, no min/max/mean)."""
    if dtype not in SUPPORTED:
        digest = hashlib.sha256()
        for chunk in iter_bytes(f, segments):
            digest.update(chunk)
        return {"sha256": digest.hexdigest(), "note": f"no statistics for {dtype}"}
    np = _numpy()
    digest = hashlib.sha256()
    nan = inf = count = 0
    lo = hi = None
    sums: list[float] = []
    is_float = dtype in FLOATS
    is_complex = dtype.startswith("complex")
    total_bytes = 0
    for chunk in iter_bytes(f, segments):
        digest.update(chunk)
        total_bytes += len(chunk)
        if np is not None:
            values = _numpy_values(np, chunk, dtype, big_endian)
            if is_complex:
                pairs = values.reshape(-1, 2)
                bad_nan = np.isnan(pairs).any(axis=1)
                bad_inf = np.isinf(pairs).any(axis=1) & ~bad_nan
                nan += int(bad_nan.sum())
                inf += int(bad_inf.sum())
                continue
            if is_float:
                n_nan = int(np.isnan(values).sum())
                n_inf = int(np.isinf(values).sum())
                nan, inf = nan + n_nan, inf + n_inf
                if n_nan or n_inf:
                    values = values[np.isfinite(values)]
            if values.size:
                cmin, cmax = values.min(), values.max()
                cmin, cmax = (float(cmin), float(cmax)) if is_float else (int(cmin), int(cmax))
                lo = cmin if lo is None else min(lo, cmin)
                hi = cmax if hi is None else max(hi, cmax)
                sums.append(float(np.sum(values, dtype=np.float64)))
                count += int(values.size)
            continue
        values = _pure_values(chunk, dtype, big_endian)
        if is_complex:
            for i in range(0, len(values), 2):
                re_, im = values[i], values[i + 1]
                if re_ != re_ or im != im:
                    nan += 1
                elif re_ - re_ != 0 or im - im != 0:
                    inf += 1
            continue
        if is_float:
            finite = [x for x in values if x - x == 0]
            if len(finite) != len(values):
                n_nan = sum(1 for x in values if x != x)
                nan, inf = nan + n_nan, inf + len(values) - len(finite) - n_nan
            values = finite
        if len(values):
            cmin, cmax = min(values), max(values)
            lo = cmin if lo is None else min(lo, cmin)
            hi = cmax if hi is None else max(hi, cmax)
            sums.append(math.fsum(values) if is_float else float(sum(values)))
            count += len(values)
    if nbytes is not None and total_bytes != nbytes:
        raise ValueError(f"the data holds {total_bytes} bytes, the shape and dtype need {nbytes}")
    out: dict = {"nan": nan, "inf": inf}
    if not is_complex:
        out.update({"min": lo, "max": hi, "mean": _mean(math.fsum(sums), count)})
    out["sha256"] = digest.hexdigest()
    return out


def max_abs_diff(fa: BinaryIO, seg_a: list, fb: BinaryIO, seg_b: list, dtype: str,
                 big_endian_a: bool = False, big_endian_b: bool = False) -> dict:
    """{max_abs_diff, differing, nonfinite_mismatch} between two tensors of the same dtype and
    element count: the largest |a - b| over positions where both are finite, how many elements
    differ at all, and positions where exactly one side is NaN/Inf or they are different Inf."""
    if dtype not in SUPPORTED or dtype.startswith("complex"):
        same = all(x == y for x, y in zip(iter_bytes(fa, seg_a), iter_bytes(fb, seg_b)))
        return {"max_abs_diff": None, "identical_bytes": same}
    np = _numpy()
    worst, differing, mismatch = 0.0, 0, 0
    for ca, cb in zip(iter_bytes(fa, seg_a), iter_bytes(fb, seg_b)):
        if np is not None:
            a = _numpy_values(np, ca, dtype, big_endian_a).astype(np.float64)
            b = _numpy_values(np, cb, dtype, big_endian_b).astype(np.float64)
            both = np.isfinite(a) & np.isfinite(b)
            d = np.abs(a[both] - b[both])
            if d.size:
                worst = max(worst, float(d.max()))
            differing += int((d != 0).sum())
            other = ~both
            same_nonfinite = (np.isnan(a) & np.isnan(b)) | (a == b)
            mismatch += int((other & ~same_nonfinite).sum())
            continue
        for x, y in zip(_pure_values(ca, dtype, big_endian_a), _pure_values(cb, dtype, big_endian_b)):
            x, y = float(x), float(y)
            if x - x == 0 and y - y == 0:
                d = abs(x - y)
                if d:
                    differing += 1
                    worst = max(worst, d)
            elif not ((x != x and y != y) or x == y):
                mismatch += 1
    return {"max_abs_diff": worst, "differing": differing, "nonfinite_mismatch": mismatch}
