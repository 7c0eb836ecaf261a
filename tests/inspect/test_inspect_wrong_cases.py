"""inspect shown the wrong cases a reviewer's mutants let through (issue #12): NaN and Inf in real
checkpoints written by paddle.save (Paddle 3.3.1, in a child: the tests never import paddle), and a
pickle shaped exactly like Paddle's tensor record whose eval expression is not 'data'."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from inspect_support import codes, inspect_json

from paddledoctor.inspect.reader import read_file

WRITE = textwrap.dedent("""
    import sys, numpy as np, paddle
    out = sys.argv[1]
    w = np.arange(12, dtype="float32").reshape(3, 4)
    inf = w.copy(); inf[1, 2] = np.inf; inf[2, 3] = -np.inf
    nan = w.copy(); nan[0, 0] = np.nan
    paddle.save({"linear_0.w_0": paddle.to_tensor(w)}, out + "/finite.pdparams")
    paddle.save({"linear_0.w_0": paddle.to_tensor(inf), "linear_0.b_0": paddle.zeros([4])},
                out + "/inf.pdparams")
    paddle.save({"linear_0.w_0": paddle.to_tensor(nan)}, out + "/nan.pdparams")
    # the legacy record too: a DenseTensor pickled as eval('data', {'data': ndarray})
    t = paddle.to_tensor(inf)  # held: the DenseTensor below points into it
    paddle.save([t.value().get_tensor()], out + "/inf-dense.pdparams")
""")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    out = tmp_path_factory.mktemp("nonfinite")
    proc = subprocess.run([sys.executable, "-c", WRITE, str(out)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


def _pd807(saved, name):
    proc, doc = inspect_json(saved / name, "--stats")  # NaN/Inf are counted with --stats
    return proc, doc, [f for f in doc["findings"] if f["code"] == "PD807"]


@pytest.mark.parametrize("name", ["inf.pdparams", "inf-dense.pdparams"])
def test_inf_in_a_real_checkpoint_is_pd807(saved, name):
    proc, doc, found = _pd807(saved, name)
    assert len(found) == 1, doc["findings"]
    assert "0 NaN and 2 Inf" in found[0]["title"], found[0]["title"]
    (tensor,) = found[0]["evidence"]["tensors"]
    assert tensor.endswith(" (nan 0, inf 2)"), tensor


def test_nan_in_a_real_checkpoint_is_pd807(saved):
    proc, doc, found = _pd807(saved, "nan.pdparams")
    assert len(found) == 1 and "1 NaN and 0 Inf" in found[0]["title"], doc["findings"]


def test_a_finite_checkpoint_is_not(saved):
    proc, doc, found = _pd807(saved, "finite.pdparams")
    assert found == [] and proc.returncode == 0, doc["findings"]


class EvalRecord:
    """Pickles as eval(expression, env): Paddle's own record is eval('data', {'data': ndarray})."""

    def __init__(self, expression, env):
        self.expression, self.env = expression, env

    def __reduce__(self):
        return (eval, (self.expression, self.env))


@pytest.mark.parametrize("expression, extra", [
    ("__import__('os').system('touch ' + marker) or data", {}),     # another expression
    ("data", {"marker": None}),                                     # another environment
])
def test_eval_shaped_like_the_tensor_record_but_not_it_is_refused(tmp_path, expression, extra):
    marker = tmp_path / "ran"
    env = {"data": np.arange(4, dtype="float32"), **extra}
    if "marker" in expression:
        env["marker"] = str(marker)
    evil = tmp_path / "evil.pdparams"
    evil.write_bytes(pickle.dumps({"linear_0.w_0": EvalRecord(expression, env)}, protocol=2))
    facts = read_file(str(evil)).facts
    problems = [p for p in facts["problems"] if p["kind"] == "refused"]
    assert problems and "builtins.eval" in problems[0]["message"], facts["problems"]
    proc, doc = inspect_json(evil)
    assert proc.returncode == 1 and "PD804" in codes(doc)
    assert not marker.exists()
    if "marker" in expression:  # the control: unpickling it really runs the command
        pickle.loads(evil.read_bytes())
        assert marker.exists()
        os.unlink(marker)
