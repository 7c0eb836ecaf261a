"""Helpers of the inspect tests: real checkpoints written by the installed Paddle (once per test
session, in a child process: the tests never import paddle), and the CLI run as a user would."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "inspect"
sys.path.insert(0, str(HERE))

_CACHE: dict[str, Path] = {}


def real_checkpoints(big: bool = False) -> Path:
    """A folder of checkpoints written by paddle 3.3.1, with expected.json: what paddle.load
    returned for each (names, shapes, dtypes, SHA-256 of the bytes)."""
    key = "big" if big else "small"
    if key not in _CACHE:
        from inspect_writers import write
        out = Path(tempfile.mkdtemp(prefix=f"pd-inspect-{key}-"))
        atexit.register(shutil.rmtree, out, ignore_errors=True)  # the big one is 1 GiB
        write(str(out), big=big)
        _CACHE[key] = out
    return _CACHE[key]


def expected(folder: Path) -> dict:
    return json.loads((folder / "expected.json").read_text())


def run_inspect(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, NO_COLOR="1", **(env or {}))
    return subprocess.run([sys.executable, "-m", "paddledoctor", "inspect", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=full_env, cwd=str(ROOT))


def inspect_json(*args: str, env: dict | None = None) -> tuple[subprocess.CompletedProcess, dict]:
    proc = run_inspect(*args, "--json", env=env)
    return proc, json.loads(proc.stdout)


def codes(doc: dict) -> set[str]:
    return {f["code"] for f in doc["findings"]}
