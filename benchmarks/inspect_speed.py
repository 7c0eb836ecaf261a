"""How long `paddledoctor inspect` takes to list a 1 GiB .pdparams, against `paddle.load` of the
same file, and the peak memory of each.

    python benchmarks/inspect_speed.py [--runs 5] [--size-mib 1024] [--file F.pdparams] [--keep]

Without --file, writes a state dict of 16 float32 parameters (``--size-mib`` in all) with the
installed Paddle (paddle.save, default protocol 4) in a temporary folder. Then runs, in turn,
after one warm-up round (the file is in the page cache for every run):

- ``paddledoctor inspect FILE --json`` as a user would (a new interpreter each time);
- ``python -c "import paddle; paddle.load(FILE)"`` (a new interpreter each time);

and, inside those same children, the time of the call alone (``inspect_facts`` vs
``paddle.load``, without the interpreter start and the imports). Prints the median and spread of
each, the ratios, and each child's peak resident memory (ru_maxrss). Target (issue #5): listing
at least 5x faster than paddle.load, with a peak memory well under the file size. The machine may
be shared: read the medians, not a single run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

WRITE = r"""
import sys, numpy as np, paddle
path, mib = sys.argv[1], int(sys.argv[2])
n = 16
per = mib * 2**20 // 4 // n
state = {f"layer_{i}.weight": paddle.to_tensor(np.full([per // 1024, 1024], i, "float32"))
         for i in range(n)}
paddle.save(state, path)
"""

INSPECT_CALL = r"""
import sys, time
t = time.perf_counter()
from paddledoctor.inspect import inspect_facts
facts = inspect_facts([sys.argv[1]])
took = time.perf_counter() - t
assert not facts["files"][0]["problems"], facts["files"][0]["problems"]
print("CALL", took, len(facts["files"][0]["tensors"]))
"""

LOAD_CALL = r"""
import sys, time
import paddle
t = time.perf_counter()
state = paddle.load(sys.argv[1])
took = time.perf_counter() - t
print("CALL", took, len(state))
"""


def run(cmd: list[str]) -> tuple[float, float | None, int]:
    """(wall seconds, seconds of the call as the child measured it, peak RSS in bytes)."""
    env = dict(os.environ, NO_COLOR="1", CUDA_VISIBLE_DEVICES="")
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out = proc.stdout.read().decode()
    err = proc.stderr.read().decode()
    proc.stdout.close()
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} failed ({proc.returncode}):\n{err[-2000:]}")
    call = next((float(line.split()[1]) for line in out.splitlines() if line.startswith("CALL")), None)
    return wall, call, usage.ru_maxrss * 1024


def fmt(values: list[float]) -> str:
    return f"{statistics.median(values):8.3f} s (min {min(values):.3f}, max {max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--file", help="an existing .pdparams (default: write one)")
    parser.add_argument("--keep", action="store_true", help="keep the written file")
    args = parser.parse_args()

    tmp = None
    path = args.file
    if path is None:
        tmp = tempfile.mkdtemp(prefix="pd-inspect-bench-")
        path = os.path.join(tmp, "model.pdparams")
        print(f"writing {args.size_mib} MiB with paddle.save -> {path}", flush=True)
        subprocess.run([sys.executable, "-c", WRITE, path, str(args.size_mib)], check=True,
                       env=dict(os.environ, CUDA_VISIBLE_DEVICES=""), capture_output=True)
    size = os.path.getsize(path)

    commands = {
        "paddledoctor inspect FILE --json": [sys.executable, "-m", "paddledoctor", "inspect", path,
                                             "--json"],
        "inspect_facts (library, in a child)": [sys.executable, "-c", INSPECT_CALL, path],
        "import paddle; paddle.load(FILE)": [sys.executable, "-c", LOAD_CALL, path],
    }
    walls: dict[str, list[float]] = {k: [] for k in commands}
    calls: dict[str, list[float]] = {k: [] for k in commands}
    peaks: dict[str, list[int]] = {k: [] for k in commands}
    for round_ in range(args.runs + 1):  # round 0 warms the page cache and the imports
        for name, cmd in commands.items():
            wall, call, peak = run(cmd)
            if round_:
                walls[name].append(wall)
                peaks[name].append(peak)
                if call is not None:
                    calls[name].append(call)

    print(f"\nfile: {path} ({size / 2**30:.2f} GiB), {args.runs} runs each, medians\n")
    for name in commands:
        line = f"{name:38s} wall {fmt(walls[name])}"
        if calls[name]:
            line += f"   call {statistics.median(calls[name]) * 1000:9.2f} ms"
        line += f"   peak RSS {statistics.median(peaks[name]) / 2**20:8.1f} MiB"
        print(line)
    cli = statistics.median(walls["paddledoctor inspect FILE --json"])
    load = statistics.median(walls["import paddle; paddle.load(FILE)"])
    call_inspect = statistics.median(calls["inspect_facts (library, in a child)"])
    call_load = statistics.median(calls["import paddle; paddle.load(FILE)"])
    peak_cli = statistics.median(peaks["paddledoctor inspect FILE --json"])
    print(f"\nratio, whole commands (paddle.load / inspect): {load / cli:8.1f}x  (target >= 5x)")
    print(f"ratio, the calls alone (paddle.load / inspect_facts): {call_load / call_inspect:8.0f}x")
    print(f"inspect peak memory: {peak_cli / 2**20:.1f} MiB = {peak_cli / size:.1%} of the file")
    if tmp and not args.keep:
        os.remove(path)
        os.rmdir(tmp)


if __name__ == "__main__":
    main()
