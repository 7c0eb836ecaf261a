"""Static facts about the Paddle install, without importing paddle.

- which installed distributions provide the top-level ``paddle`` package (paddlepaddle,
  paddlepaddle-gpu, two versions of one...), and the wheel tags they were built for;
- the versions of the packages that matter to Paddle (numpy, protobuf, nvidia-* CUDA libraries);
- where ``import paddle`` would resolve from (the current directory first, as for ``python train.py``);
- the build information the wheel records as literals in ``paddle/version/__init__.py`` (CUDA, cuDNN,
  NCCL, compiled archs), read with ``ast`` and never executed;
- the CUDA libraries (cuDNN, NCCL, cuBLAS, cudart) that the dynamic loader or pip provides.

Reading ``.dist-info`` folder names and a few small files is far faster than
``importlib.metadata.packages_distributions()``, which reads every distribution's RECORD.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.machinery
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from ..model import Unavailable

RELEVANT = re.compile(r"^(paddle.*|nvidia-.*|numpy|protobuf|opt-einsum|safetensors|pillow|"
                      r"paddledoctor|nvidia-ml-py|pynvml|psutil|setuptools)$")
_MAX_VERSION_FILE = 1 << 20


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _site_dirs() -> list[str]:
    """sys.path as ``python train.py`` run from here would have it: the current directory first."""
    dirs = [os.getcwd()]
    for entry in sys.path[1:]:
        path = os.path.abspath(entry or os.getcwd())
        if path not in dirs:
            dirs.append(path)
    return dirs


def dist_infos(site_dirs: list[str], ordered: bool = False):
    """(site, normalised name, version, metadata folder) of every .dist-info/.egg-info in the
    site folders, in their order (each folder's entries sorted where ``ordered``)."""
    for site in site_dirs:
        try:
            entries = os.listdir(site)
        except OSError:
            continue
        for entry in sorted(entries) if ordered else entries:
            if not entry.endswith((".dist-info", ".egg-info")):
                continue
            stem = entry.rsplit(".", 1)[0]
            name, _, version = stem.partition("-")
            yield site, _normalize(name), version.split("-py")[0], Path(site, entry)


def probe_distributions() -> dict:
    providers, packages = [], {}
    for site, norm, version, meta_dir in dist_infos(_site_dirs()):
        if RELEVANT.match(norm):
            packages.setdefault(norm, []).append({"version": version, "location": site})
        if "paddle" in _top_level(meta_dir, norm):
            providers.append(_provider(meta_dir, norm, version, site))
    if len(providers) > 1:
        _mark_live_owner(providers)
    return {"paddle_providers": providers, "packages": packages}


def _top_level(meta_dir: Path, norm: str) -> set[str]:
    try:
        return set((meta_dir / "top_level.txt").read_text().split())
    except OSError:
        pass
    if not norm.startswith("paddle"):
        return set()
    # No top_level.txt: fall back to the RECORD of paddle-named distributions only.
    try:
        with open(meta_dir / "RECORD", encoding="utf-8", errors="replace") as f:
            return {line.split("/", 1)[0] for line in f if "/" in line.split(",", 1)[0]}
    except OSError:
        return set()


def _provider(meta_dir: Path, norm: str, version: str, site: str) -> dict:
    tags = []
    try:
        tags = [line.split(":", 1)[1].strip()
                for line in (meta_dir / "WHEEL").read_text().splitlines()
                if line.startswith("Tag:")]
    except OSError:
        pass
    try:
        installer = (meta_dir / "INSTALLER").read_text().strip()
    except OSError:
        installer = None
    return {"name": norm, "version": version, "location": site, "metadata": str(meta_dir),
            "wheel_tags": tags, "installer": installer}


def _mark_live_owner(providers: list[dict]) -> None:
    """With several providers in one folder, the files on disk are the last one installed: say
    whose ``paddle/version/__init__.py`` is there, by the hash each RECORD lists for it."""
    for p in providers:
        target = Path(p["location"], "paddle", "version", "__init__.py")
        try:
            actual = hashlib.sha256(target.read_bytes()).digest()
            with open(Path(p["metadata"], "RECORD"), encoding="utf-8", errors="replace") as f:
                for line in f:
                    path, _, rest = line.partition(",")
                    if path == "paddle/version/__init__.py":
                        digest = rest.split(",", 1)[0]
                        p["owns_files_on_disk"] = _record_digest(actual) == digest
                        break
        except OSError:
            continue


def _record_digest(raw: bytes) -> str:
    import base64
    return "sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def probe_paddle_package() -> dict | Unavailable:
    """Where ``import paddle`` would come from, and the build literals of its version file."""
    try:
        spec = importlib.machinery.PathFinder.find_spec("paddle", _site_dirs())
    except (ImportError, ValueError, OSError) as exc:
        return Unavailable(f"looking up the paddle package failed: {exc}")
    if spec is None:
        return {"found": False}
    locations = list(spec.submodule_search_locations or [])
    location = locations[0] if locations else os.path.dirname(spec.origin or "")
    facts = {"found": True, "location": location, "origin": spec.origin,
             "is_package": bool(locations)}
    facts["version_file"] = read_version_file(Path(location, "version", "__init__.py"))
    return facts


def read_version_file(path: Path) -> dict | Unavailable:
    """The module-level literal assignments of paddle/version/__init__.py (never executed)."""
    try:
        size = path.stat().st_size
        if size > _MAX_VERSION_FILE:
            return Unavailable(f"{path} is {size} bytes, too large to be Paddle's version file")
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except OSError as exc:
        return Unavailable(f"cannot read {path}: {exc.strerror or exc}")
    except (SyntaxError, ValueError) as exc:
        return Unavailable(f"cannot parse {path}: {exc}")
    literals = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):
            try:
                value = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, RecursionError):
                continue
            if value is None or isinstance(value, (str, int, float, bool, list)):
                literals[node.targets[0].id] = value
    if "full_version" not in literals:
        return Unavailable(f"{path} has no full_version literal")
    return literals


