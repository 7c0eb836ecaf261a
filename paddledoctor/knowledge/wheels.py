"""PaddlePaddle GPU wheel variants, the drivers they need, and the releases that ship them.

Every row carries its source. Update this table (and only this table) when Paddle ships a release
or a CUDA variant; the checks read nothing else.

Sources, by key:
- PD-DOCS-EN: PaddleOCR 3.x install guide, which repeats Paddle's own install page
  (github.com/PaddlePaddle/PaddleOCR docs/version3.x/installation.en.md): "CUDA 11.8 requires
  driver >= 450.80.02 (Linux)", "CUDA 12.6 requires driver >= 550.54.14 (Linux)".
- NV-RN: NVIDIA CUDA Toolkit release notes, Table 2 (minor version compatibility) and Table 3
  (toolkit driver versions), docs.nvidia.com/cuda/cuda-toolkit-release-notes/.
- PD-76037: github.com/PaddlePaddle/Paddle/issues/76037 (maintainer: RTX 50 series, sm_120, needs
  the cu129 wheel, 3.2.0 or newer).
- PD-78720: github.com/PaddlePaddle/Paddle/pull/78720 (CUDA 13 builds compile archs 75 and up).
- FD-DOCS: FastDeploy NVIDIA GPU install page (paddlepaddle.github.io/FastDeploy), 3.3.1 cu126/cu129.
- PD-73687: github.com/PaddlePaddle/Paddle/issues/73687 (cu129 first shipped with 3.1).
- PYPI: pypi.org/simple/paddlepaddle (CPython tags of each release).
- PD-SETUP: PaddlePaddle/Paddle setup.py, PADDLE_CUDA_INSTALL_REQUIREMENTS (cuDNN pins).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

INDEX_URL = "https://www.paddlepaddle.org.cn/packages/stable/{tag}/"


@dataclass(frozen=True)
class Variant:
    tag: str                 # "cu126": the index folder and the wheel's local version tag
    cuda: str                # "12.6"
    min_driver_linux: str    # the floor we hold the driver to when we recommend this variant
    min_driver_windows: str
    cudnn: str               # the cuDNN major.minor its pip dependency pins
    min_cc: str              # oldest compute capability it is compiled for
    max_cc: str              # newest compute capability it is compiled for
    source: str


# Oldest first. min/max compute capability: from the issues named in source; Paddle publishes no
# per-variant arch list, so the doctor prefers the build's own `compiled_cuda_archs` when it has one.
VARIANTS = [
    Variant("cu118", "11.8", "450.80.02", "452.39", "8.9", "6.0", "9.0",
            "PD-DOCS-EN (driver); PD-SETUP (cuDNN 8.9.6); PD-76037 (no sm_120)"),
    Variant("cu126", "12.6", "550.54.14", "550.54.14", "9.5", "6.0", "9.0",
            "PD-DOCS-EN (driver); PD-SETUP (cuDNN 9.5.1); PD-76037 (no sm_120)"),
    Variant("cu129", "12.9", "575.51.03", "576.02", "9.9", "6.0", "12.0",
            "NV-RN Table 3, CUDA 12.9 GA (Paddle's docs give no number); PD-SETUP (cuDNN 9.9.0); "
            "PD-76037 (runs sm_120)"),
    Variant("cu130", "13.0", "580.65.06", "", "", "7.5", "12.0",
            "NV-RN Table 3, CUDA 13.0 GA (no Windows floor listed); PD-78720 (archs 75 and up); "
            "cuDNN pin unconfirmed"),
]
VARIANT_BY_TAG = {v.tag: v for v in VARIANTS}

# Which variants each release ships on Paddle's own index (3.x GPU wheels are not on PyPI; PyPI's
# paddlepaddle-gpu stops at 2.6.2). Newest first.
RELEASES = [
    ("3.3.1", ("cu126", "cu129", "cu130"), "FD-DOCS; cu130: Paddle's pip page"),
    ("3.3.0", ("cu126", "cu129", "cu130"), "FD-DOCS; cu130: Paddle's pip page"),
    ("3.2.2", ("cu118", "cu126", "cu129"), "PD-76037"),
    ("3.2.1", ("cu118", "cu126", "cu129"), "PD-76037"),
    ("3.2.0", ("cu118", "cu126", "cu129"), "PD-76037"),
    ("3.1.1", ("cu118", "cu126", "cu129"), "PD-73687"),
    ("3.1.0", ("cu118", "cu126", "cu129"), "PD-73687"),
    ("3.0.0", ("cu118", "cu126"), "PD-DOCS-EN"),
]

# CPython minor versions with wheels, per release line (PYPI).
PYTHONS = {"3.0": ("3.8", "3.13"), "3.1": ("3.9", "3.13"), "3.2": ("3.9", "3.13"),
           "3.3": ("3.9", "3.13")}

# The CUDA minor-version-compatibility floor of each CUDA major (NV-RN Table 2): below it a build for
# that major cannot run at all ("CUDA driver version is insufficient for CUDA runtime version").
MINOR_COMPAT_FLOOR = {"11": "450.80.02", "12": "525.60.13", "13": "580.65.06"}


def variant_for_cuda(cuda: str | None) -> Variant | None:
    """The wheel variant of a build's CUDA version ("12.6" -> cu126), if Paddle ships one."""
    return next((v for v in VARIANTS if v.cuda == cuda), None)


