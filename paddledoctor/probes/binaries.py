"""Static facts from the installed Paddle's shared libraries, without importing paddle or loading
CUDA (``facts["binaries"]``):

- per library: its fatbin code (SASS and PTX archs, see :mod:`.fatbin`), and the combined build set;
- ``loader``: what ``import paddle`` needs from the host: the GLIBC_/GLIBCXX_/CXXABI_ versions its
  libraries need against those the libc.so.6 / libstdc++.so.6 the loader would pick define, and every
  DT_NEEDED library the loader would not find (a static ``ldd``, see :mod:`.loader`).

Reading the fatbin headers of a 2 GB libphi.so touches a few thousand pages, so the per-file facts
are cached in the user's cache folder, keyed by (path, size, mtime_ns): ``check --quick`` then costs
a ``stat`` per file. Files not in the cache are read in a child process with a deadline.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from ..model import Unavailable

READER_VERSION = 2  # bump when the facts read from a file change: old cache entries are ignored
CACHE_FILE = "binaries.json"
MAX_CACHE_ENTRIES = 512
MAX_CACHE_BYTES = 8 << 20
MAX_FILES = 128
COLD_READ_TIMEOUT = 60.0
# Where Paddle's wheels put their shared objects: 2.5+ paddle/base (2.6) or paddle/fluid (2.5 and
# older: libpaddle.so, core_avx.so), and the libraries they link in paddle/libs.
LAYOUT = ("base", "fluid", "libs")
VERSION_PREFIXES = ("GLIBC_", "GLIBCXX_", "CXXABI_")
# The CUDA, cuDNN and NCCL libraries Paddle dlopens (or that pip's nvidia-* provide): the wheels
# helper judges them with each Paddle version's own search rules, not as plain DT_NEEDED.
DLOPENED = re.compile(r"^lib(cuda|cudart|cublas|cublasLt|cudnn[a-z_]*|nccl|cusparse|cusparseLt|"
                      r"cusolver|cufft|curand|nvrtc|nvrtc-builtins|nvToolsExt|cupti|nvJitLink|"
                      r"nvidia-ml|cufile|nvjpeg|nvshmem[a-z_]*|cudss)\.so")


# -- one file -------------------------------------------------------------------------------------

def read_file_facts(path: str, fatbins: bool = True) -> dict:
    """Everything the checks need from one ELF file, read from its headers: fatbin code and
    loader facts. Raises on a file that is not a readable ELF."""
    from .elf import ELFFile
    from .fatbin import elf_fatbin, summarize

    with ELFFile(path) as elf:
        dyn = elf.dynamic()
        out = {"bits": elf.bits, "machine": elf.e_machine, "needed": dyn["needed"],
               "rpath": dyn["rpath"], "runpath": dyn["runpath"], "soname": dyn["soname"],
               "version_needs": {f: [v for v in vs if v.startswith(VERSION_PREFIXES)]
                                 for f, vs in elf.version_needs().items()},
               "version_defs": [v for v in elf.version_definitions()
                                if v.startswith(VERSION_PREFIXES)]}
        out["fatbin"] = elf_fatbin(elf) if fatbins else summarize([]) | {"sections": []}
    return out


# -- the cache ------------------------------------------------------------------------------------

def cache_dir() -> Path | None:
    """$PADDLEDOCTOR_CACHE_DIR, else the platform's user cache folder; None when there is none."""
    env = os.environ.get("PADDLEDOCTOR_CACHE_DIR")
    if env:
        return Path(env)
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        return Path(base, "paddledoctor", "Cache") if base else None
    if sys.platform == "darwin":
        home = os.path.expanduser("~")
        return Path(home, "Library", "Caches", "paddledoctor") if home != "~" else None
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg, "paddledoctor")
    home = os.path.expanduser("~")
    return Path(home, ".cache", "paddledoctor") if home not in ("~", "/") else None


