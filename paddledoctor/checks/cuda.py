"""The Paddle GPU build against this machine's driver, GPUs and CUDA libraries."""

from __future__ import annotations

import re

from ..knowledge import wheels
from ..model import Fix, Severity
from . import check, finding, summary
from . import facts as F


def _gpu_build(facts):
    b = F.build(facts)
    return b if b and b["cuda"] else None


@check("cuda")
def driver_supports_build_cuda(facts, options):
    b = _gpu_build(facts)
    driver = F.driver_version(facts)
    if not b or not driver:
        return
    major = b["cuda"].split(".")[0]
    floor = wheels.MINOR_COMPAT_FLOOR.get(major)
    documented = _documented_floor(b["cuda"], F.is_windows(facts))
    evidence = {"paddle_cuda": b["cuda"], "driver_version": driver,
                "driver_supports_cuda_up_to": F.get(facts, "nvml", "cuda_driver_version")}
    fix = F.replace_paddle(facts)
    if floor and not wheels.driver_at_least(driver, floor):
        yield finding(
            "PD201",
            f"The NVIDIA driver {driver} cannot run CUDA {b['cuda']} (this Paddle's build): "
            f"CUDA {major}.x needs >= {floor}",
            evidence | {"minimum_driver": floor},
            Fix(fix.commands, f"Upgrade the driver to >= {documented or floor}, or install the wheel "
                              f"this driver runs. {fix.text}"))
    elif documented and not wheels.driver_at_least(driver, documented):
        # Runs through CUDA minor version compatibility, but below the floor Paddle documents for
        # this variant: PTX JIT (and so CINN and some custom ops) fails.
        installed = wheels.variant_for_cuda(b["cuda"])
        same = bool(installed) and any(f"/{installed.tag}/" in c for c in fix.commands)
        yield finding(
            "PD201",
            f"The NVIDIA driver {driver} supports CUDA up to "
            f"{F.get(facts, 'nvml', 'cuda_driver_version') or '?'}, below the {documented} that CUDA "
            f"{b['cuda']} wheels need: it runs only through CUDA minor version compatibility (no PTX JIT)",
            evidence | {"minimum_driver_for_full_support": documented},
            Fix([] if same else fix.commands,
                f"Upgrade the driver to >= {documented}"
                + ("." if same or not fix.commands else f", or install the wheel built for this "
                                                         f"driver. {fix.text}")),
            severity=Severity.WARN)


def _documented_floor(cuda: str, windows: bool) -> str | None:
    v = wheels.variant_for_cuda(cuda)
    return ((v.min_driver_windows if windows else v.min_driver_linux) or None) if v else None


def _found(facts, lib):
    libs = F.get(facts, "cuda_libs", lib)
    return libs if isinstance(libs, list) else None


def _cudnn_versions(facts) -> list[tuple[str, str]]:
    """(version, where) for every cuDNN found: pip's nvidia-cudnn-* and library files."""
    out = []
    for name, copies in (F.get(facts, "distributions", "packages", default={}) or {}).items():
        if name.startswith("nvidia-cudnn"):
            out += [(c["version"], f"pip {name}") for c in copies]
    for lib in _found(facts, "cudnn") or []:
        if lib.get("version") and lib["source"] != "pip":
            out.append((lib["version"], lib["path"]))
    return out


