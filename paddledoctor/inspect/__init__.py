"""paddledoctor inspect: read Paddle checkpoint files safely, never executing code from them and
never importing paddle.

``inspect(paths)`` returns a :class:`~paddledoctor.model.Report` whose facts are
``facts["inspect"] = {"files": [...], "diff": ...}`` and whose findings come from
:mod:`paddledoctor.checks.checkpoint` (area "checkpoint"), so ``--json`` is the same document as
``check --json`` and ``check --from`` re-reads it.
"""

from __future__ import annotations

__all__ = ["inspect", "inspect_facts", "read_file"]


def __getattr__(name):
    # The CLI imports this package at start-up (for its click command): the readers load only
    # when used, so `paddledoctor check --quick` does not pay for them.
    if name in __all__:
        from . import library
        return getattr(library, name)
    raise AttributeError(f"module 'paddledoctor.inspect' has no attribute {name!r}")
