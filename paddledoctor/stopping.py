"""SIGINT, SIGTERM and SIGHUP take one clean path.

A pre-flight tool is stopped by Kubernetes, Slurm, ``timeout`` and closing SSH sessions (SIGTERM,
SIGHUP) as often as by Ctrl-C. While :func:`guard` is active, each of these raises :class:`Stopped`
in the main thread. ``Stopped`` is a ``KeyboardInterrupt``, so every ``finally`` that already cleans
up after Ctrl-C (kill the children's process groups, remove the bench's folder and the fleet's
markers) runs for all three. The CLI then prints one line and exits 128+n; a library caller's
process ends by the signal as it would have without the doctor, only after the cleanup.

A disposition the process inherited as "ignore" (``nohup``, a background job's SIGINT) is kept.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import Iterator

NAMES = ("SIGINT", "SIGTERM", "SIGHUP")


class Stopped(KeyboardInterrupt):
    """The doctor was stopped by a signal (``signum``); raised in the main thread."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal_name(self.signum)

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def signals() -> list[int]:
    """The stop signals this OS has (Windows has no SIGHUP)."""
    return [getattr(signal, n) for n in NAMES if hasattr(signal, n)]


class _State:
    depth = 0
    stopping: "int | None" = None
    saved: dict = {}


def _handler(signum, frame):
    if _State.stopping is not None:
        return  # already on the way out: a second signal must not cut the cleanup short
    _State.stopping = signum
    raise Stopped(signum)


def _is_default(signum: int, current) -> bool:
    if current in (signal.SIG_IGN, None):
        return False  # inherited "ignore" (nohup), or set from C: leave it
    if signum == signal.SIGINT:
        return current is signal.default_int_handler
    return current == signal.SIG_DFL


@contextlib.contextmanager
def guard(only_defaults: bool = False) -> Iterator[None]:
    """While inside: the stop signals raise :class:`Stopped`. ``only_defaults``: take over only the
    signals whose handler is still Python's default (a library inside someone's program leaves their
    own handlers alone). Nested guards share the outer one's handlers. Off the main thread it does
    nothing (signals are delivered to the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if _State.depth:
        _State.depth += 1
        try:
            yield
        finally:
            _State.depth -= 1
        return
    saved = {}
    for signum in signals():
        try:
            current = signal.getsignal(signum)
            if current == signal.SIG_IGN or current is None:
                continue
            if only_defaults and not _is_default(signum, current):
                continue
            signal.signal(signum, _handler)
            saved[signum] = current
        except (ValueError, OSError):  # an embedded interpreter without signal support
            continue
    _State.depth, _State.stopping, _State.saved = 1, None, saved
    try:
        yield
    finally:
        for signum, previous in saved.items():
            try:
                signal.signal(signum, previous)
            except (ValueError, OSError):
                pass
        _State.depth, _State.saved = 0, {}


def stopping() -> "int | None":
    """The signal the doctor is being stopped by, if any."""
    return _State.stopping


def die_by(exc: Stopped) -> None:
    """After the cleanup: end this process by the signal, as it would have ended without the doctor
    (the default disposition, restored first). Returns only where that did not end it."""
    signum = exc.signum
    if signum == signal.SIGINT:
        return  # a KeyboardInterrupt is what a Python program expects from Ctrl-C
    try:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
    except (ValueError, OSError, AttributeError):
        return


@contextlib.contextmanager
def library_guard() -> Iterator[None]:
    """For the library's entry points (``check()``, ``preflight()``): inside someone's program, take
    over only the stop signals still at their default; after the cleanup, end the process by the
    signal as it would have ended (SIGINT: the KeyboardInterrupt goes on). Inside the CLI's guard
    (or off the main thread) it adds nothing."""
    outer = _State.depth == 0 and threading.current_thread() is threading.main_thread()
    try:
        with guard(only_defaults=True):
            yield
    except Stopped as exc:
        if outer:
            die_by(exc)
        raise