@check("cuda")
def cudnn_loadable(facts, options):
    b = _gpu_build(facts)
    if not b or not b["cudnn"] or not F.has_nvidia_gpus(facts):
        return
    runtime = F.get(facts, "runtime", "devices", "cudnn_runtime")
    # Only cudnn_runtime's own reason: F.reason would also return the reason a parent is missing
    # ("not run: --quick", a child stopped before reporting devices), which says nothing of cuDNN.
    devices = F.get(facts, "runtime", "devices")
    runtime_reason = (F.reason(devices, "cudnn_runtime") if isinstance(devices, dict) else None)
    found = _found(facts, "cudnn")
    pip_cudnn = [v for v, where in _cudnn_versions(facts) if where.startswith("pip")]
    fix = Fix(_cudnn_fix(facts, b), "")
    # get_cudnn_version() returns -1 (2.x, after its first failed dlopen) or 0 when cuDNN did not
    # load: any version <= 0 is "not loaded", never a version.
    not_loaded = runtime is None or (isinstance(runtime, (int, float)) and runtime <= 0)
    if runtime_reason or (F.imported(facts) and not_loaded
                          and F.get(facts, "runtime", "devices") is not None):
        said = runtime_reason or (f"get_cudnn_version() returned {runtime}" if runtime is not None
                                  else "no version reported")
        yield finding("PD203", f"Paddle could not load cuDNN: {said}",
                      {"paddle_cudnn": b["cudnn"], "error": runtime_reason,
                       "cudnn_runtime": runtime}, fix)
    elif found is not None and not found and not pip_cudnn and not (
            isinstance(runtime, (int, float)) and runtime > 0):  # loaded from where we did not look
        yield finding("PD203", f"No cuDNN library found (this Paddle needs cuDNN {b['cudnn']})",
                      {"paddle_cudnn": b["cudnn"],
                       "searched": "pip nvidia-cudnn-*, LD_LIBRARY_PATH, ldconfig -p, /usr/local/cuda"},
                      fix)


def _unofficial(facts) -> bool:
    """A Paddle not installed from an official wheel (a local build): only then may a fix replace
    it; the official wheel is never uninstalled for an NCCL question."""
    return not any(p.get("installer") == "pip" and p.get("name", "").startswith("paddlepaddle")
                   for p in F.providers(facts))


def _cudnn_fix(facts, b) -> list[str]:
    """The cuDNN this build can really load. Paddle 3.x also searches pip's nvidia/cudnn/lib
    (python/paddle/__init__.py preloads nvidia-* libraries); Paddle 2.x dlopens the unversioned
    libcudnn.so through LD_LIBRARY_PATH, the ldconfig cache and CUDA home only
    (paddle/phi/backends/dynload/dynamic_loader.cc), so pip's package needs its folder on
    LD_LIBRARY_PATH and the unversioned name."""
    major = b["cudnn"].split(".")[0]
    cu = wheels.pip_cuda_suffix(b["cuda"])
    install = f"{F.pip(facts)} install 'nvidia-cudnn-{cu}>={b['cudnn']},<{int(major) + 1}'"
    if str(b.get("version") or "").startswith(("2.", "1.")):
        py = F.pip(facts).rsplit(" -m pip", 1)[0]
        return [install,
                f"export CUDNN_LIB=$({py} -c \"import nvidia.cudnn, os; "
                f"print(os.path.join(nvidia.cudnn.__path__[0], 'lib'))\")",
                f'ln -sf "$CUDNN_LIB/libcudnn.so.{major}" "$CUDNN_LIB/libcudnn.so"',
                'export LD_LIBRARY_PATH="$CUDNN_LIB:$LD_LIBRARY_PATH"']
    return [install]


