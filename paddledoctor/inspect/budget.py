"""The per-file cost budget of inspect: what reading one file may spend, whatever the file says.

A hostile file of a few KB can ask for exponential work (shared structures hashed or printed),
huge numbers (a shape of 300,000 dims) or the same bytes read again and again (one slice named
100,000 times under --stats). The structural limits of each reader stop those at once; this
budget is the backstop for what they miss: every reader loop calls :meth:`Budget.tick`, which
checks the wall time and the growth of the process's resident memory, and raises
:class:`OverBudget` (finding PD831: the file is refused, never a hang). The figures are named in
docs/inspect.md."""

from __future__ import annotations

import time

TIME_S = 30.0                 # wall time to read one file (a real 1 GiB listing takes ~0.05 s)
MEMORY = 512 << 20            # growth of the resident memory while reading one file
STATS_READS = 2               # --stats reads at most this many times the file's size
MAX_DIMS = 64                 # numpy's NPY_MAXDIMS (numpy 2); a tensor with more dims is refused
MAX_NBYTES = 1 << 62          # no tensor claims more bytes (a file cannot hold 2**62 bytes)
CHECK_EVERY = 4096            # ticks between two looks at the clock and the memory


class OverBudget(Exception):
    """Reading the file would cost more than the budget: it is refused (PD831)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _rss() -> int:
    import psutil
    return psutil.Process().memory_info().rss


class Budget:
    """The cost spent on one file so far: ticks, the clock and the memory at the start."""

    def __init__(self, time_s: float | None = None, memory: int | None = None):
        self.time_s = TIME_S if time_s is None else time_s
        self.memory = MEMORY if memory is None else memory
        self.start = time.monotonic()
        self.rss0 = _rss()
        self.ticks = 0

    def tick(self, n: int = 1) -> None:
        before = self.ticks
        self.ticks += n
        if before // CHECK_EVERY != self.ticks // CHECK_EVERY:
            self.check()

    def check(self) -> None:
        spent = time.monotonic() - self.start
        if spent > self.time_s:
            raise OverBudget(f"reading it took more than the {self.time_s:g} s budget")
        grown = _rss() - self.rss0
        if grown > self.memory:
            raise OverBudget(f"reading it needed more than the {self.memory >> 20} MiB memory "
                             "budget")


def checked_numel(dims, what: str = "shape") -> int:
    """The product of ``dims`` (non-negative ints), computed without building huge integers: a
    shape whose product passes :data:`MAX_NBYTES` is refused at the first factor that does."""
    if len(dims) > MAX_DIMS:
        raise OverBudget(f"a {what} of {len(dims)} dims (numpy allows {MAX_DIMS})")
    if any(d == 0 for d in dims):
        return 0
    total = 1
    for d in dims:
        total *= d
        if total > MAX_NBYTES:
            raise OverBudget(f"a {what} of more than 2**62 elements")
    return total
