"""paddledoctor bench: the checkpoint round trip on this machine and device, for correctness (bit
for bit, resume equivalence, every format) and throughput (against the disk's own limit and
safetensors).

``run_bench(...)`` returns facts["bench"]; ``check_bench_facts(...)`` is the short (64 MiB) round
trip of ``check --bench``, preflight and fleet. Both never raise for what the machine does. This
module imports only the standard library at load time (the CLI imports the bench command at
startup); the work runs in child processes (paddledoctor/probes/children/bench_*.py).
"""

from __future__ import annotations

from typing import Any

__all__ = ["check_bench_facts", "run_bench", "bench_report", "parse_size"]


def run_bench(*args: Any, **kwargs: Any) -> dict:
    from .runner import run_bench as _run
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
    from .sizes import parse_size as _parse
    return _parse(text)
