"""The table of known Paddle error messages: every row is recognised in a real text (from Paddle's
sources, from users' issues, or produced here), maps to a real code, and says where it came from."""

from __future__ import annotations

import re

import pytest
from conftest import FIXTURES

from paddledoctor import codes
from paddledoctor.knowledge import errors

LOGS = FIXTURES / "logs"

# A real text for every row: as Paddle, CUDA, NCCL, the kernel or Python print it (sources in the
# table; quoted from users' reports where the message needs a GPU to produce).
SAMPLES = {
    "set-device-gpu-on-cpu-build":
        "ValueError: The device should not be 'gpu', since PaddlePaddle is not compiled with CUDA",
    "not-compiled-with-cuda":
        "RuntimeError: Paddle can't use CUDA device since it's not compiled with CUDA,Please "
        "recompile or reinstall Paddle with GPU support.",
    "cudnn-not-loaded":
        "RuntimeError: (PreconditionNotMet) Cannot load cudnn shared library. Cannot invoke method "
        "cudnnGetVersion.\n  [Hint: cudnn_dso_handle should not be null.] "
        "(at /paddle/paddle/phi/backends/dynload/cudnn.cc:64)",
    "nccl-not-loaded":
        "PreconditionNotMetError: The third-party dynamic library (libnccl.so) that Paddle depends on "
        "is not configured correctly. (error code is libnccl.so: cannot open shared object file: No "
        "such file or directory)",
    "cuda-lib-not-loaded":
        "The third-party dynamic library (libcublas.so) that Paddle depends on is not configured "
        "correctly. (error code is libcublas.so: cannot open shared object file: No such file or "
        "directory)",
    "driver-insufficient":
        "ExternalError: CUDA error(35), CUDA driver version is insufficient for CUDA runtime version.",
    "forward-compat-unsupported":
        "ExternalError: CUDA error(804), forward compatibility was attempted on non supported HW.",
    "no-kernel-image":
        "ExternalError: CUDA error(209), no kernel image is available for execution on the device.",
    "compute-capability-unsupported":
        "W1129 01:02:03.456 gpu_resources.cc:119] The GPU compute capability in your current machine "
        "is 120, which is not supported by Paddle, it is recommended to install the corresponding "
        "wheel package according to the installation information on the official Paddle website.",
    "no-cuda-device":
        "ExternalError: CUDA error(100), no CUDA-capable device is detected.",
    "driver-library-mismatch":
        "Failed to initialize NVML: Driver/library version mismatch",
    "uncorrectable-ecc":
        "ExternalError: CUDA error(214), uncorrectable ECC error encountered.",
    "gpu-lost":
        "Unable to determine the device handle for GPU0000:3B:00.0: GPU is lost.  Reboot the system "
        "to recover this GPU",
    "gpu-out-of-memory":
        "ResourceExhaustedError: Out of memory error on GPU 0. Cannot allocate 1.000000GB memory on "
        "GPU 0, 78.500000GB memory has been allocated and available memory is only 400.000000MB.",
    "no-avx-message":
        "Your machine doesn't support AVX, but the installed PaddlePaddle is avx core, you should "
        "reinstall paddlepaddle with no-avx core.",
    "illegal-instruction":
        "Illegal instruction (core dumped)",
    # --- #14 rows: the texts as Paddle, CUDA, ld.so, pip, numpy, protobuf and Windows print them
    "run-check-cuda-not-set":
        "You are using GPU version Paddle, but your CUDA device is not set properly. CPU device will "
        "be used by default.",
    "no-gpu-found-in-runtime":
        "W1202 08:01:02.345  1234 gpu_info.cc:93] Compiled with WITH_GPU, but no GPU found in runtime.",
    "cudnn-version-mismatch":
        "W1202 08:01:02.345 gpu_resources.cc:164] device: 0, cuDNN Version: 8.2. WARNING: device: 0. "
        "The installed Paddle is compiled with CUDNN 8.6, but CUDNN version in your machine is 8.2, "
        "which may cause serious incompatible bug. Please recompile or reinstall Paddle with "
        "compatible CUDNN version.",
    "mismatched-gpu-arch":
        "Mismatched GPU Architecture: The installed PaddlePaddle package was compiled for 60 61 70 75 "
        "80 86, but your current GPU is 120",
    "cuda-error-222":
        "OSError: (External) CUDA error(222), the provided PTX was compiled with an unsupported "
        "toolchain.",
    "cuda-error-98":
        "OSError: (External) CUDA error(98), invalid device function.",
    "legacy-loader-cudnn":
        "Error: Failed to find dynamic library: libcudnn.so ( libcudnn.so: cannot open shared object "
        "file: No such file or directory )",
    "legacy-loader-cuda-runtime":
        "Error: Failed to find dynamic library: libcublas.so ( libcublas.so: cannot open shared "
        "object file: No such file or directory )",
    "legacy-loader-nccl":
        "Error: Failed to find dynamic library: libnccl.so ( libnccl.so: cannot open shared object "
        "file: No such file or directory )",
    "libcuda-missing":
        "The third-party dynamic library (libcuda.so) that Paddle depends on is not configured "
        "correctly. (error code is libcuda.so: cannot open shared object file: No such file or "
        "directory)",
    "no-space-left":
        "OSError: [Errno 28] No space left on device: 'output/checkpoint-500/model_state.pdparams'",
    "dataloader-shm-old":
        "SystemError: (Fatal) DataLoader reader thread raised an exception.",
    "shape-not-matching":
        "AssertionError: Shape not matching: the Program requires a parameter with a shape of "
        "((256, 512)), while the loaded parameter (namely [ fc_0.w_0 ]) has a shape of  ((512, 256)).",
    "windows-dll-load-failed":
        "ImportError: DLL load failed while importing libpaddle: The specified module could not be "
        "found.",
    "windows-cudnn-dll":
        "Could not locate cudnn_ops_infer64_8.dll. Please make sure it is in your library path!",
    "windows-cublas-dll":
        "Could not locate cublasLt64_12.dll. Please make sure it is in your library path!",
    "glibc-not-found":
        "ImportError: /lib64/libm.so.6: version `GLIBC_2.27' not found (required by "
        "/usr/lib/python3.9/site-packages/paddle/base/libpaddle.so)",
    "libssl-missing":
        "ImportError: libssl.so.1.1: cannot open shared object file: No such file or directory",
    "protobuf-descriptors":
        "TypeError: Descriptors cannot be created directly.",
    "numpy-alias-removed":
        "AttributeError: module 'numpy' has no attribute 'int'.",
    "numpy2-abi":
        "A module that was compiled using NumPy 1.x cannot be run in\nNumPy 2.0.0 as it may crash.",
    "no-matching-distribution":
        "ERROR: No matching distribution found for paddlepaddle-gpu==3.3.1",
    "analysis-config-mismatch":
        "AttributeError: 'AnalysisConfig' object has no attribute 'set_optimization_level'",
    "paddle-fluid-removed":
        "ModuleNotFoundError: No module named 'paddle.fluid'",
    "pir-attribute-crash":
        "NotImplementedError: (Unimplemented) ConvertPirAttribute2RuntimeAttribute not support "
        "[pir::ArrayAttribute<pir::DoubleAttribute>]",
    "nccl-symbol-clash":
        "ImportError: /usr/lib/python3.10/site-packages/paddle/base/libpaddle.so: undefined symbol: "
        "ncclCommInitRankScalable",
    "cuda-init-before-fork":
        "OSError: (External) CUDA error(3), initialization error.",
    "libgl-missing":
        "ImportError: libGL.so.1: cannot open shared object file: No such file or directory",
    "nccl-unhandled-cuda":
        "ExternalError: Nccl error(1), unhandled cuda error",
    "undefined-symbol-system":
        "ImportError: /opt/paddle/build/python/paddle/base/libpaddle.so: undefined symbol: gzopen64",
    "dataloader-bus-error":
        "ERROR: Unexpected BUS error encountered in DataLoader worker. This might be caused by "
        "insufficient shared memory (shm), please check whether use_shared_memory is set and storage "
        "space in /dev/shm is enough",
    "global-group-not-initialized":
        "RuntimeError: The global group is not initialized.",
    "nccl-error":
        "ExternalError: Nccl error(2), unhandled system error  (at "
        "/paddle/paddle/phi/core/distributed/nccl_comm_context.cc:86)",
    "optimizer-set-error":
        "AssertionError: Optimizer set error, linear_4.w_0_moment1_0 should in state dict",
    "pickle-truncated":
        "_pickle.UnpicklingError: pickle data was truncated",
    "pdiparams-as-pdparams":
        "ValueError: (InvalidArgument) Deserialize to tensor failed, maybe the loaded file is not a "
        "paddle model(expected file format: 0, but 1936876918 found).",
    "load-cannot-parse":
        "ValueError: `paddle.load` can not parse the file:model.pdparams.",
    "no-module-paddle":
        "ModuleNotFoundError: No module named 'paddle'",
    "undefined-symbol-in-paddle":
        "ImportError: /usr/lib/python3/site-packages/paddle/base/libpaddle.so: undefined symbol: "
        "_ZN6paddle8platform",
    # --- #14 corpus rows: quoted from the threads in tests/explain/tickets (manifest.json)
    "cuda-runtime-so-missing":  # PaddlePaddle/PaddleOCR#10324
        "    from . import libpaddle\nImportError: libcudart.so.10.2: cannot open shared object file: "
        "No such file or directory",
    "cudnn-so-missing":  # cuDNN 8's sublibrary loader, as users paste it
        "Could not load library libcudnn_ops_infer.so.8. Error: libcudnn_ops_infer.so.8: cannot open "
        "shared object file: No such file or directory",
    "windows-dll-load-failed-paddle-core":  # PaddlePaddle/Paddle#22797 (Paddle 1.7, Python 3.6)
        '  File "D:\\python\\lib\\site-packages\\paddle\\fluid\\core.py", line 167, in <module>\n'
        "    from .core_avx import *\nImportError: DLL load failed: 找不到指定的程序。",
    "toolkit-check-gpu-cpu-build":  # PaddlePaddle/PaddleClas#268
        "2020-09-08 09:14:59 ERROR: You are using paddlepaddle cpu version! Please try to install "
        "paddlepaddle-gpu to run model on GPU.",
    "both-paddle-distributions-listed":  # PaddlePaddle/PaddleClas#268
        "ERROR: You are using paddlepaddle cpu version! Please try to install paddlepaddle-gpu to run "
        "model on GPU.\npaddlepaddle         1.8.4       \npaddlepaddle-gpu     1.8.4.post97",
    "illegal-instruction-flags-without-avx":  # PaddlePaddle/PaddleDetection#9488 (QEMU Virtual CPU)
        "fpu de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pse36 clflush mmx fxsr sse sse2 "
        "syscall nx lm rep_good nopl xtopology cpuid tsc_known_freq pni cx16 x2apic hypervisor "
        "lahf_lm cpuid_fault\nSTEP 3: import paddle\nIllegal instruction (core dumped)",
    "cuda-unknown-error":  # PaddlePaddle/Paddle#42924
        "OSError: (External) CUDA error(999), unknown error. \n  [Hint: 'cudaErrorUnknown'. This "
        "indicates that an unknown internal error has occurred. ] (at "
        "/paddle/paddle/phi/backends/gpu/cuda/cuda_info.cc:66)",
    "cublas-not-initialized":  # PaddlePaddle/PaddleDetection#2967
        "OSError: (External)  Cublas error, `CUBLAS_STATUS_NOT_INITIALIZED`. The cuBLAS library was "
        "not initialized.  (at /paddle/paddle/fluid/platform/cuda_helper.h:84)",
    "dataloader-killed":  # PaddlePaddle/PaddleOCR#3624
        "训练过程被杀死DataLoader process (pid 3063) exited is killed by signal: Killed，怎么解决呢",
    "too-many-open-files":  # PaddlePaddle/Paddle#49829
        "    parent_r, child_w = os.pipe()\nOSError: [Errno 24] Too many open files",
    "shm-mmap-failed":  # PaddlePaddle/PaddleOCR#3339
        "RuntimeError: (Unavailable) Memory map failed when create shared memory.\n  [Hint: Expected "
        "ptr != ((void *) -1), but received ptr:0xffffffffffffffff == ((void *) -1):0xffffffffffffffff.] "
        "(at /paddle/paddle/fluid/memory/allocation/mmap_allocator.cc:81)",
}