def load_cache(folder: Path | None) -> dict:
    """{path: entry}; anything unreadable or malformed is an empty cache, never an error."""
    if folder is None:
        return {}
    try:
        p = folder / CACHE_FILE
        if p.stat().st_size > MAX_CACHE_BYTES:
            return {}
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(doc, dict) or doc.get("reader") != READER_VERSION:
        return {}
    files = doc.get("files")
    return {k: v for k, v in files.items() if isinstance(v, dict)} if isinstance(files, dict) else {}


def save_cache(folder: Path | None, files: dict) -> str:
    """Write atomically (a temporary file in the same folder, then rename). Returns "written" or
    why not; a read-only or absent home is not an error."""
    if folder is None:
        return "not written: no user cache folder"
    if len(files) > MAX_CACHE_ENTRIES:
        files = dict(list(files.items())[-MAX_CACHE_ENTRIES:])
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".binaries-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"reader": READER_VERSION, "files": files}, f)
        os.replace(tmp, folder / CACHE_FILE)
        tmp = None
        return "written"
    except OSError as exc:
        return f"not written: {exc.strerror or exc}"
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _key(st) -> dict:
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


# -- the probe ------------------------------------------------------------------------------------

def paddle_libraries(location: str) -> list[str]:
    """The shared objects of an installed paddle package, in a stable order."""
    found = []
    for sub in LAYOUT:
        d = os.path.join(location, sub)
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        for n in names:
            p = os.path.join(d, n)
            if (n.endswith(".so") or ".so." in n) and os.path.isfile(p) and not os.path.islink(p):
                found.append(p)
    return found[:MAX_FILES]


def probe(paddle_facts, timeout: float = COLD_READ_TIMEOUT, folder: Path | None | str = "default",
          ld_library_path: str | None = None, executable: str | None = None) -> dict | Unavailable:
    """facts["binaries"] for the paddle package that ``import paddle`` would load."""
    if not isinstance(paddle_facts, dict) or not paddle_facts.get("found"):
        return Unavailable("no paddle package found" if isinstance(paddle_facts, dict)
                           else f"the paddle package is unknown: {getattr(paddle_facts, 'reason', '')}")
    if not sys.platform.startswith("linux"):
        return Unavailable(f"Paddle's binaries are read as ELF (Linux); this is {sys.platform}")
    location = paddle_facts["location"]
    t0 = time.perf_counter()
    paths = paddle_libraries(location)
    folder = cache_dir() if folder == "default" else (Path(folder) if folder else None)
    cache = load_cache(folder)
    per_file: dict[str, dict] = {}
    stats: dict[str, dict] = {}
    misses = []
    for p in paths:
        try:
            stats[p] = _key(os.stat(p))
        except OSError as exc:
            per_file[p] = {"error": f"cannot stat: {exc.strerror or exc}"}
            continue
        hit = cache.get(p)
        if hit and hit.get("size") == stats[p]["size"] and hit.get("mtime_ns") == stats[p]["mtime_ns"] \
                and isinstance(hit.get("facts"), dict):
            per_file[p] = hit["facts"]
        else:
            misses.append(p)
    cache_status = "warm" if not misses else "cold" if len(misses) == len(paths) else "partial"
    read_s = 0.0
    if misses:
        from .isolate import run
        t1 = time.perf_counter()
        result = run("binaries_read.py", misses, timeout=timeout)
        read_s = time.perf_counter() - t1
        for ev in result.events:
            if ev.get("event") == "file" and ev.get("path") in stats:
                per_file[ev["path"]] = ({"error": str(ev["error"])} if "error" in ev
                                        else ev.get("facts") or {"error": "no facts"})
        why = result.failure() or "ended without answering"
        for p in misses:
            per_file.setdefault(p, {"error": f"not read: the reader {why}"})
        for p in misses:
            facts = per_file[p]
            if "error" not in facts or "not read" not in facts["error"]:
                cache[p] = {**stats[p], "facts": facts}
        cache = {k: v for k, v in cache.items() if k in stats or os.path.exists(k)}
        cache_written = save_cache(folder, cache)
    else:
        cache_written = "not needed"
    libraries = [_library_fact(p, stats.get(p, {}), per_file[p]) for p in paths]
    out = {
        "location": location,
        "libraries": libraries,
        "build": combined_build(libraries),
        "cache": {"folder": str(folder) if folder else None, "status": cache_status,
                  "misses": len(misses), "write": cache_written},
        "read_s": round(read_s, 4),
    }
    try:
        out["loader"] = loader_facts(paths, per_file, ld_library_path, executable)
    except Exception as exc:  # noqa: BLE001 - the arch facts stand even if the loader walk fails
        out["loader"] = Unavailable(f"loader walk failed: {type(exc).__name__}: {exc}")
    out["probe_s"] = round(time.perf_counter() - t0, 4)
    return out


