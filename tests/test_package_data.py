"""Each feature owns its child scripts (bench/children, probes/children, fleet/children), and a build
carries every one of them as package data: a child missing from the wheel would make its feature fail
only on an installed copy, never in a checkout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import paddledoctor

ROOT = Path(paddledoctor.__file__).resolve().parent
CHECKOUT = ROOT.parent


def test_the_bench_owns_its_child_scripts():
    owned = {p.name for p in (ROOT / "bench" / "children").glob("*.py")}
    assert {"bench_disk.py", "bench_io.py", "bench_model.py", "bench_paddle.py"} <= owned
    assert not list((ROOT / "probes" / "children").glob("bench_*.py"))


def test_a_build_carries_every_child_script(tmp_path):
    """setuptools' build_py (what `pip wheel` runs) into a folder of our own: every script under a
    children/ folder of the source is in the built package."""
    out = tmp_path / "lib"
    proc = subprocess.run([sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(out)],
                          cwd=CHECKOUT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    scripts = [p.relative_to(CHECKOUT) for p in ROOT.glob("*/children/*.py")]
    assert any(s.parts[1] == "bench" for s in scripts)
    missing = [str(s) for s in scripts if not (out / s).is_file()]
    assert not missing, missing