# Real logs produced on this machine (tests/fixtures/logs/make_logs.py, and the launcher run) and
# the codes explain must find in each: exactly these.
REAL_LOGS = {
    "real_set_device_gpu_cpu_build.log": ["PD101"],
    "real_optimizer_set_error.log": ["PD803"],
    "real_truncated_pdparams.log": ["PD801"],
    "real_pdparams_as_pdiparams.log": ["PD802"],
    "real_launch_cvd_with_cpu_build.log": ["PD208"],
    "real_dataloader_small_shm.log": ["PD402"],
}


def test_at_least_fifteen_patterns_each_with_a_source_cause_and_fix():
    assert len(errors.PATTERNS) >= 15
    ids = [p.id for p in errors.PATTERNS]
    assert len(ids) == len(set(ids))
    for p in errors.PATTERNS:
        assert p.code in codes.CODES, p
        assert p.cause.strip() and p.fix.strip() and p.source.strip(), p.id
        assert all(s in errors.BY_ID for s in p.supersedes), p.id


def test_every_pattern_has_a_real_sample():
    assert set(SAMPLES) == {p.id for p in errors.PATTERNS}


@pytest.mark.parametrize("pattern_id", sorted(SAMPLES))
def test_each_sample_is_recognised_as_its_own_row(pattern_id):
    found = errors.scan("some unrelated line\n" + SAMPLES[pattern_id] + "\nanother line\n")
    assert pattern_id in [m.pattern.id for m in found]
    match = next(m for m in found if m.pattern.id == pattern_id)
    assert match.line_number >= 2


