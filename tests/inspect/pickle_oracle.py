"""The oracle of the differential tests: CPython's real C ``pickle.Unpickler`` on a file object,
as paddle.load calls it, run in a child process (this file is its script).

    python pickle_oracle.py PATH...      one JSON line per path on stdout

``find_class`` is overridden to record each (module, name) the real unpickler asks for and to
answer with an inert stand-in class, so the walk goes on past every global and records all of
them (a real call might fail earlier: the oracle sees at least what pickle.load would import).
A second walk gives the harmless allowlisted globals their real objects and counts the calls of
builtins.eval that are not Paddle's tensor record (``foreign_evals``): the unpickler's own
lookups on a real object can call an allowlisted global that no REDUCE names.
An audit hook, added after the imports, kills the child on any import, exec, compile, os or
subprocess event: no byte of a hostile file can run code here."""

from __future__ import annotations

import builtins
import collections
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


# The allowlisted globals whose real objects are harmless: the second walk uses them, so that
# the unpickler's own lookups on a real object (an OrderedDict takes instance attributes: BUILD
# then calls an instance's __setstate__, APPEND its append) happen as in paddle.load.
# (_codecs.encode stays a stand-in: a codec lookup imports its module.)
REAL = {("collections", "OrderedDict"): collections.OrderedDict,
        **{("builtins", k): getattr(builtins, k)
           for k in ("tuple", "list", "dict", "set", "frozenset", "bytes", "bytearray")}}


def _paddle_record(args: tuple) -> bool:
    """eval('data', {'data': array}): the one call of builtins.eval paddle.save writes."""
    return len(args) == 2 and args[0] == "data" and isinstance(args[1], dict) and \
        set(args[1]) == {"data"}


class WithRealContainers(Recording):
    """Real containers, and builtins.eval as a recorder: ``evals`` lists each call's
    arguments as Paddle's record (True) or anything else (False), however it was reached."""

    def __init__(self, f, seen, evals):
        super().__init__(f, seen)
        self.evals = evals

    def find_class(self, module, name):
        self.seen.append([module, name])
        if (module, name) == ("builtins", "eval"):
            return lambda *args, **kwargs: self.evals.append(_paddle_record(args))
        return REAL.get((module, name)) or _stand_in(module, name)


def _audit(event: str, args) -> None:
    if event.startswith(BLOCKED) and event not in ("os.listdir",):
        sys.stderr.write(f"oracle: blocked audit event {event}\n")
        sys.stderr.flush()
        import os as _os  # noqa: F401 - already imported: no import event
        _os._exit(70)


def _walk(path: str, unpickler) -> str:
    with open(path, "rb") as f:
        try:
            unpickler(f).load()
            return "completed"
        except RecursionError:
            return "error:RecursionError"
        except Exception as exc:  # noqa: BLE001 - any failure of pickle.load is its verdict
            return f"error:{type(exc).__name__}"


def oracle(path: str) -> dict:
    """Two walks: stand-ins for every global (the walk goes on past each: all globals seen),
    then real containers (the calls the unpickler's own lookups make, eval's among them)."""
    seen: list = []
    outcome = _walk(path, lambda f: Recording(f, seen))
    evals: list = []
    _walk(path, lambda f: WithRealContainers(f, [], evals))
    return {"path": path, "globals": seen, "outcome": outcome,
            "foreign_evals": evals.count(False)}


def main(paths: list[str]) -> None:
    import os  # noqa: F401 - imported before the hook, so _audit imports nothing
    sys.addaudithook(_audit)
    for path in paths:
        sys.stdout.write(json.dumps(oracle(path)) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
