"""Fake paddle whose import kills the interpreter with SIGSEGV, as a broken native library
(a mismatched libcudnn, a corrupt libpaddle.so) does."""

import os

_imported = os.environ.get("FAKE_PADDLE_IMPORTED")
if _imported:  # lets a test prove whether paddle was imported at all (check --quick must not)
    with open(_imported, "a") as _f:
        _f.write(f"{os.getpid()}\n")

import resource
import signal

resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file in the test's directory

print("W0101 00:00:00.000000 fake paddle: loading libpaddle.so", flush=True)  # native noise
os.kill(os.getpid(), signal.SIGSEGV)
