"""The fleet's collective child is package data of paddledoctor/fleet (issue #13: each engine lives
with its feature): a wheel's build holds it where rank.py starts it from, next to the _start.py that
starts every child. Built for real with setuptools' build_py (what the wheel is made of), in a copy
of the source tree, so that nothing is written into the checkout."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from paddledoctor.fleet import rank

ROOT = Path(__file__).resolve().parents[2]


def test_the_built_package_holds_the_collective_child_where_the_rank_starts_it(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "paddledoctor", src / "paddledoctor",
                    ignore=shutil.ignore_patterns("__pycache__", "_pages"))
    proc = subprocess.run([sys.executable, "setup.py", "-q", "build_py", "--build-lib",
                           str(tmp_path / "lib")], cwd=src, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    built = tmp_path / "lib" / "paddledoctor"
    where = Path(rank.COLLECTIVE).relative_to(ROOT / "paddledoctor")
    assert where == Path("fleet", "children", "fleet_collective.py")
    assert (built / where).read_bytes() == Path(rank.COLLECTIVE).read_bytes()
    assert (built / "probes" / "children" / "_start.py").is_file()
    assert not (built / "probes" / "children" / "fleet_collective.py").exists()
