"""Fake paddle whose import never returns (CUDA init stuck on a broken GPU, a dead NFS mount).
It also starts a grandchild that sleeps, which the doctor's kill must take down too."""

import os

_imported = os.environ.get("FAKE_PADDLE_IMPORTED")
if _imported:  # lets a test prove whether paddle was imported at all (check --quick must not)
    with open(_imported, "a") as _f:
        _f.write(f"{os.getpid()}\n")

import subprocess
import sys
import time

subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
print("fake paddle: initialising CUDA...", file=sys.stderr, flush=True)
while True:
    time.sleep(3600)
