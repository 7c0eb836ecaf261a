"""Environment text pasted into an issue (``nvidia-smi``, ``pip list``, ``run_check()``,
``summary_env.py``, ...) turned into the doctor's facts, so that the same checks run on it.

    from paddledoctor.paste import read_paste
    pasted = read_paste(open("issue.md", encoding="utf-8").read())
    pasted.facts      # the facts a check --json report holds, those not in the text Unavailable
    pasted.pieces     # what was read, line by line

Every fact the text does not give is ``Unavailable("not in the pasted text")``: the checks treat it
as unknown (never as absent), and the report says what was not known. Facts inferred rather than
read say so (``read_from``): a GPU's compute capability from its name (knowledge/gpus.py), the
CPU build from the distribution name ``paddlepaddle`` (GPU builds are ``paddlepaddle-gpu``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import __version__
from ..knowledge import gpus as G
from ..model import NOT_IN_PASTE, Unavailable
from . import parsers as P
from .text import lines as clean_lines

U = Unavailable(NOT_IN_PASTE)
MAX_PASTE_CHARS = 4 << 20  # an issue body is never this long; more is a log, read from its start


@dataclass
class Pasted:
    facts: dict
    pieces: list[P.Piece] = field(default_factory=list)
    not_known: list[str] = field(default_factory=list)

    @property
    def has_environment(self) -> bool:
        """The text held at least one environment fact (a log alone holds none)."""
        return bool(self.pieces)

    def header(self) -> str:
        return header(self.facts)


def header(facts: dict) -> str:
    """One line: what was read from the paste, and what is not known (from the facts alone, so
    that a saved report of a paste says the same)."""
    pasted = facts.get("pasted") if isinstance(facts.get("pasted"), dict) else {}
    read = "; ".join(f"{p.get('kind')} ({p.get('summary')})" for p in pasted.get("read") or [])
    line = f"read from the pasted text: {read}" if read else "nothing read from the pasted text"
    if pasted.get("not_known"):
        line += f". Not in the text: {', '.join(pasted['not_known'])}"
    return line


def read_paste(text: str) -> Pasted:
    obs = P.Observations()
    cleaned = clean_lines(text[:MAX_PASTE_CHARS])
    for parse in P.PARSERS:
        parse(cleaned, obs)
    obs.pieces.sort(key=lambda p: p.first)
    facts = build_facts(obs)
    return Pasted(facts=facts, pieces=obs.pieces, not_known=facts["pasted"]["not_known"])


# --- facts -----------------------------------------------------------------------------------------

# Distributions that provide the top-level paddle package, and the build each name means
# (Paddle's install page, paddlepaddle.org.cn/install/quick: `pip install paddlepaddle` is the CPU
# build, `paddlepaddle-gpu` the CUDA build; XPU/ROCm/DCU builds carry their own suffix).
PADDLE_DISTS = re.compile(r"^paddlepaddle(?:-[a-z0-9]+)?$")
CPU_DIST = "paddlepaddle"
# 2.x GPU wheels: 2.6.1.post112 is CUDA 11.2, 2.5.2.post120 CUDA 12.0 (1.x's post97/post107 also
# encode cuDNN: not read).
POST_TAG = re.compile(r"^[2-9]\.[\d.]+\.post(1[0-2])(\d)$")


def _or_u(value):
    return U if value in (None, "") else value


def build_facts(obs: P.Observations) -> dict:
    facts: dict = {}
    facts["host"] = _host(obs)
    facts["distributions"] = _distributions(obs)
    facts["paddle"] = _paddle(obs, facts["distributions"])
    facts["cuda_libs"] = U
    facts["binaries"] = U
    facts["nvml"] = _nvml(obs)
    facts["runtime"] = _runtime(obs)
    facts["doctor"] = {"version": __version__, "mode": "pasted"}
    facts["pasted"] = {
        "read": [p.to_json() for p in obs.pieces],
        "not_known": _not_known(facts, obs),
        "conflicts": {k: [{"value": v, "from": w} for v, w in seen]
                      for k, seen in obs.conflicts().items()},
        "truncated": [p.to_json() for p in obs.pieces if p.truncated],
        "toolkit": {"nvcc": _or_u(obs.first("nvcc")), "stated_cuda": _or_u(obs.first("stated_cuda")),
                    "stated_cudnn": _or_u(obs.first("stated_cudnn"))},
        "run_check": _or_u(obs.first("run_check")),
    }
    return facts


def _system(obs: P.Observations) -> str | None:
    system = obs.first("os_system")
    if system:
        return system
    text = (obs.first("os_text") or "").lower()
    if text.strip() == "nt" or "windows" in text or re.search(r"\bwin(?:10|11)\b", text):
        return "Windows"
    if re.search(r"mac\s*os|darwin", text):
        return "Darwin"
    if re.search(r"ubuntu|debian|centos|linux|red hat|rocky|fedora|suse|kylin|euler|alma", text):
        return "Linux"
    return None


def _host(obs: P.Observations):
    system, python = _system(obs), obs.first("python_version")
    machine = obs.first("machine")
    if system is None and machine is None and obs.first("libc"):
        system = "Linux"  # summary_env prints a libc version on Linux only
    flags = obs.cpu_flags
    known = [system, python, machine, obs.first("os_text"), obs.first("cpu_model"), flags]
    if not any(v is not None for v in known):
        return U
    cpu_flags = ({name: name in flags for name in ("sse4_2", "avx", "avx2", "fma", "avx512f",
                                                   "avx512_bf16", "amx_bf16")}
                 if flags is not None else U)
    return {
        "os": {"system": _or_u(system), "release": _or_u(obs.first("kernel")),
               "machine": _or_u(machine), "distribution": _or_u(obs.first("os_text")),
               "libc": _or_u(obs.first("libc")), "in_container": U},
        "python": {"version": _or_u(python), "implementation": U, "executable": U,
                   "python_on_path_is_this": U, "prefix": U, "in_venv": U},
        "cpu": {"logical_cpus": _or_u(obs.first("cpus")), "usable_cpus": U,
                "model": _or_u(obs.first("cpu_model")), "flags": cpu_flags},
        "memory": U, "shm": U, "disk": U, "pci_nvidia": U, "nvidia_kernel_module": U, "env": U,
    }


def _distributions(obs: P.Observations):
    if not obs.packages:
        return U
    packages = {name: [{"version": v, "location": U, "read_from": where} for v, where in seen[:1]]
                for name, seen in sorted(obs.packages.items())}
    providers = [{"name": name, "version": seen[0][0], "location": U, "wheel_tags": [],
                  "installer": U, "read_from": seen[0][1]}
                 for name, seen in sorted(obs.packages.items()) if PADDLE_DISTS.match(name)]
    printed = any(obs.first(k) is not None for k in ("paddle_version", "paddle_with_cuda",
                                                      "paddle_cuda", "run_check"))
    if not providers and (not obs.package_list_complete or printed):
        # a few rows (a `pip list | grep`, a line in prose) without paddle say nothing of it
        return {"paddle_providers": U, "packages": packages}
    return {"paddle_providers": providers, "packages": packages,
            "complete_list": obs.package_list_complete}


def _paddle(obs: P.Observations, distributions) -> dict | Unavailable:
    """What build the installed Paddle is, from what Paddle printed (show(), python -c, run_check,
    summary_env) first, and from the distribution name only when Paddle printed nothing."""
    providers = distributions.get("paddle_providers") if isinstance(distributions, dict) else None
    providers = providers if isinstance(providers, list) else []
    version = obs.first("paddle_version")
    cuda = obs.first("paddle_cuda")
    with_cuda = obs.first("paddle_with_cuda")
    read_from = None
    if cuda is None and obs.first("paddle_cuda_runtime"):
        cuda, read_from = obs.first("paddle_cuda_runtime"), "Paddle's device note (Runtime API Version)"
    names = {p["name"] for p in providers}
    if len(names) == 1:
        only = providers[0]
        dist_version = re.sub(r"\.post\d+$", "", only["version"])
        version = version or dist_version
        if only["name"] == CPU_DIST:
            obs.note("paddle_with_cuda", False, f"{only['read_from']}: the distribution paddlepaddle "
                                                "is the CPU build")
            with_cuda = obs.first("paddle_with_cuda")
            read_from = read_from or (f"{only['read_from']}: the distribution name paddlepaddle "
                                      "(Paddle's CPU build; GPU builds are paddlepaddle-gpu)")
        post = POST_TAG.search(only["version"])
        if post and only["name"] == "paddlepaddle-gpu" and cuda is None:
            cuda = f"{post.group(1)}.{post.group(2)}"
            read_from = f"{only['read_from']}: the version's .post{post.group(1)}{post.group(2)} tag"
    if cuda in ("False", "None") or (cuda is None and with_cuda is False):
        cuda = "False"
    vf = None
    if cuda is not None:
        vf = {"full_version": version or "?", "cuda_version": cuda,
              "hip_version": None, "xpu_xre_version": "False",
              "read_from": read_from or _first_where(obs, "paddle_cuda", "paddle_with_cuda")}
        if cuda == "False":
            vf["cudnn_version"] = "False"
        elif obs.first("paddle_cudnn") not in (None, "False", "None"):
            vf["cudnn_version"] = obs.first("paddle_cudnn")
        if obs.first("paddle_nccl") is not None:
            vf["nccl_version"] = obs.first("paddle_nccl")
        if obs.first("paddle_archs") is not None:
            vf["compiled_cuda_archs"] = obs.first("paddle_archs")
        if obs.first("paddle_commit"):
            vf["commit"] = obs.first("paddle_commit")
    return {"found": U, "location": U, "origin": U, "version_file": vf if vf else U,
            "version": _or_u(version)}


def _first_where(obs: P.Observations, *keys: str) -> str:
    for key in keys:
        seen = obs.values.get(key)
        if seen:
            return str(seen[0][1])
    return "pasted text"


def _nvml(obs: P.Observations):
    failed = obs.first("smi_failed")
    if failed:
        return {"status": "init_failed", "error_kind": failed, "error": obs.first("smi_error"),
                "read_from": _first_where(obs, "smi_failed")}
    driver, cuda = obs.first("driver_version"), obs.first("cuda_driver_version")
    gpus = [dict(obs.gpus[i]) for i in sorted(obs.gpus)]
    count_from = "the GPU rows of the pasted output" if obs.gpu_table_seen else None
    if not obs.gpu_table_seen:
        named = [g for g in gpus if g.get("name")]
        if not named and obs.prose_gpus:
            gpus = [{"index": i, "name": name, "from": "named in the text"}
                    for i, name in enumerate(obs.prose_gpus)]
            count_from = "GPU models named in the text (one each)"
    seen = obs.first("paddle_sees_gpus")
    if not gpus and isinstance(seen, int) and seen > 0:
        gpus = [{"index": i} for i in range(seen)]
        count_from = "the GPUs Paddle itself reported (run_check / device_count)"
    if not gpus and (driver or cuda):
        # nvidia-smi prints a driver version only when it reached a GPU ("No devices were
        # found" otherwise), and Paddle's device note names device 0: at least one GPU.
        gpus = [{"index": 0}]
        count_from = "a driver version in the text (at least one GPU)"
    if not gpus and not driver:
        return U
    out_gpus = []
    for g in gpus:
        name = g.get("name")
        cc, cc_from = g.get("compute_capability"), "the pasted output"
        if not cc and name:
            model = G.model_for_name(name)
            if model:
                cc, cc_from = model.cc, f"its name (knowledge/gpus.py, {model.source})"
        out_gpus.append({
            "index": g.get("index", len(out_gpus)), "name": _or_u(name), "uuid": U,
            "pci_bus_id": _or_u(g.get("pci_bus_id")), "compute_capability": _or_u(cc),
            "compute_capability_from": cc_from if cc else U,
            "memory": _or_u(g.get("memory")), "utilization_gpu": _or_u(g.get("utilization_gpu")),
            "ecc_uncorrected_volatile": _or_u(g.get("ecc_uncorrected_volatile")),
            "ecc_uncorrected_aggregate": U, "remapped_rows": U, "retired_pages_pending": U,
            "processes": g["processes"] if isinstance(g.get("processes"), list) else U,
            "read_from": g.get("from") or "pasted text"})
    count = obs.first("gpu_count")
    return {"status": "ok", "driver_version": _or_u(driver), "cuda_driver_version": _or_u(cuda),
            "nvml_version": U, "gpu_count": count if isinstance(count, int) else len(out_gpus),
            "gpu_count_from": count_from or "nvidia-smi -q (Attached GPUs)", "gpus": out_gpus,
            "read_from": _first_where(obs, "driver_version", "cuda_driver_version")}


def _runtime(obs: P.Observations):
    """What Paddle itself reported when the user ran it: run_check()'s device count, a printed
    device_count(). Never the doctor's training step: "ops" stays not run."""
    seen = obs.first("paddle_sees_gpus")
    ran = obs.first("run_check")
    if seen is None and ran is None:
        return Unavailable("not run: the facts come from pasted text, where paddledoctor ran nothing")
    devices = {"gpu_count": seen if isinstance(seen, int) else U, "gpus": U, "cudnn_runtime": U,
               "cuda_visible_devices": U}
    return {"import": {"ok": True, "read_from": _first_where(obs, "run_check", "paddle_sees_gpus")},
            "build": U, "devices": devices,
            "ops": Unavailable("not run: paddledoctor's training step does not run on pasted text")}


