"""Child of `paddledoctor bench`: the disk's own limit, measured where the checkpoints go.

Run as ``python bench_disk.py FD JSON``; JSON holds {"dir": ..., "bytes": ...}. Writes a file of that
many bytes with fsync at the end (the rate a checkpoint can reach at best), then evicts this file's
own pages from the page cache (posix_fadvise DONTNEED; never the whole machine's caches) and reads it
back cold. Where the pages stay resident (tmpfs, or fadvise ignored) it tries O_DIRECT, and failing
that says the read was warm. Standard library only; never imports paddledoctor.
"""

import ctypes
import ctypes.util
import errno
import io
import json
import mmap
import os
import sys
import time

from _channel import OUT, emit  # _start.py puts the channel's folder on sys.path
from bench_io import evict, no_cache  # this script's folder is first on sys.path

CHUNK = 8 << 20
WRITE_PASSES = 2
MEMORY_FS = ("tmpfs", "ramfs")


def fs_type(path):
    """The filesystem type of path, from /proc/self/mounts (longest mount point that contains it)."""
    best, kind = "", None
    try:
        with open("/proc/self/mounts", encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3:
                    mnt = parts[1].replace("\\040", " ")
                    if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
                        best, kind = mnt, parts[2]
    except OSError:
        return None
    return kind


def resident_fraction(path):
    """Which share of path's pages is in the page cache (mincore), or None where it cannot be told."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.mmap.restype = ctypes.c_void_p
        libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                              ctypes.c_int, ctypes.c_long]
        libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
        libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        size = os.path.getsize(path)
        if size == 0:
            return 0.0
        pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
        vec = (ctypes.c_ubyte * pages)()
        fd = os.open(path, os.O_RDONLY)
        try:
            ptr = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        finally:
            os.close(fd)
        if ptr is None or ptr == ctypes.c_void_p(-1).value:
            return None
        try:
            if libc.mincore(ptr, size, vec) != 0:
                return None
        finally:
            libc.munmap(ptr, size)
        return sum(b & 1 for b in bytes(vec)) / pages
    except Exception:
        return None


def read_all(path, direct=False, uncached=False):
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | (getattr(os, "O_DIRECT", 0) if direct else 0)
    fd = os.open(path, flags)
    if uncached:
        no_cache(fd)
    try:
        buf = mmap.mmap(-1, CHUNK)  # page-aligned: what O_DIRECT needs
        view = memoryview(buf)
        total = 0
        reader = io.FileIO(fd, "rb", closefd=False)  # readinto: os.readv is POSIX only
        while True:
            n = reader.readinto(view)
            if not n:
                break
            total += n
        view.release()
        buf.close()
        return total
    finally:
        os.close(fd)


def main():
    args = json.loads(sys.argv[2])
    directory, size = args["dir"], int(args["bytes"])
    path = os.path.join(directory, "disk-limit.bin")
    facts = {"bytes": size, "fs_type": fs_type(os.path.realpath(directory))}
    emit("stage", name="disk: sequential write + fsync")
    block = os.urandom(CHUNK)  # incompressible, so a compressing filesystem does not flatter the disk
    # The limit is what the disk can do: the better of two passes, since one pass on shared or
    # virtual storage can land on a stall (here: 460 to 1,700 MB/s for the same 512 MiB).
    runs = []
    uncached = False  # macOS: written and read with F_NOCACHE, so the read is not from the cache
    for _ in range(WRITE_PASSES):
        t0 = time.perf_counter()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
        if not hasattr(os, "posix_fadvise"):
            uncached = no_cache(fd)
        try:
            left = size
            while left > 0:
                n = os.write(fd, block[: min(CHUNK, left)])
                left -= n
            os.fsync(fd)
        finally:
            os.close(fd)
        runs.append(time.perf_counter() - t0)
    facts["write_s"] = min(runs)
    facts["write_mbps"] = size / facts["write_s"] / 1e6
    facts["write_passes_mbps"] = [round(size / s / 1e6, 1) for s in runs]

    emit("stage", name="disk: cold read")
    method = evict(path)
    resident = resident_fraction(path)
    note = ""
    if method is None and uncached and (resident is None or resident <= 0.5):
        method = "F_NOCACHE"
    elif method is None:
        method = "none"
        note = (f"a cold read cannot be measured on {sys.platform}: it gives a program no way to "
                "drop one file's pages from the cache (no posix_fadvise, no F_NOCACHE), and the "
                "doctor never flushes the whole machine's; the read figure is memory, not a disk")
    if method == "none":
        pass
    elif facts["fs_type"] in MEMORY_FS:
        method = "none"
        note = (f"a cold read cannot be had: {directory} is on {facts['fs_type']}, which keeps "
                "files in memory; the read figure is memory, not a disk")
    elif resident is not None and resident > 0.5:
        method = "O_DIRECT"
        try:
            t0 = time.perf_counter()
            read_all(path, direct=True)
            facts["read_s"] = time.perf_counter() - t0
        except OSError as exc:  # EINVAL: this filesystem does not do O_DIRECT (tmpfs)
            method = "none"
            note = (f"a cold read could not be had: the file stayed in memory after "
                    f"posix_fadvise ({facts['fs_type'] or 'unknown'} filesystem) and O_DIRECT "
                    f"failed ({errno.errorcode.get(exc.errno, exc.errno)}); the read is from memory")
    if method != "O_DIRECT" or "read_s" not in facts:
        t0 = time.perf_counter()
        read_all(path, uncached=method == "F_NOCACHE")
        facts["read_s"] = time.perf_counter() - t0
    facts["read_mbps"] = size / facts["read_s"] / 1e6
    facts["cold"] = method != "none"
    facts["cold_method"] = method
    facts["resident_after_evict"] = resident
    facts["note"] = note
    os.unlink(path)
    emit("result", key="disk", value=facts)


if __name__ == "__main__":
    try:
        main()
    except OSError as exc:
        emit("failure", stage="disk", errno=errno.errorcode.get(exc.errno, str(exc.errno)),
             error=f"{type(exc).__name__}: {exc.strerror or exc}", filename=exc.filename)
    OUT.flush()
    os._exit(0)
