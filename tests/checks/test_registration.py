"""Checks are registered without a hand-kept list: every module of paddledoctor/checks that defines
a check has each of them registered and run, a module added to the package included, with nothing
to list anywhere."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import paddledoctor
from paddledoctor import checks

ROOT = Path(paddledoctor.__file__).resolve().parent


def _declared_checks() -> set[tuple[str, str]]:
    """(module, function) for every function decorated with @check(...) in the package's source."""
    out = set()
    for path in (ROOT / "checks").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and any(
                    isinstance(d, ast.Call) and getattr(d.func, "id", None) == "check"
                    for d in node.decorator_list):
                out.add((f"paddledoctor.checks.{path.stem}", node.name))
    return out


def test_every_declared_check_is_registered():
    checks.run({})
    registered = {(fn.__module__, fn.__name__) for _, fn in checks.CHECKS}
    declared = _declared_checks()
    assert len({m for m, _ in declared}) >= 10
    assert declared <= registered, sorted(declared - registered)


CANARY = '''
from . import check, finding


@check("host")
def canary(facts, options):
    yield finding("PD002", "canary check ran")
'''


def test_a_new_check_module_runs_without_being_listed(tmp_path):
    """A copy of the package with one more module in checks/: its check runs (a hand-kept import
    list would have left it out, silently)."""
    copy = tmp_path / "paddledoctor"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("__pycache__", "_pages", "locale"))
    (copy / "checks" / "zz_canary.py").write_text(CANARY)
    code = ("import json, paddledoctor.checks as c; f, _ = c.run({}); "
            "print(json.dumps([x.title for x in f]))")
    env = dict(os.environ, PYTHONPATH=str(tmp_path), PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "canary check ran" in json.loads(proc.stdout.splitlines()[-1])
