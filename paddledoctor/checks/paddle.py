"""The Paddle install: present, one distribution, the right build for this machine, importable."""

from __future__ import annotations


from ..knowledge import wheels
from ..model import Fix
from . import check, finding, summary
from . import facts as F


@check("paddle")
def paddle_installed(facts, options):
    if F.providers(facts) or F.get(facts, "paddle", "found"):
        return
    if F.reason(facts, "distributions", "paddle_providers") and F.get(facts, "paddle", "found") is None:
        return  # neither the distributions nor the package are known (a paste without pip list)
    if F.has_nvidia_gpus(facts):
        commands, text = F.gpu_install(facts)
    else:
        commands, text = [wheels.cpu_install_command(F.pip(facts))], "No NVIDIA GPU here: the CPU build."
    py = F.get(facts, "host", "python", "version")
    newest = wheels.RELEASES[0][0]
    if py and wheels.python_supported(newest, py) is False and "no wheel for Python" not in text:
        lo, hi = wheels.PYTHONS[".".join(newest.split(".")[:2])]
        text += f" Paddle {newest} has no wheel for Python {py}: use Python {lo} to {hi}."
    yield finding("PD100", evidence={"searched": "sys.path, current directory first"},
                  fix=Fix(commands, text))


@check("paddle")
def cpu_build_on_gpu_machine(facts, options):
    b = F.build(facts)
    if not F.is_cpu_build(b) or not F.has_nvidia_gpus(facts):
        return
    count = F.nvml_gpu_count(facts) or F.pci_gpu_count(facts)
    names = sorted({g.get("name") for g in F.nvml_gpus(facts) if isinstance(g.get("name"), str)})
    yield finding(
        "PD101",
        f"CPU build of PaddlePaddle {b['version']} on a machine with {count} NVIDIA GPU(s)"
        + (f" ({', '.join(names)})" if names else "") + ": Paddle cannot use them",
        evidence={"paddle_version": b["version"], "paddle_cuda": "none (CPU build)",
                  "build_info_from": b["source"], "nvidia_gpus": count,
                  "driver_version": F.driver_version(facts),
                  "cuda_driver_version": F.get(facts, "nvml", "cuda_driver_version"),
                  "compute_capabilities": sorted(set(F.capabilities(facts)))},
        # No wheel fits this driver: uninstalling alone would leave no Paddle at all.
        fix=F.replace_paddle(facts))


@check("paddle")
def duplicate_distributions(facts, options):
    providers = F.providers(facts)
    if len(providers) < 2:
        return
    listed = [f"{p['name']} {p['version']}" + (f" in {p['location']}" if isinstance(
        p.get("location"), str) else "") for p in providers]  # (a pasted pip list has no location)
    live = [p for p in providers if p.get("owns_files_on_disk")]
    keep = "paddlepaddle-gpu" if F.has_nvidia_gpus(facts) else "paddlepaddle"
    if keep == "paddlepaddle-gpu":
        commands, text = F.gpu_install(facts)
    else:
        commands, text = [wheels.cpu_install_command(F.pip(facts))], ""
    # Uninstall as many times as there are copies: pip removes one copy per call.
    uninstall = [f"{F.pip(facts)} uninstall -y {p['name']}" for p in providers]
    yield finding(
        "PD102",
        f"{len(providers)} installed distributions provide the paddle package: {', '.join(listed)}",
        evidence={"providers": listed,
                  "files_on_disk_belong_to": [f"{p['name']} {p['version']}" for p in live]},
        fix=Fix(uninstall + commands,
                "Their files overwrite each other in one paddle/ folder; remove every copy, then "
                f"install one ({keep}). " + text))


@check("paddle")
def wheel_built_for_this_python(facts, options):
    py = F.get(facts, "host", "python", "version")
    if not py:
        return
    tag = "cp" + "".join(py.split(".")[:2])
    for p in F.providers(facts):
        tags = p.get("wheel_tags") or []
        interps = {t.split("-")[0] for t in tags}
        if not tags or any(_tag_fits(t, tag) for t in tags):
            continue
        yield finding(
            "PD103",
            f"{p['name']} {p['version']} was built for {', '.join(sorted(interps))}, this is Python {py}",
            evidence={"distribution": p["name"], "wheel_tags": tags, "python": py},
            fix=Fix([f"{F.pip(facts)} install --force-reinstall --no-deps {p['name']}=={p['version']}"
                     + _index_option(facts, p["name"])],
                    "Reinstall it with this interpreter's pip so that pip picks the wheel for this Python."))


def _tag_fits(wheel_tag: str, cp_tag: str) -> bool:
    interp, _, rest = wheel_tag.partition("-")
    return interp == cp_tag or interp.startswith("py3") or rest.startswith("abi3")


