"""Pure helpers that read the facts the same way for every check (and tolerate missing pieces:
a recorded report from an older doctor, or a probe that did not answer)."""

from __future__ import annotations

import re

from ..knowledge import wheels
from ..model import NOT_IN_PASTE, Fix, Unavailable

GiB = 1 << 30


def get(facts, *path, default=None):
    """facts["a"]["b"]... or default where a step is missing or Unavailable."""
    node = facts
    for key in path:
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and -len(node) <= key < len(node):
            node = node[key]
        else:
            return default
        if isinstance(node, Unavailable):
            return default
    return node


def reason(facts, *path) -> str | None:
    """Why the fact at path is unavailable, if it is."""
    node = facts
    for key in path:
        if isinstance(node, Unavailable):
            return node.reason
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node.reason if isinstance(node, Unavailable) else None


def _clean(value):
    """Paddle writes 'False'/'None'/'0' where a CPU build has no CUDA/cuDNN/NCCL."""
    if value in (None, "False", "None", "", "0", False, 0):
        return None
    return str(value)


def nccl_text(code) -> str | None:
    """NCCL_VERSION_CODE as Paddle records it ('22501') to '2.25.1'."""
    code = _clean(code)
    if code is None or not code.isdigit():
        return code
    n = int(code)
    if n >= 20900:
        return f"{n // 10000}.{(n % 10000) // 100}.{n % 100}"
    return f"{n // 1000}.{(n % 1000) // 100}.{n % 100}"


def build(facts) -> dict | None:
    """What this Paddle was built with: from the version file (static) or, failing that, from the
    running paddle (dynamic). None where neither is known."""
    vf = get(facts, "paddle", "version_file")
    rt = get(facts, "runtime", "build")
    if vf:
        archs = vf.get("compiled_cuda_archs")
        return {
            "version": vf.get("full_version"),
            "cuda": _clean(vf.get("cuda_version")),
            "cudnn": _clean(vf.get("cudnn_version")),
            "nccl": nccl_text(vf.get("nccl_version")),
            "archs": [int(a) for a in archs] if isinstance(archs, list) else None,
            "rocm": _clean(vf.get("hip_version")),
            "xpu": _clean(vf.get("xpu_xre_version")),
            "pip_cuda_libraries": vf.get("with_pip_cuda_libraries") == "ON",
            # a pasted report says what its build facts were read from (check --from issue.md)
            "source": vf.get("read_from") or "paddle/version/__init__.py",
        }
    if rt:
        archs = rt.get("cuda_archs")
        return {
            "version": rt.get("version"),
            "cuda": _clean(rt.get("cuda")),
            "cudnn": _clean(rt.get("cudnn")),
            "nccl": nccl_text(rt.get("nccl")),
            "archs": [int(a) for a in archs] if isinstance(archs, list) else None,
            "rocm": "yes" if rt.get("compiled_with_rocm") is True else None,
            "xpu": "yes" if rt.get("compiled_with_xpu") is True else None,
            "pip_cuda_libraries": None,
            "source": "paddle.version (imported)",
        }
    return None


def is_cpu_build(b: dict | None) -> bool:
    return bool(b) and not b["cuda"] and not b["rocm"] and not b["xpu"]


def nvml_ok(facts) -> bool:
    return get(facts, "nvml", "status") == "ok"


def nvml_gpus(facts) -> list[dict]:
    return get(facts, "nvml", "gpus", default=[]) if nvml_ok(facts) else []


def nvml_gpu_count(facts) -> int:
    return get(facts, "nvml", "gpu_count", default=0) if nvml_ok(facts) else 0


def pci_gpu_count(facts) -> int:
    return get(facts, "host", "pci_nvidia", "count", default=0) or 0


def has_nvidia_gpus(facts) -> bool:
    """NVIDIA GPUs are here, whether or not the driver works: NVML counts them, or the PCI bus
    lists them."""
    return nvml_gpu_count(facts) > 0 or pci_gpu_count(facts) > 0


def capabilities(facts) -> list[str]:
    return [g["compute_capability"] for g in nvml_gpus(facts)
            if isinstance(g.get("compute_capability"), str)]


def driver_version(facts) -> str | None:
    v = get(facts, "nvml", "driver_version")
    return v if isinstance(v, str) else None


def runtime_ran(facts) -> bool:
    """The dynamic layer ran (full mode), whatever it found."""
    return isinstance(facts.get("runtime"), dict)


def imported(facts) -> bool:
    return get(facts, "runtime", "import", "ok") is True


def is_windows(facts) -> bool:
    return get(facts, "host", "os", "system") == "Windows"


def paths(facts):
    """The path rules of the machine the facts are from (ntpath for a Windows report, posixpath
    otherwise), not of the machine that judges them: a Windows report re-diagnosed on Linux."""
    import ntpath
    import posixpath

    return ntpath if is_windows(facts) else posixpath


