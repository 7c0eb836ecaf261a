"""How long `paddledoctor check` takes against Paddle's own `run_check`, on this machine.

    python benchmarks/check_speed.py [--runs 5]

Runs the three commands in turn (A B C A B C ...), after one warm-up round, and prints the median
wall time of each and the ratios to the baseline. Targets (issue #2): `check` at most 1.0x the
baseline (issue #10; 1.25x in issue #2), `check --quick` at most 0.3x (aim 0.2x). Needs only the project's dependencies and
Paddle. The machine is shared: read the medians, and the spread, not a single run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "baseline: import paddle; paddle.utils.run_check()":
        [sys.executable, "-c", "import paddle; paddle.utils.run_check()"],
    "paddledoctor check": [sys.executable, "-m", "paddledoctor", "check"],
    "paddledoctor check --quick": [sys.executable, "-m", "paddledoctor", "check", "--quick"],
}
TARGETS = {"paddledoctor check": 1.0, "paddledoctor check --quick": 0.3}


def wall(cmd: list[str]) -> float:
    env = dict(os.environ, NO_COLOR="1")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for name, cmd in COMMANDS.items():  # warm-up: page cache, .pyc files
        wall(cmd)
    for _ in range(args.runs):
        for name, cmd in COMMANDS.items():
            times[name].append(wall(cmd))
    base_name = next(iter(COMMANDS))
    base = statistics.median(times[base_name])
    print(f"{'command':52} {'median s':>9} {'min':>7} {'max':>7} {'ratio':>7} {'target':>7}")
    for name, samples in times.items():
        med = statistics.median(samples)
        ratio = med / base
        target = TARGETS.get(name)
        verdict = "" if target is None else ("  ok" if ratio <= target else "  OVER")
        print(f"{name:52} {med:9.3f} {min(samples):7.3f} {max(samples):7.3f} {ratio:7.2f} "
              f"{(f'<= {target}' if target else ''):>7}{verdict}")
    print(f"({args.runs} runs each after a warm-up, interleaved; python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
