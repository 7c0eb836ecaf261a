"""Fake paddle whose import dies of SIGILL: what an AVX-compiled wheel does on a CPU without AVX."""

import os

_imported = os.environ.get("FAKE_PADDLE_IMPORTED")
if _imported:  # lets a test prove whether paddle was imported at all (check --quick must not)
    with open(_imported, "a") as _f:
        _f.write(f"{os.getpid()}\n")

import resource
import signal

resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file in the test's directory

os.kill(os.getpid(), signal.SIGILL)
