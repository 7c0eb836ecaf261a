"""Fake paddle (a CPU build) that imports fine and implements just the API the doctor's training
step uses, with a tiny numpy autograd. FAKE_PADDLE_STEP picks how the step on a device behaves:

  ok (default)  the right answer
  hang          the forward pass never returns
  segv          the forward pass kills the interpreter with SIGSEGV
  wrong         the optimizer step is silently off (as a broken kernel would be)
  raise         the forward pass raises, as a kernel that is missing for the device does
FAKE_PADDLE_BAD_DEVICE (e.g. gpu:1) limits that behaviour to one device; the others are right.

The same code serves tests/fakes/paddle_gpu (a symlink to this file), whose version file is a GPU
build's (CUDA 12.6): then it reports FAKE_PADDLE_GPUS devices (default 2, A100s), each with its own
step, so the doctor's GPU branch runs. SYNTHESIZED, test-only.
"""

import os
import signal
import time

import numpy as np

from . import version

__version__ = version.full_version

_imported = os.environ.get("FAKE_PADDLE_IMPORTED")
if _imported:
    with open(_imported, "a") as _f:
        _f.write(f"{os.getpid()}\n")

MODE = os.environ.get("FAKE_PADDLE_STEP", "ok")
_device = "cpu"


def _misbehave():
    bad = os.environ.get("FAKE_PADDLE_BAD_DEVICE")
    if bad and bad != _device:
        return
    if MODE == "hang":
        while True:
            time.sleep(3600)
    if MODE == "segv":
        import resource
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.kill(os.getpid(), signal.SIGSEGV)
    if MODE == "raise":
        raise RuntimeError(f"(PreconditionNotMet) fake kernel 'matmul' is not registered for {_device}")


_GPU_BUILD = version.cuda_version not in (None, "False", "")


def is_compiled_with_cuda():
    return _GPU_BUILD


def is_compiled_with_rocm():
    return False


def is_compiled_with_xpu():
    return False


def set_device(device):
    global _device
    _device = device
    return device


class Tensor:
    """A float32 array and, for results of operations, how to pass a gradient to its inputs."""

    def __init__(self, value, inputs=()):
        self.value = np.asarray(value, dtype="float32")
        self.inputs = inputs  # [(tensor, gradient of the output -> gradient of that input)]
        self.grad = None

    def numpy(self):
        return self.value.copy()

    def set_value(self, value):
        self.value = np.asarray(value, dtype="float32")

    def __sub__(self, other):
        return Tensor(self.value - other.value, [(self, lambda g: g), (other, lambda g: -g)])

    def __pow__(self, n):
        return Tensor(self.value ** n, [(self, lambda g: g * n * self.value ** (n - 1))])

    def backward(self, grad=None):
        # Gradients are linear, so passing each path's share down separately sums correctly.
        grad = np.ones_like(self.value) if grad is None else grad
        self.grad = Tensor(grad if self.grad is None else self.grad.value + grad)
        for tensor, local in self.inputs:
            tensor.backward(local(grad))


def to_tensor(data, dtype=None):
    return Tensor(data)


def mean(x):
    return Tensor(x.value.mean(), [(x, lambda g: np.full_like(x.value, g / x.value.size))])


class _Linear:
    def __init__(self, in_features, out_features):
        self.weight = Tensor(np.zeros((in_features, out_features)))
        self.bias = Tensor(np.zeros(out_features))

    def parameters(self):
        return [self.weight, self.bias]

    def __call__(self, x):
        _misbehave()
        w, b = self.weight, self.bias
        return Tensor(x.value @ w.value + b.value,
                      [(x, lambda g: g @ w.value.T), (w, lambda g: x.value.T @ g),
                       (b, lambda g: g.sum(axis=0))])


def _conv2d(x, weight, **_):
    """Valid cross-correlation, stride 1, NCHW."""
    xv, kv = x.value, weight.value
    n, c, h, w = xv.shape
    oc, _, kh, kw = kv.shape
    out = np.zeros((n, oc, h - kh + 1, w - kw + 1), dtype="float32")
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = np.einsum("nchw,ochw->no", xv[:, :, i:i + kh, j:j + kw], kv)
    return Tensor(out)


class _SGD:
    def __init__(self, learning_rate, parameters):
        self.lr = learning_rate
        self.parameters = parameters

    def step(self):
        bad = os.environ.get("FAKE_PADDLE_BAD_DEVICE")
        lr = self.lr * (1.5 if MODE == "wrong" and (not bad or bad == _device) else 1.0)
        for p in self.parameters:
            p.value = p.value - lr * p.grad.value


class _Namespace:
    def __init__(self, **attrs):
        self.__dict__.update(attrs)


nn = _Namespace(Linear=_Linear, functional=_Namespace(conv2d=_conv2d))
optimizer = _Namespace(SGD=_SGD)

def _device_count():
    return int(os.environ.get("FAKE_PADDLE_GPUS", "2")) if _GPU_BUILD else 0


def _properties(i):
    if not 0 <= i < _device_count():
        raise ValueError(f"(InvalidArgument) Device id must be less than GPU count, but received id is: {i}")
    return _Namespace(name="NVIDIA A100-SXM4-80GB", major=8, minor=0, total_memory=80 << 30)


def _cudnn_version():
    """As Paddle's get_cudnn_version: CUDNN_VERSION, major*1000+minor*100+patch before cuDNN 9 and
    major*10000+minor*100+patch from 9 on."""
    if not _GPU_BUILD:
        return None
    major, minor, patch = (int(x) for x in version.cudnn_version.split("."))
    return major * (10000 if major >= 9 else 1000) + minor * 100 + patch


device = _Namespace(get_cudnn_version=_cudnn_version,
                    cuda=_Namespace(device_count=_device_count, get_device_properties=_properties))
base = _Namespace(core=_Namespace(is_compiled_with_nccl=lambda: _GPU_BUILD))
