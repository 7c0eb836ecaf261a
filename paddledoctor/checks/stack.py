"""The stack around Paddle, judged from ``facts["stack"]`` (the metadata of the installed
distributions, never imported) and the tables of :mod:`paddledoctor.knowledge.stack`:

- PD112 a ``pip check`` of the Paddle stack: each Requires-Dist of Paddle, of what requires Paddle,
  of the known toolkits and of what Paddle requires, against what is installed;
- PD113 protobuf / numpy versions that break this Paddle or a toolkit without the metadata saying so;
- PD114 a toolkit release that needs another Paddle;
- PD115 a Paddle release with a known bug for this setup;
- PD116 another framework's CUDA library pins against Paddle's (or each other's);
- PD150 two majors of one CUDA library wheel side by side; PD151 an import order that fails.
"""

from __future__ import annotations

import re

from ..knowledge import stack as K
from ..knowledge import wheels
from ..model import Fix, Severity
from . import check, finding
from . import facts as F


def _stack(facts) -> dict | None:
    s = F.get(facts, "stack")
    return s if isinstance(s, dict) and isinstance(s.get("distributions"), dict) else None


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def paddle_dist(facts) -> tuple[str, str] | None:
    """(distribution, version) of the Paddle that ``import paddle`` gets."""
    s = _stack(facts) or {}
    dists = s.get("distributions") or {}
    b = F.build(facts)
    live = [p for p in F.providers(facts) if p.get("owns_files_on_disk") is not False]
    for p in live:
        name = _norm(p.get("name", ""))
        if name in dists or not dists:
            return name, (b or {}).get("version") or p.get("version")
    for name, d in dists.items():
        if d.get("why") == "paddle":
            return name, (b or {}).get("version") or d.get("version")
    if b and b.get("version"):  # a paddle folder without its distribution's metadata
        return "paddle", b["version"]
    return None


def _version(v):
    from packaging.version import InvalidVersion, Version
    try:
        return Version(str(v))
    except (InvalidVersion, TypeError):
        return None


def unmet_requirements(stack: dict) -> list[dict]:
    """Every requirement of a judged distribution that the installed set does not meet:
    [{by, by_version, requirement, name, extras, installed, pip}] (markers judged with the recorded
    environment; the extras another judged distribution asks for are judged too)."""
    from packaging.requirements import InvalidRequirement, Requirement

    env = dict(stack.get("marker_environment") or {})
    versions = stack.get("versions") or {}
    dists = stack["distributions"]

    def parsed(raw):
        try:
            return Requirement(raw)
        except InvalidRequirement:
            return None

    def applies(req, extra: str) -> bool:
        if req.marker is None:
            return extra == ""
        try:
            return req.marker.evaluate(dict(env, extra=extra))
        except Exception:  # noqa: BLE001 - an odd marker is not the user's fault
            return False

    extras_wanted: dict[str, set] = {name: {""} for name in dists}
    for name, d in dists.items():
        for raw in d.get("requires") or []:
            req = parsed(raw)
            if req and req.extras and _norm(req.name) in dists and applies(req, ""):
                extras_wanted[_norm(req.name)] |= {_norm(e) for e in req.extras}
    out = []
    for name, d in sorted(dists.items()):
        seen = set()
        for raw in d.get("requires") or []:
            req = parsed(raw)
            if req is None or not any(applies(req, e) for e in sorted(extras_wanted[name])):
                continue
            dep = _norm(req.name)
            installed = versions.get(dep)
            if dep in dists:
                installed = dists[dep].get("version") or installed
            if installed is not None:
                v = _version(installed)
                if v is None or req.specifier.contains(v, prereleases=True):
                    continue
            key = (dep, str(req.specifier))
            if key in seen:
                continue
            seen.add(key)
            extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
            out.append({"by": name, "by_version": d.get("version"), "requirement": raw,
                        "name": dep, "extras": extras, "specifier": str(req.specifier),
                        "installed": installed,
                        "pip": f"{req.name}{extras}{req.specifier}"})
    return out


def _quote(spec: str) -> str:
    return f'"{spec}"' if re.search(r"[<>=!~;\[ ,*]", spec) else spec


def _is_cuda_pin(item: dict, dists: dict) -> bool:
    return item["name"].startswith("nvidia-") and dists.get(item["by"], {}).get("why") in (
        "paddle", "framework")