@check("paddle")
def import_paddle(facts, options):
    imp = F.get(facts, "runtime", "import")
    if not imp or imp.get("ok") is not False:
        return
    outcome = imp.get("outcome")
    if (outcome not in ("signal", "timeout") and F.get(facts, "paddle", "found") is False
            and not F.providers(facts) and "No module named" in str(imp.get("error") or "")):
        return  # no paddle anywhere: PD100 says it, with the install command
    evidence = {k: imp.get(k) for k in ("outcome", "error", "stage", "signal") if imp.get(k)}
    tail = (imp.get("stderr") or "").strip().splitlines()[-5:]
    if tail:
        evidence["stderr_tail"] = tail
    if outcome == "signal":
        sig = imp.get("signal") or "a signal"
        text = ("SIGILL means the CPU lacks an instruction the wheel was compiled for (AVX): see PD401."
                if sig == "SIGILL" else
                "A native library Paddle loads crashed: reinstall Paddle, and look for a mismatched "
                "CUDA/cuDNN library on LD_LIBRARY_PATH.")
        yield finding("PD104", f"import paddle was killed by {sig}", evidence,
                      Fix(_reinstall(facts), text))
    elif outcome == "timeout":
        yield finding("PD105", f"import paddle did not finish: {imp.get('error')}", evidence,
                      Fix([], "Run `python -c 'import paddle'` to watch it; a hang at import is "
                              "usually a network filesystem, a locked file, or CUDA init stuck on "
                              "a broken GPU (see the GPU findings)."))
    else:
        yield finding("PD106", f"import paddle failed: {imp.get('error')}", evidence,
                      Fix(_reinstall(facts), "Reinstall Paddle in this environment."))


def _reinstall(facts) -> list[str]:
    providers = F.providers(facts)
    if not providers:
        return []
    p = providers[0]
    return [f"{F.pip(facts)} install --force-reinstall {p['name']}=={p['version']}"
            + _index_option(facts, p["name"])]


def _index_option(facts, name: str) -> str:
    """paddlepaddle-gpu 3.x is only on Paddle's own index (PyPI's stops at 2.6.2): the index of the
    variant this build's CUDA names, where the build is known."""
    if name != "paddlepaddle-gpu":
        return ""
    variant = wheels.variant_for_cuda((F.build(facts) or {}).get("cuda"))
    if variant:
        return f" -i {wheels.INDEX_URL.format(tag=variant.tag)}"
    return " -i <the index you installed it from>"


@check("paddle")
def paddle_comes_from_a_distribution(facts, options):
    pkg = F.get(facts, "paddle")
    providers = F.providers(facts)
    if not pkg or not pkg.get("found") or not providers:
        return
    P = F.paths(facts)  # the report's OS: C:\\...\\site-packages is a folder there, not here

    def norm(path: str) -> str:
        return P.normcase(P.normpath(path))
    location = P.normpath(pkg.get("location") or "")
    sites = {P.normpath(p["location"]) for p in providers}
    if norm(P.dirname(location)) in {norm(s) for s in sites}:
        return
    yield finding(
        "PD107",
        f"import paddle would load {pkg.get('origin') or location}, not the installed "
        f"{providers[0]['name']} in {providers[0]['location']}",
        evidence={"imports_from": location, "installed_in": sorted(sites)},
        fix=Fix([], "Rename or remove that file/folder (a local 'paddle' shadows the installed "
                    "package), or run from another directory."))


@check("paddle")
def build_info_readable(facts, options):
    why = F.reason(facts, "paddle", "version_file")
    if why and F.get(facts, "paddle", "found") is True:
        yield finding("PD108", evidence={"reason": why},
                      fix=Fix(_reinstall(facts), "The static check cannot tell the build; the "
                                                 "full check (without --quick) reads it from paddle itself."))


@summary("paddle")
def summarize(facts, options):
    b = F.build(facts)
    if not b:
        names = ", ".join(f"{p['name']} {p['version']}" for p in F.providers(facts))
        return "ok", f"{names} (build not known)" if names else "not installed"
    kind = (f"CUDA {b['cuda']}" + (f", cuDNN {b['cudnn']}" if b["cudnn"] else "")
            if b["cuda"] else "ROCm" if b["rocm"] else "XPU" if b["xpu"] else "CPU build")
    names = ", ".join(f"{p['name']} {p['version']}" for p in F.providers(facts)) or "no distribution"
    imp = F.get(facts, "runtime", "import")
    imported = (f"; imports in {imp['seconds']:.1f} s" if imp and imp.get("ok")
                and isinstance(imp.get("seconds"), (int, float)) else "")
    return "ok", f"PaddlePaddle {b['version']} ({kind}) from {names}{imported}"
