"""Host facts: OS, Python, CPU features, memory, /dev/shm, disk, NVIDIA PCI devices, environment."""

from __future__ import annotations

import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

from ..model import Unavailable

# Environment variables worth reporting; anything else (tokens, passwords...) is never collected,
# and an allowlisted one whose name looks secret (PADDLE_AUTH_TOKEN) is kept with its value removed.
ENV_PREFIXES = ("CUDA_", "NVIDIA_", "NCCL_", "FLAGS_", "PADDLE_", "CUDNN_", "GLOG_", "OMP_", "MKL_",
                "KMP_", "GLOO_", "XPU_")
ENV_NAMES = ("LD_LIBRARY_PATH", "LD_PRELOAD", "PATH", "PYTHONPATH", "VIRTUAL_ENV", "CONDA_PREFIX",
             "CONDA_DEFAULT_ENV", "OPENBLAS_NUM_THREADS", "POD_IP", "TRAINING_ROLE")
CPU_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16")
# Where the kernel says what the CPU is and what memory limit a container has (module constants so
# that a test can point them at another machine's files).
CPUINFO = "/proc/cpuinfo"
CGROUP_ROOT = "/sys/fs/cgroup"
# Where the DataLoader's shared memory is: /dev/shm, unless PADDLEDOCTOR_SHM_PATH names another
# mount (the test suite points it at its own folder, so that a Docker-sized 64 MiB /dev/shm on the
# machine running the tests does not change what they expect).
SHM_PATH = "/dev/shm"


def probe(cwd: str | None = None) -> dict:
    cwd = cwd or os.getcwd()
    return {
        "os": _os(),
        "python": _python(),
        "cpu": _cpu(),
        "memory": _memory(),
        "shm": (_statvfs(os.environ.get("PADDLEDOCTOR_SHM_PATH") or SHM_PATH)
                if sys.platform.startswith("linux") else Unavailable("not Linux")),
        "disk": {"cwd": _statvfs(cwd), "tmp": _statvfs(tempfile.gettempdir())},
        "pci_nvidia": _pci_nvidia(),
        "nvidia_kernel_module": _nvidia_kernel_module(),
        "env": _env(),
        "compiler": _compiler(),
    }


def _compiler() -> dict:
    """The C++ compiler that Paddle's custom operators (paddle.utils.cpp_extension) would use."""
    import subprocess

    path = shutil.which("g++") or shutil.which("gcc")
    if not path:
        return {"gcc": None}
    try:
        out = subprocess.run([path, "-dumpfullversion", "-dumpversion"], capture_output=True,
                             text=True, timeout=5)
        return {"gcc": out.stdout.strip().splitlines()[0] if out.stdout.strip() else None,
                "path": path}
    except (OSError, subprocess.SubprocessError) as exc:
        return {"gcc": Unavailable(f"{path} did not answer: {exc}"), "path": path}


def _env() -> dict:
    from ..redaction import REDACTED, secret_name

    return {k: REDACTED if secret_name(k) else v for k, v in sorted(os.environ.items())
            if k.startswith(ENV_PREFIXES) or k in ENV_NAMES}


def _os() -> dict:
    facts = {"system": platform.system(), "release": platform.release(),
             "machine": platform.machine()}
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                facts["distribution"] = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    libc, libc_version = platform.libc_ver()
    if libc:
        facts["libc"] = f"{libc} {libc_version}"
    try:
        facts["in_container"] = (Path("/.dockerenv").exists()
                                 or "container" in os.environ
                                 or Path("/run/.containerenv").exists())
    except OSError:
        pass
    return facts


def _python() -> dict:
    on_path = shutil.which("python")
    return {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        # Fix commands say `python -m pip` only when that `python` is this interpreter.
        "python_on_path_is_this": bool(on_path) and _same_file(on_path, sys.executable),
        "prefix": sys.prefix,
        "in_venv": sys.prefix != getattr(sys, "base_prefix", sys.prefix),
    }


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b) or os.path.realpath(a) == os.path.realpath(b)
    except OSError:
        return False