@check("cuda")
def cudnn_version_matches(facts, options):
    b = _gpu_build(facts)
    if not b or not b["cudnn"] or not F.has_nvidia_gpus(facts):
        return
    want = wheels.version_tuple(b["cudnn"])
    runtime = F.get(facts, "runtime", "devices", "cudnn_runtime")
    if isinstance(runtime, int) and runtime > 0:
        # paddle.device.get_cudnn_version(): 8907 for 8.9.7, 90501 for 9.5.1
        have = ((runtime // 10000, runtime // 100 % 100, runtime % 100) if runtime >= 9000
                else (runtime // 1000, runtime // 100 % 10, runtime % 100))
        candidates = [(".".join(map(str, have)), "loaded by Paddle")]
    else:
        candidates = _cudnn_versions(facts)
    if not candidates:
        return
    best = max(candidates, key=lambda c: wheels.version_tuple(c[0]))
    have = wheels.version_tuple(best[0])
    if have[:1] != want[:1] or have[:2] < want[:2]:
        yield finding(
            "PD204",
            f"cuDNN {best[0]} ({best[1]}) does not match the cuDNN {b['cudnn']} this Paddle was built with",
            {"paddle_cudnn": b["cudnn"], "found": [f"{v} ({w})" for v, w in candidates]},
            Fix(_cudnn_fix(facts, b), "Install the cuDNN of the build's major version, at least as "
                                      "new as the build's, and put it first on the library path."),
            severity=Severity.ERROR if have[:1] != want[:1] else Severity.WARN)


@check("cuda")
def paddle_sees_every_gpu(facts, options):
    b = _gpu_build(facts)
    seen = F.get(facts, "runtime", "devices", "gpu_count")
    nvml = F.nvml_gpu_count(facts)
    if not b or not isinstance(seen, int) or not nvml or seen >= nvml:
        return
    cvd = F.get(facts, "host", "env", default={}).get("CUDA_VISIBLE_DEVICES")
    why = (f"CUDA_VISIBLE_DEVICES={cvd!r} hides them" if cvd is not None
           else "CUDA_VISIBLE_DEVICES is not set, so CUDA itself could not use them")
    evidence = {"paddle_gpu_count": seen, "nvml_gpu_count": nvml, "CUDA_VISIBLE_DEVICES": cvd}
    if seen == 0:
        yield finding("PD209", f"The GPU build of Paddle sees no GPU, the driver reports {nvml}: {why}",
                      evidence, Fix(["unset CUDA_VISIBLE_DEVICES"] if cvd is not None else [],
                                    "Look at the GPU findings above (driver, lost GPU) and at "
                                    "CUDA_VISIBLE_DEVICES."))
    else:
        yield finding("PD205", f"Paddle sees {seen} of the {nvml} GPUs the driver reports: {why}",
                      evidence, Fix(["unset CUDA_VISIBLE_DEVICES"] if cvd is not None else [],
                                    "If that is intended (one job per GPU), ignore this."))


@check("cuda")
def nccl_for_several_gpus(facts, options):
    b = _gpu_build(facts)
    if not b or F.nvml_gpu_count(facts) < 2 or F.is_windows(facts):
        return  # Windows wheels have no NCCL by design
    found = _found(facts, "nccl")
    pip_nccl = [n for n in (F.get(facts, "distributions", "packages", default={}) or {})
                if n.startswith("nvidia-nccl")]
    evidence = {"paddle_nccl": b["nccl"], "gpus": F.nvml_gpu_count(facts)}
    # Paddle 2.x writes no nccl_version into paddle/version/__init__.py although its GPU wheels are
    # built with NCCL: an absent literal is unknown, not "none". Only a recorded 0, or the running
    # paddle's core.is_compiled_with_nccl() == False, says "built without".
    vf = F.get(facts, "paddle", "version_file")
    recorded = isinstance(vf, dict) and "nccl_version" in vf
    compiled = F.get(facts, "runtime", "build", "compiled_with_nccl")
    evidence["compiled_with_nccl"] = compiled if isinstance(compiled, bool) else "unknown"
    without = compiled is False or (compiled is not True and recorded and not b["nccl"])
    if without:
        yield finding("PD206", "This Paddle was built without NCCL: no multi-GPU training",
                      evidence, Fix(F.replace_paddle(facts).commands if _unofficial(facts) else [],
                                    "Install an official paddlepaddle-gpu wheel (built with NCCL)."))
    elif b["nccl"] and found is not None and not found and not pip_nccl:
        cu = wheels.pip_cuda_suffix(b["cuda"])
        yield finding("PD206", f"No NCCL library found for {F.nvml_gpu_count(facts)} GPUs "
                               f"(Paddle built with NCCL {b['nccl']})", evidence,
                      Fix([f"{F.pip(facts)} install nvidia-nccl-{cu}"], ""))


def _release(b: dict) -> str | None:
    """The release of a build as pip pins it ("3.3.1"), or None when unknown."""
    version = str(b.get("version") or "")
    return version if re.fullmatch(r"\d+\.\d+\.\d+", version) else None


@check("cuda")
def gpu_build_without_gpu(facts, options):
    b = _gpu_build(facts)
    if not b or F.has_nvidia_gpus(facts):
        return
    if F.get(facts, "nvml") is None and not F.pci_gpu_count(facts):
        return  # the driver's view is unknown (a paste without nvidia-smi): no GPU is not shown
    nvml = F.get(facts, "nvml") or {}
    if nvml.get("status") == "probe_failed" or nvml.get("error_kind") not in (None, "LibraryNotFound"):
        return  # a driver is there but broken: the gpu area says so
    yield finding("PD207", f"GPU build of PaddlePaddle {b['version']} (CUDA {b['cuda']}) on a machine "
                           "with no NVIDIA GPU: it runs on the CPU only, and needs CUDA libraries to import",
                  {"paddle_cuda": b["cuda"], "nvml": F.get(facts, "nvml", "error") or "no GPUs"},
                  Fix(F.uninstall_all(facts) + [wheels.cpu_install_command(F.pip(facts), _release(b))],
                      "Unless this machine is only for building, install the CPU build of the same "
                      "release."))


@check("cuda")
def cuda_visible_devices_with_cpu_build(facts, options):
    b = F.build(facts)
    cvd = F.get(facts, "host", "env", default={}).get("CUDA_VISIBLE_DEVICES")
    if not F.is_cpu_build(b) or cvd is None:
        return
    yield finding("PD208", f"CUDA_VISIBLE_DEVICES={cvd!r} is set but this Paddle is the CPU build",
                  {"CUDA_VISIBLE_DEVICES": cvd},
                  Fix(["unset CUDA_VISIBLE_DEVICES"],
                      "paddle.distributed.launch then treats the job as a GPU job and every rank "
                      "fails with 'The global group is not initialized'."))


@summary("cuda")
def summarize(facts, options):
    b = _gpu_build(facts)
    if not b:
        return "hidden", "no CUDA build of Paddle"
    parts = [f"CUDA {b['cuda']}"]
    if b["cudnn"]:
        parts.append(f"cuDNN {b['cudnn']}")
    if b["nccl"]:
        parts.append(f"NCCL {b['nccl']}")
    from .archs import binary_archs
    found = binary_archs(facts)
    if found:
        parts.append(f"SASS {' '.join(map(str, found['sass'])) or 'none'}, PTX "
                     f"{' '.join(map(str, found['ptx'])) or 'none'} ({found['library']})")
    elif b["archs"]:
        parts.append("archs " + " ".join(map(str, b["archs"])))
    driver = F.driver_version(facts)
    if driver:
        parts.append(f"driver {driver}")
    seen = F.get(facts, "runtime", "devices", "gpu_count")
    if isinstance(seen, int):
        parts.append(f"Paddle sees {seen} GPU(s)")
    return "ok", ", ".join(parts)


def _gpu_op_passed(facts) -> bool:
    """A training step ran correctly on a GPU: whatever it needed was loaded."""
    return any(str(op.get("device", "")).startswith("gpu") and op.get("outcome") == "ok"
               for op in (F.get(facts, "runtime", "ops", default=[]) or []))


@check("cuda")
def cuda_runtime_libraries(facts, options):
    """PD210: cuBLAS (and, for pip-library builds, cudart) where this Paddle's dlopen looks."""
    b = _gpu_build(facts)
    rt = F.get(facts, "cuda_runtime")
    if not b or not isinstance(rt, dict) or not F.has_nvidia_gpus(facts) or _gpu_op_passed(facts):
        return
    major = rt.get("cuda_major")
    # an unversioned libcublas.so that resolves to another CUDA major's cuBLAS is as good as none
    missing = {lib: e for lib, e in (rt.get("libraries") or {}).items()
               if not e.get("path") or (e.get("major") and e["major"] != major)}
    if not missing:
        return
    cu = wheels.pip_cuda_suffix(b["cuda"])
    names = ", ".join(e["soname"] + (f" (resolves to {e['resolved']}, another CUDA)"
                                     if e.get("path") else "") for e in missing.values())
    evidence = {"paddle_cuda": b["cuda"], "missing": names,
                "searched": ("pip nvidia/*/lib, " if rt.get("pip_build") else "")
                            + "LD_LIBRARY_PATH, ld.so.cache, the default folders"}
    pip_pkgs = {"cublas": f"nvidia-cublas-{cu}", "cudart": f"nvidia-cuda-runtime-{cu}"}
    install = (f"{F.pip(facts)} install " + " ".join(f"'{pip_pkgs[lib]}'" for lib in missing))
    if rt.get("pip_build"):
        fix = Fix([install], "This wheel loads the CUDA libraries from pip's nvidia-* packages, "
                             "which its own requirements name.")
    else:
        copies = (missing.get("cublas") or {}).get("versioned_copies") or []
        evidence["versioned_copies"] = ", ".join(copies) or None
        py = F.pip(facts).rsplit(" -m pip", 1)[0]
        fix = Fix([install,
                   f"export CUBLAS_LIB=$({py} -c \"import nvidia.cublas, os; "
                   f"print(os.path.join(nvidia.cublas.__path__[0], 'lib'))\")",
                   f'ln -sf "$CUBLAS_LIB/libcublas.so.{major}" "$CUBLAS_LIB/libcublas.so"',
                   f'ln -sf "$CUBLAS_LIB/libcublasLt.so.{major}" "$CUBLAS_LIB/libcublasLt.so"',
                   'export LD_LIBRARY_PATH="$CUBLAS_LIB:$LD_LIBRARY_PATH"'],
                  f"Paddle {b.get('version') or '2.x'} dlopens the unversioned libcublas.so through "
                  f"LD_LIBRARY_PATH and the loader cache only (a CUDA {b['cuda']} toolkit in "
                  f"/usr/local/cuda provides it too).")
    yield finding("PD210", f"The CUDA libraries this Paddle loads at its first GPU op are not "
                           f"where it looks: {names} not found", evidence, fix)


@check("cuda")
def driver_library_reachable(facts, options):
    """PD211: the driver's libcuda.so.1, which every CUDA program loads, is not on the loader's
    path although this is a GPU build on a machine with NVIDIA GPUs or device nodes."""
    b = _gpu_build(facts)
    d = F.get(facts, "driver_libs")
    if not b or not isinstance(d, dict) or "path" not in d or d.get("path"):
        return
    if _gpu_op_passed(facts) or d.get("tegra_release"):
        return
    env = F.get(facts, "environment")
    if isinstance(env, dict) and (((env.get("container") or {}).get("in_container")
                                   and not F.nvml_ok(facts)) or (env.get("wsl") or {}).get("is_wsl")):
        return  # a container without the NVIDIA runtime, and WSL2, have their own findings (PD406-PD409)
    if not (F.has_nvidia_gpus(facts) or d.get("dev_nvidia") or d.get("wsl")):
        return
    evidence = {"searched": "LD_LIBRARY_PATH, " + str(d.get("cache") or "ld.so.cache")
                            + ", the default folders",
                "dev_nvidia": ", ".join(d.get("dev_nvidia") or []) or None}
    if d.get("wsl"):
        fix = Fix(['export LD_LIBRARY_PATH="/usr/lib/wsl/lib:$LD_LIBRARY_PATH"'],
                  "WSL2 keeps the Windows driver's libcuda.so.1 in /usr/lib/wsl/lib"
                  + ("" if d.get("wsl_lib_has_libcuda") else
                     " (not there now: update the NVIDIA driver on Windows, then `wsl --shutdown`)")
                  + ".")
        evidence["wsl"] = True
    elif F.nvml_ok(facts):
        fix = Fix(["sudo ldconfig", "ldconfig -p | grep libcuda"],
                  "NVML works, so the driver is installed but its libcuda.so.1 is not in the loader "
                  "cache; in a container, start it with the NVIDIA Container Toolkit "
                  "(`docker run --gpus all` or `--runtime=nvidia`), which mounts the driver's "
                  "libraries.")
    else:
        fix = Fix(["nvidia-smi"], "Install the NVIDIA driver; in a container, start it with the "
                                  "NVIDIA Container Toolkit (`docker run --gpus all`), which mounts "
                                  "libcuda.so.1 and libnvidia-ml.so.1 from the host.")
    yield finding("PD211", "The NVIDIA driver's libcuda.so.1 is not on the loader's path: this GPU "
                           "build of Paddle will see no GPU", evidence, fix)
