"""PaddlePaddle GPU wheel variants: which releases ship them on which OS, the GPU code (SASS archs)
each really contains, and the drivers they need. Every row carries its source.

Update this table (and only this table) when Paddle ships a release or a CUDA variant; the checks
read nothing else. The *installed* build is judged from its own binaries (probes/binaries.py);
this table is for the wheel the doctor recommends, which is not on the machine yet.

Sources, by key:
- PD-DOCS-EN: Paddle's install page (English), repeated by PaddleOCR 3.x docs
  (github.com/PaddlePaddle/PaddleOCR docs/version3.x/installation.en.md): "CUDA 11.8 requires
  driver >= 450.80.02 (Linux)", "CUDA 12.6 requires driver >= 550.54.14 (Linux)"; the Windows
  column repeats 550.54.14, a Linux number.
- PD-DOCS-ZH: Paddle's install page (Chinese, paddlepaddle.org.cn/install/quick): CUDA 12.6
  needs driver >= 545.23.06.
- NV-RN: NVIDIA CUDA Toolkit release notes, docs.nvidia.com/cuda/cuda-toolkit-release-notes/:
  Table 3 (the driver of each toolkit's GA release: 11.8 GA 520.61.05 / 520.06; 12.6 GA 560.28.03 /
  560.76; 12.9 GA 575.51.03 / 576.02; 13.0 GA 580.65.06 / 580.88) and Table 2 (CUDA minor version
  compatibility: any 11.x build runs on >= 450.80.02 / 452.39, any 12.x build on >= 525.60.13 /
  528.33, any 13.x build on >= 580.65.06 / 580.88; without PTX JIT of newer PTX).
- NV-MVC: docs.nvidia.com/deploy/cuda-compatibility/ "Minor Version Compatibility": applications
  built with a newer 12.x toolkit run on an older 12.x driver, except features that need the newer
  driver and PTX that the older driver cannot JIT.
- PD-74088, PD-76037: github.com/PaddlePaddle/Paddle/issues/74088, /issues/76037 (maintainers: the
  cu118 wheels are compiled for 60 61 70 75 80 86 (cmake/cuda.cmake), so no H100/RTX 40-50 code;
  RTX 50 (sm_120) needs the cu129 wheel of 3.2.0 or newer).
- PD-73687, PD-73937: github.com/PaddlePaddle/Paddle/issues/73687, /issues/73937 (3.1.x cu129 has
  no sm_120: "Mismatched GPU Architecture" on RTX 50).
- PD-78720: github.com/PaddlePaddle/Paddle/pull/78720 (CUDA 13 builds: archs 75 80 86 90 100; no
  sm_120 in that list; unconfirmed for the 3.3 release wheels).
- PD-DOCS-7685: github.com/PaddlePaddle/docs/pull/7685 (3.3.0 also ships cu118).
- PX-4285, PX-4473, PX-4682: github.com/PaddlePaddle/PaddleX/issues/4285, /4473, /4682 (Windows cu12x
  wheels are compiled for 75 80 86 89; a GTX 1080 (6.1) fails on Windows cu129).
- PD-79388: github.com/PaddlePaddle/Paddle/issues/79388 (the cu126 wheels pin cuDNN 9.5 but 3.2/3.3
  binaries are built with 9.9).
- PD-SETUP: PaddlePaddle/Paddle python/setup.py PADDLE_CUDA_INSTALL_REQUIREMENTS (cuDNN pins).
- MEASURED-262: the real paddlepaddle-gpu 2.6.2 wheel from PyPI (sha256 2969468…9f45) read by
  paddledoctor's fatbin reader (probes/fatbin.py): libphi.so and libpaddle.so hold SASS
  61 70 75 80 86 and no PTX (tests/binaries/ keeps the reading as a fixture).
- PYPI: pypi.org/simple/paddlepaddle-gpu (2.6.2 is the last GPU wheel on PyPI; CUDA 11.8, cuDNN 8.6)
  and pypi.org/simple/paddlepaddle (CPython tags of each release).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import archs as A

INDEX_URL = "https://www.paddlepaddle.org.cn/packages/stable/{tag}/"
PYPI = "pypi"  # the index of a wheel that is on PyPI itself: no -i


@dataclass(frozen=True)
class Floors:
    """The driver floors of one CUDA version on one OS, each as what it is."""
    documented: str          # Paddle's own install page (the floor we call "full support")
    nvidia_ga: str           # the driver NVIDIA shipped with that toolkit's GA release
    minor_compat: str        # NVIDIA's minor-version-compatibility floor for that CUDA major
    documented_zh: str = ""  # Paddle's Chinese page, where it says another number
    source: str = ""


@dataclass(frozen=True)
class Variant:
    tag: str                        # "cu126": the index folder and the wheel's local version tag
    cuda: str                       # "12.6"
    cudnn: str                      # the cuDNN major.minor its pip dependency pins
    linux: Floors
    windows: Floors | None
    source: str
    built_cudnn: str = ""           # the cuDNN the binaries were really built with, where it differs

    # kept for the callers of the first table
    @property
    def min_driver_linux(self) -> str:
        return self.linux.documented

    @property
    def min_driver_windows(self) -> str:
        return self.windows.documented if self.windows else ""


@dataclass(frozen=True)
class Build:
    """The GPU code one variant of a range of releases contains, on one OS."""
    tag: str
    os: str                         # "linux" | "windows"
    first: str                      # the first release with this arch list ("3.0.0")
    last: str                       # the last one ("3.9.9" for open-ended)
    sass: tuple[int, ...]
    ptx: tuple[int, ...] = ()
    confirmed: bool = True          # False: the list is inferred, not read from a wheel or a maintainer
    source: str = ""


CUDA11 = Floors("450.80.02", "520.61.05", "450.80.02", source="PD-DOCS-EN; NV-RN Tables 2, 3")
CUDA11_WIN = Floors("452.39", "520.06", "452.39", source="NV-RN Tables 2, 3")

VARIANTS = [
    Variant("cu118", "11.8", "8.9", CUDA11, CUDA11_WIN,
            "PD-DOCS-EN (driver); PD-SETUP (cuDNN 8.9.6)"),
    Variant("cu126", "12.6", "9.5",
            Floors("550.54.14", "560.28.03", "525.60.13", documented_zh="545.23.06",
                   source="PD-DOCS-EN, PD-DOCS-ZH; NV-RN Tables 2, 3"),
            Floors("528.33", "560.76", "528.33",
                   source="NV-RN Tables 2, 3 (Paddle's English page gives the Linux 550.54.14 here)"),
            "PD-DOCS-EN; PD-SETUP (cuDNN 9.5.1); PD-79388 (binaries built with cuDNN 9.9)",
            built_cudnn="9.9"),
    Variant("cu129", "12.9", "9.9",
            Floors("575.51.03", "575.51.03", "525.60.13",
                   source="NV-RN Table 3, CUDA 12.9 GA (Paddle's docs give no number); Table 2"),
            Floors("576.02", "576.02", "528.33", source="NV-RN Tables 2, 3"),
            "PD-SETUP (cuDNN 9.9.0); PD-76037"),
    Variant("cu130", "13.0", "9.13",
            Floors("580.65.06", "580.65.06", "580.65.06",
                   source="NV-RN Table 3, CUDA 13.0 GA; Table 2"),
            Floors("580.88", "580.88", "580.88", source="NV-RN Tables 2, 3"),
            "NV-RN; PD-78720; cuDNN pin unconfirmed"),
]
VARIANT_BY_TAG = {v.tag: v for v in VARIANTS}

# The GPU code of each (variant, OS, release range). Newest rules first within a tag.
BUILDS = [
    Build("cu118", "linux", "2.6.0", "2.6.9", (61, 70, 75, 80, 86), (), True, "MEASURED-262"),
    Build("cu118", "linux", "3.0.0", "3.9.9", (60, 61, 70, 75, 80, 86), (), True,
          "PD-74088, PD-76037 (cmake/cuda.cmake)"),
    Build("cu118", "windows", "3.0.0", "3.9.9", (60, 61, 70, 75, 80, 86), (), False,
          "assumed as on Linux (PD-74088); no Windows cu118 report"),
    Build("cu126", "linux", "3.0.0", "3.9.9", (61, 70, 75, 80, 86, 89, 90), (), True,
          "PD-76037 (12.x Linux lists start at 61; no sm_120)"),
    Build("cu129", "linux", "3.1.0", "3.1.9", (61, 70, 75, 80, 86, 89, 90), (), True,
          "PD-73687, PD-73937 (3.1.x cu129 has no sm_120)"),
    Build("cu129", "linux", "3.2.0", "3.9.9", (61, 70, 75, 80, 86, 89, 90, 100, 120), (), True,
          "PD-76037 (sm_120 from 3.2.0)"),
    Build("cu126", "windows", "3.0.0", "3.9.9", (75, 80, 86, 89), (), True, "PX-4285, PX-4473"),
    Build("cu129", "windows", "3.1.0", "3.9.9", (75, 80, 86, 89), (), True,
          "PX-4285, PX-4473, PX-4682 (GTX 1080 fails)"),
    Build("cu130", "linux", "3.3.0", "3.9.9", (75, 80, 86, 90, 100), (), False,
          "PD-78720 (sm_120 not in the list; unconfirmed for the 3.3 release)"),
    Build("cu130", "windows", "3.3.0", "3.9.9", (75, 80, 86, 90, 100), (), False,
          "PD-78720, as on Linux; unconfirmed"),
]

# Which variants each release ships (3.x GPU wheels on Paddle's own index; 2.6.2 on PyPI).
# Newest first. (release, {os: tags}, source)
RELEASES = [
    ("3.3.1", {"linux": ("cu126", "cu129", "cu130"), "windows": ("cu126", "cu129")},
     "FastDeploy install page (3.3.1 cu126/cu129); Paddle's pip page (cu130)"),
    ("3.3.0", {"linux": ("cu118", "cu126", "cu129", "cu130"), "windows": ("cu118", "cu126", "cu129")},
     "PD-DOCS-7685 (cu118); Paddle's pip page"),
    ("3.2.2", {"linux": ("cu118", "cu126", "cu129"), "windows": ("cu118", "cu126", "cu129")}, "PD-76037"),
    ("3.2.1", {"linux": ("cu118", "cu126", "cu129"), "windows": ("cu118", "cu126", "cu129")}, "PD-76037"),
    ("3.2.0", {"linux": ("cu118", "cu126", "cu129"), "windows": ("cu118", "cu126", "cu129")}, "PD-76037"),
    ("3.1.1", {"linux": ("cu118", "cu126", "cu129"), "windows": ("cu118", "cu126", "cu129")}, "PD-73687"),
    ("3.1.0", {"linux": ("cu118", "cu126", "cu129"), "windows": ("cu118", "cu126", "cu129")}, "PD-73687"),
    ("3.0.0", {"linux": ("cu118", "cu126"), "windows": ("cu118", "cu126")}, "PD-DOCS-EN"),
    ("2.6.2", {"linux": ("cu118",)}, "PYPI (paddlepaddle-gpu 2.6.2: CUDA 11.8, the PyPI wheel)"),
]
PYPI_RELEASES = {("2.6.2", "cu118")}  # installed from PyPI, no -i

# CPython minor versions with wheels, per release line (PYPI).
PYTHONS = {"2.6": ("3.8", "3.12"), "3.0": ("3.8", "3.13"), "3.1": ("3.9", "3.13"),
           "3.2": ("3.9", "3.13"), "3.3": ("3.9", "3.13")}

# The CUDA minor-version-compatibility floor of each CUDA major (NV-RN Table 2): below it a build for
# that major cannot run at all ("CUDA driver version is insufficient for CUDA runtime version").
MINOR_COMPAT_FLOOR = {"11": "450.80.02", "12": "525.60.13", "13": "580.65.06"}
MINOR_COMPAT_FLOOR_WINDOWS = {"11": "452.39", "12": "528.33", "13": "580.88"}


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
    return bool(floor) and version_tuple(driver) >= version_tuple(floor)


def cc_tuple(cc: str) -> tuple[int, int]:
    major, _, minor = str(cc).partition(".")
    return int(major), int(minor or 0)


def python_supported(release: str, python_version: str) -> bool | None:
    line = ".".join(release.split(".")[:2])
    bounds = PYTHONS.get(line)
    if bounds is None:
        return None
    return cc_tuple(bounds[0]) <= cc_tuple(".".join(python_version.split(".")[:2])) <= cc_tuple(bounds[1])


def _os(windows: bool) -> str:
    return "windows" if windows else "linux"


def variants_for(release: str, windows: bool = False) -> tuple[str, ...]:
    for version, tags, _ in RELEASES:
        if version == release:
            return tags.get(_os(windows), ())
    return ()


def build_of(tag: str, release: str, windows: bool = False) -> Build | None:
    """The arch list of ``tag`` in ``release`` on this OS."""
    rv = version_tuple(release)
    for b in BUILDS:
        if b.tag == tag and b.os == _os(windows) and \
                version_tuple(b.first) <= rv <= version_tuple(b.last):
            return b
    return None


def floors(variant: Variant, windows: bool = False) -> Floors | None:
    return variant.windows if windows else variant.linux


@dataclass(frozen=True)
class Choice:
    """A wheel for this machine: the variant, the release, how the driver runs it ("documented":
    at or above Paddle's own floor; "minor-compat": below it, through NVIDIA's CUDA minor version
    compatibility), and how each GPU is served ("sass" or "ptx")."""
    variant: Variant
    release: str
    support: str
    build: Build
    coverage: dict = field(default_factory=dict)

    @property
    def pypi(self) -> bool:
        return (self.release, self.variant.tag) in PYPI_RELEASES


def candidates(driver: str, capabilities: list[str], windows: bool = False,
               releases: list[str] | None = None) -> list[Choice]:
    """Every (variant, release) this driver can run that has SASS for every GPU here, best first:
    documented support before minor compatibility; among documented, the newest CUDA; among
    minor-compatibility ones, the lowest CUDA (closest to the driver); then the newest release."""
    gpus = [a for a in (A.cc_arch(cc) for cc in capabilities) if a]
    out = []
    for version, tags, _ in RELEASES:
        if releases is not None and version not in releases:
            continue
        for tag in tags.get(_os(windows), ()):
            v = VARIANT_BY_TAG[tag]
            f = floors(v, windows)
            if f is None:
                continue
            if driver_at_least(driver, f.documented):
                support = "documented"
            elif driver_at_least(driver, f.minor_compat):
                support = "minor-compat"
            else:
                continue
            b = build_of(tag, version, windows)
            if b is None:
                continue
            cov = {a: A.coverage(a, b.sass, b.ptx).how for a in gpus}
            if any(how != "sass" for how in cov.values()):
                continue  # a fix never names a wheel without code for a GPU here
            out.append(Choice(v, version, support, b, cov))

    def key(c: Choice):
        cuda = version_tuple(c.variant.cuda)
        return (0 if c.support == "documented" else 1,
                tuple(-x for x in cuda) if c.support == "documented" else cuda,
                tuple(-x for x in version_tuple(c.release)), 0 if c.build.confirmed else 1)
    return sorted(out, key=key)


def choose(driver: str, capabilities: list[str], windows: bool = False,
           release: str | None = None) -> Choice | None:
    """The wheel to recommend. With the user's own ``release``: that release where a variant of it
    fits; else the same major line (a 2.6 user stays on 2.6 where it fits); else any release."""
    if release:
        same = candidates(driver, capabilities, windows, [release])
        if same:
            return same[0]
        line = release.split(".")[0]
        same_major = [c for c in candidates(driver, capabilities, windows)
                      if c.release.split(".")[0] == line]
        if same_major:
            return same_major[0]
    found = candidates(driver, capabilities, windows)
    return found[0] if found else None


def choose_variant(driver: str, capabilities: list[str], windows: bool = False,
                   release: str | None = None) -> tuple[Variant | None, str | None]:
    """(variant, release) of :func:`choose`, or (None, None)."""
    c = choose(driver, capabilities, windows, release)
    return (c.variant, c.release) if c else (None, None)


def lowest_driver_for(capabilities: list[str], windows: bool = False) -> Variant | None:
    """The variant with the lowest documented driver floor that has SASS for every GPU here in
    some release."""
    gpus = [a for a in (A.cc_arch(cc) for cc in capabilities) if a]
    for variant in VARIANTS:
        for b in BUILDS:
            if b.tag == variant.tag and b.os == _os(windows) and floors(variant, windows) and \
                    all(A.coverage(a, b.sass, b.ptx).how == "sass" for a in gpus):
                return variant
    return None


def install_command(pip: str, release: str, tag: str) -> str:
    if (release, tag) in PYPI_RELEASES:
        return f"{pip} install paddlepaddle-gpu=={release}"
    return f"{pip} install paddlepaddle-gpu=={release} -i {INDEX_URL.format(tag=tag)}"


def cpu_install_command(pip: str, release: str | None = None) -> str:
    """The CPU build, pinned to ``release`` where one is given (never an unpinned upgrade)."""
    return f"{pip} install paddlepaddle=={release}" if release else f"{pip} install paddlepaddle"
