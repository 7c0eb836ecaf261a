"""Static facts about the distributions around Paddle, read from their metadata, never imported:
a ``pip check`` limited to the Paddle stack.

Which distributions are read in full (their Requires-Dist): the Paddle providers, every distribution
that requires Paddle, the Paddle toolkits the doctor knows (most declare no dependency on Paddle),
other frameworks (torch, TensorFlow, JAX), and the distributions Paddle itself requires. For each
requirement their versions are recorded, so that the checks judge them with ``packaging`` on any
machine (``check --from``). The marker environment of this interpreter is recorded with them.

Only the header of each METADATA file is read (up to its first blank line): the long description
that follows is most of the file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..knowledge import stack as K

_MAX_HEADER = 256 * 1024


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _req_name(requirement: str) -> str:
    m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return normalize(m.group(1)) if m else ""


def read_metadata_header(meta_dir: Path) -> dict:
    """Name, Version and Requires-Dist of a .dist-info (METADATA) or .egg-info (PKG-INFO and
    requires.txt) folder."""
    is_egg = meta_dir.name.endswith(".egg-info")
    path = meta_dir / ("PKG-INFO" if is_egg else "METADATA")
    out: dict = {"requires": []}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            read = 0
            for line in f:
                read += len(line)
                if not line.strip() or read > _MAX_HEADER:
                    break
                key, sep, value = line.partition(":")
                if not sep or line[0] in " \t":
                    continue
                key, value = key.strip().lower(), value.strip()
                if key == "name":
                    out["name"] = value
                elif key == "version":
                    out["version"] = value
                elif key == "requires-dist":
                    out["requires"].append(value)
    except OSError as exc:
        out["error"] = f"cannot read {path}: {exc.strerror or exc}"
    if is_egg and not out["requires"]:
        out["requires"] = _egg_requires(meta_dir / "requires.txt")
    return out


def _egg_requires(path: Path) -> list[str]:
    """requires.txt: plain lines, then ``[extra]`` / ``[extra:marker]`` / ``[:marker]`` sections."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    out, marker = [], ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            extra, _, cond = line[1:-1].partition(":")
            parts = [f'extra == "{extra}"'] if extra else []
            if cond:
                parts.append(f"({cond})")
            marker = " and ".join(parts)
            continue
        out.append(f"{line}; {marker}" if marker else line)
    return out


def _installer(meta_dir: Path) -> str | None:
    try:
        return (meta_dir / "INSTALLER").read_text(encoding="utf-8", errors="replace").strip() or None
    except OSError:
        return None


def _index(site_dirs: list[str]) -> dict:
    """Every installed distribution: normalised name -> its copies, first (the one import gets)
    first."""
    from .installed import dist_infos

    index: dict[str, list[dict]] = {}
    for site, norm, version, meta_dir in dist_infos(site_dirs, ordered=True):
        index.setdefault(norm, []).append(
            {"version": version, "location": site, "meta_dir": str(meta_dir)})
    return index


def _requires_paddle(requires: list[str]) -> bool:
    return any(_req_name(r) in K.PADDLE_DISTS for r in requires)


def probe(site_dirs: list[str] | None = None) -> dict:
    from packaging.markers import default_environment

    from .installed import _site_dirs

    dirs = site_dirs if site_dirs is not None else _site_dirs()
    index = _index(dirs)
    headers: dict[str, dict] = {}

    def header(name: str) -> dict:
        if name not in headers:
            headers[name] = read_metadata_header(Path(index[name][0]["meta_dir"]))
        return headers[name]

    # Which distributions are judged, and why.
    why: dict[str, str] = {}
    for name in index:
        if name in K.PADDLE_DISTS or name.startswith("paddlepaddle"):
            why[name] = "paddle"
        elif name in K.KNOWN_TOOLKITS:
            why[name] = "toolkit"
        elif name in K.FRAMEWORKS:
            why[name] = "framework"
    for name in index:  # every distribution that requires Paddle (read only the headers)
        if name == "paddledoctor":  # the doctor itself: it is running, whatever its metadata says
            continue
        if name not in why and name.startswith(("paddle", "ppocr", "pp-", "erniebot", "fastdeploy",
                                                 "visualdl", "x2paddle", "pgl", "parl")) \
                and _requires_paddle(header(name)["requires"]):
            why[name] = "requires paddle"
    for name in [n for n, w in why.items() if w == "paddle"]:  # what Paddle depends on
        for r in header(name)["requires"]:
            dep = _req_name(r)
            if dep in index and dep not in why:
                why[dep] = "paddle requires it"

    for name in ("numpy", "protobuf"):  # judged by the undeclared table (PD113) in any case
        if name in index and name not in why:
            why[name] = "watched"

    distributions = {}
    for name, reason in sorted(why.items()):
        h = header(name)
        copies = index[name]
        first = copies[0]
        distributions[name] = {
            "version": h.get("version") or first["version"], "location": first["location"],
            "requires": h["requires"], "why": reason, "installer": _installer(Path(first["meta_dir"])),
        }
        if h.get("error"):
            distributions[name]["error"] = h["error"]
        if len(copies) > 1:
            distributions[name]["other_copies"] = [
                {"version": c["version"], "location": c["location"]} for c in copies[1:]]
    wanted = {_req_name(r) for d in distributions.values() for r in d["requires"]}
    wanted |= {"numpy", "protobuf"} | {n for n in index if n.startswith("nvidia-")}
    versions = {n: index[n][0]["version"] for n in sorted(wanted) if n in index}
    return {"distributions": distributions, "versions": versions,
            "marker_environment": dict(default_environment()), "site_dirs": dirs}