@check("paddle")
def stack_requirements_met(facts, options):
    s = _stack(facts)
    if not s:
        return
    dists = s["distributions"]
    by: dict[str, list[dict]] = {}
    for item in unmet_requirements(s):
        if _is_cuda_pin(item, dists) and _pinned_elsewhere(item, s):
            continue  # one framework's pin against another's: PD116 says which
        by.setdefault(item["by"], []).append(item)
    pip = F.pip(facts)
    for name, items in by.items():
        version = items[0]["by_version"]
        if len(items) == 1:
            i = items[0]
            state = (f"{i['name']} is not installed" if i["installed"] is None
                     else f"{i['name']} {i['installed']} is installed")
            title = f"{name} {version} requires {i['pip']}, but {state}"
        else:
            missing = sum(1 for i in items if i["installed"] is None)
            title = (f"{name} {version} requires {len(items)} packages that are missing ({missing}) "
                     f"or at versions it does not accept ({len(items) - missing}): "
                     + ", ".join(i["pip"] for i in items[:4]) + (", ..." if len(items) > 4 else ""))
        yield finding(
            "PD112", title,
            {"distribution": f"{name} {version}", "why_judged": dists[name].get("why"),
             "unmet": [{"requirement": i["requirement"], "installed": i["installed"]} for i in items]},
            Fix([f"{pip} install " + " ".join(_quote(i["pip"]) for i in items)],
                f"Installs what {name} {version} declares it needs (its Requires-Dist); "
                "`python -m pip check` then agrees."))


def _pinned_elsewhere(item: dict, s: dict) -> bool:
    return len(_cuda_pinners(s).get(item["name"], [])) > 1


def _pin_applies(req, env: dict, installed: bool) -> bool:
    """A pin applies without an extra, or under an extra (tensorflow[and-cuda],
    jax-cuda12-plugin[with-cuda]) when the library it pins is installed: the sign that the extra
    was asked for (pip records no extras)."""
    if req.marker is None:
        return True
    try:
        if req.marker.evaluate(env):
            return True
        return installed and any(req.marker.evaluate(dict(env, extra=e))
                                 for e in re.findall(r"extra\s*==\s*[\"']([^\"']+)", str(req.marker)))
    except Exception:  # noqa: BLE001 - an odd marker is not the user's fault
        return False


def _cuda_pinners(s: dict) -> dict[str, list[dict]]:
    """nvidia-* library -> [{by, version, specifier, met}] over Paddle and the other frameworks."""
    from packaging.requirements import InvalidRequirement, Requirement

    env = dict(s.get("marker_environment") or {}, extra="")
    versions = s.get("versions") or {}
    out: dict[str, list[dict]] = {}
    for name, d in sorted(s["distributions"].items()):
        if d.get("why") not in ("paddle", "framework"):
            continue
        for raw in d.get("requires") or []:
            try:
                req = Requirement(raw)
            except InvalidRequirement:
                continue
            lib = _norm(req.name)
            if not lib.startswith("nvidia-") or not req.specifier:
                continue
            if not _pin_applies(req, env, lib in versions):
                continue
            v = _version(versions.get(lib))
            out.setdefault(lib, []).append(
                {"by": name, "version": d.get("version"), "specifier": str(req.specifier),
                 "installed": versions.get(lib),
                 "met": bool(v is not None and req.specifier.contains(v, prereleases=True))})
    return out


@check("paddle")
def frameworks_cuda_pins_agree(facts, options):
    s = _stack(facts)
    if not s:
        return
    pip = F.pip(facts)
    for lib, pins in sorted(_cuda_pinners(s).items()):
        if len(pins) < 2 or all(p["met"] for p in pins):
            continue
        stem = lib.rsplit("-cu", 1)[0]
        losers = [p for p in pins if not p["met"]]
        installed = pins[0]["installed"]
        said = "; ".join(f"{p['by']} {p['version']} pins {lib}{p['specifier']}" for p in pins)
        title = (f"{lib} {installed or '(not installed)'} cannot satisfy every framework here: "
                 + said)
        library = K.CLASHING_LIBRARIES.get(stem, (lib, ""))[0]
        yield finding(
            "PD116", title,
            {"library": lib, "installed": installed, "pins": pins},
            Fix([], f"One environment holds one {library}: "
                    + ", ".join(f"{p['by']} gets a {library} it was not built against"
                                for p in losers)
                    + f". Use one environment per framework (python -m venv), or install the pin of "
                      f"the framework you train with: `{pip} install \"{lib}{losers[0]['specifier']}\"`."))


