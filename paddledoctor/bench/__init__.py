"""paddledoctor bench: the checkpoint round trip on this machine and device, for correctness (bit
for bit, resume equivalence, every format) and throughput (against the disk's own limit and
safetensors).

``run_bench(...)`` returns facts["bench"]; ``check_bench_facts(...)`` is the short (64 MiB) round
trip of ``check --bench``, preflight and fleet. Both never raise for what the machine does. This
module imports only the standard library at load time (the CLI imports the bench command at
startup); the work runs in child processes (paddledoctor/bench/children/bench_*.py).
"""

from __future__ import annotations

from typing import Any

__all__ = ["check_bench_facts", "run_bench", "bench_report", "bench_model", "parse_size"]


def run_bench(*args: Any, **kwargs: Any) -> dict:
    from ..stopping import library_guard
    from .runner import run_bench as _run
    with library_guard():  # SIGTERM/SIGHUP like Ctrl-C: the children killed, the folder removed
        return _run(*args, **kwargs)


run_bench.__doc__ = """The full checkpoint round trip; returns facts["bench"] (see bench/runner.py).

Arguments: size (bytes of parameters, default 256 MiB), directory (the bench writes only inside a
temporary folder of its own there, removed at the end), device ("auto", "cpu", "gpu:N"), timeout
(seconds, for all the children together), project (bytes of the user's real checkpoint, for the
projection), short (the 64 MiB check: disk + dygraph only), progress (a callback (part, stage))."""


def check_bench_facts(directory=None, timeout: float = 120.0) -> dict:
    """The short (64 MiB) round trip of ``paddledoctor check --bench``. Never raises."""
    from .runner import check_bench_facts as _check
    return _check(directory=directory, timeout=timeout)


def bench_report(facts: dict, options: dict | None = None):
    """The bench's Report: only the bench checks run on ``{"bench": facts}``."""
    from ..doctor import diagnose
    return diagnose({"bench": facts}, options or {}, mode="bench", areas=["bench"])


def parse_size(text: str) -> int:
    """Bytes in a --size (the one size parser, paddledoctor/sizes.py); ValueError with a sentence."""
    from ..sizes import parse_size as _parse
    return _parse(text, "--size")


def bench_model(factory, directory=None, device: str = "auto", steps: int = 6,
                timeout: float = 900.0, progress=None):
    """The round trip of *your* training: returns the bench's Report (see bench/model.py).

    ``factory`` is "module:function" or a module-level function; FACTORY() returns a dict with
    ``model`` and ``optimizer`` (required), ``scheduler``, ``scaler``, ``batch(step)`` and
    ``loss(model, inputs)`` (optional). In a child process on ``device``: ``steps`` steps straight
    against steps/2, a save, a load into a fresh FACTORY() and steps/2 more, once with the model and
    optimizer saved and once with everything (scheduler, scaler, RNG states); the pieces that must
    be saved to resume exactly are named (PD713). Raises ValueError for a factory a child process
    cannot import (a lambda, a local function, one defined in __main__)."""
    from ..stopping import library_guard
    from .model import model_report, run_bench_model
    with library_guard():  # SIGTERM/SIGHUP like Ctrl-C: the child killed, the folder removed
        facts = run_bench_model(factory, directory=directory, device=device, timeout=timeout,
                                steps=steps, progress=progress)
    return model_report(facts, {"model": facts["options"]["model"], "device": device})
