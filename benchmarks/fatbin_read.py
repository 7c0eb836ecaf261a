"""How long the binaries probe takes on a Paddle install: cold (nothing cached, the libraries' pages
evicted from the OS page cache with posix_fadvise, so the headers come from the disk), cold with the
pages in memory, warm (the doctor's per-file cache), and `check --quick` with the cache warm.

    python benchmarks/fatbin_read.py --paddle /path/to/site-packages/paddle [--repeat 5]

The site-packages folder holding that paddle is put first on PYTHONPATH for `check --quick`, so an
unpacked wheel works as well as an installed one. Prints medians; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from paddledoctor.probes import binaries  # noqa: E402
from paddledoctor.probes.binaries import paddle_libraries, read_file_facts  # noqa: E402


def evict(paths):
    """Drop these files' pages from the page cache (only theirs: nothing else on the machine)."""
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def median_s(fn, repeat, before=None):
    times = []
    for _ in range(repeat):
        if before:
            before()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times), max(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--paddle", required=True, help="the paddle package folder")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    paddle = os.path.abspath(args.paddle)
    libs = paddle_libraries(paddle)
    if not libs:
        sys.exit(f"no shared libraries under {paddle}")
    facts = {"found": True, "location": paddle}
    size = sum(os.path.getsize(p) for p in libs)
    print(f"{len(libs)} libraries, {size / 2**30:.2f} GiB, under {paddle}")
    biggest = max(libs, key=os.path.getsize)
    can_evict = hasattr(os, "posix_fadvise")

    def row(name, stats):
        med, lo, hi = stats
        print(f"  {name:<58} median {med * 1000:8.1f} ms  (min {lo * 1000:.1f}, max {hi * 1000:.1f})")

    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp, "cache")

        def empty_cache():
            for f in cache.glob("*"):
                f.unlink()

        def cold():
            empty_cache()
            if can_evict:
                evict(libs)

        if can_evict:
            row(f"read {os.path.basename(biggest)} headers, pages evicted (in process)",
                median_s(lambda: read_file_facts(biggest), args.repeat, lambda: evict([biggest])))
        row(f"read {os.path.basename(biggest)} headers, pages in memory (in process)",
            median_s(lambda: read_file_facts(biggest), args.repeat))
        if can_evict:
            row("probe, cold: no doctor cache, pages evicted (child reads)",
                median_s(lambda: binaries.probe(facts, folder=cache), args.repeat, cold))
        row("probe, no doctor cache, pages in memory (child reads)",
            median_s(lambda: binaries.probe(facts, folder=cache), args.repeat, empty_cache))
        binaries.probe(facts, folder=cache)
        row("probe, warm: the doctor's cache", median_s(lambda: binaries.probe(facts, folder=cache),
                                                        args.repeat))
        env = dict(os.environ, PADDLEDOCTOR_CACHE_DIR=str(cache),
                   PYTHONPATH=os.pathsep.join([os.path.dirname(paddle), str(ROOT)]))
        cmd = [sys.executable, "-m", "paddledoctor", "check", "--quick", "--json"]
        subprocess.run(cmd, env=env, capture_output=True, timeout=120)
        row("check --quick, cache warm (whole process)",
            median_s(lambda: subprocess.run(cmd, env=env, capture_output=True, timeout=120),
                     args.repeat))
        doc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120).stdout
        import json
        try:
            b = json.loads(doc)["facts"]["binaries"]
            print(f"  check --quick read: build {b['build'].get('sass')} PTX {b['build'].get('ptx')}, "
                  f"cache {b['cache']['status']}, probe {b['probe_s'] * 1000:.1f} ms")
        except (ValueError, KeyError, TypeError) as exc:
            print(f"  (could not read check --quick's JSON: {exc})")


if __name__ == "__main__":
    main()
