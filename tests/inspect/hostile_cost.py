"""Synthesized hostile files that ask inspect for unbounded work (#11, item 3), each a few KB to
a few hundred KB: written here byte by byte (the ``synth_`` names say so), since no tool writes
them. Each returns ``{file name: bytes}``; the cost test runs inspect on them."""

from __future__ import annotations

import json
import pickle
import struct

import numpy as np

UNPACK_INFO = "UnpackBigParamInfor@@"


class Ops:
    """A pickle written opcode by opcode (protocol 4), with a memo counter for MEMOIZE/BINGET."""

    def __init__(self):
        self.out = bytearray(b"\x80\x04")
        self.memo = 0

    def raw(self, data: bytes) -> "Ops":
        self.out += data
        return self

    def memoize(self) -> int:
        self.out += b"\x94"
        self.memo += 1
        return self.memo - 1

    def get(self, index: int) -> "Ops":
        self.out += b"h" + bytes([index]) if index < 256 else b"j" + struct.pack("<I", index)
        return self

    def text(self, value: str) -> "Ops":
        data = value.encode()
        self.out += b"\x8c" + bytes([len(data)]) + data
        return self

    def global_(self, module: str, name: str) -> "Ops":
        return self.text(module).text(name).raw(b"\x93")

    def shared_tuples(self, depth: int) -> "Ops":
        """t0 = (); t(i+1) = (t(i), t(i)): 2**depth leaves in depth*6 bytes."""
        index = self.raw(b")").memoize()
        for _ in range(depth):
            index = self.raw(b"0").get(index).get(index).raw(b"\x86").memoize()
        return self

    def laughs(self, depth: int = 9, width: int = 10) -> "Ops":
        """A "billion laughs" list: each level holds ``width`` references to the one below;
        its repr is width**depth items long."""
        index = self.raw(b"](" + b"K\x00" * width + b"e").memoize()
        for _ in range(depth):
            self.raw(b"0](")  # the level below stays in the memo only
            for _ in range(width):
                self.get(index)
            index = self.raw(b"e").memoize()
        return self

    def done(self) -> bytes:
        return bytes(self.out + b".")


def _dict_of(key: str, build) -> bytes:
    ops = Ops().raw(b"}").text(key)
    build(ops)
    return ops.raw(b"s").done()


def synth_shared_keys() -> dict[str, bytes]:
    """Dict keys and set items made of shared nested tuples: hashing walks 2**100 tuples."""
    key = Ops().raw(b"}").shared_tuples(100).raw(b"K\x01s").done()
    item = Ops().raw(b"\x8f(").shared_tuples(100).raw(b"\x90").done()
    ordered = Ops().global_("collections", "OrderedDict").raw(b"]((").shared_tuples(100) \
        .raw(b"K\x01te\x85R").done()
    return {"synth_shared_tuple_key.pdparams": key, "synth_shared_tuple_set.pdparams": item,
            "synth_shared_tuple_ordereddict.pdparams": ordered}


def synth_laughs() -> dict[str, bytes]:
    """A billion-laughs list handed to every emulated global and to the slice table, where an
    error message or a listing might repr it."""
    calls = {"numpy_dtype": ("numpy", "dtype"), "reconstruct": ("numpy.core.multiarray", "_reconstruct"),
             "scalar": ("numpy.core.multiarray", "scalar"), "ordereddict": ("collections", "OrderedDict"),
             "tuple": ("builtins", "tuple"), "eval": ("builtins", "eval"),
             "codecs": ("_codecs", "encode")}
    files = {}
    for label, (module, name) in calls.items():
        ops = Ops().raw(b"}").text("w").global_(module, name).raw(b"(").laughs().laughs()
        files[f"synth_laughs_{label}.pdparams"] = ops.raw(b"tRs").done()
    files["synth_laughs_value.pdparams"] = _dict_of("w", lambda ops: ops.laughs())
    files["synth_laughs_slices.pdparams"] = _dict_of(UNPACK_INFO, lambda ops: ops.raw(b"}").text(
        "w").raw(b"}").text("OriginShape").raw(b"]K\x01as").text("slices").laughs().raw(b"ss"))
    return files


def _array(shape: tuple, dtype: str = "<f4") -> bytes:
    return pickle.dumps(np.zeros(shape, dtype), protocol=2)


def _with_shape(dims: bytes) -> bytes:
    """A real numpy array pickle (shape (1,)) whose state's shape is replaced by ``dims``."""
    data = _array((1,))
    state = data.index(b"K\x01\x85", data.index(b"_reconstruct") + 20)
    return data[:state] + b"(" + dims + b"t" + data[state + 3:]


def synth_huge_shapes() -> dict[str, bytes]:
    """Shapes of 300,000 dims (math.prod of them), 64 dims of 2**61, and a safetensors header of
    150,000 dims of 1e308."""
    header = json.dumps({"w": {"dtype": "F32", "shape": [1e308] * 150_000,
                               "data_offsets": [0, 4]}}).encode()
    big_origin = _dict_of(UNPACK_INFO, lambda ops: ops.raw(b"}").text("w").raw(b"}").text(
        "OriginShape").raw(b"](" + b"K\x02" * 300_000 + b"es").text("slices").raw(b"]").text(
        "w@@.0").raw(b"ass"))
    return {
        "synth_300k_dims.pdparams": _with_shape(b"K\x01" * 300_000),
        "synth_64_dims_of_2_61.pdparams": _with_shape((b"\x8a\x08" + struct.pack("<q", 2 ** 61)) * 64),
        "synth_300k_dims_origin_shape.pdparams": big_origin,
        "synth_150k_dims_1e308.safetensors": struct.pack("<Q", len(header)) + header + b"\0" * 4,
    }


def synth_stats_multiplication() -> dict[str, bytes]:
    """Under --stats: one 64 KiB slice joined 100,000 times (a 6.5 GB parameter), 20,000 slice
    names of one array, and one 64 KiB array named 200,000 times (13 GB of reads). pickle writes
    the repeats as memo references."""
    part = np.zeros(16_384, np.float32)
    name = "w@@.0"
    sliced = {UNPACK_INFO: {"w": {"OriginShape": [16_384 * 100_000], "slices": [name] * 100_000}},
              name: part}
    names = [f"w@@.{i}" for i in range(20_000)]
    aliased = {UNPACK_INFO: {"w": {"OriginShape": [16_384 * 20_000], "slices": names}},
               **{n: part for n in names}}
    named = {"w": [part] * 200_000}
    return {"synth_slice_100k_times.pdparams": pickle.dumps(sliced, protocol=2),
            "synth_20k_slices_one_array.pdparams": pickle.dumps(aliased, protocol=2),
            "synth_array_200k_times.pdparams": pickle.dumps(named, protocol=2)}


def all_files() -> dict[str, bytes]:
    files = {}
    for group in (synth_shared_keys(), synth_laughs(), synth_huge_shapes(), synth_stats_multiplication()):
        files.update(group)
    return files