def _majors(facts, s: dict) -> dict[str, dict]:
    """CUDA library -> {major: [where]} from pip names (nvidia-cudnn-cu11/-cu12) and the sonames
    under site-packages/nvidia (libcudnn.so.8 / .so.9)."""
    out: dict[str, dict] = {}
    for name, version in (s.get("versions") or {}).items():
        m = re.match(r"^(nvidia-(?:cudnn|nccl|cublas))-cu(\d+)$", name)
        if m:
            lib = K.CLASHING_LIBRARIES[m.group(1)][0]
            out.setdefault(lib, {}).setdefault(f"CUDA {m.group(2)} wheel", []).append(
                f"{name} {version}")
    for key, lib in (("cudnn", "cuDNN"), ("nccl", "NCCL"), ("cublas", "cuBLAS")):
        pip_copies = [e for e in (F.get(facts, "cuda_libs", key, default=[]) or [])
                      if isinstance(e, dict) and e.get("source") == "pip" and e.get("version")]
        sonames: dict[str, list] = {}
        for e in pip_copies:
            major = str(e["version"]).split(".")[0]
            if major.isdigit():
                sonames.setdefault(major, []).append(e["path"])
        if len(sonames) > 1:
            for major, paths in sonames.items():
                out.setdefault(lib, {}).setdefault(f"so.{major}", []).extend(paths)
    return out


@check("paddle")
def one_major_per_cuda_library(facts, options):
    s = _stack(facts)
    if not s:
        return
    for lib, majors in sorted(_majors(facts, s).items()):
        wheels_ = sorted(k for k in majors if k.startswith("CUDA"))
        sonames = sorted(k for k in majors if k.startswith("so."))
        if len(wheels_) < 2 and len(sonames) < 2:
            continue
        kinds = wheels_ if len(wheels_) > 1 else sonames
        where = {k: majors[k] for k in kinds}
        names = [n.split()[0] for k in wheels_ for n in majors[k]]
        yield finding(
            "PD150",
            f"Two {lib} majors are installed side by side ({', '.join(kinds)}): which one a "
            "process loads depends on import order",
            {"library": lib, "copies": where},
            Fix([], "Keep the one your frameworks pin and remove the other"
                    + (f" (`python -m pip uninstall {' '.join(names[:-1])}` if "
                       f"{names[-1]} is the one in use)" if len(names) > 1 else "")
                    + "; `python -m pip list | grep -i nvidia-` shows them. An uninstall is never run "
                      "for you: another framework here may need it."))


@check("paddle")
def import_order_clashes(facts, options):
    s = _stack(facts)
    pd = paddle_dist(facts)
    if not s or not pd:
        return
    b = F.build(facts)
    if not b or not b.get("cuda"):
        return
    torch = s["distributions"].get("torch")
    if not torch:
        return
    pins = {p["by"]: p for p in _cuda_pinners(s).get("nvidia-nccl-cu12", []) +
            _cuda_pinners(s).get("nvidia-nccl-cu13", [])}
    torch_pin = pins.get("torch")
    paddle_nccl = b.get("nccl")
    torch_nccl = (torch_pin or {}).get("specifier", "").lstrip("=") or None
    if torch_nccl is None:
        return  # a torch without pip NCCL (CPU, ROCm, or a build with NCCL inside)
    if paddle_nccl and torch_nccl and paddle_nccl.split(".")[:2] == torch_nccl.split(".")[:2]:
        return
    row = K.IMPORT_ORDER[0]
    yield finding(
        "PD151",
        f"torch {torch['version']} (NCCL {torch_nccl}) and Paddle {pd[1]} (NCCL "
        f"{paddle_nccl or 'unknown'}) in one process: importing torch after paddle can fail with "
        "undefined symbol: ncclCommInitRankScalable",
        {"torch": torch["version"], "torch_nccl_pin": torch_nccl, "paddle": pd[1],
         "paddle_nccl": paddle_nccl, "fails_with": row.fails_with, "source": "Paddle #74792"},
        Fix([], row.workaround),
        severity=Severity.WARN)


