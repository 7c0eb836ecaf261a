"""Known PaddlePaddle error messages: what they mean and what fixes them (``paddledoctor explain LOG``).

One row per message. ``pattern`` is a case-insensitive regular expression over the log, written from
the message's text in Paddle's sources (or, for CUDA and the kernel, the text they print); ``code`` is
the finding code ``paddledoctor check`` (or ``inspect``/``fleet``) raises where the machine or the
file shows the same problem, so ``explain LOG --check`` can say whether it is still there;
``source`` is where the text comes from. ``supersedes`` names rows that the same failure also
prints and that would mislead on their own (``paddle.load`` tries several readers on a truncated
file, and the later readers' complaints are noise). ``context`` holds patterns that must all occur
somewhere in the same log for the row to count, and ``unless`` patterns none of which may occur:
where one message has several causes, the surrounding lines (a CPU's flags, a ``pip list``, the
module that failed to load, a GPU that was initialised after all) decide which.
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
    context: tuple = ()
    unless: tuple = ()
    regex: re.Pattern = field(init=False, repr=False, compare=False)
    context_regexes: tuple = field(init=False, repr=False, compare=False)
    unless_regexes: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile(self.pattern, re.IGNORECASE))
        object.__setattr__(self, "context_regexes",
                           tuple(re.compile(c, re.IGNORECASE | re.MULTILINE) for c in self.context))
        object.__setattr__(self, "unless_regexes",
                           tuple(re.compile(c, re.IGNORECASE | re.MULTILINE) for c in self.unless))

    def context_holds(self, text: str) -> bool:
        return (all(c.search(text) for c in self.context_regexes)
                and not any(u.search(text) for u in self.unless_regexes))


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
        r"dynamic library \((?:lib)?(?:cudart|cublas|cublasLt|cusolver|cusparse|curand|cufft)[^)]*\) "
        r"that Paddle depends on is not configured correctly",
        "PD210",
        "Paddle could not load a CUDA runtime library (cudart, cuBLAS, cuSOLVER...): the CUDA runtime "
        "libraries are missing from the loader's path. The driver is not the cause (that is "
        "libcuda.so, PD211).",
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
        # the GPU count is 0 because the driver refused the runtime: the warnings are its echo
        supersedes=("run-check-cuda-not-set", "no-gpu-found-in-runtime"),
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
        "PD506",
        "The GPU ran out of memory in the job itself: the model or the batch is too large for it. "
        "Another process holding the GPU is the other cause (PD306): `explain --check` tells which.",
        "See what else runs on the GPU (`nvidia-smi`; `paddledoctor check` reports other processes); "
        "lower the batch size, or use recompute / mixed precision.",
        PADDLE + "paddle/phi/core/memory/allocation/ (ResourceExhaustedError 'Out of memory error on GPU')",
    ),
    ErrorPattern(
        "no-avx-message",
        r"Your machine doesn't support AVX, but the installed PaddlePaddle is avx core",
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
        supersedes=("dataloader-shm-old",),
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
        r"\bNCCL error\b|ncclSystemError|ncclInternalError|ncclRemoteError|"
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
        "A file of the wrong kind was given to a loader. Three causes print this: a training "
        "`.pdparams` (a pickle) where an inference `.pdiparams` (a tensor stream) is expected; a "
        "directory given to `paddle.load`; a `.safetensors` file given to `paddle.load`. "
        "`paddledoctor inspect PATH` tells which.",
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
        r"libpaddle\.so: undefined symbol: (?!nccl|gz|deflate|inflate)|core_(?:avx|noavx)\.so: undefined symbol",
        "PD102",
        "Paddle's compiled core does not match its Python files: usually two Paddle distributions "
        "(paddlepaddle and paddlepaddle-gpu) installed over each other.",
        "Uninstall every Paddle distribution, then install one (`paddledoctor check` prints the "
        "commands).",
        PADDLE + "python/paddle/base/core.py (loading libpaddle)",
    ),
    # --- #14: messages users post, from Paddle's own source and real threads -------------------
    ErrorPattern(
        "illegal-instruction",
        r"Illegal instruction|SIGILL",
        "PD405",
        "The CPU met an instruction it does not have. Three causes: a CPU without AVX (PD401); a "
        "wheel built with newer instructions (AVX-512, AVX-VNNI) than this CPU has; an x86-64 "
        "Python running under emulation (Rosetta on Apple silicon, QEMU). `explain --check` reads "
        "the CPU flags and the interpreter's platform to tell them apart.",
        "Check `grep -o -w 'avx\\|avx2\\|avx512f' /proc/cpuinfo | sort -u` and "
        "`python -c \"import platform; print(platform.machine())\"`; use a wheel built for this CPU "
        "or a native Python.",
        "the kernel's 'Illegal instruction (core dumped)'",
    ),
    ErrorPattern(
        "run-check-cuda-not-set",
        r"You are using GPU version Paddle(?: Fluid)?,? but your CUDA device is not set properly",
        "PD209",
        "paddle.utils.run_check() found the GPU build of Paddle but no usable CUDA device: the "
        "driver is missing or not reachable (libcuda.so.1, PD211), CUDA_VISIBLE_DEVICES hides the "
        "GPUs, or the container has no GPU passed through.",
        "`paddledoctor check` names which: it reads NVML, libcuda.so.1 and CUDA_VISIBLE_DEVICES.",
        PADDLE + "python/paddle/base/framework.py (_current_expected_place); "
                 "python/paddle/fluid/install_check.py (1.8: 'GPU version Paddle Fluid, But Your CUDA "
                 "Device is not set properly')",
    ),
    ErrorPattern(
        "no-gpu-found-in-runtime",
        r"Compiled with WITH_GPU, but no GPU found in runtime",
        "PD209",
        "The GPU build of Paddle found no GPU when CUDA started: no driver, libcuda.so.1 not "
        "reachable, or CUDA_VISIBLE_DEVICES set to nothing.",
        "`paddledoctor check` says which; in a container start it with `--gpus all`.",
        PADDLE + "paddle/phi/backends/gpu/cuda/cuda_info.cc (GetGPUDeviceCount)",
    ),
    ErrorPattern(
        "cudnn-version-mismatch",
        r"compiled with CUDNN [\d.]+,? but CUDNN version in your machine is [\d.]+",
        "PD204",
        "The cuDNN on the library path is another version than the one Paddle was built with.",
        "Install the cuDNN of the build's major version (the message names it) and put it first on "
        "the library path; `paddledoctor check` prints the pip command.",
        PADDLE + "paddle/phi/backends/gpu/gpu_resources.cc (InitGpuProperties)",
    ),
    ErrorPattern(
        "mismatched-gpu-arch",
        r"Mismatched GPU Architecture|is not compatible with Paddle installation with arch",
        "PD202",
        "The installed Paddle wheel has no code for this GPU's architecture (Paddle 3.1+ says so at "
        "import: \"compiled for 60 61 70 75 80 86, but your current GPU is 120\").",
        "Install a wheel compiled for this GPU: `paddledoctor check` reads the wheel's binaries and "
        "names one (RTX 50: cu129 of 3.2.0 or newer).",
        "python/paddle/base/core.py (3.1+ arch check); github.com/PaddlePaddle/Paddle/issues/73687, #76037",
    ),
    ErrorPattern(
        "cuda-error-222",
        r"CUDA error\(222\)|cudaErrorUnsupportedPtxVersion|the provided PTX was compiled with an "
        r"unsupported toolchain",
        "PD201",
        "The driver is older than the toolkit that wrote the wheel's PTX: it cannot JIT-compile it "
        "(minor version compatibility runs SASS, never newer PTX).",
        "Upgrade the driver to at least the wheel's CUDA GA driver, or install a wheel with SASS "
        "for this GPU (`paddledoctor check`).",
        "CUDA Runtime API, cudaErrorUnsupportedPtxVersion = 222",
    ),
    ErrorPattern(
        "cuda-error-98",
        r"CUDA error\(98\)|cudaErrorInvalidDeviceFunction|invalid device function",
        "PD202",
        "A kernel has no code for this GPU's architecture (no SASS that runs on it, no PTX to JIT).",
        "Install a wheel compiled for this GPU; `paddledoctor check` reads the archs from the "
        "wheel's binaries.",
        "CUDA Runtime API, cudaErrorInvalidDeviceFunction = 98",
    ),
    ErrorPattern(
        "legacy-loader-cudnn",
        r"(?:Failed to find dynamic library|Can not find library): \S*cudnn",
        "PD203",
        "Paddle 1.x/2.0 could not find cuDNN (its old loader's words).",
        "Put the cuDNN of the build's version on LD_LIBRARY_PATH (or install it system-wide).",
        PADDLE + "paddle/fluid/platform/dynload/dynamic_loader.cc (1.8)",
    ),
    ErrorPattern(
        "legacy-loader-cuda-runtime",
        r"(?:Failed to find dynamic library|Can not find library): \S*(?:cublas|cudart|cusolver|curand|cufft)",
        "PD210",
        "Paddle 1.x/2.0 could not find a CUDA runtime library (its old loader's words).",
        "Put the CUDA toolkit's lib64 on LD_LIBRARY_PATH, or install the nvidia-*-cu1x runtime wheels.",
        PADDLE + "paddle/fluid/platform/dynload/dynamic_loader.cc (1.8)",
    ),
    ErrorPattern(
        "legacy-loader-nccl",
        r"(?:Failed to find dynamic library|Can not find library): \S*nccl",
        "PD206",
        "Paddle 1.x/2.0 could not find NCCL (its old loader's words).",
        "Install NCCL for the build's CUDA and put it on LD_LIBRARY_PATH.",
        PADDLE + "paddle/fluid/platform/dynload/dynamic_loader.cc (1.8)",
    ),
    ErrorPattern(
        "libcuda-missing",
        r"libcuda\.so(?:\.1)?: cannot open shared object file|dynamic library \(libcuda\.so[^)]*\) that Paddle",
        "PD211",
        "The NVIDIA driver's libcuda.so.1 is not reachable: no driver, or a container started "
        "without the NVIDIA runtime. (On WSL2 a libcuda warning followed by GPU work is harmless.)",
        "Start the container with `--gpus all`; on WSL2 keep /usr/lib/wsl/lib on the library path.",
        PADDLE + "paddle/phi/backends/dynload/dynamic_loader.cc (GetCUDADsoHandle); "
                 "github.com/PaddlePaddle/Paddle/issues/78917 (WSL2: the warning, then GPU work)",
        # Paddle notes each GPU it initialised (gpu_resources.cc / device_context.cc): the driver
        # was found after all (WSL2 loads /usr/lib/wsl/lib/libcuda.so.1), the warning is noise
        unless=(r"Please NOTE: device: \d+, (?:GPU Compute Capability|CUDA Capability)",),
    ),
    ErrorPattern(
        "no-space-left",
        r"\[Errno 28\] No space left on device|No space left on device",
        "PD404",
        "A disk (or /dev/shm) is full: checkpoints, the dataset cache or pip's download failed.",
        "Free space (`df -h`), or point the checkpoints and caches at a disk with room.",
        "errno ENOSPC (28)",
    ),
    ErrorPattern(
        "dataloader-shm-old",
        r"DataLoader reader thread raised an exception|shm_open failed|Insufficient shared memory",
        "PD402",
        "DataLoader workers pass batches through /dev/shm; it is too small (Docker's 64 MiB default).",
        "Run the container with `--shm-size=8g` (or `--ipc=host`), or use num_workers=0.",
        PADDLE + "python/paddle/io/dataloader/dataloader_iter.py; worker.py",
    ),
    ErrorPattern(
        "shape-not-matching",
        r"Shape not matching: the Program requires a parameter with a shape of",
        "PD808",
        "The parameters file does not belong to this program: another model's (or another "
        "version's) weights.",
        "Load the parameters saved with this program; `paddledoctor inspect MODEL.pdmodel "
        "MODEL.pdiparams` lists both sides.",
        PADDLE + "python/paddle/static/io.py (set_program_state / load)",
    ),
    ErrorPattern(
        "windows-dll-load-failed",
        r"DLL load failed while importing (?:libpaddle|core_(?:no)?avx)|\[WinError 12[67]\]",
        "PD130",
        "Windows could not load libpaddle.pyd or a DLL it needs: the Microsoft Visual C++ "
        "2015-2022 runtime is missing, the CPU has no AVX, or the CUDA/cuDNN DLLs are not on PATH.",
        "Install the Visual C++ 2015-2022 Redistributable (x64); for the GPU build put the CUDA "
        "bin folder on PATH.",
        "CPython's Windows loader (DLL load failed); github.com/PaddlePaddle/PaddleX/issues/4285",
        supersedes=("windows-dll-load-failed-paddle-core",),
    ),
    ErrorPattern(
        "windows-cudnn-dll",
        r"Could not locate (?:cudnn_ops_infer64_\d+|cudnn_cnn_infer64_\d+|cudnn64_\d+)\.dll",
        "PD203",
        "Windows: cuDNN's DLLs are not on PATH.",
        "Install cuDNN for the build's CUDA and add its bin folder to PATH.",
        "cuDNN 8.x on Windows prints 'Could not locate cudnn_ops_infer64_8.dll'",
    ),
    ErrorPattern(
        "windows-cublas-dll",
        r"Could not locate cublas(?:Lt)?64_\d+\.dll",
        "PD210",
        "Windows: cuBLAS's DLLs are not on PATH.",
        "Install the CUDA runtime of the build's version and add its bin folder to PATH.",
        "CUDA on Windows: cublasLt64_12.dll",
    ),
    ErrorPattern(
        "glibc-not-found",
        r"version [`'‘’]?(?:GLIBC|GLIBCXX|CXXABI)_[\d.]+[`'‘’]? not found",
        "PD110",
        "The host's C/C++ runtime is older than the wheel needs (CentOS 7's glibc 2.17 and GCC 4.8 "
        "libstdc++ are the usual case).",
        "Use a newer OS image or container; inside conda `conda install -c conda-forge "
        "'libstdcxx-ng>=12'`. `paddledoctor check` reads the wheel's needs before the import.",
        "ld.so's message; github.com/PaddlePaddle/Paddle/issues/73523, #54853, #64704",
    ),
    ErrorPattern(
        "libssl-missing",
        r"lib(?:ssl|crypto)\.so\.1\.1: cannot open shared object file",
        "PD111",
        "Paddle 2.5 wheels link OpenSSL 1.1, which Ubuntu 22.04 and newer no longer ship.",
        "Upgrade Paddle (2.6 and 3.x do not need it), or install libssl1.1.",
        "the dynamic loader (ld.so) message; Paddle 2.5 wheels link OpenSSL 1.1",
    ),
    ErrorPattern(
        "protobuf-descriptors",
        r"Descriptors cannot (?:not )?be created directly",
        "PD113",
        "protobuf 4 or newer with Paddle protos generated for protobuf 3 (older Paddle releases).",
        "`python -m pip install 'protobuf>=3.20.2,<4'`, or upgrade Paddle.",
        "protobuf's own message (google/protobuf/descriptor.py; 4.21.0-4.21.x print 'cannot not')",
    ),
    ErrorPattern(
        "numpy-alias-removed",
        r"module 'numpy' has no attribute '(?:int|float|bool|object|long)'",
        "PD113",
        "numpy 1.24 removed np.int/np.float/np.bool: an older Paddle or toolkit still uses them.",
        "`python -m pip install 'numpy<1.24'`, or upgrade Paddle and the toolkit.",
        "numpy 1.24 release notes (np.int and friends removed)",
    ),
    ErrorPattern(
        "numpy2-abi",
        r"compiled using NumPy 1\.x cannot be run in|_ARRAY_API not found",
        "PD113",
        "A compiled module built against numpy 1.x runs with numpy 2.",
        "`python -m pip install 'numpy<2'`, or upgrade the package that was built for numpy 1.",
        "numpy 2.0 migration guide (the error numpy prints)",
    ),
    ErrorPattern(
        "no-matching-distribution",
        r"No matching distribution found for paddlepaddle|Could not find a version that satisfies "
        r"the requirement paddlepaddle|paddlepaddle\S*\.whl is not a supported wheel on this platform",
        "PD117",
        "pip found no PaddlePaddle wheel for this Python version, OS or CPU architecture (for the GPU "
        "build: not on PyPI but on Paddle's own index).",
        "Use a Python the release supports (3.9-3.13 for 3.x) on x86-64 or aarch64 Linux, Windows or "
        "macOS; GPU wheels: `-i https://www.paddlepaddle.org.cn/packages/stable/cu126/`.",
        "pip's messages; Paddle install docs",
    ),
    ErrorPattern(
        "analysis-config-mismatch",
        r"'AnalysisConfig' object has no attribute '(?:set_optimization_level|set_mkldnn_cache_capacity|"
        r"enable_new_ir|enable_new_executor)'",
        "PD114",
        "A PaddleX/PaddleOCR 3.x (or FastDeploy) that needs Paddle 3.x runs on an older Paddle.",
        "Install the Paddle its release needs (3.0 or newer), or the toolkit release for your Paddle.",
        "github.com/PaddlePaddle/PaddleX/issues/2536, #2546, #2578; github.com/PaddlePaddle/PaddleOCR/issues/15846, #15629",
    ),
    ErrorPattern(
        "paddle-fluid-removed",
        r"No module named 'paddle\.fluid'|module 'paddle' has no attribute 'fluid'",
        "PD114",
        "paddle.fluid was removed in Paddle 2.6: the code or toolkit is older than its Paddle.",
        "Upgrade the toolkit (PaddleOCR >= 2.7, PaddleDetection >= 2.7, ...), or install "
        "`paddlepaddle<2.6` for old code.",
        "https://github.com/PaddlePaddle/Paddle/releases/tag/v2.6.0 (paddle.fluid removed)",
    ),
    ErrorPattern(
        "pir-attribute-crash",
        r"ConvertPirAttribute2RuntimeAttribute not support",
        "PD115",
        "The known Paddle 3.3.0/3.3.1 CPU inference crash in oneDNN under PIR.",
        "Disable oneDNN for inference (`config.disable_mkldnn()`, PaddleOCR `enable_mkldnn=False`), "
        "or use Paddle 3.2.2.",
        "github.com/PaddlePaddle/Paddle/issues/77340; github.com/PaddlePaddle/PaddleOCR/issues/17869",
    ),
    ErrorPattern(
        "nccl-symbol-clash",
        r"undefined symbol: nccl\w+",
        "PD116",
        "Two NCCL libraries meet in one process (torch's nvidia-nccl pin and Paddle's): the one "
        "loaded first lacks a symbol the other framework needs.",
        "Import paddle before torch (or the reverse, as the finding says), or use separate "
        "environments.",
        "github.com/PaddlePaddle/Paddle/issues/74792 (ncclCommInitRankScalable)",
        supersedes=("undefined-symbol-in-paddle",),
    ),
    ErrorPattern(
        "cuda-init-before-fork",
        r"cudaErrorInitializationError|CUDA error\(3\)",
        "PD131",
        "CUDA was initialised in a process that then forked (gunicorn workers, multiprocessing "
        "with the fork start method, DataLoader workers touching the GPU): CUDA cannot be used "
        "after a fork.",
        "Use the spawn start method (`multiprocessing.set_start_method('spawn')`), or create the "
        "model in each worker after the fork.",
        "CUDA Runtime API, cudaErrorInitializationError = 3",
    ),
    ErrorPattern(
        "libgl-missing",
        r"libGL\.so\.1: cannot open shared object file",
        "PD132",
        "OpenCV (opencv-python, which PaddleOCR and PaddleX import) needs libGL, which slim "
        "container images lack.",
        "`apt-get install -y libgl1`, or `pip install opencv-python-headless` instead of "
        "opencv-python.",
        "opencv-python README (the headless build needs no libGL)",
    ),
    ErrorPattern(
        "nccl-unhandled-cuda",
        r"unhandled cuda error|ncclUnhandledCudaError",
        "PD133",
        "NCCL met a CUDA error: most often an NCCL built for another CUDA than Paddle's, or a driver "
        "too old for that NCCL.",
        "Install the nvidia-nccl of the build's CUDA major; run with NCCL_DEBUG=INFO to see the CUDA "
        "call that failed.",
        "NCCL ncclUnhandledCudaError",
        supersedes=("nccl-error",),
    ),
    ErrorPattern(
        "undefined-symbol-system",
        r"undefined symbol: (?:gz\w+|deflate\w*|inflate\w*|\w+@GLIBC|__\w+_chk)",
        "PD134",
        "A self-built Paddle is linked against a system library (zlib, glibc) other than the one "
        "this machine has: not two Paddle installs.",
        "Rebuild Paddle on this system (or with its own third_party zlib), or use an official wheel.",
        "ld.so's message for a self-built wheel",
        supersedes=("undefined-symbol-in-paddle",),
    ),
    # --- #14 corpus: general shapes that real tickets showed the table missing ------------------
    ErrorPattern(
        "cuda-runtime-so-missing",
        # ld.so's own words when libpaddle.so's DT_NEEDED CUDA runtime is not on the loader's path
        r"lib(?:cudart|cublas|cublasLt|cusolver|cusparse|curand|cufft|nvrtc|nvJitLink|cupti)\.so[\d.]*: "
        r"cannot open shared object file",
        "PD210",
        "The CUDA runtime library this Paddle wheel links (libcudart, cuBLAS, ...) is not on the "
        "loader's path: the wheel was built for a CUDA the machine does not have, or the CUDA "
        "libraries (a conda env's lib/, /usr/local/cuda/lib64) are not on LD_LIBRARY_PATH. The "
        "driver is not the cause.",
        "Install the wheel for the CUDA you have (`paddledoctor check` names it), or put the "
        "folder holding the library on LD_LIBRARY_PATH (`export LD_LIBRARY_PATH=$CONDA_PREFIX/lib`).",
        "ld.so's message when " + PADDLE + "python/paddle/base/core.py imports libpaddle",
    ),
    ErrorPattern(
        "cudnn-so-missing",
        r"libcudnn(?:_\w+)?\.so[\d.]*: cannot open shared object file|"
        r"Could not load library libcudnn\w*\.so",
        "PD203",
        "The cuDNN library is not on the loader's path (ld.so or cuDNN's own loader could not open "
        "libcudnn*.so).",
        "Install the cuDNN of the build's version (`pip install nvidia-cudnn-cu12` for the pip-CUDA "
        "wheels) or add its folder to LD_LIBRARY_PATH.",
        "ld.so's message; cuDNN 8's sublibrary loader ('Could not load library libcudnn_ops_infer.so.8')",
    ),
    ErrorPattern(
        "windows-dll-load-failed-paddle-core",
        # Python 3.7 and older print "DLL load failed: <reason>" without the module's name; it is
        # Paddle's when the traceback shows Paddle's core importing its extension
        r"DLL load failed(?::| while importing)",
        "PD130",
        "Windows could not load Paddle's compiled core (core_avx.pyd / libpaddle.pyd) or a DLL it "
        "needs: the Visual C++ runtime, the CPU's AVX, or the CUDA/cuDNN/MKL DLLs on PATH.",
        "Install the Visual C++ 2015-2022 Redistributable (x64); for the GPU build put the CUDA "
        "bin folder on PATH; try the openblas/noavx wheel where the CPU is old.",
        PADDLE + "python/paddle/fluid/core.py (1.x: `from .core_avx import *`); CPython's Windows "
        "loader",
        context=(r"core_(?:no)?avx|libpaddle|paddle[\\/](?:fluid|base)[\\/]core\.py",),
    ),
    ErrorPattern(
        "toolkit-check-gpu-cpu-build",
        r"You are using paddlepaddle cpu version! Please try to install paddlepaddle-gpu",
        "PD101",
        "A toolkit (PaddleClas, PaddleDetection, PaddleSeg) was asked to use the GPU but the Paddle "
        "it imports is the CPU build.",
        "Install `paddlepaddle-gpu` for your driver (`paddledoctor check` prints the command), or "
        "run with the GPU option off.",
        "github.com/PaddlePaddle/PaddleClas ppcls/utils/check.py and "
        "github.com/PaddlePaddle/PaddleDetection ppdet/utils/check.py (check_gpu)",
    ),
    ErrorPattern(
        "both-paddle-distributions-listed",
        # a `pip list` in the same text shows both distributions, and Paddle acts as the CPU build:
        # the CPU package's files were installed over the GPU one's (or the reverse)
        # `pip list` (name  version), `pip freeze` (name==version), `conda list` (+ build, channel)
        r"^\s*paddlepaddle-gpu(?:\s+|==)\d[\w.+]*(?:\s+\S+){0,2}\s*$",
        "PD102",
        "Both `paddlepaddle` and `paddlepaddle-gpu` are installed: they share the `paddle` package, "
        "so whichever was installed last wins, here the CPU build.",
        "`python -m pip uninstall -y paddlepaddle paddlepaddle-gpu`, then install the one you need "
        "(`paddledoctor check` prints the command).",
        "pip's `pip list` / `pip freeze` layouts and conda's `conda list`; "
        "github.com/PaddlePaddle/PaddleClas/issues/268",
        supersedes=("toolkit-check-gpu-cpu-build", "not-compiled-with-cuda",
                    "set-device-gpu-on-cpu-build"),
        context=(r"^\s*paddlepaddle(?:\s+|==)\d[\w.+]*(?:\s+\S+){0,2}\s*$",
                 r"You are using paddlepaddle cpu version|not compiled with CUDA|compiled without CUDA"),
    ),
    ErrorPattern(
        "illegal-instruction-flags-without-avx",
        r"Illegal instruction|SIGILL",
        "PD401",
        "The CPU met an instruction it does not have, and the CPU flags in the same text have no "
        "AVX: PaddlePaddle's x86-64 wheels need AVX (old or virtualised CPUs, QEMU's default CPU "
        "model, lack it).",
        "Run on a CPU with AVX, or pass the host CPU through to the VM (`-cpu host` in QEMU/KVM, "
        "'host-passthrough' in libvirt).",
        "the kernel's 'Illegal instruction'; /proc/cpuinfo and lscpu flag lists",
        supersedes=("illegal-instruction",),
        # a flags line (fpu ... sse2 ...) that names no avx
        context=(r"^(?=.*\bfpu\b)(?=.*\bsse2\b)(?!.*\bavx).*$",),
    ),
    ErrorPattern(
        "cuda-unknown-error",
        # cudaErrorUnknown is 999 since CUDA 10.1 and was 30 before it (Paddle 1.x on CUDA 9/10.0)
        r"cudaErrorUnknown|(?:CUDA|Cuda) error\((?:999|30)\),? unknown error",
        "PD507",
        "CUDA itself failed with an unknown error: the driver or the GPU is in a bad state (after a "
        "suspend/resume, a driver update without reboot, a GPU fault, or a process stuck on the "
        "GPU). The Paddle install is not the cause.",
        "Look at `nvidia-smi` and `dmesg | grep -i xid`; end processes stuck on the GPU, reload "
        "the unified-memory module (`sudo rmmod nvidia_uvm && sudo modprobe nvidia_uvm`) or reboot.",
        "CUDA Runtime API, cudaErrorUnknown = 999 (30 before CUDA 10.1); " + PADDLE +
        "paddle/phi/backends/gpu/cuda/cuda_info.cc (GetGPUDeviceCount)",
        # the device count failed: the no-GPU warnings are its echo
        supersedes=("run-check-cuda-not-set", "no-gpu-found-in-runtime"),
    ),
    ErrorPattern(
        "cublas-not-initialized",
        r"CUBLAS_STATUS_NOT_INITIALIZED|cublas status\]: not initialized",
        "PD508",
        "cuBLAS could not create its handle, at the first matrix multiply: the CUDA runtime and "
        "cuBLAS do not fit this GPU or driver (an old CUDA 10.x stack on a newer GPU, mixed CUDA "
        "installs on the library path), or the GPU had no memory left for the handle.",
        "Run `paddledoctor check` (it compares the build's CUDA with the driver and the GPU); "
        "install the wheel for your driver's CUDA and remove other CUDA folders from "
        "LD_LIBRARY_PATH; check `nvidia-smi` for memory held by other processes.",
        "cuBLAS API, CUBLAS_STATUS_NOT_INITIALIZED = 1; " + PADDLE +
        "paddle/phi/backends/gpu/cuda/cuda_helper.h (PADDLE_ENFORCE_GPU_SUCCESS)",
    ),
    ErrorPattern(
        "dataloader-killed",
        # SIGKILL from outside: the kernel's out-of-memory killer (a bus error is /dev/shm: PD402)
        r"is killed by signal: Killed",
        "PD403",
        "A DataLoader process was killed by the kernel (SIGKILL): the machine ran out of memory "
        "(each worker holds its own copy of the dataset and batches).",
        "Lower `num_workers` and the batch size, or free memory; `dmesg | grep -i 'killed process'` "
        "confirms the out-of-memory killer.",
        PADDLE + "paddle/fluid/imperative/data_loader.cc ('DataLoader process (pid %ld) exited is "
                 "killed by signal: %s.')",
    ),
    ErrorPattern(
        "shm-mmap-failed",
        # the allocator's text; the file reader's (data_feed.cc) adds ", error number is"
        r"Memory map failed when create shared memory(?!, error number)",
        "PD402",
        "A DataLoader worker could not map shared memory for a batch: /dev/shm is too small or "
        "full (Docker's default is 64 MiB).",
        "Start the container with `--shm-size=8g` (or `--ipc=host`), or use "
        "`use_shared_memory=False` / fewer `num_workers`.",
        PADDLE + "paddle/fluid/memory/allocation/mmap_allocator.cc (AllocateMemoryMap)",
    ),
    ErrorPattern(
        "too-many-open-files",
        r"\[Errno 24\] Too many open files|Too many open files \[24\]",
        "PD413",
        "The process reached its open-file limit (`ulimit -n`, often 1024): each DataLoader worker "
        "holds pipes and shared-memory file descriptors, and long runs with several workers use "
        "them up.",
        "Raise the limit for the shell that starts training (`ulimit -n 65535`, or `nofile` in "
        "/etc/security/limits.conf / the container's `--ulimit nofile=65535:65535`), or use fewer "
        "`num_workers`.",
        "errno EMFILE (24); " + PADDLE + "python/paddle/io/dataloader/dataloader_iter.py (workers' "
        "queues and shared memory)",
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
    found = {k: m for k, m in found.items() if m.pattern.context_holds(text)}
    superseded = {s for m in found.values() for s in m.pattern.supersedes}
    # Two rows that name the same cause on the same line are one finding: keep the table's first.
    seen: set = set()
    for k, m in found.items():
        if (m.pattern.code, m.line_number) in seen:
            superseded.add(k)
        seen.add((m.pattern.code, m.line_number))
    # Generic rows give way to a specific one with the same code.
    if "set-device-gpu-on-cpu-build" in found:
        superseded.add("not-compiled-with-cuda")
    return sorted((m for k, m in found.items() if k not in superseded), key=lambda m: m.line_number)
