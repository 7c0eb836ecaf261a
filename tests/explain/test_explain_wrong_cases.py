"""explain's patterns against logs that look like theirs but are not: each log made here, for real, by
this interpreter (real Paddle 3.3.1), and judged with exactly the causes it has (issue #12: a
no-module-paddle pattern made too broad passed every subset assertion)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import run_cli

from paddledoctor.knowledge import errors


def real_log(code: str) -> str:
    """What a user's script prints when it runs this code, with this Python."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0, proc.stdout
    return proc.stdout + proc.stderr


@pytest.mark.parametrize("code, module", [
    ("import paddleocr", "paddleocr"),                 # a toolkit not installed
    ("import paddle_serving_client", "paddle_serving_client"),
    ("import paddlenlp.transformers", "paddlenlp"),
])
def test_a_missing_toolkit_is_not_a_missing_paddle(code, module):
    log = real_log(code)
    assert f"No module named '{module}'" in log  # the real message is there
    assert [m.pattern.code for m in errors.scan(log)] == []


def test_paddle_fluid_on_paddle_3_is_the_removed_api_not_a_missing_paddle():
    log = real_log("import paddle.fluid")
    assert "No module named 'paddle.fluid'" in log
    assert [m.pattern.id for m in errors.scan(log)] == ["paddle-fluid-removed"]


def test_a_missing_paddle_is_pd100(python_without_paddle):
    proc = subprocess.run([python_without_paddle, "-c", "import paddle"], capture_output=True,
                          text=True, timeout=60)
    assert [m.pattern.id for m in errors.scan(proc.stderr)] == ["no-module-paddle"]


def test_the_cli_says_the_same(tmp_path):
    log = tmp_path / "train.log"
    log.write_text(real_log("import paddleocr"))
    proc = run_cli("explain", str(log), "--json", timeout=60)
    assert proc.returncode == 1, proc.stdout  # nothing recognised
    assert json.loads(proc.stdout)["matches"] == []
