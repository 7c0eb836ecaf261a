"""Write the regression fixtures: reports written by EARLIER doctor versions, on the simulated machine.

Each run checks out an old commit of this repository into a temporary git worktree, and runs THAT
commit's ``python -m paddledoctor`` (its package first on PYTHONPATH, this venv's interpreter and
dependencies) on the machine the tests simulate: the stand-in libnvidia-ml.so.1 of
tests/fakes/nvml (built from this checkout; the old doctor's probes load it through the real
nvidia-ml-py), the real CPU paddlepaddle of the venv. The document it prints is kept, byte for byte,
under tests/fixtures/regression/<commit>/<name>.json. tests/fixtures/regression/README.md says which
command wrote each file; tests/report/test_regression_reports.py re-diagnoses each with check --from.

    python tools/regression_reports.py            # every run below (a few minutes)
    python tools/regression_reports.py 9fa1d42    # the runs of one commit

Never run by the tests: the fixtures are kept as the old versions wrote them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "regression"
sys.path.insert(0, str(ROOT / "tests" / "fakes" / "nvml"))
import build as fake_nvml  # noqa: E402  (tests/fakes/nvml/build.py)

A100 = {"name": "NVIDIA A100-SXM4-80GB", "cc": [8, 0]}
TWO_A100 = {"driver_version": "550.54.14", "cuda_driver_version": 12040, "gpus": [A100, A100]}
NO_DRIVER = {"init_error": "LibraryNotFound"}

# (commit, file name, scenario, arguments after `python -m paddledoctor`); {dir} is a temporary folder,
# {ckpt} a real paddle.save checkpoint made in it, {prev} the folder of this commit's earlier outputs.
RUNS = [
    # the first commit: check --json exists (0.1.0, schema 1)
    ("9fa1d42", "check-two-a100-cpu-build.json", TWO_A100, ["check", "--json"]),
    ("9fa1d42", "check-quick-cpu-only.json", NO_DRIVER, ["check", "--quick", "--json"]),
    # 0.1.0 with every command (README of 973c2dc): bench and inspect documents too
    ("973c2dc", "check-two-a100-cpu-build.json", TWO_A100, ["check", "--json"]),
    ("973c2dc", "bench-cpu-1mib.json", NO_DRIVER,
     ["bench", "--size", "1MiB", "--device", "cpu", "--dir", "{dir}", "--json"]),
    ("973c2dc", "inspect-pdparams.json", NO_DRIVER, ["inspect", "{ckpt}", "--stats", "--json"]),
    # the last version 1 before document modes: check --from of a bench document wrote mode "from"
    ("525dafb", "bench-cpu-1mib.json", NO_DRIVER,
     ["bench", "--size", "1MiB", "--device", "cpu", "--dir", "{dir}", "--json"]),
    ("525dafb", "check-from-bench.json", NO_DRIVER,
     ["check", "--from", "{prev}/bench-cpu-1mib.json", "--json"]),
]

CHECKPOINT = """
import numpy as np, paddle
layer = paddle.nn.Linear(4, 3)
state = layer.state_dict()
w = state["weight"].numpy(); w[0, 0] = np.nan; w[1, 2] = np.inf
state["weight"].set_value(w)
paddle.save(state, {path!r})
"""


def worktree(commit: str) -> Path:
    path = Path(tempfile.gettempdir()) / f"paddledoctor-old-{commit}"
    if not path.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), commit],
                       check=True, capture_output=True)
    return path


def checkpoint(folder: Path) -> Path:
    """A real checkpoint written by paddle.save, one NaN and one Inf in its weight."""
    path = folder / "linear.pdparams"
    subprocess.run([sys.executable, "-c", CHECKPOINT.format(path=str(path))], check=True,
                   capture_output=True, timeout=300)
    return path


def run(commit: str, name: str, scenario: dict, args: list, scratch: Path) -> None:
    old = worktree(commit)
    env = fake_nvml.environment(scenario)
    env.pop("CUDA_VISIBLE_DEVICES", None)
    env.update({"PYTHONPATH": str(old), "NO_COLOR": "1", "PADDLEDOCTOR_CONFIG": "none",
                "PADDLEDOCTOR_SHM_PATH": str(ROOT)})
    folder = OUT / commit
    folder.mkdir(parents=True, exist_ok=True)
    values = {"dir": str(scratch), "prev": str(folder)}
    if any("{ckpt}" in a for a in args):
        values["ckpt"] = str(checkpoint(scratch))
    argv = [sys.executable, "-m", "paddledoctor", *(a.format(**values) for a in args)]
    proc = subprocess.run(argv, cwd=str(old), env=env, capture_output=True, text=True, timeout=900)
    json.loads(proc.stdout)  # a document, or this run is wrong
    (folder / name).write_text(proc.stdout, encoding="utf-8")
    print(f"{commit} {name}: exit {proc.returncode}, {len(proc.stdout)} bytes")


def main(argv: list) -> int:
    chosen = [r for r in RUNS if not argv or r[0] in argv]
    with tempfile.TemporaryDirectory(prefix="paddledoctor-regression-") as scratch:
        for commit, name, scenario, args in chosen:
            run(commit, name, scenario, args, Path(scratch))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
