"""The split big parameter: under pickle protocol 2/3 paddle.save cuts a parameter of more than
2**30 - 1 bytes into flat slices ("<name>@@.<i>") plus UnpackBigParamInfor@@; paddle.load joins
them. inspect lists it as one tensor, identical to paddle.load's (shape, dtype, SHA-256), and
lists it without reading the gigabyte."""

from __future__ import annotations

import time
import tracemalloc

from inspect_support import expected, real_checkpoints

from paddledoctor.inspect import inspect_facts


def _bytes_read() -> int:
    """Bytes this process has read with read(2) and friends (Linux /proc/self/io rchar)."""
    with open("/proc/self/io") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("rchar:"))


def test_split_big_parameter_equals_paddle_load():
    ck = real_checkpoints(big=True)
    path = ck / "big_p2.pdparams"
    assert path.stat().st_size > 2 ** 30
    tracemalloc.start()
    start, read_before = time.perf_counter(), _bytes_read()
    plain = inspect_facts([path])["files"][0]
    took, read = time.perf_counter() - start, _bytes_read() - read_before
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # The proof that the data is not read is what was read (the kernel's count), not a clock: a
    # 1 GiB file is read from the page cache in well under a second too. (measured: ~0.05 s)
    assert read < 16 << 20 and peak < 8 << 20, (read, peak)
    assert took < 30, took
    assert plain["problems"] == [] and plain["sliced"] == [{"name": "big", "slices": 2}]
    assert [(t["name"], t["shape"], t["dtype"]) for t in plain["tensors"]] == \
        [("small", [3], "float32"), ("big", [2 ** 30 + 4096], "int8")]

    facts = inspect_facts([path], stats=True)["files"][0]
    want = expected(ck)["big_p2.pdparams"]["tensors"]
    got = {t["name"]: {"shape": t["shape"], "dtype": t["dtype"], "sha256": t["sha256"]}
           for t in facts["tensors"]}
    assert got == want
    big = facts["tensors"][1]
    assert (big["min"], big["max"]) == (-5, 3)
