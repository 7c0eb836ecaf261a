"""Where the dynamic loader (glibc's ld.so) would find a shared library, without loading anything:
a static ``ldd``.

Order, as ld.so(8) documents it for a DT_NEEDED name without a slash, needed by object O:
1. DT_RPATH of O, if O has no DT_RUNPATH; then the DT_RPATH of the executable (here: the Python
   interpreter), if it has no DT_RUNPATH (how conda's python finds ``$CONDA_PREFIX/lib``);
2. ``LD_LIBRARY_PATH``;
3. DT_RUNPATH of O (for O's own direct needs only);
4. ``/etc/ld.so.cache`` (read here from its file format; ``ldconfig -p`` with a timeout if that fails);
5. the default folders (``/lib64``, ``/usr/lib64``, ``/lib``, ``/usr/lib`` and the multiarch ones).
A candidate of another ELF class or machine is skipped, as ld.so does. ``$ORIGIN`` is O's folder.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys

from .elf import ELFError, ELFFile

LD_CACHE = "/etc/ld.so.cache"
_NEW_MAGIC = b"glibc-ld.so.cache1.1"
_OLD_MAGIC = b"ld.so-1.7.0"
MAX_CACHE = 64 << 20


def default_dirs() -> list[str]:
    multiarch = {"x86_64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-gnu",
                 "ppc64le": "powerpc64le-linux-gnu"}.get(os.uname().machine if hasattr(os, "uname")
                                                          else "", "")
    dirs = ["/lib64", "/usr/lib64", "/lib", "/usr/lib"]
    if multiarch:
        dirs = [f"/lib/{multiarch}", f"/usr/lib/{multiarch}"] + dirs
    return dirs


def parse_ld_so_cache(data: bytes) -> dict[str, list[str]]:
    """{soname: [paths, in the cache's order]} from the bytes of /etc/ld.so.cache (glibc's
    ``glibc-ld.so.cache1.1`` format, alone or after the old ``ld.so-1.7.0`` table)."""
    if len(data) > MAX_CACHE:
        raise ValueError(f"{len(data)} bytes: too large for a loader cache")
    out: dict[str, list[str]] = {}
    base = 0
    if data.startswith(_OLD_MAGIC):
        (nold,) = struct.unpack_from("<I", data, 12)
        if nold > len(data) // 12:
            raise ValueError("old-format cache: entry count past the end")
        new_at = 16 + nold * 12
        new_at = (new_at + 7) & ~7  # the new table follows, aligned
        if data[new_at:new_at + len(_NEW_MAGIC)] == _NEW_MAGIC:
            base = new_at
        else:  # old format only: strings are relative to the string table after the entries
            strings = 16 + nold * 12
            for i in range(nold):
                flags, key, value = struct.unpack_from("<iII", data, 16 + i * 12)
                _add(out, data, strings + key, strings + value)
            return out
    if data[base:base + len(_NEW_MAGIC)] != _NEW_MAGIC:
        raise ValueError("not a glibc ld.so.cache file")
    nlibs, _len_strings = struct.unpack_from("<II", data, base + 20)
    if base + 48 + nlibs * 24 > len(data):
        raise ValueError("ld.so.cache: entry table runs past the end")
    for i in range(nlibs):
        flags, key, value, _osv, _hwcap = struct.unpack_from("<iIIIQ", data, base + 48 + i * 24)
        if flags & 0xFF not in (1, 3):  # ELF libc6 entries; libc5 and others are not for us
            continue
        _add(out, data, key, value)  # offsets from the start of the file in the new format
    return out


def _add(out, data, key_off, value_off):
    def cstr(off):
        end = data.find(b"\0", off, off + 4096)
        if off >= len(data) or end < 0:
            raise ValueError("ld.so.cache: string offset outside the file")
        return data[off:end].decode("utf-8", "replace")
    out.setdefault(cstr(key_off), []).append(cstr(value_off))


def read_ld_so_cache(path: str = LD_CACHE) -> tuple[dict[str, list[str]], str]:
    """The loader cache and where it came from; ``ldconfig -p`` (5 s timeout) when the file
    cannot be read or parsed; an empty cache when neither works."""
    try:
        with open(path, "rb") as f:
            return parse_ld_so_cache(f.read(MAX_CACHE + 1)), path
    except (OSError, ValueError, struct.error):
        pass
    ldconfig = shutil.which("ldconfig") or ("/sbin/ldconfig" if os.path.exists("/sbin/ldconfig")
                                           else None)
    if not ldconfig:
        return {}, "none (no ld.so.cache, no ldconfig)"
    try:
        text = subprocess.run([ldconfig, "-p"], capture_output=True, text=True, timeout=5,
                              check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return {}, "none (ldconfig -p failed)"
    out: dict[str, list[str]] = {}
    for line in text.splitlines()[1:]:
        if "=>" in line:
            name = line.strip().split(" ", 1)[0]
            out.setdefault(name, []).append(line.split("=>", 1)[1].strip())
    return out, "ldconfig -p"


def expand(path: str, origin: str) -> str:
    for token in ("${ORIGIN}", "$ORIGIN"):
        path = path.replace(token, origin)
    return os.path.normpath(path) if path else path


class Loader:
    """Resolves names as ld.so would for objects of one ELF class and machine."""

    def __init__(self, bits: int, machine: int, ld_library_path: str | None = None,
                 executable: str | None = None, cache: dict | None = None,
                 defaults: list[str] | None = None):
        self.bits, self.machine = bits, machine
        env = os.environ.get("LD_LIBRARY_PATH", "") if ld_library_path is None else ld_library_path
        self.ld_library_path = [d for d in env.replace(";", ":").split(":") if d]
        if cache is None:
            cache, self.cache_source = read_ld_so_cache()
        else:
            self.cache_source = "given"
        self.cache = cache
        self.defaults = default_dirs() if defaults is None else defaults
        self.exe_rpath: list[str] = []
        exe = executable if executable is not None else os.path.realpath(sys.executable)
        if exe:
            try:
                with ELFFile(exe) as e:
                    dyn = e.dynamic()
                if not dyn["runpath"]:
                    self.exe_rpath = [expand(p, os.path.dirname(exe)) for p in dyn["rpath"]]
            except (OSError, ELFError):
                pass
        self._ok: dict[str, bool] = {}

    def _fits(self, path: str) -> bool:
        if path not in self._ok:
            try:
                with ELFFile(path) as e:
                    self._ok[path] = e.bits == self.bits and e.e_machine == self.machine
            except (OSError, ELFError):
                self._ok[path] = False
        return self._ok[path]

    def search_order(self, origin: str, rpath: list[str], runpath: list[str]) -> list[tuple[str, str]]:
        """(folder, why) in the order ld.so tries them for a need of the object in ``origin``."""
        order: list[tuple[str, str]] = []
        if not runpath:
            order += [(expand(d, origin), "DT_RPATH") for d in rpath]
            order += [(d, "the executable's DT_RPATH") for d in self.exe_rpath]
        order += [(d, "LD_LIBRARY_PATH") for d in self.ld_library_path]
        order += [(expand(d, origin), "DT_RUNPATH") for d in runpath]
        return order

    def find(self, name: str, origin: str, rpath: list[str], runpath: list[str]) -> tuple[str | None, str]:
        """(path, how) where the loader would find ``name`` for an object in folder ``origin``;
        (None, "not found") where it would not."""
        if "/" in name:
            return (name, "path") if os.path.isfile(name) and self._fits(name) else (None, "not found")
        for d, why in self.search_order(origin, rpath, runpath):
            p = os.path.join(d, name)
            if os.path.isfile(p) and self._fits(p):
                return p, why
        for p in self.cache.get(name, []):
            if os.path.isfile(p) and self._fits(p):
                return p, "ld.so.cache"
        for d in self.defaults:
            p = os.path.join(d, name)
            if os.path.isfile(p) and self._fits(p):
                return p, "default folder"
        return None, "not found"


# Where the NVIDIA driver's user-space libraries live besides the loader's own search: WSL2 mounts
# them at /usr/lib/wsl/lib (microsoft/WSL docs, "CUDA on WSL"); the NVIDIA Container Toolkit mounts
# them into the container's library folders and runs ldconfig (libnvidia-container).
WSL_LIB = "/usr/lib/wsl/lib"
TEGRA_RELEASE = "/etc/nv_tegra_release"  # L4T (Jetson); Tegra has no NVML


def probe_driver_library(root: str = "/") -> dict:
    """Whether the loader would find the driver's libcuda.so.1 (every CUDA program needs it), and
    the signs of where the GPU should come from: /dev/nvidia* nodes, WSL2's /dev/dxg and driver
    folder, a Jetson's Tegra release. ``root`` is for tests only."""
    def at(path: str) -> str:
        return os.path.join(root, path.lstrip("/")) if root != "/" else path

    out: dict = {"name": "libcuda.so.1"}
    if not sys.platform.startswith("linux"):
        out["unavailable"] = f"the loader search is implemented for Linux; this is {sys.platform}"
        return out
    try:
        with ELFFile(os.path.realpath(sys.executable)) as e:
            bits, machine = e.bits, e.e_machine
    except (OSError, ELFError) as exc:
        out["unavailable"] = f"cannot read the interpreter's ELF header: {exc}"
        return out
    loader = Loader(bits, machine)
    path, how = loader.find("libcuda.so.1", at("/usr/lib"), [], [])
    out.update(path=path, how=how, cache=loader.cache_source)
    try:
        out["dev_nvidia"] = sorted(n for n in os.listdir(at("/dev")) if n.startswith("nvidia"))[:16]
    except OSError:
        out["dev_nvidia"] = []
    out["wsl"] = os.path.exists(at("/dev/dxg")) or os.path.isdir(at(WSL_LIB))
    if out["wsl"]:
        out["wsl_lib_has_libcuda"] = os.path.isfile(os.path.join(at(WSL_LIB), "libcuda.so.1"))
    try:
        with open(at(TEGRA_RELEASE), errors="replace") as f:
            out["tegra_release"] = f.readline(200).strip().lstrip("# ")
    except OSError:
        pass
    return out


def find_library(name: str, ld_library_path: str | None = None) -> tuple[str | None, str]:
    """(path, how) where ld.so would find ``name`` for an object without RPATH/RUNPATH (what a
    dlopen of a bare name from Paddle's libraries does), for this interpreter's ELF class."""
    try:
        with ELFFile(os.path.realpath(sys.executable)) as e:
            bits, machine = e.bits, e.e_machine
    except (OSError, ELFError):
        return None, "unknown (cannot read the interpreter's ELF header)"
    return Loader(bits, machine, ld_library_path=ld_library_path).find(name, "/", [], [])
