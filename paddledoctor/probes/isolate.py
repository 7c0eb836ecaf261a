"""Run a probe script in a child interpreter with a deadline, and kill it (its whole process group)
when the deadline passes or the parent is interrupted.

The child reports by writing one JSON object per line to a pipe whose file descriptor number it gets
as its first argument; whatever the probed library prints on stdout/stderr does not disturb that
channel. Events that arrived before a crash or a hang are kept, so the caller can say *where* the
child died ("hung in: op on gpu:1").
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

CHILD_DIR = Path(__file__).resolve().parent / "children"
_TAIL = 4000
_DRAIN_S = 0.25  # after the child ended: how long to read what is left in the pipes


@dataclass
class ChildResult:
    events: list[dict] = field(default_factory=list)
    returncode: int | None = None
    timed_out: bool = False
    seconds: float = 0.0
    stderr: str = ""
    stdout: str = ""
    start_error: str = ""

    @property
    def signal_name(self) -> str | None:
        if self.returncode is not None and self.returncode < 0:
            try:
                return signal.Signals(-self.returncode).name
            except ValueError:
                return f"signal {-self.returncode}"
        return None

    def last(self, kind: str) -> dict | None:
        for event in reversed(self.events):
            if event.get("event") == kind:
                return event
        return None

    def failure(self) -> str | None:
        """How the child ended, when it did not end well, in words."""
        if self.start_error:
            return f"could not start: {self.start_error}"
        if self.timed_out:
            return f"no answer in {self.seconds:.0f} s (killed)"
        if self.signal_name:
            return f"killed by {self.signal_name}"
        if self.returncode:
            return f"exited with status {self.returncode}"
        return None


class Child:
    """A started child probe; :meth:`wait` collects it. Start several, then wait on each."""

    def __init__(self, script: str, args: list[str] | None = None, timeout: float = 60.0,
                 env: dict | None = None):
        self.timeout = timeout
        self.result = ChildResult()
        self._t0 = time.monotonic()
        read_fd, write_fd = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, str(CHILD_DIR / script), str(write_fd), *(args or [])],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(write_fd,),
                env=env,
                start_new_session=True,  # its own process group, so a kill takes its children too
            )
        except OSError as exc:
            self.proc = None
            self.result.start_error = str(exc)
            os.close(read_fd)
            return
        finally:
            os.close(write_fd)
        self._events = os.fdopen(read_fd, "rb", buffering=0)

    def wait(self) -> ChildResult:
        if self.proc is None:
            return self.result
        buffers = {"events": bytearray(), "stdout": bytearray(), "stderr": bytearray()}
        sel = selectors.DefaultSelector()
        sel.register(self._events, selectors.EVENT_READ, "events")
        sel.register(self.proc.stdout, selectors.EVENT_READ, "stdout")
        sel.register(self.proc.stderr, selectors.EVENT_READ, "stderr")
        deadline = self._t0 + self.timeout
        finished = False
        exited_at = None
        try:
            while sel.get_map():
                now = time.monotonic()
                remaining = deadline - now
                if remaining <= 0:
                    self.result.timed_out = True
                    break
                if exited_at is None and self._exited():
                    exited_at = now
                elif exited_at is not None and now - exited_at > _DRAIN_S:
                    break  # it ended, but something it started still holds the pipes open
                for key, _ in sel.select(timeout=min(remaining, 0.1 if exited_at else 0.5)):
                    chunk = os.read(key.fileobj.fileno(), 65536)
                    if not chunk:
                        sel.unregister(key.fileobj)
                        continue
                    buf = buffers[key.data]
                    buf.extend(chunk)
                    if key.data != "events" and len(buf) > 4 * _TAIL:
                        del buf[: len(buf) - 2 * _TAIL]
            finished = not self.result.timed_out
        finally:
            sel.close()
            # A timeout that only stops waiting is no timeout: on a deadline or an interrupt (Ctrl-C)
            # the whole process group is killed at once. When the pipes closed normally the process
            # gets a moment to exit on its own; then the group is killed all the same, so that nothing
            # it started (a helper left running by the probed library) outlives it.
            if finished:
                end = time.monotonic() + 2
                while not self._exited() and time.monotonic() < end:
                    time.sleep(0.01)
            self.kill()
            self.result.returncode = self.proc.wait()
            self.result.seconds = time.monotonic() - self._t0
            for stream in (self._events, self.proc.stdout, self.proc.stderr):
                stream.close()
        self.result.events = _parse_events(bytes(buffers["events"]))
        self.result.stdout = buffers["stdout"].decode("utf-8", "replace")[-_TAIL:]
        self.result.stderr = buffers["stderr"].decode("utf-8", "replace")[-_TAIL:]
        return self.result

    def _exited(self) -> bool:
        """The child has ended. It is left unreaped, so its pid still names its process group."""
        if not hasattr(os, "waitid"):
            return self.proc.poll() is not None
        try:
            return os.waitid(os.P_PID, self.proc.pid,
                             os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except ChildProcessError:  # already reaped
            return True

    def kill(self) -> None:
        """Kill the child's process group: the child and whatever it started."""
        if self.proc is None or self.proc.returncode is not None:
            return  # reaped: its pid may name another process group by now
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, AttributeError):  # AttributeError: no killpg
            self.proc.kill()


def _parse_events(data: bytes) -> list[dict]:
    events = []
    for line in data.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash
        if isinstance(event, dict):
            events.append(event)
    return events


def run(script: str, args: list[str] | None = None, timeout: float = 60.0,
        env: dict | None = None) -> ChildResult:
    child = Child(script, args, timeout, env)
    try:
        return child.wait()
    finally:
        child.kill()
