"""Fake paddle whose import ends the interpreter with os._exit(3): no exception, no signal."""

import os

_imported = os.environ.get("FAKE_PADDLE_IMPORTED")
if _imported:  # lets a test prove whether paddle was imported at all (check --quick must not)
    with open(_imported, "a") as _f:
        _f.write(f"{os.getpid()}\n")

os._exit(3)
