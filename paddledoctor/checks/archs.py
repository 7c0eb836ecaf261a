"""The one judgement of a build's GPU code against this machine's GPUs (PD202, PD212, PD213).

What the build holds comes first from its binaries (``facts["binaries"]``: the SASS and PTX archs in
the ``.nv_fatbin`` sections of its main kernel library), and from the version file's
``compiled_cuda_archs`` (3.x) where the binaries could not be read. The rules (SASS runs within a
major on an equal or higher minor; PTX JIT-compiles for any higher cc) are NVIDIA's, in
:mod:`paddledoctor.archs`.
"""

from __future__ import annotations

from .. import archs as A
from ..model import Fix, Severity
from . import check, finding
from . import facts as F


def _gpu_build(facts):
    b = F.build(facts)
    return b if b and b["cuda"] else None


def binary_archs(facts) -> dict | None:
    """{"sass", "ptx", "library"} from the binaries, or None when they hold no readable GPU code."""
    build = F.get(facts, "binaries", "build")
    if not isinstance(build, dict) or not build.get("has_gpu_code"):
        return None
    sass = [a for a in (A.parse_arch(x) for x in build.get("sass") or []) if a]
    ptx = [a for a in (A.parse_arch(x) for x in build.get("ptx") or []) if a]
    if not sass and not ptx:
        return None
    return {"sass": sorted(sass), "ptx": sorted(ptx),
            "library": F.paths(facts).basename(str(build.get("primary") or "")) or None}


def _names(prefix: str, values) -> str:
    return " ".join(f"{prefix}_{a}" for a in values) or "none"


@check("cuda")
def gpu_arch_compiled(facts, options):
    """PD202 (no code for a GPU: error; only a lesser SASS of the recorded list: warn) and PD212
    (PTX only)."""
    b = _gpu_build(facts)
    if not b:
        return
    recorded = sorted(b["archs"]) if b["archs"] else None
    found = binary_archs(facts)
    if found:
        sass, ptx = found["sass"], found["ptx"]
        source = f"{found['library']} (.nv_fatbin)" if found["library"] else ".nv_fatbin"
    elif recorded:
        sass, ptx, source = recorded, [], b.get("source") or "compiled_cuda_archs"
    else:
        return
    for g in F.nvml_gpus(facts):
        cc = g.get("compute_capability")
        gpu = A.cc_arch(cc) if isinstance(cc, str) else None
        if gpu is None:
            continue
        cov = A.coverage(gpu, sass, ptx)
        label = f"GPU {g.get('index')} ({g.get('name') or 'unknown GPU'}, compute capability {cc})"
        evidence = {"gpu": g.get("index"), "compute_capability": cc,
                    "sass": _names("sm", sass), "ptx": _names("compute", ptx), "from": source}
        if recorded is not None:
            evidence["compiled_archs"] = recorded  # the version file's list, as Paddle reports it
        if cov.how == "none":
            fix = F.replace_paddle(facts)
            sass_range = f"sm_{gpu}" if gpu % 10 == 0 else f"one of sm_{gpu // 10}0 to sm_{gpu}"
            need = (f"Install a build whose binaries include {sass_range} (SASS), or PTX of "
                    f"compute_{gpu} or lower.")
            yield finding(
                "PD202",
                f"{label} has no code in this Paddle: {source} holds SASS {_names('sm', sass)} and "
                + (f"PTX {_names('compute', ptx)}" if ptx else "no PTX")
                + f", none of which runs on cc {A.cc_text(gpu)}",
                evidence, Fix(fix.commands, f"{need} {fix.text}".strip()))
        elif cov.how == "ptx":
            yield finding(
                "PD212",
                f"{label} has only PTX in this Paddle ({_names('compute', cov.ptx)}, in {source}): "
                "the driver JIT-compiles every kernel on first use, and must support that PTX",
                evidence | {"runs_as": _names("compute", cov.ptx)},
                Fix(F.replace_paddle(facts).commands,
                    f"Install a build with SASS for sm_{gpu}; until then expect a long first run "
                    "(set CUDA_CACHE_MAXSIZE so the JIT cache keeps the result). "
                    + F.replace_paddle(facts).text))
        elif recorded and gpu not in recorded:
            runs_as = max(a for a in recorded if A.sass_runs_on(a, gpu)) \
                if any(A.sass_runs_on(a, gpu) for a in recorded) else max(cov.sass)
            yield finding(
                "PD202",
                f"{label} runs this Paddle's sm_{runs_as} code, not code built for it (Paddle warns "
                "'Mismatched GPU Architecture')", evidence | {"runs_as": runs_as},
                F.replace_paddle(facts), severity=Severity.WARN)


@check("cuda")
def recorded_archs_match_binaries(facts, options):
    """PD213: the version file's compiled_cuda_archs against the SASS really in the binaries."""
    b = _gpu_build(facts)
    found = binary_archs(facts)
    if not b or not b["archs"] or not found or b.get("source") != "paddle/version/__init__.py":
        return
    recorded = {int(a) for a in b["archs"]}
    binary = set(found["sass"])
    if recorded == binary:
        return
    only_recorded, only_binary = sorted(recorded - binary), sorted(binary - recorded)
    parts = []
    if only_recorded:
        parts.append(f"recorded but absent from {found['library']}: {' '.join(map(str, only_recorded))}")
    if only_binary:
        parts.append(f"in {found['library']} but not recorded: {' '.join(map(str, only_binary))}")
    yield finding(
        "PD213",
        "The version file's compiled_cuda_archs (" + " ".join(map(str, sorted(recorded))) +
        ") disagrees with the SASS in the binaries (" + " ".join(map(str, sorted(binary))) + "): "
        + "; ".join(parts),
        {"compiled_cuda_archs": sorted(recorded), "binaries_sass": sorted(binary),
         "binaries_ptx": found["ptx"], "library": found["library"]},
        Fix([], "The doctor judges the GPUs by the binaries (what CUDA really loads). A build whose "
                "list and binaries disagree is often a custom or patched one: reinstall the official "
                "wheel if that is not intended."))
