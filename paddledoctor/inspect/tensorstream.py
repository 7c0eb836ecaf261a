"""Paddle's binary tensor stream (``.pdiparams``, ``save_combine``; a single DenseTensor saved
with ``paddle.save(..., use_binary_format=True)``), as paddle/fluid/framework/lod_tensor.cc and
tensor_util.cc write it, one record per tensor::

    uint32  version (0)
    uint64  number of LoD levels, then per level: uint64 byte size, that many bytes
    uint32  tensor version (0)
    int32   size of the TensorDesc
    bytes   TensorDesc (protobuf: data_type, dims)
    bytes   the data: product(dims) * sizeof(data_type)

Only headers are read; the data is skipped with seek after its size is checked.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from .budget import checked_numel
from .dtypes import ITEMSIZE
from .protobuf import WireError, tensor_desc

MAX_DESC = 1 << 16
MAX_LOD_LEVELS = 64


class StreamError(ValueError):
    def __init__(self, message: str, kind: str = "corrupt"):
        super().__init__(message)
        self.kind = kind


def looks_like_stream(head: bytes) -> bool:
    """The first record's header: version 0, few LoD levels, a small TensorDesc starting with
    field 1 (data_type)."""
    if len(head) < 25:
        return False
    version, levels = struct.unpack_from("<IQ", head, 0)
    if version != 0 or levels > MAX_LOD_LEVELS:
        return False
    pos = 12
    for _ in range(levels):
        if pos + 8 > len(head):
            return True  # LoD data beyond the sniffed bytes: plausible
        (n,) = struct.unpack_from("<Q", head, pos)
        pos += 8 + n
        if pos + 9 > len(head):
            return True
    if pos + 9 > len(head):
        return False
    tversion, desc_size = struct.unpack_from("<Ii", head, pos)
    return tversion == 0 and 0 < desc_size <= MAX_DESC and head[pos + 8] == 0x08


def read_stream(f: BinaryIO, size: int) -> tuple[list[dict], list[dict]]:
    """(tensors, problems). Each tensor: {shape, dtype, nbytes, offset, lod_levels}."""
    tensors: list[dict] = []
    problems: list[dict] = []
    f.seek(0)
    pos = 0

    def need(n: int, what: str) -> bytes:
        nonlocal pos
        if n > size - pos:
            raise StreamError(f"tensor #{len(tensors)}: {what} needs {n} bytes at offset {pos}, "
                              f"only {size - pos} remain", "truncated")
        data = f.read(n)
        pos += n
        return data

    try:
        while pos < size:
            (version,) = struct.unpack("<I", need(4, "the version"))
            if version != 0:
                raise StreamError(f"tensor #{len(tensors)} at offset {pos - 4}: version {version} "
                                  "(expected 0)")
            (levels,) = struct.unpack("<Q", need(8, "the LoD level count"))
            if levels > MAX_LOD_LEVELS:
                raise StreamError(f"tensor #{len(tensors)}: {levels} LoD levels")
            for _ in range(levels):
                (n,) = struct.unpack("<Q", need(8, "a LoD level size"))
                if n > size - pos:
                    raise StreamError(f"tensor #{len(tensors)}: a LoD level claims {n} bytes, "
                                      f"only {size - pos} remain", "truncated")
                f.seek(n, 1)
                pos += n
            (tversion,) = struct.unpack("<I", need(4, "the tensor version"))
            if tversion != 0:
                raise StreamError(f"tensor #{len(tensors)}: tensor version {tversion} (expected 0)")
            (desc_size,) = struct.unpack("<i", need(4, "the TensorDesc size"))
            if not 0 < desc_size <= MAX_DESC:
                raise StreamError(f"tensor #{len(tensors)}: TensorDesc size {desc_size}")
            try:
                dtype, dims = tensor_desc(memoryview(need(desc_size, "the TensorDesc")))
            except WireError as exc:
                raise StreamError(f"tensor #{len(tensors)}: TensorDesc: {exc}") from None
            if any(d < 0 for d in dims):
                raise StreamError(f"tensor #{len(tensors)}: negative dims {dims}")
            itemsize = ITEMSIZE.get(dtype)
            if itemsize is None:
                raise StreamError(f"tensor #{len(tensors)}: data type {dtype} is unknown")
            nbytes = checked_numel(dims) * itemsize
            if nbytes > size - pos:
                raise StreamError(f"tensor #{len(tensors)} of shape {dims} ({dtype}) needs {nbytes} "
                                  f"bytes, only {size - pos} remain", "truncated")
            tensors.append({"shape": dims, "dtype": dtype, "nbytes": nbytes, "offset": pos,
                            "lod_levels": levels})
            f.seek(nbytes, 1)
            pos += nbytes
    except StreamError as exc:
        problems.append({"kind": exc.kind, "message": str(exc), "offset": pos})
    return tensors, problems
