"""One child channel (probes/children/_channel.py): every child script reports through it, a child in
any feature's children/ folder can import it, and its error_text picks Paddle's own summary line out
of a real Paddle error, in both of Paddle's formats."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import paddledoctor
from paddledoctor.probes import isolate

ROOT = Path(paddledoctor.__file__).resolve().parent
PENDING: set = set()


def _child_scripts() -> list[Path]:
    return [p for p in ROOT.glob("*/children/*.py")
            if p.name not in ("_start.py", "_channel.py") and p.name not in PENDING]


def test_no_child_writes_its_own_channel():
    """Nobody defines emit/error_text again, and nobody opens the channel's descriptor a second time
    (two file objects on one descriptor: whichever is collected first closes it under the other)."""
    own = []
    for path in _child_scripts():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name in ("emit", "error_text"):
                own.append(f"{path.name}: def {node.name}")
            if isinstance(node, ast.Attribute) and node.attr == "fdopen":
                own.append(f"{path.name}: os.fdopen")
    assert len(_child_scripts()) >= 7
    assert not own, own


CHILD = '''
import os
from _channel import emit, emit_timed, error_text

os.environ["FLAGS_call_stack_level"] = os.environ["LEVEL"]
import paddle

try:
    paddle.to_tensor([1.0, 2.0]).reshape([3])
except Exception as exc:  # a real Paddle error, as a user's broken step raises it
    emit("failed", error=error_text(exc), raw=str(exc))
emit_timed("done")
'''


def _run_feature_child(tmp_path: Path, level: str) -> list[dict]:
    script = tmp_path / "feature" / "children" / "probe.py"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(textwrap.dedent(CHILD))
    import os
    result = isolate.run(str(script), timeout=120, env=dict(os.environ, LEVEL=level))
    assert result.failure() is None, result.stderr[-2000:]
    return result.events


def test_a_child_in_another_folder_reports_paddles_summary_line(tmp_path):
    """FLAGS_call_stack_level=2: a C++ traceback whose frames name ErrorSummary comes first; the
    line that matters is Paddle's 'InvalidArgumentError: ...' summary."""
    failed, done = _run_feature_child(tmp_path, "2")
    assert "C++ Traceback" in failed["raw"] and "ErrorSummary" in failed["raw"]
    assert failed["error"].startswith("ValueError: InvalidArgumentError: The 'shape' in ReshapeOp "
                                      "is invalid"), failed["error"]
    assert done["event"] == "done" and done["t"] > 0


def test_the_short_form_of_a_paddle_error_gives_its_first_line(tmp_path):
    """Paddle's default short form: '(InvalidArgument) ...' then a '[Hint: ...]' line."""
    failed, _ = _run_feature_child(tmp_path, "1")
    assert failed["raw"].startswith("(InvalidArgument)")
    assert failed["error"].startswith("ValueError: (InvalidArgument) The 'shape' in ReshapeOp"), \
        failed["error"]