@check("paddle")
def undeclared_incompatibilities(facts, options):
    s = _stack(facts)
    pd = paddle_dist(facts)
    if not s:
        return
    versions = s.get("versions") or {}
    dists = s["distributions"]
    pip = F.pip(facts)
    for row in K.UNDECLARED:
        have = versions.get(row.package) or dists.get(row.package, {}).get("version")
        if have is None or not K.spec_matches(row.package_versions, have):
            continue
        if row.who == "paddle":
            if not pd or K.is_develop(pd[1]) or not K.spec_matches(row.who_versions, pd[1]):
                continue
            who = f"Paddle {pd[1]}"
        else:
            d = dists.get(row.who)
            if not d or not K.spec_matches(row.who_versions, d.get("version")):
                continue
            who = f"{row.who} {d['version']}"
        yield finding(
            "PD113", f"{row.package} {have} breaks {who}: {row.fails_with}",
            {"package": f"{row.package} {have}", "breaks": who, "fails_with": row.fails_with,
             "declared": False, "source": row.source},
            Fix([f"{pip} install {_quote(row.fix_spec)}"],
                f"{who} does not declare this limit, so pip will not keep it for you: pin "
                f"{row.fix_spec} (a constraints file keeps later installs from undoing it)."),
            severity=Severity(row.severity))


def _release_for(spec: str, facts, avoid_bad: bool) -> str | None:
    """The newest Paddle release in ``spec`` that ships this build's variant (the CPU build: any)."""
    b = F.build(facts) or {}
    windows = F.get(facts, "host", "os", "system") == "Windows"
    tag = None
    if b.get("cuda"):
        v = wheels.variant_for_cuda(b["cuda"])
        tag = v.tag if v else None
    for release, by_os, _ in wheels.RELEASES:
        if not K.spec_matches(spec, release):
            continue
        if avoid_bad and any(K.spec_matches(bad.paddle, release) for bad in K.KNOWN_BAD):
            continue
        if tag is None or tag in by_os.get("windows" if windows else "linux", ()):
            return release
    return None


def _paddle_install(facts, release: str) -> str:
    b = F.build(facts) or {}
    pip = F.pip(facts)
    if b.get("cuda"):
        v = wheels.variant_for_cuda(b["cuda"])
        if v:
            return wheels.install_command(pip, release, v.tag)
    return wheels.cpu_install_command(pip, release)


@check("paddle")
def toolkits_match_paddle(facts, options):
    s = _stack(facts)
    pd = paddle_dist(facts)
    if not s or not pd or K.is_develop(pd[1]):
        return
    dists = s["distributions"]
    pip = F.pip(facts)
    cpu = F.is_cpu_build(F.build(facts)) or not F.has_nvidia_gpus(facts)
    said = set()
    for row in K.TOOLKITS:
        d = dists.get(row.dist)
        if not d or d.get("version") is None:
            continue
        if row.versions and not K.spec_matches(row.versions, d["version"]):
            continue
        if K.spec_matches(row.paddle, pd[1]) or row.dist in said:
            continue
        said.add(row.dist)
        project = K.KNOWN_TOOLKITS.get(row.dist, row.dist)
        release = _release_for(row.paddle, facts, avoid_bad=cpu)
        commands = [_paddle_install(facts, release)] if release else []
        text = (f"{project} {d['version']} needs Paddle {row.paddle}"
                + (f"; Paddle {release} fits" if release else "") + ".")
        if row.older_toolkit:
            text += (f" Or keep Paddle {pd[1]} and use a {project} release written for it: "
                     f"`{pip} install \"{row.dist}{row.older_toolkit}\"`.")
        if not commands and not row.older_toolkit:
            text += f" No Paddle release in the doctor's table fits; see {project}'s install page."
        yield finding(
            "PD114", f"{project} {d['version']} needs Paddle {row.paddle}, but Paddle {pd[1]} is "
                     f"installed: {row.fails_with}",
            {"toolkit": f"{row.dist} {d['version']}", "paddle": f"{pd[0]} {pd[1]}",
             "needs": row.paddle, "fails_with": row.fails_with, "source": row.source},
            Fix(commands, text), severity=Severity(row.severity))


@check("paddle")
def known_bad_release(facts, options):
    s = _stack(facts)
    pd = paddle_dist(facts)
    if not s or not pd:
        return
    dists = s["distributions"]
    b = F.build(facts)
    on_cpu = F.is_cpu_build(b) or not F.has_nvidia_gpus(facts)
    for row in K.KNOWN_BAD:
        if not K.spec_matches(row.paddle, pd[1]):
            continue
        if row.build == "cpu" and not on_cpu:
            continue
        present = [t for t in row.with_toolkits if t in dists]
        if row.with_toolkits and not present:
            continue
        yield finding(
            "PD115", row.title.format(version=pd[1]),
            {"paddle": f"{pd[0]} {pd[1]}", "toolkits": [f"{t} {dists[t]['version']}" for t in present],
             "fails_with": row.fails_with, "source": row.source},
            Fix([_paddle_install(facts, row.good_release)],
                f"Paddle {row.good_release} is the newest release without this bug. {row.workaround}"))
