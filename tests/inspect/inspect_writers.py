"""Writes real checkpoints with the installed PaddlePaddle, for the inspect tests (run as a script in
a child process: the tests themselves never import paddle).

    python inspect_writers.py OUTDIR [--big]

OUTDIR receives one file (or file pair) per format and ``expected.json``: what paddle.load returns for
each (names, shapes, dtypes, SHA-256 of the bytes), plus ``PREFIX.expected.json`` per inference
model: its parameters as load_inference_model puts them in the scope. ``--big`` writes only
``big_p2.pdparams`` instead, a protocol-2 state dict whose int8 parameter is just over 1 GiB, the
size from which paddle.save splits a parameter into slices (io_utils._unpack_saved_dict).
"""

from __future__ import annotations

import os
import subprocess
import sys

CASES = r'''
import os, sys, numpy as np, paddle
out, case = sys.argv[1], sys.argv[2]
paddle.seed(7)

def model():
    return paddle.nn.Sequential(paddle.nn.Linear(4, 3), paddle.nn.LayerNorm(3),
                                paddle.nn.Linear(3, 2, bias_attr=False))

if case == "dygraph":
    m = model()
    opt = paddle.optimizer.AdamW(learning_rate=paddle.optimizer.lr.StepDecay(0.1, 2),
                                 parameters=m.parameters())
    loss = m(paddle.randn([5, 4])).mean(); loss.backward(); opt.step(); opt.clear_grad()
    paddle.save(m.state_dict(), f"{out}/dygraph.pdparams")
    paddle.save(opt.state_dict(), f"{out}/dygraph.pdopt")
    # the same optimizer state, for a model whose parameters are named differently: a second
    # model built in the same process gets new unique names (linear_2, ...)
    m2 = model()
    paddle.save(m2.state_dict(), f"{out}/other_model.pdparams")
    for proto in (2, 3):
        paddle.save(m.state_dict(), f"{out}/dygraph_p{proto}.pdparams", protocol=proto)
    # dtypes
    d = {"f16": paddle.to_tensor(np.array([[1.5, -2.0], [np.inf, 0.25]], "float16")),
         "bf16": paddle.to_tensor(np.array([1.0, -3.0, 0.5], "float32")).astype("bfloat16"),
         "f64": paddle.to_tensor(np.array([np.nan, 1e300, -2.5], "float64")),
         "i64": paddle.arange(6, dtype="int64").reshape([2, 3]),
         "i32": paddle.to_tensor(np.array([-7, 9], "int32")),
         "u8": paddle.to_tensor(np.array([0, 255, 3], "uint8")),
         "b": paddle.to_tensor(np.array([True, False, True])),
         "f32nan": paddle.to_tensor(np.array([np.nan, np.inf, -np.inf, 1.0, 3.0], "float32")),
         "scalar": paddle.to_tensor(np.float32(4.0)),
         "empty": paddle.zeros([0, 3], "float32"),
         "c64": paddle.to_tensor(np.array([1+2j, 3-4j], "complex64"))}
    paddle.save(d, f"{out}/dtypes.pdparams")
    paddle.save(d, f"{out}/dtypes_p2.pdparams", protocol=2)
    # nested structure, plain python values, a tensor saved alone, a DenseTensor record
    paddle.save({"model": m.state_dict(), "epoch": 3, "best": 0.5, "tags": ["a", "b"],
                 "shape": (1, 2), "flag": True, "none": None}, f"{out}/nested.pdparams")
    paddle.save(m[0].weight, f"{out}/tensor.pdtensor")
    paddle.save(paddle.get_rng_state(), f"{out}/rng.pdstate")
    dt = m[0].weight.value().get_tensor()
    paddle.save([dt, {"lod": dt}], f"{out}/densetensor.pdparams")
elif case == "static":
    paddle.enable_static()
    os.environ["FLAGS_enable_pir_api"] = "0"
    x = paddle.static.data("x", [None, 4], "float32")
    y = paddle.static.nn.fc(x, 3)
    exe = paddle.static.Executor(paddle.CPUPlace())
    exe.run(paddle.static.default_startup_program())
    prog = paddle.static.default_main_program()
    paddle.save(prog.state_dict(), f"{out}/static.pdparams")
    paddle.static.save_inference_model(f"{out}/infer_legacy", [x], [y], exe)
elif case == "pir":
    paddle.enable_static()
    x = paddle.static.data("x", [None, 4], "float32")
    y = paddle.static.nn.fc(x, 3)
    y = paddle.static.nn.fc(y, 2)
    exe = paddle.static.Executor(paddle.CPUPlace())
    exe.run(paddle.static.default_startup_program())
    paddle.static.save_inference_model(f"{out}/infer_pir", [x], [y], exe)
elif case == "jit":
    m = model()
    m = paddle.jit.to_static(m, input_spec=[paddle.static.InputSpec([None, 4], "float32")],
                             full_graph=True)
    paddle.jit.save(m, f"{out}/jit_pir")
elif case == "safetensors":
    m = model()
    paddle.save(m.state_dict(), f"{out}/model.safetensors", safetensors=True)
elif case == "expect":
    # what paddle.load returns for each file, for the tests to compare with
    import glob, hashlib, json
    def walk(obj, path, out):
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, f"{path}/{k}" if path else str(k), out)
        elif isinstance(obj, (list, tuple)):
            for i, v in enumerate(obj):
                walk(v, f"{path}/{i}" if path else str(i), out)
        elif isinstance(obj, np.ndarray):
            a = np.ascontiguousarray(obj)  # (at least 1-d: take the shape from obj)
            out["tensors"][path] = {"shape": list(obj.shape), "dtype": str(a.dtype),
                                    "sha256": hashlib.sha256(a.tobytes()).hexdigest()}
        elif type(obj).__name__ == "GeneratorState":
            out["opaque"][path] = type(obj).__module__ + "." + type(obj).__name__
        else:
            out["values"][path] = obj if isinstance(obj, (int, float, str, bool, type(None))) else repr(obj)
    expected = {}
    for path in sorted(glob.glob(f"{out}/*")):
        name = os.path.basename(path)
        if not name.endswith((".pdparams", ".pdopt", ".pdtensor", ".pdstate", ".pdiparams", ".safetensors")):
            continue
        if name.startswith("big") != ("big" in sys.argv[3:]):
            continue
        out_ = {"tensors": {}, "opaque": {}, "values": {}}
        if name.endswith(".safetensors"):
            obj = paddle.load(path, safetensors=True, return_numpy=True)
        else:
            obj = paddle.load(path, return_numpy=True)
        walk(obj, "", out_)
        expected[name] = out_
    with open(f"{out}/expected.json", "w") as fh:
        json.dump(expected, fh)
elif case == "program":
    # a .pdiparams as the predictor loads it with its program (argv[3]: the path prefix)
    import hashlib, json
    prefix = sys.argv[3]
    paddle.enable_static()
    exe = paddle.static.Executor(paddle.CPUPlace())
    scope = paddle.static.Scope()
    found = {}
    with paddle.static.scope_guard(scope):
        paddle.static.load_inference_model(prefix, exe)
        for n in sorted(scope.local_var_names()):
            var = scope.find_var(n)
            try:
                a = np.array(var.get_tensor())
            except Exception:
                continue
            if a.size == 0 and n in ("feed", "fetch"):
                continue
            found[n] = {"shape": list(a.shape), "dtype": str(a.dtype),
                        "sha256": hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()}
    with open(prefix + ".expected.json", "w") as fh:
        json.dump({"tensors": found}, fh)
elif case == "big":
    n = 2**30 + 4096
    a = np.zeros(n, dtype="int8"); a[::4097] = 3; a[-1] = -5
    paddle.save({"small": paddle.to_tensor(np.arange(3, dtype="float32")),
                 "big": paddle.to_tensor(a)}, f"{out}/big_p2.pdparams", protocol=2)
'''

STATIC_ENV = {"FLAGS_enable_pir_api": "0"}


def write(out: str, big: bool = False) -> None:
    os.makedirs(out, exist_ok=True)
    cases = ["big", "expect"] if big else ["dygraph", "static", "pir", "jit", "safetensors", "expect"]
    for case in cases:
        env = dict(os.environ, **(STATIC_ENV if case == "static" else {}))
        env.setdefault("CUDA_VISIBLE_DEVICES", "")
        proc = subprocess.run([sys.executable, "-c", CASES, out, case] + (["big"] if big else []), capture_output=True,
                              text=True, env=env, timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"writing {case} failed:\n{proc.stderr[-3000:]}")
    for prefix, pir in (() if big else (("infer_legacy", False), ("infer_pir", True), ("jit_pir", True))):
        env = dict(os.environ, FLAGS_enable_pir_api="1" if pir else "0", CUDA_VISIBLE_DEVICES="")
        proc = subprocess.run([sys.executable, "-c", CASES, out, "program",
                               os.path.join(out, prefix)], capture_output=True, text=True,
                              env=env, timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"loading {prefix} failed:\n{proc.stderr[-3000:]}")


if __name__ == "__main__":
    write(sys.argv[1], big="--big" in sys.argv[2:])