@pytest.mark.parametrize("log,expected", sorted(REAL_LOGS.items()))
def test_real_logs_give_exactly_their_cause(log, expected):
    text = (LOGS / log).read_text()
    assert [m.pattern.code for m in errors.scan(text)] == expected


def test_set_device_with_an_index_is_recognised():
    """paddle 3.3.1 prints the regex match object for "gpu:0" (python/paddle/device/__init__.py)."""
    text = ("ValueError: The device should not be <re.Match object; span=(0, 5), match='gpu:0'>, "
            "since PaddlePaddle is not compiled with CUDA")
    assert [m.pattern.id for m in errors.scan(text)] == ["set-device-gpu-on-cpu-build"]


def test_truncation_is_not_also_reported_as_a_wrong_file_kind():
    """paddle.load tries its other readers on a truncated pickle; their complaints (Deserialize to
    tensor failed) are noise that the truncation explains."""
    text = (LOGS / "real_truncated_pdparams.log").read_text()
    assert "Deserialize to tensor failed" in text  # the noise is really there
    assert [m.pattern.id for m in errors.scan(text)] == ["pickle-truncated"]


def test_the_error_line_is_shown_rather_than_the_raise_statement():
    text = (LOGS / "real_launch_cvd_with_cpu_build.log").read_text()
    (match,) = errors.scan(text)
    assert match.line.startswith("RuntimeError: The global group is not initialized")
    assert match.count == 2


def test_ordinary_logs_match_nothing():
    text = "\n".join([
        "Epoch 1/10 loss=0.693 acc=0.51", "cuDNN version 9.1.0.70, CUDA 12.6, driver 550.54.14",
        "W1129 device.cc:100] Please NOTE: device: 0, GPU Compute Capability: 8.0, Driver API "
        "Version: 12.4, Runtime API Version: 12.6", "Saving checkpoint to output/epoch_1.pdparams",
        "paddle.distributed.launch: job done", "import paddle.nn as nn",
    ])
    assert errors.scan(text) == []


def test_the_table_is_data_with_sources_not_code():
    """Every row names where its text came from: a Paddle source file, or the CUDA/NCCL/NVML API."""
    for p in errors.PATTERNS:
        assert re.search(r"github\.com/PaddlePaddle|CUDA Runtime API|NVML|NCCL|CPython|kernel|"
                         r"ld\.so|errno|numpy|protobuf|pip's|opencv|cuDNN|CUDA on Windows",
                         p.source), p.id