def pip_cuda_suffix(cuda: str) -> str:
    """The suffix of the nvidia-* pip packages for a CUDA version: "12.6" -> "cu12"."""
    return "cu" + cuda.split(".")[0]


def version_tuple(version: str) -> tuple[int, ...]:
    """"550.54.14" -> (550, 54, 14); stops at the first piece that is not all digits, keeping its
    leading digits ("3.0.0rc1" -> (3, 0, 0), not (3, 0, 1))."""
    parts = []
    for piece in str(version).replace("-", ".").split("."):
        digits = re.match(r"\d*", piece).group()
        if not digits:
            break
        parts.append(int(digits))
        if digits != piece:
            break
    return tuple(parts)


def driver_at_least(driver: str, floor: str) -> bool:
    return version_tuple(driver) >= version_tuple(floor)


def cc_tuple(cc: str) -> tuple[int, int]:
    major, _, minor = str(cc).partition(".")
    return int(major), int(minor or 0)


def python_supported(release: str, python_version: str) -> bool | None:
    line = ".".join(release.split(".")[:2])
    bounds = PYTHONS.get(line)
    if bounds is None:
        return None
    return cc_tuple(bounds[0]) <= cc_tuple(".".join(python_version.split(".")[:2])) <= cc_tuple(bounds[1])


def variants_for(release: str) -> tuple[str, ...]:
    for version, tags, _ in RELEASES:
        if version == release:
            return tags
    return ()


def choose_variant(driver: str, capabilities: list[str], windows: bool = False,
                   release: str | None = None) -> tuple[Variant | None, str | None]:
    """The newest variant whose driver floor the installed driver meets and which is compiled for
    every GPU here, and a release that ships it (the given one where it does, else the newest)."""
    releases = ([r for r in RELEASES if r[0] == release] if release else []) + RELEASES
    for variant in reversed(VARIANTS):
        floor = variant.min_driver_windows if windows else variant.min_driver_linux
        if not floor or not driver_at_least(driver, floor):
            continue
        if any(not (cc_tuple(variant.min_cc) <= cc_tuple(cc) <= cc_tuple(variant.max_cc))
               for cc in capabilities):
            continue
        for version, tags, _ in releases:
            if variant.tag in tags:
                return variant, version
    return None, None


def lowest_driver_for(capabilities: list[str], windows: bool = False) -> Variant | None:
    """The variant with the lowest driver floor that still runs every GPU here."""
    for variant in VARIANTS:
        if all(cc_tuple(variant.min_cc) <= cc_tuple(cc) <= cc_tuple(variant.max_cc)
               for cc in capabilities):
            return variant
    return None


def install_command(pip: str, release: str, tag: str) -> str:
    return f"{pip} install paddlepaddle-gpu=={release} -i {INDEX_URL.format(tag=tag)}"


def cpu_install_command(pip: str) -> str:
    return f"{pip} install paddlepaddle"
