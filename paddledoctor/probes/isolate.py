"""Run probe scripts in child interpreters with deadlines, all driven by one event loop, and kill each
child's whole process group when its deadline passes, when it ends, or when the doctor is stopped.

The channel: a child reports by writing one JSON object per line to a pipe whose file descriptor
number it gets as its first argument; whatever the probed library prints on stdout/stderr does not
disturb that channel. Events that arrived before a crash or a hang are kept, so the caller can say
*where* the child died ("hung in: op on gpu:1"). On POSIX the pipe's end is passed with ``pass_fds``;
where there is no ``pass_fds`` (Windows) it is an inherited handle (``_start.py`` turns it into a file
descriptor). Every child starts through ``children/_start.py``, which also makes it die with the
doctor (PR_SET_PDEATHSIG on Linux, and a watchdog on its stdin's EOF everywhere).

The loop: one thread of the doctor drains the pipes of every running child (a selector where pipes
can be selected; a reader thread per pipe where they cannot, as on Windows), notes the moment each
child ends, and judges its deadline at that moment: a child that ended before its deadline is never
"timed out", however late the caller looks. A caller busy elsewhere (the static probes) never
blocks a child that writes more than a pipe holds.
"""

from __future__ import annotations

import json
import os
import queue
import selectors
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

CHILD_DIR = Path(__file__).resolve().parent / "children"
START = Path(__file__).resolve().parent / "children" / "_start.py"
_TAIL = 4000
_DRAIN_S = 0.25  # after the child ended: how long to read what is left in the pipes
_TICK_S = 0.05   # how often the loop looks at exits and deadlines when no pipe speaks

