"""Static facts about the environment Paddle runs in: a conda environment (its conda-meta records
of Paddle and the CUDA packages, and the pip copies mixed into it), a container (the NVIDIA runtime's
device nodes and libcuda mount), WSL2 (``/dev/dxg``, ``/usr/lib/wsl/lib``).

Every path is read under a root (default ``/``; ``PADDLEDOCTOR_FS_ROOT`` or the ``root`` argument
moves it, so tests build a fake tree under a temporary folder) and the environment variables come
from ``environ`` (default ``os.environ``). Nothing is run; only small files are read.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

# conda package names whose records matter to Paddle (conda-meta/<name>-<version>-<build>.json)
CONDA_PACKAGES = re.compile(r"^(paddlepaddle(-gpu)?|paddle.*|cudatoolkit|cudnn|nccl|cuda-toolkit|"
                            r"cuda-cudart|cuda-runtime|cuda-version|libcublas|libcudnn|libnccl|"
                            r"numpy|protobuf|libstdcxx-ng|libstdcxx|libgcc-ng|python)$")
LIBCUDA_DIRS = ("usr/lib/x86_64-linux-gnu", "usr/lib64", "usr/lib", "usr/lib/aarch64-linux-gnu",
                "usr/local/nvidia/lib64", "usr/local/nvidia/lib", "usr/lib/wsl/lib",
                "usr/lib/wsl/drivers")
_SMALL = 64 * 1024


def _root(root) -> Path:
    return Path(root if root is not None else os.environ.get("PADDLEDOCTOR_FS_ROOT") or "/")


def _read(path: Path) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(_SMALL)
    except OSError:
        return None


def probe(root=None, environ=None, prefix=None) -> dict:
    environ = os.environ if environ is None else environ
    r = _root(root)
    return {"root": str(r), "conda": probe_conda(environ, prefix),
            "container": probe_container(r, environ), "wsl": probe_wsl(r, environ)}


def conda_prefix(environ, prefix=None) -> str | None:
    """The conda environment this interpreter belongs to: the one given, CONDA_PREFIX when it is
    this interpreter's, or sys.prefix when it holds conda-meta (a conda python run unactivated)."""
    if prefix:
        return str(prefix)
    here = os.path.realpath(sys.prefix)
    active = environ.get("CONDA_PREFIX")
    if active and Path(active, "conda-meta").is_dir() and os.path.realpath(active) == here:
        return active
    if Path(sys.prefix, "conda-meta").is_dir():
        return sys.prefix
    return None


def probe_conda(environ, prefix=None) -> dict:
    active = environ.get("CONDA_PREFIX")
    p = conda_prefix(environ, prefix)
    out: dict = {"active_prefix": active, "prefix": p, "is_conda": p is not None,
                 "default_env": environ.get("CONDA_DEFAULT_ENV")}
    if active and p is None:
        out["note"] = (f"CONDA_PREFIX={active} is set, but this python ({sys.executable}) is not "
                       "that environment's")
    if p is None:
        return out
    records = []
    try:
        entries = sorted(os.listdir(Path(p, "conda-meta")))
    except OSError as exc:
        out["error"] = f"cannot list {p}/conda-meta: {exc.strerror or exc}"
        return out
    for entry in entries:
        if not entry.endswith(".json") or entry == "history":
            continue
        parts = entry[:-5].rsplit("-", 2)
        if len(parts) != 3:
            continue
        name, version, build = parts
        if CONDA_PACKAGES.match(name):
            records.append({"name": name, "version": version, "build": build,
                            "channel": _channel(Path(p, "conda-meta", entry))})
    out["records"] = records
    return out


def _channel(path: Path) -> str | None:
    """The channel of a conda-meta record, read from its first lines only (they can be large)."""
    text = _read(path) or ""
    m = re.search(r'"channel"\s*:\s*"([^"]*)"', text)
    return m.group(1).rstrip("/").rsplit("/", 1)[-1] if m else None


def probe_container(r: Path, environ) -> dict:
    signs = []
    if (r / ".dockerenv").exists():
        signs.append("/.dockerenv")
    if (r / "run" / ".containerenv").exists():
        signs.append("/run/.containerenv")
    cgroup = _read(r / "proc" / "1" / "cgroup") or ""
    if re.search(r"docker|kubepods|containerd|libpod|lxc", cgroup):
        signs.append("/proc/1/cgroup")
    if environ.get("KUBERNETES_SERVICE_HOST"):
        signs.append("KUBERNETES_SERVICE_HOST")
    if environ.get("container"):
        signs.append(f"container={environ.get('container')}")
    try:
        dev = sorted(e for e in os.listdir(r / "dev") if e.startswith("nvidia"))
    except OSError:
        dev = []
    libcuda = [str(Path("/", d, "libcuda.so.1")) for d in LIBCUDA_DIRS
               if (r / d / "libcuda.so.1").exists()]
    return {"in_container": bool(signs), "signs": signs, "nvidia_devices": dev,
            "libcuda": libcuda,
            "nvidia_visible_devices": environ.get("NVIDIA_VISIBLE_DEVICES"),
            "cuda_visible_devices": environ.get("CUDA_VISIBLE_DEVICES"),
            "nvidia_driver_capabilities": environ.get("NVIDIA_DRIVER_CAPABILITIES")}


def probe_wsl(r: Path, environ) -> dict:
    version = (_read(r / "proc" / "version") or "").strip()
    osrelease = (_read(r / "proc" / "sys" / "kernel" / "osrelease") or "").strip()
    is_wsl = bool(re.search(r"microsoft|WSL", version + " " + osrelease, re.I)) or bool(
        environ.get("WSL_DISTRO_NAME"))
    out: dict = {"is_wsl": is_wsl}
    if not is_wsl:
        return out
    out["wsl2"] = bool(re.search(r"WSL2|microsoft-standard", version + " " + osrelease, re.I))
    out["kernel"] = osrelease or version[:120]
    out["dev_dxg"] = (r / "dev" / "dxg").exists()
    lib = r / "usr" / "lib" / "wsl" / "lib"
    try:
        out["wsl_lib"] = sorted(os.listdir(lib))
    except OSError:
        out["wsl_lib"] = None
    conf = []
    try:
        for f in sorted(os.listdir(r / "etc" / "ld.so.conf.d")):
            text = _read(r / "etc" / "ld.so.conf.d" / f) or ""
            if "/usr/lib/wsl/lib" in text:
                conf.append(f"/etc/ld.so.conf.d/{f}")
    except OSError:
        pass
    ld_path = [d for d in (environ.get("LD_LIBRARY_PATH") or "").split(":") if d]
    out["wsl_lib_on_loader_path"] = bool(conf) or any(
        d.rstrip("/") == "/usr/lib/wsl/lib" for d in ld_path)
    out["ld_so_conf"] = conf
    return out
