"""The oracle of the differential tests: CPython's real C ``pickle.Unpickler`` on a file object,
as paddle.load calls it, run in a child process (this file is its script).

    python pickle_oracle.py PATH...      one JSON line per path on stdout

``find_class`` is overridden to record each (module, name) the real unpickler asks for and to
answer with an inert stand-in class, so the walk goes on past every global and records all of
them (a real call might fail earlier: the oracle sees at least what pickle.load would import).
An audit hook, added after the imports, kills the child on any import, exec, compile, os or
subprocess event: no byte of a hostile file can run code here."""

from __future__ import annotations

import json
import pickle
import sys

BLOCKED = ("import", "exec", "compile", "os.", "subprocess.", "socket.", "ctypes.", "shutil.",
           "webbrowser.", "builtins.input")


def _stand_in(module: str, name: str) -> type:
    """A class that takes any arguments, any state and any items, and does nothing."""

    def anything(self, *args, **kwargs):
        return None

    def new(cls, *args, **kwargs):
        return object.__new__(cls)

    return type(f"StandIn_{name}", (), {"__new__": new, "__init__": anything,
                                        "__setstate__": anything, "append": anything,
                                        "extend": anything, "__setitem__": anything,
                                        "__call__": anything, "add": anything})


class Recording(pickle.Unpickler):
    def __init__(self, f, seen):
        super().__init__(f)
        self.seen = seen

    def find_class(self, module, name):
        self.seen.append([module, name])
        return _stand_in(module, name)


def _audit(event: str, args) -> None:
    if event.startswith(BLOCKED) and event not in ("os.listdir",):
        sys.stderr.write(f"oracle: blocked audit event {event}\n")
        sys.stderr.flush()
        import os as _os  # noqa: F401 - already imported: no import event
        _os._exit(70)


def oracle(path: str) -> dict:
    seen: list = []
    with open(path, "rb") as f:
        try:
            Recording(f, seen).load()
            outcome = "completed"
        except RecursionError:
            outcome = "error:RecursionError"
        except Exception as exc:  # noqa: BLE001 - any failure of pickle.load is its verdict
            outcome = f"error:{type(exc).__name__}"
    return {"path": path, "globals": seen, "outcome": outcome}


def main(paths: list[str]) -> None:
    import os  # noqa: F401 - imported before the hook, so _audit imports nothing
    sys.addaudithook(_audit)
    for path in paths:
        sys.stdout.write(json.dumps(oracle(path)) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
