"""Test-only faults at the boundary between the doctor's children and the real Paddle.

Put this folder first on PYTHONPATH and set PADDLEDOCTOR_TEST_FAULT; every Python started with that
environment (the doctor and its children: they run ``sys.executable`` with the environment they
inherit) loads this file at start-up, and once the real ``paddle`` package has been imported, wraps
one of its functions. The product's code is never changed; the fault is what Paddle would return
on a machine whose disk, memory or interconnect corrupts data.

    corrupt-load             paddle.load of a .pdparams file returns its first floating tensor with
                             one element moved by one unit in the last place (np.nextafter)
    all-reduce-off-by-one:K  on rank K (PADDLE_TRAINER_ID), paddle.distributed.all_reduce leaves
                             element 5 of its result one too high
    statvfs-hangs:K          on rank K, os.statvfs never returns (from start-up, in every process of
                             that rank), as on a node whose NFS mount hangs: the rank's own check,
                             which reads the free space where it runs, never finishes
    all-reduce-one-too-low:K the same, one too low (a comparison that only looks for larger
                             values must not pass it)

Unset, or any other value: nothing happens.
"""

import os
import sys

FAULT = os.environ.get("PADDLEDOCTOR_TEST_FAULT", "")


def _corrupt_load(paddle):
    import numpy as np

    real = paddle.load

    def load(path, *args, **kwargs):
        obj = real(path, *args, **kwargs)
        if str(path).endswith(".pdparams") and isinstance(obj, dict):
            for key in sorted(obj):
                value = obj[key]
                if hasattr(value, "numpy") and value.numpy().dtype.kind == "f" and value.numpy().size:
                    arr = value.numpy().copy()
                    arr.flat[0] = np.nextafter(arr.flat[0], np.inf, dtype=arr.dtype)
                    value.set_value(arr)
                    sys.stderr.write(f"test fault: corrupted {key}[0] loaded from {path}\n")
                    break
        return obj

    paddle.load = load


def _all_reduce_off_by_one(paddle, rank, delta=1):
    dist = paddle.distributed
    real = dist.all_reduce

    def all_reduce(tensor, *args, **kwargs):
        out = real(tensor, *args, **kwargs)
        if os.environ.get("PADDLE_TRAINER_ID") == rank and tensor.dtype == paddle.int64 \
                and tensor.shape and tensor.shape[0] > 5:
            arr = tensor.numpy().copy()
            arr[5] += delta
            tensor.set_value(arr)
            sys.stderr.write(f"test fault: all_reduce result off by {delta:+d} on rank {rank}\n")
        return out

    dist.all_reduce = all_reduce


def _patch(paddle):
    if FAULT == "corrupt-load":
        _corrupt_load(paddle)
    elif FAULT.startswith("all-reduce-off-by-one:"):
        _all_reduce_off_by_one(paddle, FAULT.split(":", 1)[1])
    elif FAULT.startswith("all-reduce-one-too-low:"):
        _all_reduce_off_by_one(paddle, FAULT.split(":", 1)[1], delta=-1)


class _AfterPaddle:
    """A meta-path finder that lets the real paddle import, then patches it (once)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "paddle":
            return None
        import importlib.util
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec("paddle")
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def patched(module):
            exec_module(module)
            _patch(module)
        spec.loader.exec_module = patched
        return spec


def _statvfs_hangs(rank):
    import time

    def statvfs(path):
        sys.stderr.write(f"test fault: os.statvfs({path!r}) hangs on rank {rank}\n")
        while True:
            time.sleep(3600)

    os.statvfs = statvfs


if FAULT.startswith("statvfs-hangs:"):
    if os.environ.get("PADDLE_TRAINER_ID") == FAULT.split(":", 1)[1]:
        _statvfs_hangs(FAULT.split(":", 1)[1])
elif FAULT:
    sys.meta_path.insert(0, _AfterPaddle())