# What this OS has; each is forced off in the tests to prove the portable path on Linux.
_HAVE_PASS_FDS = os.name == "posix"          # Windows: subprocess asserts on pass_fds
_SELECT_PIPES = os.name == "posix"           # Windows: select() takes sockets only
_HAVE_WAITID = hasattr(os, "waitid")         # macOS before Python 3.13 has none
_HAVE_KILLPG = hasattr(os, "killpg")         # Windows: no process groups; the tree is killed
_USE_PDEATHSIG = sys.platform.startswith("linux")


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
    """A started child probe. The loop drains and judges it from the start; :meth:`wait` returns
    its result once it has ended. Start several, then wait on each, in any order."""

    def __init__(self, script: str, args: list[str] | None = None, timeout: float = 60.0,
                 env: dict | None = None):
        self.timeout = timeout
        self.result = ChildResult()
        self._t0 = time.monotonic()
        self.deadline = self._t0 + timeout
        self._lock = threading.Lock()      # reaping vs killing the group: never kill a reaped pid
        self._done = threading.Event()
        self._buffers = {"events": bytearray(), "stdout": bytearray(), "stderr": bytearray()}
        self._open: dict = {}              # stream name -> file descriptor still being read
        self.ended_at: float | None = None
        self._tree: list = []              # no process groups: the descendants last seen (psutil)
        self._tree_at = 0.0
        self.proc = None
        self._lifeline = None
        pipes = [os.pipe() for _ in range(3)]  # events, stdout, stderr: read ends are ours alone
        try:
            self.proc = _spawn(script, args or [], *(w for _, w in pipes), env)
        except (OSError, ValueError) as exc:
            self.result.start_error = str(exc)
            for r, _ in pipes:
                os.close(r)
            self._done.set()
            return
        finally:
            for _, w in pipes:
                os.close(w)
        self._lifeline = self.proc.stdin  # only we hold its other end: EOF tells the child we died
        self._open = dict(zip(("events", "stdout", "stderr"), (r for r, _ in pipes)))
        _LOOP.add(self)

    # -- the caller's side --------------------------------------------------------------------
    def wait(self, timeout: float | None = None) -> ChildResult:
        """The result, once the child has ended (or was killed at its deadline). Interruptible:
        Ctrl-C or a stop signal arrives here as KeyboardInterrupt."""
        end = None if timeout is None else time.monotonic() + timeout
        while not self._done.wait(0.1):
            if end is not None and time.monotonic() >= end:
                break
        return self.result

    def done(self) -> bool:
        return self._done.is_set()

    def kill(self) -> None:
        """Kill the child's process group (the child and whatever it started) and reap it, at once.
        The loop then collects what it wrote."""
        if self.proc is None:
            return
        with self._lock:
            self._kill_group()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass

    # -- the loop's side ----------------------------------------------------------------------
    def _exited(self) -> bool:
        """The child has ended. Where the OS allows, it is left unreaped, so that its pid still names
        its process group and the group can be killed after a normal exit."""
        if self.proc.returncode is not None:
            return True
        if _HAVE_WAITID:
            try:
                return os.waitid(os.P_PID, self.proc.pid,
                                 os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
            except ChildProcessError:  # already reaped
                return True
        if _HAVE_KILLPG:  # POSIX without waitid (macOS < 3.13): a zombie has ended, unreaped
            try:
                import psutil
                return psutil.Process(self.proc.pid).status() == psutil.STATUS_ZOMBIE
            except ImportError:
                pass
            except Exception:  # noqa: BLE001 - psutil.NoSuchProcess: gone
                return True
        return self.proc.poll() is not None  # Windows: the handle keeps the pid from reuse

    def _kill_group(self) -> None:
        """Under self._lock. A reaped child's pid may name another process group by now: with
        process groups, only an unreaped child's is killed. Without them, the tree seen while it ran
        is (psutil refuses a pid that was reused meanwhile)."""
        running = self.proc.returncode is None
        if not _HAVE_KILLPG:
            _kill_tree(self.proc.pid if running else None, self._tree)
        elif running:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
                return
            except (ProcessLookupError, PermissionError, OSError):
                pass
        if running:
            try:
                self.proc.kill()
            except OSError:
                pass

    def _feed(self, name: str, chunk: bytes) -> None:
        if not chunk:
            self._open.pop(name, None)
            return
        buf = self._buffers[name]
        buf.extend(chunk)
        if name != "events" and len(buf) > 4 * _TAIL:
            del buf[: len(buf) - 2 * _TAIL]

    def _judge(self, now: float) -> bool:
        """One look by the loop: True when the child is finished (then collected)."""
        if self.ended_at is None and self._exited():
            self.ended_at = now  # it ended before this look, so before any deadline judged below
        if self.ended_at is None:
            if not _HAVE_KILLPG and now - self._tree_at > 0.5:
                # what it started, while it can still be found under it (an orphan cannot)
                self._tree, self._tree_at = _descendants(self.proc.pid), now
            if now < self.deadline:
                return False
            self.result.timed_out = True  # still running at its deadline: the whole group dies
            with self._lock:
                self._kill_group()
            self.ended_at = now
        if self._open and now - self.ended_at <= _DRAIN_S:
            return False  # read what it wrote last (a helper that holds the pipes open: not long)
        return True

    def _collect(self) -> None:
        """The child ended: kill the group (nothing it started outlives it), reap, parse."""
        with self._lock:
            self._kill_group()
            try:
                self.result.returncode = self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.result.returncode = None
        end = self.ended_at if self.ended_at is not None else time.monotonic()
        self.result.seconds = (time.monotonic() if self.result.timed_out else end) - self._t0
        self.result.events = _parse_events(bytes(self._buffers["events"]))
        self.result.stdout = self._buffers["stdout"].decode("utf-8", "replace")[-_TAIL:]
        self.result.stderr = self._buffers["stderr"].decode("utf-8", "replace")[-_TAIL:]
        try:
            self._lifeline.close()
        except OSError:
            pass
        self._done.set()


def _spawn(script: str, args: list[str], write_fd: int, out_fd: int, err_fd: int,
           env: dict | None) -> subprocess.Popen:
    """Start ``_start.py`` with the script. The event pipe's write end reaches the child with
    pass_fds (POSIX), or as an inherited file descriptor or handle where pass_fds is missing."""
    kwargs: dict = {}
    if _HAVE_PASS_FDS:
        channel = str(write_fd)
        kwargs["pass_fds"] = (write_fd,)
    elif os.name == "nt":
        import msvcrt
        handle = msvcrt.get_osfhandle(write_fd)
        os.set_handle_inheritable(handle, True)
        info = subprocess.STARTUPINFO()
        info.lpAttributeList = {"handle_list": [handle]}  # this handle and stdio only
        kwargs.update(startupinfo=info, close_fds=True,
                      creationflags=getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0))
        channel = f"h{handle}"
    else:  # POSIX without pass_fds (forced in the tests): an inheritable descriptor
        os.set_inheritable(write_fd, True)
        kwargs["close_fds"] = False
        channel = str(write_fd)
    if os.name == "posix":
        kwargs["start_new_session"] = True  # its own process group, so a kill takes its children
    cmd = [sys.executable, str(START), str(os.getpid()), channel, "1" if _USE_PDEATHSIG else "0",
           str(CHILD_DIR / script), *args]
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=out_fd, stderr=err_fd, env=env,
                            **kwargs)


