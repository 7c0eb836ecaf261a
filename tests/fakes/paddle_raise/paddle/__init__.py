"""Fake paddle whose import fails like a GPU wheel on a machine without the CUDA 12 runtime."""

import os

_imported = os.environ.get("FAKE_PADDLE_IMPORTED")
if _imported:  # lets a test prove whether paddle was imported at all (check --quick must not)
    with open(_imported, "a") as _f:
        _f.write(f"{os.getpid()}\n")

raise ImportError("libcudart.so.12: cannot open shared object file: No such file or directory")