def _cpu() -> dict:
    facts: dict = {"logical_cpus": os.cpu_count()}
    try:
        facts["usable_cpus"] = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        pass
    if not sys.platform.startswith("linux"):
        facts["flags"] = Unavailable(f"CPU flags are read from /proc/cpuinfo; this is {sys.platform}")
        return facts
    try:
        with open(CPUINFO, encoding="utf-8", errors="replace") as f:
            flags, model = None, None
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("flags", "Features") and flags is None:
                    flags = set(value.split())
                elif key == "model name" and model is None:
                    model = value.strip()
                if flags is not None and model is not None:
                    break
    except OSError as exc:
        facts["flags"] = Unavailable(f"cannot read {CPUINFO}: {exc}")
        return facts
    facts["model"] = model
    facts["flags"] = ({name: name in flags for name in CPU_FLAGS} if flags is not None
                      else Unavailable("no flags line in /proc/cpuinfo"))
    return facts


def _memory() -> dict:
    try:
        import psutil
        vm = psutil.virtual_memory()
        facts = {"total": vm.total, "available": vm.available}
    except Exception as exc:  # psutil missing or unsupported platform
        return {"total": Unavailable(str(exc)), "available": Unavailable(str(exc))}
    limit = _cgroup_memory_limit()
    if limit is not None:
        facts["cgroup_limit"] = limit
    return facts


def _cgroup_memory_limit() -> int | None:
    """A container's memory limit, which psutil does not see (it reports the host's memory)."""
    for name in ("memory.max", "memory/memory.limit_in_bytes"):  # cgroup v2, v1
        try:
            value = Path(CGROUP_ROOT, name).read_text().strip()
        except OSError:
            continue
        if value.isdigit() and int(value) < 1 << 60:
            return int(value)
    return None


def _statvfs(path: str) -> dict | Unavailable:
    try:
        if hasattr(os, "statvfs"):
            st = os.statvfs(path)
            total, free = st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize
        else:  # Windows
            import shutil
            total, _, free = shutil.disk_usage(path)
    except OSError as exc:
        return Unavailable(f"cannot stat {path}: {exc}")
    facts = {"path": path, "total": total, "free": free}
    try:
        facts["fsid"] = f"{os.stat(path).st_dev:x}"  # tells whether two paths share a filesystem
    except OSError:
        pass
    return facts


def _pci_nvidia() -> dict | Unavailable:
    """NVIDIA display/3D controllers on the PCI bus, seen without any driver (Linux sysfs)."""
    root = Path("/sys/bus/pci/devices")
    if not root.is_dir():
        return Unavailable("no /sys/bus/pci (not Linux, or sysfs not mounted)")
    devices = []
    try:
        for dev in sorted(root.iterdir()):
            try:
                vendor = (dev / "vendor").read_text().strip()
                if vendor != "0x10de":
                    continue
                pci_class = (dev / "class").read_text().strip()
            except OSError:
                continue
            if pci_class.startswith(("0x0300", "0x0302")):  # VGA or 3D controller
                driver = dev / "driver"
                devices.append({"bus_id": dev.name,
                                "driver": driver.resolve().name if driver.exists() else None})
    except OSError as exc:
        return Unavailable(f"cannot list {root}: {exc}")
    return {"count": len(devices), "devices": devices}


def _nvidia_kernel_module() -> str | None | Unavailable:
    """The loaded NVIDIA kernel module's version (None: not loaded). With NVML's library version it
    shows a driver upgraded without a reboot."""
    if not sys.platform.startswith("linux"):
        return Unavailable("not Linux")
    try:
        text = Path("/proc/driver/nvidia/version").read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return Unavailable(f"cannot read /proc/driver/nvidia/version: {exc}")
    words = text.split()
    for i, word in enumerate(words):
        if word == "Module" and i + 1 < len(words):
            return words[i + 1]
    return text.splitlines()[0][:200] if text else None
