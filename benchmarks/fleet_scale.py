"""Wall time of `paddledoctor fleet` under Paddle's launcher at 1, 2, 3... ranks on this machine.

    python benchmarks/fleet_scale.py [--ranks 1,2,3] [--runs 3] [--sizes 64KiB,1MiB,16MiB]

For each rank count it runs `python -m paddle.distributed.launch --nproc_per_node N paddledoctor
fleet --json` in a temporary folder (the launcher's logs go there), and prints the median over the
runs of: the launcher's wall time, the time the ranks took to join (rank 0's view), the whole check
on rank 0, the bus bandwidth of the largest message, and the last step on rank 0 (the all-reduce of
the verdicts and the gather of the reports, from its start to the child's end). Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def script() -> str:
    here = Path(sys.executable).parent / "paddledoctor"
    return str(here) if here.exists() else (shutil.which("paddledoctor") or "paddledoctor")


def one_run(nproc: int, sizes: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="fleet-scale-") as tmp:
        env = dict(os.environ)
        env.pop("CUDA_VISIBLE_DEVICES", None)
        t0 = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node",
                               str(nproc), "--log_dir", f"{tmp}/log", script(), "fleet", "--json",
                               "--sizes", sizes],
                              cwd=tmp, env=env, capture_output=True, text=True, timeout=300)
        wall = time.monotonic() - t0
        log0 = Path(tmp, "log", "workerlog.0").read_text(errors="replace")
    doc = json.loads(log0[log0.index("{"):])
    fleet = doc["facts"]["fleet"]
    coll = fleet["collective"]
    rows = [r for r in (coll.get("bandwidth") or {}).get("rows") or [] if r.get("busbw_gbps")]
    times = dict((name, t) for name, t in coll.get("timeline") or [])
    return {"rc": proc.returncode, "wall": wall, "rank0": fleet["seconds"],
            "join": (coll.get("joined") or {}).get("seconds"),
            "busbw": rows[-1]["busbw_gbps"] if rows else None,
            "report_bytes": len(json.dumps(fleet["ranks"][0], separators=(",", ":"))),
            "gather_ms": ((times["done"] - times["gather reports"]) * 1000
                          if "done" in times and "gather reports" in times else None)}


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ranks", default="1,2,3")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sizes", default="64KiB,1MiB,16MiB")
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.runs} runs each, "
          f"sizes {args.sizes}")
    print(f"{'ranks':>5}  {'wall s':>7}  {'rank0 s':>7}  {'join s':>6}  {'busbw GB/s':>10}  "
          f"{'report B':>8}  {'gather ms':>9}  runs (wall s)")
    for n in [int(x) for x in args.ranks.split(",")]:
        runs = [one_run(n, args.sizes) for _ in range(args.runs)]
        bad = [r["rc"] for r in runs if r["rc"] not in (0,)]
        fmt = lambda v, spec: format(v, spec) if v is not None else "-"  # noqa: E731
        print(f"{n:>5}  {fmt(median(r['wall'] for r in runs), '7.2f')}  "
              f"{fmt(median(r['rank0'] for r in runs), '7.2f')}  "
              f"{fmt(median(r['join'] for r in runs), '6.2f')}  "
              f"{fmt(median(r['busbw'] for r in runs), '10.3f')}  "
              f"{fmt(median(r['report_bytes'] for r in runs), '8.0f')}  "
              f"{fmt(median(r['gather_ms'] for r in runs), '9.0f')}  "
              + " ".join(f"{r['wall']:.2f}" for r in runs)
              + (f"  (exit codes {bad})" if bad else ""))


if __name__ == "__main__":
    main()
