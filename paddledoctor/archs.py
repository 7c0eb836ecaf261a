"""NVIDIA's rules for which compiled GPU code runs on which GPU: one place, used by every check that
judges a build's archs (read from its fatbins or from a table of wheel variants).

An arch is an int ``10*major + minor`` (``sm_86`` -> 86, ``sm_120`` -> 120, cc "9.0" -> 90).
- SASS ``sm_XY`` runs on a GPU of compute capability X.y with y >= Y and the same major X
  (binary compatibility within a major; the ``a``/``f`` arch-specific variants such as ``sm_90a``
  run only on exactly X.Y).
- PTX ``compute_XY`` is JIT-compiled by the driver for any cc >= X.Y, if the driver supports that
  PTX version (the toolkit that wrote it must not be newer than the driver's CUDA).
Source: NVIDIA CUDA C++ Programming Guide, "Binary Compatibility" and "PTX Compatibility";
CUDA Compiler Driver NVCC, "GPU Feature List" (arch-specific ``a`` and family ``f`` targets).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ARCH = re.compile(r"^(?:sm_|compute_|lto_)?(\d+)([af]?)$")


def parse_arch(value) -> int | None:
    """86, "86", "sm_86", "compute_90", "8.6", "12.0" -> int; None when it is not an arch."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    text = str(value).strip().lower()
    if re.fullmatch(r"\d+\.\d", text):
        major, minor = text.split(".")
        return int(major) * 10 + int(minor)
    m = _ARCH.match(text)
    return int(m.group(1)) if m else None


def cc_arch(compute_capability) -> int | None:
    """A GPU's compute capability ("8.6", (8, 6), 86) as an arch int."""
    if isinstance(compute_capability, (tuple, list)) and len(compute_capability) == 2:
        try:
            return int(compute_capability[0]) * 10 + int(compute_capability[1])
        except (TypeError, ValueError):
            return None
    return parse_arch(compute_capability)


def arch_name(arch: int) -> str:
    return f"sm_{arch}"


def cc_text(arch: int) -> str:
    return f"{arch // 10}.{arch % 10}"


def sass_runs_on(sass: int, gpu: int) -> bool:
    """SASS for ``sass`` executes on a GPU of arch ``gpu``: same major, minor not above the GPU's."""
    return sass // 10 == gpu // 10 and sass % 10 <= gpu % 10


def ptx_runs_on(ptx: int, gpu: int) -> bool:
    """PTX for ``ptx`` can be JIT-compiled for ``gpu`` (driver permitting)."""
    return ptx <= gpu


@dataclass(frozen=True)
class Coverage:
    """How a build's code reaches one GPU: ``how`` is "sass", "ptx" or "none"."""
    how: str
    sass: tuple[int, ...] = ()
    ptx: tuple[int, ...] = ()

    @property
    def runs(self) -> bool:
        return self.how != "none"


def coverage(gpu: int, sass, ptx=()) -> Coverage:
    """Which of a build's SASS and PTX archs serve this GPU; SASS wins over PTX."""
    sass_ok = tuple(sorted(a for a in set(sass) if sass_runs_on(a, gpu)))
    ptx_ok = tuple(sorted(a for a in set(ptx) if ptx_runs_on(a, gpu)))
    return Coverage("sass" if sass_ok else "ptx" if ptx_ok else "none", sass_ok, ptx_ok)
