"""What the children of `paddledoctor bench` share besides the channel (probes/children/_channel.py):
the eviction of a file's own pages from the page cache, and this process's memory figures. Standard library only; imported by path (a
child's script folder is first on sys.path when it starts), never imports paddledoctor."""

import os


def evict(path):
    """Drop this file's own pages from the page cache (after fsync, so none is dirty), so that the
    next read comes from the disk; never the whole machine's caches. Returns how, or None where this
    OS has no way to do it for one file (macOS, Windows: no posix_fadvise)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            return "posix_fadvise(DONTNEED)"
        return None
    finally:
        os.close(fd)


def no_cache(fd):
    """macOS: F_NOCACHE on a descriptor, so that its reads and writes bypass the cache (what fio's
    direct=1 uses there). True where it was set."""
    try:
        import fcntl
        if hasattr(fcntl, "F_NOCACHE"):
            fcntl.fcntl(fd, fcntl.F_NOCACHE, 1)
            return True
    except OSError:
        pass
    return False


def proc_status(field):
    """A figure of /proc/self/status in bytes (VmRSS, VmHWM); None where there is none (not Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None