def _library_fact(path: str, st: dict, facts: dict) -> dict:
    fb = facts.get("fatbin") or {}
    lib = {"path": path, "size": st.get("size"), "sass": fb.get("sass", []), "ptx": fb.get("ptx", []),
           "error": facts.get("error")}
    if fb.get("containers"):
        lib.update({"containers": fb["containers"], "sass_any": fb.get("sass_any", {}),
                    "ptx_any": fb.get("ptx_any", {})})
    if fb.get("relocatable"):
        lib["relocatable"] = fb["relocatable"]
    return lib


def combined_build(libraries: list[dict]) -> dict:
    """The build's arch set: that of the library with the most GPU code (the most fatbin
    containers: libphi.so in 2.6 and 3.x). Other libraries (flash attention for sm_80+, warpctc
    with its own arch list) are judged apart; a union would credit the build with sm_90 because
    libwarpctc.so of 2.6.2 has it, when libphi.so, which holds Paddle's kernels, has not."""
    with_code = [lib for lib in libraries if lib.get("containers")]
    if not with_code:
        read = [lib for lib in libraries if not lib.get("error")]
        return {"sass": [], "ptx": [], "primary": None, "has_gpu_code": False,
                "note": ("no shared library under the paddle package" if not libraries else
                         "no library of this paddle has a .nv_fatbin section: no CUDA code"
                         if read else "no library could be read"),
                "libraries_read": len(read), "libraries_failed": len(libraries) - len(read)}
    primary = max(with_code, key=lambda lib: lib["containers"])
    union_sass = sorted({a for lib in with_code for a in lib["sass"]})
    union_ptx = sorted({a for lib in with_code for a in lib["ptx"]})
    return {"sass": primary["sass"], "ptx": primary["ptx"], "primary": primary["path"],
            "has_gpu_code": True, "union_sass": union_sass, "union_ptx": union_ptx,
            "libraries_failed": sum(1 for lib in libraries if lib.get("error"))}


# -- the loader's view ----------------------------------------------------------------------------

MAX_OBJECTS = 256
IMPORT_MODULES = ("libpaddle.so", "core_avx.so", "core_noavx.so")  # the module `import paddle` loads


