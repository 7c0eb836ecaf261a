"""Known PaddlePaddle error messages: what they mean and what fixes them (``paddledoctor explain LOG``).

One row per message. ``pattern`` is a case-insensitive regular expression over the log, written from
the message's text in Paddle's sources (or, for CUDA and the kernel, the text they print); ``code`` is
the finding code ``paddledoctor check`` (or ``inspect``/``fleet``) raises where the machine or the
file shows the same problem, so ``explain LOG --check`` can say whether it is still there;
``source`` is where the text comes from. ``supersedes`` names rows that the same failure also
prints and that would mislead on their own (``paddle.load`` tries several readers on a truncated
file, and the later readers' complaints are noise).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PADDLE = "https://github.com/PaddlePaddle/Paddle/blob/develop/"


@dataclass(frozen=True)
class ErrorPattern:
    id: str
    pattern: str
    code: str
    cause: str
    fix: str
    source: str
    supersedes: tuple = ()
    regex: re.Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile(self.pattern, re.IGNORECASE))


PATTERNS = [
    ErrorPattern(
        "set-device-gpu-on-cpu-build",
        # set_device("gpu:0") prints the regex match object here: "should not be <re.Match object; ...>"
        r"The device should not be .{0,100}?, since PaddlePaddle is not compiled with CUDA",
        "PD101",
        "The installed PaddlePaddle is the CPU build (package `paddlepaddle`); it has no CUDA support, "
        "so it cannot use a GPU however the GPU is set up.",
        "Replace it with `paddlepaddle-gpu` for your driver: `paddledoctor check` prints the exact "
        "install command.",
        PADDLE + "python/paddle/device/__init__.py (_convert_to_place)",
    ),
    ErrorPattern(
        "not-compiled-with-cuda",
        r"(?:is not compiled with CUDA|not compiled with CUDA|compiled without CUDA)",
        "PD101",
        "A GPU feature was asked of a PaddlePaddle build that has no CUDA support (the CPU build).",
        "Install `paddlepaddle-gpu` matching your driver (`paddledoctor check` prints the command), "
        "or run on the CPU (`paddle.set_device('cpu')`).",
        PADDLE + "python/paddle/base/framework.py; python/paddle/device/__init__.py",
    ),
    ErrorPattern(
        "cudnn-not-loaded",
        r"Cannot load cudnn shared library|dynamic library \((?:lib)?cudnn[^)]*\) that Paddle depends on "
        r"is not configured correctly",
        "PD203",
        "Paddle could not load the cuDNN library (libcudnn.so / cudnn64_*.dll): it is not installed, "
        "not on the loader's path, or only a versioned name (libcudnn.so.9) exists.",
        "Install the cuDNN your Paddle was built with (`pip install nvidia-cudnn-cu12` for the "
        "pip-CUDA wheels) or add its folder to LD_LIBRARY_PATH; `paddledoctor check` names the "
        "version.",
        PADDLE + "paddle/phi/backends/dynload/cudnn.cc (EnforceCUDNNLoaded); "
                 "paddle/phi/backends/dynload/dynamic_loader.cc",
    ),
    ErrorPattern(
        "nccl-not-loaded",
        r"dynamic library \((?:lib)?nccl[^)]*\) that Paddle depends on is not configured correctly",
        "PD206",
        "Paddle could not load NCCL (libnccl.so), which multi-GPU and distributed training need.",
        "Install NCCL (`pip install nvidia-nccl-cu12` for the pip-CUDA wheels, or your distribution's "
        "libnccl2) and make sure the loader finds it (LD_LIBRARY_PATH).",
        PADDLE + "paddle/phi/backends/dynload/dynamic_loader.cc (GetNCCLDsoHandle)",
    ),
    ErrorPattern(
        "cuda-lib-not-loaded",
        r"dynamic library \((?:lib)?(?:cudart|cublas|cublasLt|cusolver|cusparse|curand|cufft|cuda)[^)]*\) "
        r"that Paddle depends on is not configured correctly",
        "PD201",
        "Paddle could not load a CUDA library (the driver's libcuda.so, or a runtime library such as "
        "cudart/cuBLAS): the driver is not installed or too old, or the CUDA runtime libraries are "
        "missing from the loader's path.",
        "Check the driver with `nvidia-smi`; for the pip-CUDA wheels reinstall `paddlepaddle-gpu` so "
        "its nvidia-* dependencies come along; `paddledoctor check` says which is missing.",
        PADDLE + "paddle/phi/backends/dynload/dynamic_loader.cc",
    ),
    ErrorPattern(
        "driver-insufficient",
        r"CUDA driver version is insufficient for CUDA runtime version|cudaErrorInsufficientDriver",
        "PD201",
        "The NVIDIA driver is older than the CUDA version this Paddle was built with.",
        "Upgrade the driver, or install the `paddlepaddle-gpu` variant built for an older CUDA "
        "(`paddledoctor check` picks the newest one this driver supports).",
        "CUDA Runtime API, cudaErrorInsufficientDriver (35); Paddle prints it as `CUDA error(35)`",
    ),
    ErrorPattern(
        "forward-compat-unsupported",
        r"forward compatibility was attempted on non supported HW|cudaErrorCompatNotSupportedOnDevice",
        "PD201",
        "The CUDA forward-compatibility package was used on a GPU that does not support it (consumer "
        "GPUs): the driver itself is too old for this Paddle's CUDA.",
        "Upgrade the NVIDIA driver, or install a `paddlepaddle-gpu` built for an older CUDA.",
        "CUDA Runtime API, cudaErrorCompatNotSupportedOnDevice (804)",
    ),
    ErrorPattern(
        "no-kernel-image",
        r"no kernel image is available for execution on the device|cudaErrorNoKernelImageForDevice",
        "PD202",
        "This Paddle was not compiled for this GPU's architecture (compute capability): e.g. a new "
        "GPU with a wheel built before it, or an old GPU dropped by a newer CUDA.",
        "Install a `paddlepaddle-gpu` variant whose compiled archs include your GPU; "
        "`paddledoctor check` names the variant.",
        "CUDA Runtime API, cudaErrorNoKernelImageForDevice (209)",
    ),
    ErrorPattern(
        "compute-capability-unsupported",
        r"The GPU compute capability in your current machine is \d+, which is not supported by Paddle",
        "PD202",
        "Paddle's own check at start-up: this GPU's compute capability is not among the archs the "
        "installed wheel was compiled for.",
        "Install the `paddlepaddle-gpu` variant for your GPU (`paddledoctor check` names it).",
        PADDLE + "paddle/phi/backends/gpu/gpu_resources.cc",
    ),
    ErrorPattern(
        "no-cuda-device",
        r"no CUDA-capable device is detected|cudaErrorNoDevice|GetCUDADeviceCount\(\):\s*0",
        "PD209",
        "The GPU build of Paddle found no GPU: the driver is not loaded, CUDA_VISIBLE_DEVICES hides "
        "every GPU, or the container was started without GPUs (`--gpus all`).",
        "Run `nvidia-smi`; check CUDA_VISIBLE_DEVICES; start the container with GPUs.",
        "CUDA Runtime API, cudaErrorNoDevice (100)",
    ),
    ErrorPattern(
        "driver-library-mismatch",
        r"Driver/library version mismatch|NVML_ERROR_LIB_RM_VERSION_MISMATCH",
        "PD302",
        "The NVIDIA kernel module and the user-space driver library have different versions, usually "
        "after a driver upgrade without a reboot.",
        "Reboot (or reload the nvidia kernel modules) so that both are the new version.",
        "NVML, NVML_ERROR_LIB_RM_VERSION_MISMATCH (nvidia-smi prints this text)",
    ),
    ErrorPattern(
        "uncorrectable-ecc",
        r"uncorrectable ECC error encountered|cudaErrorECCUncorrectable",
        "PD304",
        "The GPU's memory reported an uncorrectable ECC error: results on it cannot be trusted.",
        "Stop using the GPU; reset it (`nvidia-smi -r`) or have the node serviced.",
        "CUDA Runtime API, cudaErrorECCUncorrectable (214)",
    ),
    ErrorPattern(
        "gpu-lost",
        r"GPU is lost|fallen off the bus|NVML_ERROR_GPU_IS_LOST",
        "PD303",
        "A GPU stopped answering (fell off the bus): a hardware, power or driver fault.",
        "Reset the GPU or reboot the node; if it recurs, have the node serviced.",
        "NVML, NVML_ERROR_GPU_IS_LOST; NVIDIA Xid 79",
    ),
    ErrorPattern(
        "gpu-out-of-memory",
        r"Out of memory error on GPU|CUDA error\(2\), out of memory|cudaErrorMemoryAllocation|"
        r"ResourceExhaustedError[^\n]*GPU",
        "PD306",
        "The GPU ran out of memory: the model or batch is too large, or another process holds most "
        "of the GPU's memory.",
        "See what else runs on the GPU (`nvidia-smi`; `paddledoctor check` reports other processes); "
        "lower the batch size, or use recompute / mixed precision.",
        PADDLE + "paddle/phi/core/memory/allocation/ (ResourceExhaustedError 'Out of memory error on GPU')",
    ),
    ErrorPattern(
        "illegal-instruction",
        r"Illegal instruction|SIGILL|Your machine doesn't support AVX, but the installed PaddlePaddle "
        r"is avx core",
        "PD401",
        "The CPU met an instruction it does not have: PaddlePaddle's x86-64 wheels need AVX, which "
        "some old or virtualised CPUs lack.",
        "Run on a CPU with AVX (check `grep -o avx /proc/cpuinfo`), or enable AVX passthrough in the VM.",
        PADDLE + "python/paddle/base/core.py (AVX check); the kernel prints 'Illegal instruction'",
    ),
    ErrorPattern(
        "dataloader-bus-error",
        r"Unexpected BUS error encountered in DataLoader worker|DataLoader[^\n]*Bus error|"
        r"insufficient shared memory \(shm\)",
        "PD402",
        "A DataLoader worker died writing to shared memory: /dev/shm is too small (Docker's default "
        "is 64 MB).",
        "Start the container with `--shm-size=8g` (or `--ipc=host`), or use `use_shared_memory=False` "
        "/ fewer `num_workers`.",
        PADDLE + "paddle/fluid/memory/allocation/mmap_allocator.cc / python/paddle/io/dataloader/worker.py",
    ),
    ErrorPattern(
        "global-group-not-initialized",
        r"The global group is not initialized",
        "PD208",
        "A collective ran before the process group existed. Under `paddle.distributed.launch` with the "
        "CPU build and CUDA_VISIBLE_DEVICES set, the launcher treats the job as a GPU job and no "
        "group is created; with one process `init_parallel_env` does nothing.",
        "With the CPU build, unset CUDA_VISIBLE_DEVICES (or install `paddlepaddle-gpu`); call "
        "`paddle.distributed.init_parallel_env()` before any collective and run more than one process.",
        PADDLE + "python/paddle/distributed/communication/group.py (_get_global_group)",
    ),
    ErrorPattern(
        "nccl-error",
        r"\bNCCL error\b|ncclSystemError|ncclUnhandledCudaError|ncclInternalError|ncclRemoteError|"
        r"Nccl error\(\d+\)",
        "PD901",
        "A collective operation failed inside NCCL: a rank died or hung, the network between nodes "
        "failed (wrong interface, firewall, InfiniBand), or /dev/shm is too small for NCCL's buffers.",
        "Run `python -m paddle.distributed.launch ... paddledoctor fleet` to check every rank and the "
        "collectives; set NCCL_DEBUG=INFO to see which rank and transport failed.",
        PADDLE + "paddle/phi/core/platform/device/gpu/nccl_helper.h; NCCL ncclResult_t",
    ),
    ErrorPattern(
        "optimizer-set-error",
        r"Optimizer set error, \S+ should in state dict|optimizer Tensor \S+ not found",
        "PD803",
        "The optimizer state was saved under other parameter names than the model being resumed has: "
        "Paddle keys accumulators by auto-generated names (`linear_4.w_0_moment1_0`), which change "
        "when the model is built twice in one process or built in another order.",
        "Build the model inside `paddle.utils.unique_name.guard()` both when saving and when "
        "resuming (or give parameters explicit names); `paddledoctor inspect model.pdparams "
        "model.pdopt` shows the mismatch.",
        PADDLE + "python/paddle/optimizer/optimizer.py (set_state_dict, _add_accumulator)",
    ),
    ErrorPattern(
        "pickle-truncated",
        r"pickle data was truncated|EOFError: Ran out of input",
        "PD801",
        "The checkpoint file is cut short: the save was interrupted, the disk filled up, or a copy "
        "or download did not finish.",
        "Use the previous checkpoint; `paddledoctor inspect FILE` confirms the file is truncated. "
        "Save to a temporary name and rename when complete.",
        "CPython _pickle (UnpicklingError 'pickle data was truncated'); " + PADDLE +
        "python/paddle/framework/io.py (load)",
        supersedes=("pdiparams-as-pdparams", "load-cannot-parse"),
    ),
    ErrorPattern(
        "pdiparams-as-pdparams",
        r"Deserialize to tensor failed, maybe the loaded file is not a paddle model",
        "PD802",
        "A file of the wrong kind was given to a loader: a training `.pdparams` (a pickle) where an "
        "inference `.pdiparams` (a tensor stream) is expected, or another file altogether.",
        "Pass `.pdiparams` to `paddle.jit.load` / `load_inference_model` and `.pdparams` to "
        "`paddle.load`; `paddledoctor inspect FILE` says which kind a file really is.",
        PADDLE + "paddle/phi/core/framework/dense_tensor_serialize.cc (DeserializeFromStream)",
    ),
    ErrorPattern(
        "load-cannot-parse",
        r"`?paddle\.load`? can not parse the file",
        "PD801",
        "`paddle.load` recognised none of its formats in the file: it is corrupt, truncated, or not a "
        "Paddle checkpoint.",
        "`paddledoctor inspect FILE` says what the file is and where it breaks.",
        PADDLE + "python/paddle/framework/io.py (load)",
    ),
    ErrorPattern(
        "no-module-paddle",
        r"No module named '?paddle'?(?![._\w])",
        "PD100",
        "PaddlePaddle is not installed in the Python that ran the script (often another venv/conda "
        "environment than the one it was installed into).",
        "Install it into this interpreter: `python -m pip install paddlepaddle` (or "
        "`paddlepaddle-gpu`: `paddledoctor check` prints the command for your driver).",
        "CPython import system (ModuleNotFoundError)",
    ),
    ErrorPattern(
        "undefined-symbol-in-paddle",
        r"libpaddle\.so: undefined symbol|core_(?:avx|noavx)\.so: undefined symbol",
        "PD102",
        "Paddle's compiled core does not match its Python files: usually two Paddle distributions "
        "(paddlepaddle and paddlepaddle-gpu) installed over each other.",
        "Uninstall every Paddle distribution, then install one (`paddledoctor check` prints the "
        "commands).",
        PADDLE + "python/paddle/base/core.py (loading libpaddle)",
    ),
]

BY_ID = {p.id: p for p in PATTERNS}
ERROR_LINE = re.compile(r"\s*[\w.]*(?:Error|Exception|Fatal\w*)\b[^(]*?:")


@dataclass
class Match:
    pattern: ErrorPattern
    line_number: int  # 1-based line of the first occurrence
    line: str
    count: int


def scan(text: str) -> list[Match]:
    """Every known error in a log, in the order they first appear, without the rows that another
    match supersedes."""
    lines = text.splitlines()
    found: dict[str, Match] = {}
    for number, line in enumerate(lines, 1):
        for p in PATTERNS:
            if p.regex.search(line):
                match = found.get(p.id)
                if match is None:
                    found[p.id] = Match(p, number, line.strip()[:300], 1)
                    continue
                match.count += 1
                # Show the error line itself rather than the `raise ...` source line before it.
                if ERROR_LINE.match(line) and not ERROR_LINE.match(match.line):
                    match.line_number, match.line = number, line.strip()[:300]
    superseded = {s for m in found.values() for s in m.pattern.supersedes}
    # Generic rows give way to a specific one with the same code.
    if "set-device-gpu-on-cpu-build" in found:
        superseded.add("not-compiled-with-cuda")
    return sorted((m for k, m in found.items() if k not in superseded), key=lambda m: m.line_number)
