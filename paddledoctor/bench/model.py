"""`paddledoctor bench --model MODULE:FACTORY`: the round trip of the user's own training state.

The parent never imports paddle, nor the user's module: one child (bench/children/bench_model.py)
builds FACTORY() and runs the straight and resumed trainings; then the disk-limit child measures the
disk at the checkpoint's real size. Everything lands in facts["bench"] (keys ``model_run``,
``model_checkpoint``, ``factory_error``, ``disk``, ``device``, ``failures``), judged by the bench
checks (PD712-PD716, and PD701/PD705/PD706 as for the synthetic bench).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import time
from typing import Callable, Union

from ..model import Unavailable

FACTORY_SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
DEFAULT_STEPS = 6


class FactorySpecError(ValueError):
    """The factory cannot be named for a child process (a lambda, a local function, __main__)."""


def factory_spec(factory: Union[str, Callable]) -> str:
    """"pkg.mod:make" for a string or a module-level function; refuse what a child cannot import."""
    if isinstance(factory, str):
        if not FACTORY_SPEC.match(factory):
            raise FactorySpecError(f"{factory!r}: give the factory as MODULE:FACTORY, "
                                   "such as mytrain.setup:make")
        return factory
    module = getattr(factory, "__module__", None)
    qualname = getattr(factory, "__qualname__", None)
    if not callable(factory) or not module or not qualname:
        raise FactorySpecError(f"{factory!r} is not a function")
    if "<" in qualname:
        raise FactorySpecError(f"{qualname} is a lambda or a local function: the bench imports the "
                               "factory in a child process, so define it at a module's top level")
    if module == "__main__":
        raise FactorySpecError(f"{qualname} is defined in the script being run (__main__): importing "
                               "it again would run the script; move it into a module and pass "
                               "'module:function'")
    return f"{module}:{qualname}"


def run_bench_model(factory: Union[str, Callable], directory: str | os.PathLike | None = None,
                    device: str = "auto", timeout: float = 900.0, steps: int = DEFAULT_STEPS,
                    progress: Callable[[str, str], None] | None = None) -> dict:
    """Returns facts["bench"] for the user's own model. Never raises for what the model or the
    machine does (the factory raising, a crash, a hang, an unwritable folder): those are facts.
    A factory that cannot be named at all raises FactorySpecError (the caller's bad input)."""
    from .runner import DISK_MAX, DISK_MIN, _absorb, _run_child, memory_available

    spec = factory_spec(factory)
    t0 = time.monotonic()
    directory = os.path.abspath(os.fspath(directory) if directory is not None else tempfile.gettempdir())
    facts: dict = {"options": {"model": spec, "steps": max(2, int(steps)), "dir": directory,
                               "device": device, "timeout_s": timeout},
                   "failures": [], "memory": memory_available()}
    try:
        temp = tempfile.mkdtemp(prefix="paddledoctor-bench-", dir=directory)
    except OSError as exc:
        facts["failures"].append({"stage": "create the bench's folder", "kind": "write",
                                  "errno": _errno(exc),
                                  "error": f"cannot create a folder in {directory}: {exc.strerror or exc}"})
        facts["model_run"] = Unavailable(f"{directory} is not writable")
        return facts
    facts["temp_dir"] = temp
    try:
        work = os.path.join(temp, "model")
        os.mkdir(work)
        args = {"factory": spec, "path": [os.getcwd(), *[p for p in sys.path if p]], "dir": work,
                "device": device, "steps": facts["options"]["steps"]}
        part = {"part": "model", "script": "bench_model.py", "title": f"{spec}: resume"}
        result = _run_child(part, args, timeout, temp, progress)
        _absorb_model(facts, result)
        shutil.rmtree(work, ignore_errors=True)
        cost = facts.get("model_checkpoint")
        left = t0 + timeout - time.monotonic()
        if isinstance(cost, dict) and cost.get("file_bytes") and left > 5:
            disk_work = os.path.join(temp, "disk")
            os.mkdir(disk_work)
            disk_args = {"part": "disk", "dir": disk_work, "device": device,
                         "bytes": max(DISK_MIN, min(int(cost["file_bytes"]), DISK_MAX))}
            disk = _run_child({"part": "disk", "script": "bench_disk.py", "title": "disk limit"},
                              disk_args, left, temp, progress)
            _absorb(facts, "disk", disk)
            d = facts.get("disk")
            if isinstance(d, dict):
                for op, limit in (("save", d.get("write_mbps")), ("load", d.get("read_mbps"))):
                    rate = cost.get(f"{op}_mbps")
                    if isinstance(rate, (int, float)) and isinstance(limit, (int, float)) and limit:
                        cost[f"{op}_efficiency"] = rate / limit
        else:
            facts.setdefault("disk", Unavailable("not measured: no checkpoint of the model was written"
                                                 if left > 5 else "not measured: no time left"))
    except OSError as exc:
        facts["failures"].append({"stage": "bench folder", "kind": "write", "errno": _errno(exc),
                                  "error": f"{type(exc).__name__}: {exc.strerror or exc}"})
    finally:
        shutil.rmtree(temp, ignore_errors=True)
        facts["cleanup"] = {"temp_dir": temp, "removed": not os.path.exists(temp)}
        facts["seconds"] = time.monotonic() - t0
    return facts


def _errno(exc: OSError) -> str:
    import errno
    return errno.errorcode.get(exc.errno or 0, str(exc.errno))


def _absorb_model(facts: dict, result) -> None:
    from .runner import WRITE_ERRNOS

    for event in result.events:
        kind = event.get("event")
        if kind == "result":
            facts[event["key"]] = event["value"]
        elif kind == "factory_error":
            facts["factory_error"] = {"error": event.get("error"),
                                      "traceback": event.get("traceback"),
                                      "factory": facts["options"]["model"]}
        elif kind == "failure":
            code = event.get("errno")
            facts["failures"].append({"stage": event.get("stage"), "part": "model",
                                      "kind": "write" if code in WRITE_ERRNOS else "error",
                                      "errno": code, "error": event.get("error"),
                                      "traceback": event.get("traceback")})
        elif kind == "import":
            facts.setdefault("paddle", {"version": event.get("version"),
                                        "import_s": event.get("seconds")})
    how = result.failure()
    if how:
        stage = result.last("stage")
        where = stage.get("name") if stage else "start"
        facts["failures"].append({"stage": where, "part": "model",
                                  "kind": "timeout" if result.timed_out else "crash",
                                  "error": f"the model child {how} during: {where}",
                                  "stderr": result.stderr[-1500:]})
    run = facts.get("model_run")
    if isinstance(run, dict) and "required" not in run and not facts.get("factory_error"):
        run["incomplete"] = True  # a later resume never reported: the checks say which
    for key in ("model_run", "model_checkpoint"):
        if key not in facts:
            why = ("not run: the factory could not be used" if facts.get("factory_error") else
                   f"not run: {facts['device'].get('reason')}" if isinstance(facts.get("device"), dict)
                   and facts["device"].get("usable") is False else
                   f"not measured: {facts['failures'][-1]['error']}" if facts["failures"] else
                   "not measured: the model child ended without it")
            facts[key] = Unavailable(why)


def model_report(facts: dict, options: dict | None = None):
    from ..doctor import diagnose
    return diagnose({"bench": facts}, options or {}, mode="bench", areas=["bench"])