def loader_facts(paths: list[str], per_file: dict, ld_library_path: str | None = None,
                 executable: str | None = None) -> dict:
    """Resolve every DT_NEEDED of Paddle's libraries (and of what they pull in) as ld.so would;
    for the libraries Paddle's files need versions from, record the versions they define."""
    from .loader import Loader

    first = next((per_file[p] for p in paths if "bits" in per_file.get(p, {})), None)
    if first is None:
        return {"objects": 0, "missing_libraries": [], "needs": {}}
    loader = Loader(first["bits"], first["machine"], ld_library_path=ld_library_path,
                    executable=executable)
    own = {os.path.basename(p): p for p in paths}
    facts_of = dict(per_file)
    missing: dict[str, dict] = {}
    skipped: set[str] = set()
    resolved: dict[str, dict] = {}
    needs: dict[str, dict] = {}  # needed file -> {version: [paddle libs needing it]}
    # ld.so loads breadth first, and a need whose name is the soname (or file name) of an object
    # already loaded is that object, whatever the search path says. `import paddle` loads the
    # extension module and what it pulls in; the package's other libraries (plugins, libwarpctc.so)
    # are dlopened later, when everything loaded at import is there already.
    loaded: dict[str, str] = {}
    seen: set[str] = set()

    def walk(roots: list[str]) -> set[str]:
        reached: set[str] = set()
        queue = [r for r in roots if r not in seen]
        for r in queue:
            seen.add(r)
        while queue:
            obj = queue.pop(0)
            reached.add(obj)
            f = facts_of.get(obj) or {}
            for key in {os.path.basename(obj), f.get("soname")} - {None}:
                loaded.setdefault(key, obj)
            origin = os.path.dirname(obj)
            for name in f.get("needed", []):
                if DLOPENED.match(name):
                    skipped.add(name)
                    continue
                if name in loaded:
                    where, how = loaded[name], "already loaded"
                else:
                    where, how = loader.find(name, origin, f.get("rpath", []),
                                             f.get("runpath", []))
                if where is None:
                    m = missing.setdefault(name, {"name": name, "needed_by": [], "searched": []})
                    m["needed_by"].append(os.path.basename(obj))
                    if not m["searched"]:
                        m["searched"] = [d for d, _ in loader.search_order(
                            origin, f.get("rpath", []), f.get("runpath", []))] + \
                            ["ld.so.cache"] + loader.defaults
                    continue
                loaded.setdefault(name, where)
                resolved.setdefault(name, {"path": where, "how": how})
                if where not in seen and len(seen) < MAX_OBJECTS:
                    seen.add(where)
                    if where not in facts_of:
                        facts_of[where] = _system_facts(where)
                    queue.append(where)
            if obj in per_file:
                for file_, versions in f.get("version_needs", {}).items():
                    for v in versions:
                        needs.setdefault(file_, {}).setdefault(v, []).append(os.path.basename(obj))
        return reached

    own_elf = [p for p in paths if "needed" in per_file.get(p, {})]
    entries = [p for p in own_elf if os.path.basename(p) in IMPORT_MODULES] or own_elf
    at_import = walk(entries)
    missing_at_import = set(missing)
    for p in own_elf:  # each dlopened library on top of what import loaded
        walk([p])
    at_import_names = {os.path.basename(p) for p in at_import}
    for m in missing.values():
        m["at_import"] = m["name"] in missing_at_import
    provided = {}
    for file_ in needs:
        r = resolved.get(file_)
        if r is None:
            continue
        defs = (facts_of.get(r["path"]) or {}).get("version_defs")
        provided[file_] = {"path": r["path"], "how": r["how"],
                           "real_path": os.path.realpath(r["path"]),
                           "defines": sorted(defs) if isinstance(defs, list) else
                           Unavailable((facts_of.get(r["path"]) or {}).get("error", "not read"))}
    return {
        "objects": len(seen),
        "ld_library_path": loader.ld_library_path,
        "executable_rpath": loader.exe_rpath,
        "ld_cache": loader.cache_source,
        "conda_prefix": os.environ.get("CONDA_PREFIX"),
        "needs": {f: {v: sorted(set(by)) for v, by in vs.items()} for f, vs in sorted(needs.items())},
        "provided": provided,
        "missing_libraries": sorted(missing.values(), key=lambda m: m["name"]),
        "skipped_dlopened": sorted(skipped),
        "own_libraries": sorted(own),
        "loaded_at_import": sorted(n for n in at_import_names if n in own),
    }


def _system_facts(path: str) -> dict:
    """The loader facts of a library outside the package (libstdc++.so.6, libc.so.6): small files,
    read here. A broken one is its error, which the checks show."""
    try:
        facts = read_file_facts(path, fatbins=False)
        facts.pop("fatbin", None)
        return facts
    except Exception as exc:  # noqa: BLE001
        return {"error": f"{type(exc).__name__}: {exc}"}