# The CUDA libraries Paddle loads at run time, as their sonames start.
CUDA_LIBS = {"cudnn": "libcudnn.so", "nccl": "libnccl.so", "cublas": "libcublas.so",
             "cudart": "libcudart.so"}


def probe_cuda_libraries() -> dict:
    """Where each CUDA library can be found: pip's nvidia-* packages, LD_LIBRARY_PATH, the loader's
    cache (ldconfig -p) and the usual CUDA folders. A version is read from the file name."""
    if not sys.platform.startswith("linux"):
        return {name: Unavailable(f"library search is implemented for Linux; this is {sys.platform}")
                for name in CUDA_LIBS}
    found: dict[str, list] = {name: [] for name in CUDA_LIBS}
    seen: set[str] = set()

    def add(path: str, source: str) -> None:
        base = os.path.basename(path)
        for name, prefix in CUDA_LIBS.items():
            if base.startswith(prefix) and path not in seen:
                seen.add(path)
                version = base[len(prefix):].lstrip(".") or None
                found[name].append({"path": path, "version": version, "source": source})

    for site in _site_dirs():
        nvidia = Path(site, "nvidia")
        if nvidia.is_dir():
            for lib in nvidia.glob("*/lib/lib*.so*"):
                add(str(lib), "pip")
    dirs = [d for d in os.environ.get("LD_LIBRARY_PATH", "").split(":") if d]
    dirs += ["/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib"]
    for d in dirs:
        try:
            for entry in os.listdir(d):
                if entry.startswith("lib") and ".so" in entry:
                    add(os.path.join(d, entry), "LD_LIBRARY_PATH" if d in dirs[:-2] else d)
        except OSError:
            continue
    ldconfig = shutil.which("ldconfig") or ("/sbin/ldconfig" if os.path.exists("/sbin/ldconfig")
                                           else None)
    if ldconfig:
        try:
            out = subprocess.run([ldconfig, "-p"], capture_output=True, text=True, timeout=5,
                                 check=False).stdout
            for line in out.splitlines():
                if "=>" in line and ("cud" in line or "nccl" in line or "cublas" in line):
                    add(os.path.realpath(line.split("=>", 1)[1].strip()), "ldconfig")
        except (OSError, subprocess.SubprocessError):
            pass
    return found


def probe_cuda_runtime(paddle) -> dict | Unavailable:
    """Where this Paddle's own dlopen would find cuBLAS and the CUDA runtime, by its build's rules
    (paddle/phi/backends/dynload/dynamic_loader.cc): a wheel built WITH_PIP_CUDA_LIBRARIES (3.x)
    loads the versioned ``libcublas.so.<major>`` / ``libcudart.so.<major>`` from pip's
    ``nvidia/*/lib`` first, then the loader's path; other builds (2.x) dlopen the unversioned
    ``libcublas.so`` through LD_LIBRARY_PATH, the loader cache and the default folders, and link
    the CUDA runtime statically (the 2.6.2 wheel's libphi.so needs no libcudart)."""
    from .loader import find_library
    vf = paddle.get("version_file") if isinstance(paddle, dict) else None
    if not isinstance(vf, dict):
        return Unavailable("no version file read")
    cuda = str(vf.get("cuda_version") or "")
    if not re.match(r"^\d+\.\d+", cuda):
        return Unavailable("not a CUDA build")
    if not sys.platform.startswith("linux"):
        return Unavailable(f"the library search is implemented for Linux; this is {sys.platform}")
    major = cuda.split(".")[0]
    pip_build = vf.get("with_pip_cuda_libraries") == "ON"
    wanted = ({"cublas": (f"libcublas.so.{major}", "cublas"),
               "cudart": (f"libcudart.so.{major}", "cuda_runtime")} if pip_build
              else {"cublas": ("libcublas.so", None)})
    out: dict = {"cuda_major": major, "pip_build": pip_build, "libraries": {}}
    for lib, (soname, pip_dir) in wanted.items():
        entry = {"soname": soname, "path": None, "how": "not found"}
        if pip_dir:
            for site in _site_dirs():
                p = Path(site, "nvidia", pip_dir, "lib", soname)
                if p.is_file():
                    entry.update(path=str(p), how="pip")
                    break
        if entry["path"] is None:
            entry["path"], entry["how"] = find_library(soname)
        if entry["path"]:
            real = os.path.basename(os.path.realpath(entry["path"]))
            m = re.match(re.escape(soname.split(".so")[0]) + r"\.so\.(\d+)", real)
            entry["resolved"] = real
            entry["major"] = m.group(1) if m else None
        if entry["path"] is None and not pip_dir:
            # what is there under another name: pip's versioned copy, the toolkit's files
            entry["versioned_copies"] = [
                str(p) for site in _site_dirs()
                for p in sorted(Path(site, "nvidia", "cublas", "lib").glob(f"libcublas.so.{major}*"))][:4]
        out["libraries"][lib] = entry
    return out