def pip(facts) -> str:
    """How to call this interpreter's pip in a fix command."""
    if get(facts, "host", "python", "python_on_path_is_this") is False:
        exe = get(facts, "host", "python", "executable")
        if exe:
            return f"{exe} -m pip"
    return "python -m pip"


def providers(facts) -> list[dict]:
    return get(facts, "distributions", "paddle_providers", default=[]) or []


def gpu_install(facts) -> tuple[list[str], str]:
    """The commands that install the right GPU wheel here, and a sentence on the choice: a wheel
    with SASS for every GPU here (never one without code for a GPU), that this driver runs, saying
    when it runs only through CUDA minor version compatibility, and when it is a major upgrade."""
    driver = driver_version(facts)
    ccs = capabilities(facts)
    current = (build(facts) or {}).get("version")
    current = current if isinstance(current, str) and re.fullmatch(r"\d+\.\d+\.\d+", current) else None
    windows = is_windows(facts)
    if not driver and reason(facts, "nvml", "driver_version") == NOT_IN_PASTE:
        return [], ("The NVIDIA driver version is not in the pasted text: with `nvidia-smi`'s output "
                    "paddledoctor names the paddlepaddle-gpu wheel that runs on it.")
    if not driver:
        return [], ("Install or repair the NVIDIA driver first (NVML cannot read its version), then "
                    "run paddledoctor again to get the matching paddlepaddle-gpu command.")
    choice = wheels.choose(driver, ccs, windows, current)
    cc_text = ", ".join(sorted(set(ccs)))
    if choice is None:
        lowest = wheels.lowest_driver_for(ccs, windows)
        f = wheels.floors(lowest, windows) if lowest else None
        if lowest is None or f is None:
            text = (f"No PaddlePaddle GPU wheel this doctor knows has code for compute capability "
                    f"{cc_text} on {'Windows' if windows else 'Linux'} with driver {driver}.")
        elif lowest is wheels.VARIANTS[0]:
            text = (f"The driver {driver} is older than every PaddlePaddle GPU wheel needs: "
                    f"upgrade it to >= {f.minor_compat} ({lowest.tag}) or newer.")
        else:
            text = (f"GPUs of compute capability {cc_text} need the {lowest.tag} wheel or newer, "
                    f"which needs driver >= {f.minor_compat}; this driver is {driver}: upgrade it.")
        return [], text
    v, f = choice.variant, wheels.floors(choice.variant, windows)
    cmd = wheels.install_command(pip(facts), choice.release, v.tag)
    has = " ".join(f"sm_{a}" for a in choice.build.sass)
    text = (f"{v.tag} (CUDA {v.cuda}) of Paddle {choice.release} has code for these GPUs "
            f"(compute capability {cc_text}: its wheels hold SASS {has})" if ccs else
            f"{v.tag} (CUDA {v.cuda}) of Paddle {choice.release}")
    if choice.support == "documented":
        text += f" and runs on this driver ({driver}; Paddle documents >= {f.documented})."
    else:
        text += (f". This driver ({driver}) runs it through CUDA minor version compatibility "
                 f"(CUDA {v.cuda.split('.')[0]}.x on >= {f.minor_compat}; no JIT of newer PTX); "
                 f"Paddle documents >= {f.documented}"
                 + (f" (its Chinese page {f.documented_zh})" if f.documented_zh else "")
                 + f" and NVIDIA shipped CUDA {v.cuda} with {f.nvidia_ga}: upgrade the driver for "
                   "full support.")
    if choice.pypi:
        text += " It is the GPU wheel on PyPI (no extra index)."
    if not choice.build.confirmed:
        text += f" (The arch list of this wheel is not confirmed: {choice.build.source}.)"
    if current and current.split(".")[0] != choice.release.split(".")[0]:
        text += (f" Paddle {current} -> {choice.release} is a major upgrade (APIs changed between "
                 f"{current.split('.')[0]}.x and {choice.release.split('.')[0]}.x: re-test your code): "
                 f"no {current} GPU wheel has code for these GPUs and runs on this driver.")
    py = get(facts, "host", "python", "version")
    if py and wheels.python_supported(choice.release, py) is False:
        lo, hi = wheels.PYTHONS[".".join(choice.release.split(".")[:2])]
        text += f" Paddle {choice.release} has no wheel for Python {py}: use Python {lo} to {hi}."
    return [cmd], text


def replace_paddle(facts) -> Fix:
    """Uninstall every Paddle distribution and install the GPU wheel that fits this driver and these
    GPUs; when none fits, no command at all (never an uninstall that leaves nothing)."""
    commands, text = gpu_install(facts)
    if not commands:
        return Fix([], text)
    return Fix(uninstall_all(facts) + commands, text)


def uninstall_all(facts) -> list[str]:
    names = sorted({p["name"] for p in providers(facts)})
    return [f"{pip(facts)} uninstall -y {' '.join(names)}"] if names else []
