"""How every child starts: ``python _start.py PARENT_PID CHANNEL PDEATHSIG SCRIPT [ARGS...]``.

Before the child's script runs (as ``__main__``, with ``sys.argv == [SCRIPT, FD, ARGS...]``, exactly
as ``python SCRIPT FD ARGS...`` would run it):

- It dies with the doctor, even when the doctor is killed with SIGKILL and no ``finally`` of the
  doctor's runs. On Linux the kernel sends it SIGKILL when the doctor dies (PR_SET_PDEATHSIG, set
  through ctypes; it works even when the child is wedged in native code). Everywhere, a watchdog
  thread reads the lifeline, the child's stdin, whose other end only the doctor holds: at its EOF
  the child kills its whole process group (on Windows its process tree) and exits.
- Its stdin becomes the null device for the script and whatever it starts.
- CHANNEL, where its events go, becomes a plain file descriptor: on POSIX it is one already (passed
  with ``pass_fds``, or inherited); on Windows it is ``h<HANDLE>``, an inherited handle. Either way
  it is made non-inheritable here, so that nothing the script starts holds the channel open.
- This folder comes right after the script's own on sys.path, so that a child in any feature's
  ``children/`` folder imports the one channel module (``from _channel import emit, error_text``).

Standard library only; never imports paddledoctor.
"""

import os
import sys
import threading


def die_with_parent(parent_pid, pdeathsig):
    if pdeathsig and sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1: PR_SET_PDEATHSIG
        except Exception:  # noqa: BLE001 - the watchdog below still covers it
            pass
    if parent_pid and os.getppid() != parent_pid:
        os._exit(137)  # the doctor died before the line above: nobody is waiting for us


def kill_own_group():
    try:
        if hasattr(os, "killpg"):
            import signal
            os.killpg(os.getpgrp(), signal.SIGKILL)
        else:  # Windows: the tree under this process, then this process
            import subprocess
            subprocess.run(["taskkill", "/F", "/T", "/PID", str(os.getpid())],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
    except Exception:  # noqa: BLE001
        pass
    os._exit(137)


def watch_lifeline():
    """The doctor holds the other end of our stdin and never writes: EOF means it is gone."""
    try:
        life = os.dup(0)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
    except OSError:
        return

    def watch():
        try:
            while os.read(life, 1):
                pass
        except OSError:
            pass
        kill_own_group()

    threading.Thread(target=watch, name="paddledoctor-lifeline", daemon=True).start()


def channel_fd(channel):
    if channel.startswith("h"):  # Windows: an inherited handle
        import msvcrt
        fd = msvcrt.open_osfhandle(int(channel[1:]), os.O_WRONLY)
    else:
        fd = int(channel)
    try:
        os.set_inheritable(fd, False)
    except OSError:
        pass
    return fd


def main():
    parent, channel, pdeathsig, script = sys.argv[1:5]
    die_with_parent(int(parent), pdeathsig == "1")
    watch_lifeline()
    fd = channel_fd(channel)
    if not os.path.isfile(script):
        sys.stderr.write(f"{sys.executable}: can't open file {script!r}: no such file\n")
        sys.exit(2)
    sys.argv = [script, str(fd), *sys.argv[5:]]
    sys.path[0] = os.path.dirname(os.path.abspath(script))  # as `python SCRIPT` has it
    here = os.path.dirname(os.path.abspath(__file__))
    if here != sys.path[0]:
        sys.path.insert(1, here)  # the one channel module, _channel.py, for a child in any folder
    import runpy
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
