"""Fake paddle whose import goes wrong the way real ones do, chosen by FAKE_PADDLE_IMPORT:

  segv    a broken native library (a mismatched libcudnn, a corrupt libpaddle.so): SIGSEGV
  sigill  an AVX-compiled wheel on a CPU without AVX: SIGILL
  hang    never returns (CUDA init stuck on a broken GPU, a dead NFS mount); it also starts a
          grandchild that sleeps, which the doctor's kill must take down too
  raise   a GPU wheel on a machine without the CUDA 12 runtime: ImportError
  exit    os._exit(3): no exception, no signal

Its version/__init__.py carries the real CPU wheel's literals, then code that leaves a mark if it is
ever executed: the static layer reads it with ast and must never run it.
"""

import os
import sys

_imported = os.environ.get("FAKE_PADDLE_IMPORTED")
if _imported:  # lets a test prove whether paddle was imported at all (check --quick must not)
    with open(_imported, "a") as _f:
        _f.write(f"{os.getpid()}\n")

_how = os.environ.get("FAKE_PADDLE_IMPORT", "segv")
if _how in ("segv", "sigill"):
    import resource
    import signal

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file in the test's directory
    print("W0101 00:00:00.000000 fake paddle: loading libpaddle.so", flush=True)  # native noise
    os.kill(os.getpid(), signal.SIGSEGV if _how == "segv" else signal.SIGILL)
elif _how == "hang":
    import subprocess
    import time

    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    print("fake paddle: initialising CUDA...", file=sys.stderr, flush=True)
    while True:
        time.sleep(3600)
elif _how == "raise":
    raise ImportError("libcudart.so.12: cannot open shared object file: No such file or directory")
elif _how == "exit":
    os._exit(3)
raise RuntimeError(f"FAKE_PADDLE_IMPORT={_how!r}: expected segv, sigill, hang, raise or exit")
