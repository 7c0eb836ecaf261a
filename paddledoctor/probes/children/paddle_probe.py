"""Child probe: import paddle once, read its build and devices, and run a real training step on each
device with the result checked against a reference computed here in float64.

Run as ``python paddle_probe.py FD``; writes JSON lines to file descriptor FD. Before each step that
may crash or hang it writes a "stage" event, so the parent can name the step that never finished.
Standard library, numpy and paddle only; never imports paddledoctor.
"""

import os
import sys
import time
import traceback

from _channel import OUT, emit, error_text  # _start.py puts the channel's folder on sys.path


def safely(fn, *args):
    try:
        return fn(*args)
    except Exception as exc:
        return {"unavailable": error_text(exc)}


# The reference problem: every input is a small multiple of 1/8, so each is exact in fp32, bf16
# mantissas and TF32, and the float64 reference is the true answer to within fp32 rounding.
def problem(np):
    x = ((np.arange(16 * 8).reshape(16, 8) % 7) - 3) / 8.0
    y = ((np.arange(16 * 4).reshape(16, 4) % 5) - 2) / 4.0
    w = ((np.arange(8 * 4).reshape(8, 4) % 3) - 1) / 8.0
    b = np.array([0.125, -0.25, 0.0, 0.5])
    image = ((np.arange(2 * 1 * 5 * 5).reshape(2, 1, 5, 5) % 4) - 1.5) / 2.0
    kernel = ((np.arange(3 * 1 * 3 * 3).reshape(3, 1, 3, 3) % 5) - 2) / 4.0
    return x, y, w, b, image, kernel


LR = 0.125


def reference(np):
    x, y, w, b, image, kernel = problem(np)
    pred = x @ w + b
    diff = pred - y
    loss = np.mean(diff ** 2)
    grad_pred = 2.0 * diff / diff.size
    grad_w = x.T @ grad_pred
    grad_b = grad_pred.sum(axis=0)
    conv = np.zeros((2, 3, 3, 3))
    for n in range(2):
        for c in range(3):
            for i in range(3):
                for j in range(3):
                    conv[n, c, i, j] = np.sum(image[n, 0, i:i + 3, j:j + 3] * kernel[c, 0])
    return {"loss": loss, "grad_w": grad_w, "grad_b": grad_b,
            "w_after": w - LR * grad_w, "b_after": b - LR * grad_b, "conv": conv}


def training_step(paddle, np, device):
    """Forward, backward and one SGD step of a linear layer, and a conv2d forward (cuDNN on GPU)."""
    paddle.set_device(device)
    x, y, w, b, image, kernel = problem(np)
    f32 = "float32"
    layer = paddle.nn.Linear(8, 4)
    layer.weight.set_value(w.astype(f32))
    layer.bias.set_value(b.astype(f32))
    opt = paddle.optimizer.SGD(learning_rate=LR, parameters=layer.parameters())
    pred = layer(paddle.to_tensor(x.astype(f32)))
    loss = paddle.mean((pred - paddle.to_tensor(y.astype(f32))) ** 2)
    loss.backward()
    got = {"loss": float(loss.numpy()), "grad_w": layer.weight.grad.numpy(),
           "grad_b": layer.bias.grad.numpy()}
    opt.step()
    got["w_after"] = layer.weight.numpy()
    got["b_after"] = layer.bias.numpy()
    got["conv"] = paddle.nn.functional.conv2d(
        paddle.to_tensor(image.astype(f32)), paddle.to_tensor(kernel.astype(f32))).numpy()
    return got


def compare(np, got, want):
    worst, bad = 0.0, []
    for name, expected in want.items():
        actual = np.asarray(got[name], dtype="float64")
        expected = np.asarray(expected, dtype="float64")
        if actual.shape != expected.shape or not np.all(np.isfinite(actual)):
            bad.append(name)
            worst = float("inf")
            continue
        err = float(np.max(np.abs(actual - expected)))
        worst = max(worst, err)
        if err > 1e-5 + 1e-5 * float(np.max(np.abs(expected))):
            bad.append(name)
    return worst, bad


