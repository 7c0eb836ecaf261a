"""The one table of finding codes.

A code is never reused nor renumbered: retire it (``retired=True``) and take a new one. Each code has
a page ``docs/codes/PDnnn.md`` (What it checks / Why it matters / How to fix); a test holds the table
and the pages together. Groups: PD0xx the doctor itself, PD1xx the Paddle install, PD2xx the Paddle
build against the GPUs, PD3xx the NVIDIA driver and the GPUs' health, PD4xx the host, PD5xx a real op
on each device, PD6xx the user's stated requirements, PD7xx the checkpoint round trip on the device
(bench), PD8xx checkpoint files read safely (inspect), PD9xx the ranks of a distributed job (fleet).
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Severity

E, W, I = Severity.ERROR, Severity.WARN, Severity.INFO


@dataclass(frozen=True)
class Code:
    code: str
    area: str
    severity: Severity
    title: str
    since: str = "0.1.0"
    retired: bool = False


_TABLE = [
    # the doctor itself
    Code("PD001", "doctor", W, "A probe could not run; its facts are unavailable"),
    Code("PD002", "doctor", E, "A check failed on these facts: a doctor bug, and the machine could not be judged", since="0.2.0"),
    # -- tests (#12): PD003-PD005; house (#13): PD006-PD009 --
    Code("PD003", "doctor", W, "Facts in this report are not in the shape this doctor reads: they were set aside", since="0.2.0"),
    # -- end doctor --
    # the Paddle install
    Code("PD100", "paddle", E, "PaddlePaddle is not installed"),
    Code("PD101", "paddle", E, "CPU build of PaddlePaddle on a machine with NVIDIA GPUs"),
    Code("PD102", "paddle", E, "More than one installed distribution provides the paddle package"),
    Code("PD103", "paddle", E, "The installed Paddle wheel was built for another Python"),
    Code("PD104", "paddle", E, "import paddle crashed the interpreter"),
    Code("PD105", "paddle", E, "import paddle hung"),
    Code("PD106", "paddle", E, "import paddle raised an error"),
    Code("PD107", "paddle", W, "The paddle package is not the one an installed distribution provides"),
    # -- shared codes registered up front (0.2.0) for the issues #10-#17 work; owners noted --
    # PD110-PD117 the Paddle install's surroundings (binaries: PD110/PD111; stack: PD112-PD116; tickets: PD117)
    Code("PD110", "paddle", E, "import paddle would fail: the host's C/C++ runtime is older than the wheel needs", since="0.2.0"),
    Code("PD111", "paddle", E, "import paddle would fail: a shared library it needs cannot be found", since="0.2.0"),
    Code("PD112", "paddle", E, "A distribution of the Paddle stack requires a package that is missing or at a version it does not accept", since="0.2.0"),
    Code("PD113", "paddle", E, "protobuf or numpy is at a version this Paddle or its toolkits cannot use", since="0.2.0"),
    Code("PD114", "paddle", E, "A Paddle toolkit (PaddleOCR, PaddleX, ...) does not match the installed Paddle", since="0.2.0"),
    Code("PD115", "paddle", W, "This Paddle release has a known bug that hits this setup", since="0.2.0"),
    Code("PD116", "paddle", W, "Another framework's CUDA libraries clash with Paddle's", since="0.2.0"),
    Code("PD117", "paddle", E, "No PaddlePaddle wheel exists for this Python or platform", since="0.2.0"),
    # -- tickets (#14): PD130-PD149 --
    Code("PD130", "paddle", E, "Windows cannot load libpaddle or a DLL it needs", since="0.2.0"),
    Code("PD131", "paddle", E, "CUDA was initialised before the process forked", since="0.2.0"),
    Code("PD132", "paddle", E, "OpenCV cannot load libGL.so.1", since="0.2.0"),
    Code("PD133", "paddle", E, "NCCL failed with a CUDA error (an NCCL built for another CUDA, or the driver)", since="0.2.0"),
    Code("PD134", "paddle", E, "A self-built Paddle is linked against system libraries this machine lacks", since="0.2.0"),
    # -- pasted text (#14): PD140-PD149 --
    Code("PD140", "paddle", W, "The pasted text disagrees with itself: its parts come from different machines or environments", since="0.2.0"),
    Code("PD141", "paddle", I, "A pasted output is cut off: what it would have shown is not known", since="0.2.0"),
    # -- end pasted text --
    # -- end tickets --
    # -- stack (#15): PD150-PD169 --
    Code("PD150", "paddle", W, "Two majors of one CUDA library (cuDNN, NCCL, cuBLAS) are installed side by side", since="0.2.0"),
    Code("PD151", "paddle", W, "Importing another framework after Paddle (or before it) fails: a known import-order clash", since="0.2.0"),
    Code("PD152", "paddle", W, "conda and pip copies of one package are mixed in this conda environment", since="0.2.0"),
    Code("PD153", "paddle", W, "conda's CUDA packages do not match the CUDA/cuDNN this Paddle was built with", since="0.2.0"),
    Code("PD154", "paddle", W, "CONDA_PREFIX names another environment than the python being checked", since="0.2.0"),
    # -- end stack --
    Code("PD108", "paddle", W, "Paddle's build information could not be read"),
    # the Paddle build against the GPUs
    Code("PD201", "cuda", E, "The NVIDIA driver is too old for the CUDA this Paddle was built with"),
    Code("PD202", "cuda", E, "A GPU's compute capability is not among the archs this Paddle was compiled for"),
    Code("PD203", "cuda", E, "The cuDNN library cannot be found or loaded"),
    Code("PD204", "cuda", E, "The cuDNN found is older than the one this Paddle was built with"),
    Code("PD205", "cuda", W, "Paddle sees fewer GPUs than the driver reports"),
    Code("PD206", "cuda", W, "NCCL is missing on a machine with several GPUs"),
    Code("PD207", "cuda", W, "GPU build of PaddlePaddle on a machine with no usable NVIDIA GPU"),
    Code("PD208", "cuda", W, "CUDA_VISIBLE_DEVICES is set but this Paddle is the CPU build"),
    Code("PD209", "cuda", E, "The GPU build of Paddle sees no GPU although the driver reports some"),
    # -- shared: PD210/PD211 wheels (#10), PD212/PD213 binaries (#10) --
    Code("PD210", "cuda", E, "The CUDA runtime libraries this Paddle needs (cudart, cuBLAS) cannot be found or loaded", since="0.2.0"),
    Code("PD211", "cuda", E, "The NVIDIA driver's libcuda.so.1 cannot be found", since="0.2.0"),
    Code("PD212", "cuda", W, "A GPU has only PTX in this build: its kernels are JIT-compiled on first use", since="0.2.0"),
    Code("PD213", "cuda", W, "The build's recorded arch list disagrees with the code in its binaries", since="0.2.0"),
    # -- wheels (#10): PD215-PD229 --
    # -- end wheels --
    # -- binaries (#10): PD230-PD239 --
    # -- end binaries --
    # the NVIDIA driver and the GPUs' health
    Code("PD300", "gpu", I, "No NVIDIA driver: this is a CPU-only machine"),
    Code("PD301", "gpu", E, "NVIDIA GPUs are present but the driver is not loaded"),
    Code("PD302", "gpu", E, "NVIDIA driver/library version mismatch"),
    Code("PD303", "gpu", E, "A GPU has fallen off the bus (GPU is lost)"),
    Code("PD304", "gpu", E, "A GPU reports uncorrected ECC errors"),
    Code("PD305", "gpu", W, "A GPU has pending row remaps or retired pages and needs a reset"),
    Code("PD306", "gpu", W, "A GPU is mostly occupied by another process"),
    Code("PD307", "gpu", W, "NVML could not be queried"),
    Code("PD308", "gpu", I, "A Jetson/Tegra device: no NVML, the GPU is judged from the Tegra release", since="0.2.0"),
    # -- house (#13): PD310-PD319 --
    # -- end house --
    # the host
    Code("PD401", "host", E, "The CPU lacks AVX, which PaddlePaddle's x86-64 wheels need"),
    Code("PD402", "host", W, "/dev/shm is too small for DataLoader workers"),
    Code("PD403", "host", W, "Little free memory"),
    Code("PD404", "host", W, "Little free disk space"),
    Code("PD405", "host", E, "The CPU lacks instructions this wheel uses, or Python runs under emulation", since="0.2.0"),
    # -- stack/tickets host codes: PD406-PD419 (stack PD406-PD412, tickets PD413-PD419) --
    Code("PD406", "host", E, "A container started without the NVIDIA runtime: no /dev/nvidia* devices", since="0.2.0"),
    Code("PD407", "host", E, "A container has /dev/nvidia* but the driver's libcuda.so.1 is not mounted", since="0.2.0"),
    Code("PD408", "host", E, "WSL has no GPU access: /dev/dxg is missing (or this is WSL 1)", since="0.2.0"),
    Code("PD409", "host", W, "WSL2: /usr/lib/wsl/lib is not on the loader's path", since="0.2.0"),
    Code("PD410", "host", I, "WSL2: the GPU is reached through /dev/dxg; the libcuda.so.1 ldconfig warning is harmless", since="0.2.0"),
    Code("PD411", "host", E, "WSL2: a Linux NVIDIA driver installed inside WSL shadows the Windows driver", since="0.2.0"),
    Code("PD413", "host", E, "The process ran out of open files (the open-file limit is too low for its workers)", since="0.2.0"),
    # -- end host --
    # a real op on each device
    Code("PD501", "ops", E, "A real training step crashed the interpreter"),
    Code("PD502", "ops", E, "A real training step hung"),
    Code("PD503", "ops", E, "A real training step gave a wrong result"),
    Code("PD504", "ops", E, "A real training step raised an error"),
    Code("PD505", "ops", E, "Paddle crashed, hung or failed while reading its build or devices"),
    Code("PD506", "ops", E, "The GPU ran out of memory in the job itself (batch or model too large)", since="0.2.0"),
    # -- tickets (#14): PD507-PD519 --
    Code("PD507", "ops", E, "CUDA failed with an unknown error: the driver or the GPU is in a bad state", since="0.2.0"),
    Code("PD508", "ops", E, "cuBLAS could not be initialised on the GPU", since="0.2.0"),
    # -- end ops --
    # the user's stated requirements
    Code("PD601", "requirements", E, "A GPU is required but none is usable"),
    Code("PD602", "requirements", E, "Fewer usable GPUs than required"),
    # -- requirements of pre-flight (PD603-PD619: preflight / fleet work) --
    Code("PD603", "requirements", E, "Less free GPU memory than required"),
    Code("PD604", "requirements", E, "Less free disk space than required"),
    Code("PD605", "requirements", E, "The checkpoint directory cannot be written"),
    Code("PD606", "requirements", E, "A checkpoint round trip was required but could not run"),
    # -- end requirements --
    # the checkpoint round trip on the device (paddledoctor bench)
    Code("PD701", "bench", E, "A checkpoint round trip did not restore the state bit for bit"),
    # -- bench (PD702-PD799) --
    Code("PD702", "bench", E, "Training resumed from a checkpoint does not continue as the uninterrupted run"),
    Code("PD703", "bench", E, "The bench could not write its checkpoint: folder not writable, disk full or file too large"),
    Code("PD704", "bench", E, "The checkpoint size asked for does not fit in memory: refused before allocating"),
    Code("PD705", "bench", E, "A checkpoint step crashed, hung or raised an error"),
    Code("PD706", "bench", E, "The device asked for is not usable"),
    Code("PD707", "bench", W, "Saving a checkpoint reaches a small share of the disk's own bandwidth"),
    Code("PD708", "bench", W, "paddle.async_save wrote a torn checkpoint"),
    Code("PD709", "bench", W, "Saving the projected checkpoint would not fit in memory"),
    Code("PD710", "bench", I, "A cold read could not be had: load figures come from memory"),
    Code("PD711", "bench", W, "The bench left temporary files behind"),
    # -- bench-model (#16): PD712-PD729 --
    Code("PD712", "bench", E, "The model factory given to bench --model cannot be used", since="0.2.0"),
    Code("PD713", "bench", W, "Resuming this training exactly needs more state saved than the model and optimizer", since="0.2.0"),
    Code("PD714", "bench", E, "This training does not resume exactly even with all its state saved", since="0.2.0"),
    Code("PD715", "bench", W, "This training is not deterministic here: two identical runs differ", since="0.2.0"),
    Code("PD716", "bench", E, "The saved optimizer state did not load into the rebuilt model and optimizer", since="0.2.0"),
    # -- end bench --
    # checkpoint files read safely (paddledoctor inspect)
    Code("PD801", "checkpoint", E, "The checkpoint file is truncated or corrupt"),
    Code("PD802", "checkpoint", E, "An inference .pdiparams file used as a training .pdparams (or the reverse)"),
    Code("PD803", "checkpoint", E, "The optimizer state's accumulator names do not match the model's parameters"),
    Code("PD804", "checkpoint", E, "The checkpoint asks to run code: refused"),
    # -- checkpoint (PD805-PD899) --
    Code("PD805", "checkpoint", E, "The file is not a checkpoint format paddledoctor reads"),
    Code("PD806", "checkpoint", E, "The checkpoint file cannot be read"),
    Code("PD807", "checkpoint", W, "Tensors in the checkpoint hold NaN or Inf values"),
    Code("PD808", "checkpoint", E, "The .pdiparams file does not match its program"),
    Code("PD809", "checkpoint", W, "The two checkpoints differ in tensor names, shapes or dtypes"),
    Code("PD810", "checkpoint", I, "The checkpoint holds records that are not tensors"),
    # -- checkpoint folders (#16): PD811-PD829 --
    Code("PD811", "checkpoint", E, "The newest checkpoint in the folder is not safe to resume from", since="0.2.0"),
    Code("PD812", "checkpoint", W, "An older checkpoint in the folder is incomplete or broken", since="0.2.0"),
    Code("PD813", "checkpoint", I, "The newest checkpoint in the folder that is safe to resume from", since="0.2.0"),
    Code("PD814", "checkpoint", E, "The folder holds no checkpoint in a layout paddledoctor knows", since="0.2.0"),
    # -- inspect cannot be fooled (#11): PD830-PD839 --
    Code("PD830", "checkpoint", E, "The file is valid as two formats: paddle.load unpickles it, other readers see another content", since="0.2.0"),
    Code("PD831", "checkpoint", E, "Reading the file would cost more than inspect's budget: refused", since="0.2.0"),
    Code("PD832", "checkpoint", E, "A bug of paddledoctor stopped the reading of the file", since="0.2.0"),
    Code("PD833", "checkpoint", E, "The safetensors library would refuse this file", since="0.2.0"),
    # -- end checkpoint --
    # the ranks of a distributed job together (paddledoctor fleet)
    Code("PD901", "fleet", E, "A collective operation failed, hung or gave a wrong result across ranks"),
    # -- fleet (PD902-PD999) --
    Code("PD902", "fleet", E, "A rank did not reach the collective check in time (hung or crashed)"),
    Code("PD903", "fleet", E, "A rank's own check failed"),
    Code("PD904", "fleet", W, "The ranks differ in their Paddle, Python or device setup"),
    Code("PD905", "fleet", E, "The launcher started a GPU job with the CPU build of Paddle"),
    Code("PD906", "fleet", W, "The launcher wrote this job's environment, secrets included, to disk"),
    Code("PD907", "fleet", E, "The checkpoint directory is not shared by all ranks"),
    Code("PD908", "fleet", I, "One rank only: the collective check needs at least two"),
    # -- house (#13): PD909-PD919 --
    Code("PD909", "fleet", E, "A rank's report never arrived: its own check did not finish", since="0.2.0"),
    # -- end fleet --
]

CODES: dict[str, Code] = {c.code: c for c in _TABLE}

AREAS = ["doctor", "host", "paddle", "gpu", "cuda", "ops", "requirements", "bench", "checkpoint",
         "fleet"]
AREA_TITLES = {
    "doctor": "Doctor",
    "host": "Host",
    "paddle": "Paddle install",
    "gpu": "NVIDIA driver and GPUs",
    "cuda": "Paddle build vs GPUs",
    "ops": "Real training step",
    "requirements": "Requirements",
    "bench": "Checkpoint round trip",
    "checkpoint": "Checkpoint files",
    "fleet": "Distributed job",
}


def get(code: str) -> Code:
    try:
        return CODES[code]
    except KeyError:
        raise KeyError(f"unknown finding code {code!r}; add it to paddledoctor/codes.py") from None
