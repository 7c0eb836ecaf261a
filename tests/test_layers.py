"""The layers: what probes, checks and the knowledge tables import. A probe gathers facts and a check
judges them; neither prints, so neither imports a renderer (render/). A renderer helper a probe needs
belongs below both (as the secret-name rule moved from render/redact.py to redaction.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import paddledoctor

ROOT = Path(paddledoctor.__file__).resolve().parent
BELOW_RENDER = ("probes", "checks", "knowledge", "bench/children", "fleet/children")


def _imported_modules(path: Path, source: str) -> set[str]:
    """Absolute names of the paddledoctor modules a file imports (relative imports resolved)."""
    package = ".".join(("paddledoctor",) + path.relative_to(ROOT).parent.parts).rstrip(".")
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names.add(module)
            names.update(f"{module}.{a.name}" for a in node.names)
    return {n for n in names if n.startswith("paddledoctor")}


def _renderer_imports(path: Path, source: str) -> list[str]:
    return sorted(n for n in _imported_modules(path, source)
                  if n == "paddledoctor.render" or n.startswith("paddledoctor.render."))


def test_no_probe_or_check_imports_a_renderer():
    offenders = {}
    for layer in BELOW_RENDER:
        for path in sorted((ROOT / layer).rglob("*.py")):
            found = _renderer_imports(path, path.read_text(encoding="utf-8"))
            if found:
                offenders[str(path.relative_to(ROOT))] = found
    assert not offenders, offenders


def test_the_scan_sees_the_import_that_was_there():
    """What probes/host.py had before redaction.py (commit 7099f74^), function-level and relative."""
    old = ("def _env():\n    from ..render.redact import REDACTED, secret_name\n"
           "    return REDACTED, secret_name\n")
    assert _renderer_imports(ROOT / "probes" / "host.py", old) == [
        "paddledoctor.render.redact", "paddledoctor.render.redact.REDACTED",
        "paddledoctor.render.redact.secret_name"]
    assert _renderer_imports(ROOT / "probes" / "host.py", "from ..redaction import REDACTED\n") == []
    assert _renderer_imports(ROOT / "checks" / "x.py", "import paddledoctor.render.terminal\n")