def _not_known(facts: dict, obs: P.Observations) -> list[str]:
    """The facts a live check has that this paste lacks, in words (for the header line)."""
    missing = []
    nvml = facts["nvml"]
    if isinstance(nvml, Unavailable):
        missing.append("the NVIDIA driver and GPUs (nvidia-smi)")
    else:
        if isinstance(nvml.get("driver_version"), Unavailable):
            missing.append("the driver version")
        if any(isinstance(g.get("compute_capability"), Unavailable) for g in nvml.get("gpus") or []):
            missing.append("a GPU's compute capability")
    if isinstance(facts["distributions"], Unavailable):
        missing.append("the installed packages (pip list)")
    elif isinstance(facts["distributions"].get("paddle_providers"), Unavailable):
        missing.append("which Paddle distribution is installed")
    if isinstance(facts["paddle"].get("version_file"), Unavailable):
        missing.append("the CUDA this Paddle was built with (paddle.version.show())")
    host = facts["host"]
    if isinstance(host, Unavailable):
        missing.append("the OS, Python and CPU")
    else:
        if isinstance(host["os"]["system"], Unavailable):
            missing.append("the OS")
        if isinstance(host["python"]["version"], Unavailable):
            missing.append("the Python version")
        if isinstance(host["cpu"]["flags"], Unavailable):
            missing.append("the CPU flags (lscpu)")
    missing.append("memory, disk and /dev/shm")
    return missing
