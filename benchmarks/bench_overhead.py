"""How long `paddledoctor bench` takes against a bare script doing the same paddle.save +
paddle.load of the same state, on this machine.

    python benchmarks/bench_overhead.py [--size 256MiB] [--runs 3] [--dir DIR]

The bare script imports paddle, builds the same model (square Linear layers holding --size of
float32 parameters), trains it the same two steps with AdamW and an LR scheduler, saves the model's
and the optimizer's state with paddle.save and loads both back with paddle.load. The bench does
that and more (the disk's limit, fsync and cold loads, bit-for-bit comparison into fresh objects,
the safetensors peer, and resume/static/inference/jit/async_save on small models). Target (issue
#3): the bench at most 3x the bare script. Runs them in turn (A B A B ...) after one warm-up round
and prints the medians and the ratio. The machine is shared: read the medians and the spread.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

BARE = r'''
import os, sys
import paddle
size, directory = int(sys.argv[1]), sys.argv[2]
layers = 8 if size >= (64 << 20) else 4
width = max(8, int((size / 4 / layers) ** 0.5))
paddle.seed(7)
model = paddle.nn.Sequential(*[paddle.nn.Linear(width, width) for _ in range(layers)])
sched = paddle.optimizer.lr.StepDecay(learning_rate=1e-3, step_size=1, gamma=0.5)
opt = paddle.optimizer.AdamW(learning_rate=sched, parameters=model.parameters(), weight_decay=0.01)
for i in range(2):
    loss = (model(paddle.randn([4, width])) ** 2).mean()
    loss.backward()
    opt.step()
    opt.clear_grad(set_to_zero=False)
    sched.step()
paddle.save(model.state_dict(), os.path.join(directory, "m.pdparams"))
paddle.save(opt.state_dict(), os.path.join(directory, "m.pdopt"))
paddle.load(os.path.join(directory, "m.pdparams"))
paddle.load(os.path.join(directory, "m.pdopt"))
'''


def wall(cmd: list[str]) -> float:
    env = dict(os.environ, NO_COLOR="1")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t0
    if proc.returncode not in (0, 1):  # 1: the bench found something (a torn async_save is a warn)
        sys.exit(f"{cmd[:4]} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="256MiB")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", default=None, help="where both write (default: a temp folder)")
    args = ap.parse_args()
    from paddledoctor.bench import parse_size
    size = parse_size(args.size)
    with tempfile.TemporaryDirectory(dir=args.dir) as where:
        script = os.path.join(where, "bare.py")
        with open(script, "w") as f:
            f.write(BARE)
        out = os.path.join(where, "out")
        os.mkdir(out)
        commands = {
            "bare: paddle.save + paddle.load": [sys.executable, script, str(size), out],
            f"paddledoctor bench --size {args.size}": [
                sys.executable, "-m", "paddledoctor", "bench", "--size", args.size, "--dir", out, "--json"],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for name, cmd in commands.items():  # warm-up: the page cache holds paddle's libraries
            wall(cmd)
        for _ in range(args.runs):
            for name, cmd in commands.items():
                times[name].append(wall(cmd))
    (bare_name, bare), (bench_name, bench) = times.items()
    for name, ts in times.items():
        print(f"{name:45s} median {statistics.median(ts):6.2f} s   (runs: "
              + ", ".join(f"{t:.2f}" for t in ts) + ")")
    ratio = statistics.median(bench) / statistics.median(bare)
    print(f"ratio bench / bare: {ratio:.2f}x (target: at most 3x)")


if __name__ == "__main__":
    main()