def main():
    devices_wanted = sys.argv[2] if len(sys.argv) > 2 else "all"
    # Import as `python train.py` run from here would: the current directory first, not ours.
    sys.path[0] = os.getcwd()
    t0 = time.monotonic()
    emit("stage", name="import paddle")
    try:
        import paddle
    except BaseException as exc:  # ImportError, OSError from a missing .so, SystemExit...
        emit("import", ok=False, error=error_text(exc),
             traceback=traceback.format_exc()[-3000:], seconds=round(time.monotonic() - t0, 3))
        return
    import numpy as np

    emit("import", ok=True, seconds=round(time.monotonic() - t0, 3),
         file=getattr(paddle, "__file__", None))
    try:
        after_import(paddle, np, devices_wanted)
    except Exception as exc:  # a Paddle too odd for this probe: say so, do not die silently
        emit("error", error=error_text(exc), traceback=traceback.format_exc()[-3000:])
    emit("done", seconds=round(time.monotonic() - t0, 3))


def _core(paddle):
    """paddle.base.core (3.x) or paddle.fluid.core (2.x)."""
    base = getattr(paddle, "base", None) or getattr(paddle, "fluid", None)
    return base.core


def after_import(paddle, np, devices_wanted):
    version = getattr(paddle, "version", None)
    with_cuda = safely(paddle.is_compiled_with_cuda)
    emit("build",
         version=getattr(paddle, "__version__", None),
         cuda=safely(lambda: version.cuda()), cudnn=safely(lambda: version.cudnn()),
         nccl=safely(lambda: version.nccl()),
         cuda_archs=safely(lambda: version.cuda_archs()) if hasattr(version, "cuda_archs") else None,
         compiled_with_cuda=with_cuda,
         compiled_with_nccl=safely(lambda: _core(paddle).is_compiled_with_nccl()),
         compiled_with_rocm=safely(paddle.is_compiled_with_rocm),
         compiled_with_xpu=safely(paddle.is_compiled_with_xpu))
    want = reference(np) if devices_wanted != "none" else None

    # The CPU step first: if CUDA initialisation then hangs or crashes, the CPU result is kept.
    if want is not None:
        run_step(paddle, np, "cpu", want)

    gpus = []
    if with_cuda is True:
        emit("stage", name="count GPUs (CUDA init)")
        count = safely(paddle.device.cuda.device_count)
        if isinstance(count, int):
            for i in range(count):
                emit("stage", name=f"read properties of gpu:{i}")
                props = safely(paddle.device.cuda.get_device_properties, i)
                if isinstance(props, dict):  # unavailable
                    gpus.append({"id": i, "properties": props})
                else:
                    gpus.append({"id": i, "name": props.name,
                                 "compute_capability": f"{props.major}.{props.minor}",
                                 "total_memory": props.total_memory})
        emit("stage", name="load cuDNN")
        cudnn_runtime = safely(paddle.device.get_cudnn_version)
        emit("devices", gpu_count=count, gpus=gpus, cudnn_runtime=cudnn_runtime,
             cuda_visible_devices=os.environ.get("CUDA_VISIBLE_DEVICES"))
    else:
        emit("devices", gpu_count=0, gpus=[], cudnn_runtime=None,
             cuda_visible_devices=os.environ.get("CUDA_VISIBLE_DEVICES"))

    if want is not None:
        for g in gpus:
            run_step(paddle, np, f"gpu:{g['id']}", want)


def run_step(paddle, np, device, want):
    emit("stage", name=f"training step on {device}")
    t1 = time.monotonic()
    try:
        got = training_step(paddle, np, device)
    except Exception as exc:
        emit("op", device=device, outcome="exception", error=error_text(exc),
             seconds=round(time.monotonic() - t1, 3))
        return
    worst, bad = compare(np, got, want)
    emit("op", device=device, outcome="wrong" if bad else "ok", wrong=bad,
         max_abs_err=worst if worst != float("inf") else "inf",
         seconds=round(time.monotonic() - t1, 3))


if __name__ == "__main__":
    main()
    # Skip the interpreter's teardown: unloading Paddle's native libraries takes a quarter second and
    # has nothing left to tell.
    OUT.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