def _descendants(pid: "int | None") -> list:
    if pid is None:
        return []
    try:
        import psutil
        return psutil.Process(pid).children(recursive=True)
    except Exception:  # noqa: BLE001 - psutil missing, or the child gone
        return []


def _kill_tree(pid: "int | None", seen: list) -> None:
    """Where there are no process groups: the child's descendants, those found now (while it
    runs) and those seen earlier, then the child."""
    for proc in _descendants(pid) + list(seen):
        try:
            proc.kill()
        except Exception:  # noqa: BLE001 - psutil.NoSuchProcess: gone already
            pass


class _Loop:
    """The one event loop over every running child, in a daemon thread of its own (started with the
    first child, ended when none is left)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._children: list[Child] = []
        self._new: list[Child] = []
        self._thread: threading.Thread | None = None

    def add(self, child: Child) -> None:
        with self._lock:
            self._new.append(child)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="paddledoctor-children",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        source = _SelectSource() if _SELECT_PIPES else _ThreadSource()
        try:
            while True:
                with self._lock:
                    for child in self._new:
                        self._children.append(child)
                        source.add(child)
                    self._new.clear()
                    if not self._children:
                        self._thread = None
                        return
                for child, name, chunk in source.read(_TICK_S):
                    child._feed(name, chunk)
                now = time.monotonic()
                for child in list(self._children):
                    try:
                        finished = child._judge(now)
                    except Exception:  # noqa: BLE001 - never leave a caller waiting forever
                        child.ended_at = child.ended_at or now
                        finished = True
                    if finished:
                        source.remove(child)
                        self._children.remove(child)
                        try:
                            child._collect()
                        finally:
                            child._done.set()
        finally:
            source.close()


class _SelectSource:
    def __init__(self):
        self.sel = selectors.DefaultSelector()

    def add(self, child: Child) -> None:
        for name, fd in child._open.items():
            self.sel.register(fd, selectors.EVENT_READ, (child, name))

    def read(self, timeout: float):
        if not self.sel.get_map():
            time.sleep(timeout)
            return []
        out = []
        for key, _ in self.sel.select(timeout):
            child, name = key.data
            try:
                chunk = os.read(key.fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                self._forget(key.fd)
            out.append((child, name, chunk))
        return out

    def _forget(self, fd: int) -> None:
        try:
            self.sel.unregister(fd)
        except (KeyError, ValueError):
            pass
        _close_fd(fd)

    def remove(self, child: Child) -> None:
        for fd in list(child._open.values()):
            self._forget(fd)
        child._open.clear()

    def close(self) -> None:
        for key in list(self.sel.get_map().values()):
            self._forget(key.fd)
        self.sel.close()


class _ThreadSource:
    """Where pipes cannot be selected: one reader thread per pipe, all feeding one queue. A reader
    owns its descriptor and closes it at EOF (closing it under a blocked read is not portable)."""

    def __init__(self):
        self.q: queue.Queue = queue.Queue()

    def add(self, child: Child) -> None:
        for name, fd in child._open.items():
            threading.Thread(target=self._reader, args=(child, name, fd), daemon=True,
                             name=f"paddledoctor-{name}").start()

    def _reader(self, child: Child, name: str, fd: int) -> None:
        try:
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    chunk = b""
                self.q.put((child, name, chunk))
                if not chunk:
                    break
        finally:
            _close_fd(fd)

    def read(self, timeout: float):
        out = []
        try:
            out.append(self.q.get(timeout=timeout))
            while True:
                out.append(self.q.get_nowait())
        except queue.Empty:
            pass
        return out

    def remove(self, child: Child) -> None:
        child._open.clear()

    def close(self) -> None:
        pass


def _close_fd(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


_LOOP = _Loop()


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
