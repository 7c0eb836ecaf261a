"""The support report as GitHub-flavoured Markdown: what a maintainer asks for, in one paste.

It renders a report *document* (``Report.to_json()``, redacted or not), so that what is shown and the
JSON embedded at the end are the same thing: a one-line verdict, a table of the environment, a line
per checked area, the findings with their fixes, the relevant packages, and the full JSON report in a
collapsed ``<details>`` block that ``paddledoctor check --from`` reads back.
"""

from __future__ import annotations

import json
from typing import Any

from .. import codes
from ..checks import facts as F
from ..i18n import tr
from ..model import Unavailable, decode

MARK = {"ok": "✅", "info": "✅", "warn": "⚠️", "error": "❌", "skipped": "➖"}
SEVERITY_MARK = {"error": "❌ ERROR", "warn": "⚠️ WARN", "info": "ℹ️ INFO"}
NOT_KNOWN = "—"


def text(value: Any) -> str:
    """Plain text that Markdown shows as written: no HTML (a `<host>` placeholder would otherwise
    vanish as an unknown tag), one line."""
    return (str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", " ").replace("\n", " "))


def cell(value: Any) -> str:
    """Text that is safe inside a Markdown table cell: one line, pipes escaped."""
    return text(NOT_KNOWN if value in (None, "", [], {}) else value).replace("|", "\\|")


def _unavailable(facts: dict, *path) -> str:
    why = F.reason(facts, *path)
    return f"unknown ({why})" if why else NOT_KNOWN


def environment_rows(facts: dict) -> list[tuple[str, str]]:
    """The short table: (what, value) rows, from decoded facts."""
    host = F.get(facts, "host", default={}) or {}
    os_ = host.get("os") or {}
    rows = []
    os_text = " ".join(str(x) for x in (os_.get("distribution") or os_.get("system"),
                                          os_.get("machine")) if x)
    if os_.get("release"):
        os_text += f" (kernel {os_['release']})"
    if os_.get("in_container"):
        os_text += ", in a container"
    rows.append(("OS", os_text or _unavailable(facts, "host")))

    py = host.get("python") or {}
    py_text = " ".join(x for x in (py.get("implementation"), py.get("version")) if x)
    if py.get("executable"):
        py_text += f" ({py['executable']}{', venv' if py.get('in_venv') else ''})"
    rows.append(("Python", py_text or NOT_KNOWN))
    if os_.get("libc"):
        rows.append(("C library", os_["libc"]))
    compiler = host.get("compiler")
    if isinstance(compiler, dict):
        gcc = compiler.get("gcc")
        rows.append(("GCC", "not found" if gcc is None else
                     f"unknown ({gcc.reason})" if isinstance(gcc, Unavailable) else gcc))

    b = F.build(facts)
    providers = F.providers(facts)
    dists = ", ".join(f"{p.get('name')} {p.get('version')}" for p in providers) or "none installed"
    if b:
        kind = f"CUDA {b['cuda']} build" if b.get("cuda") else (
            f"ROCm {b['rocm']} build" if b.get("rocm") else "CPU build")
        paddle_text = f"{b.get('version')}, {kind} (from {dists})"
    else:
        paddle_text = f"{_unavailable(facts, 'paddle')} (distributions: {dists})"
    rows.append(("PaddlePaddle", paddle_text))
    vf = F.get(facts, "paddle", "version_file") or {}
    details = []
    if vf.get("commit"):
        details.append(f"commit {str(vf['commit'])[:12]}")
    if vf.get("with_mkl"):
        details.append(f"MKL {vf['with_mkl']}")
    if b and b.get("archs"):
        details.append("compiled archs " + " ".join(f"sm_{a}" for a in b["archs"]))
    if details:
        rows.append(("Paddle build", ", ".join(details)))
    imp = F.get(facts, "runtime", "import")
    if isinstance(imp, dict):
        rows.append(("import paddle", f"ok in {imp.get('seconds')} s" if imp.get("ok")
                     else f"failed: {imp.get('error') or imp.get('failure') or 'see findings'}"))

    cuda_built = b.get("cuda") if b else None
    cuda_driver = F.get(facts, "nvml", "cuda_driver_version")
    rows.append(("CUDA", f"built with {cuda_built or NOT_KNOWN}; the driver supports "
                         f"{cuda_driver or NOT_KNOWN}"))
    cudnn_found = sorted({str(lib.get("version")) for lib in (F.get(facts, "cuda_libs", "cudnn") or [])
                          if isinstance(lib, dict) and lib.get("version")})
    cudnn_runtime = F.get(facts, "runtime", "devices", "cudnn_runtime")
    rows.append(("cuDNN", f"built with {(b or {}).get('cudnn') or NOT_KNOWN}; found "
                          f"{', '.join(cudnn_found) or NOT_KNOWN}"
                          + (f"; Paddle loads {cudnn_runtime}" if cudnn_runtime else "")))
    nccl_found = sorted({str(lib.get("version")) for lib in (F.get(facts, "cuda_libs", "nccl") or [])
                         if isinstance(lib, dict) and lib.get("version")})
    if (b or {}).get("nccl") or nccl_found:
        rows.append(("NCCL", f"built with {(b or {}).get('nccl') or NOT_KNOWN}; found "
                             f"{', '.join(nccl_found) or NOT_KNOWN}"))

    nvml_status = F.get(facts, "nvml", "status")
    driver = F.driver_version(facts)
    if driver:
        rows.append(("NVIDIA driver", str(driver)))
    else:
        error = F.get(facts, "nvml", "error")
        rows.append(("NVIDIA driver", f"none ({error})" if error else (nvml_status or
                                                                       _unavailable(facts, "nvml"))))
    gpus = F.nvml_gpus(facts)
    if gpus:
        groups: dict[str, int] = {}
        for g in gpus:
            mem = F.get(g, "memory", "total")
            label = f"{g.get('name')} (cc {g.get('compute_capability')}, {F.gib(mem) if mem else '?'})"
            groups[label] = groups.get(label, 0) + 1
        rows.append(("GPUs", "; ".join(f"{n}× {label}" for label, n in groups.items())))
    else:
        pci = F.pci_gpu_count(facts)
        rows.append(("GPUs", f"none reported by the driver; {pci} NVIDIA PCI device(s)" if pci
                     else "none"))
    cpu = host.get("cpu") or {}
    flags = [name.upper() for name, on in (cpu.get("flags") or {}).items() if on and name.startswith(("avx", "amx"))]
    rows.append(("CPU", f"{cpu.get('model') or NOT_KNOWN}, {cpu.get('usable_cpus') or cpu.get('logical_cpus') or '?'}"
                        f" usable CPUs" + (f" ({'/'.join(flags)})" if flags else "")))
    mem = host.get("memory") or {}
    if mem.get("total"):
        text = f"{F.gib(mem.get('available'))} available of {F.gib(mem['total'])}"
        if mem.get("cgroup_limit"):
            text += f" (container limit {F.gib(mem['cgroup_limit'])})"
        rows.append(("Memory", text))
    shm = host.get("shm")
    if isinstance(shm, dict) and shm.get("total"):
        rows.append(("/dev/shm", f"{F.gib(shm.get('free'))} free of {F.gib(shm['total'])}"))
    return rows


def package_rows(facts: dict) -> list[tuple[str, str, str]]:
    packages = F.get(facts, "distributions", "packages", default={}) or {}
    rows = []
    for name in sorted(packages):
        for entry in packages[name] or []:
            if isinstance(entry, dict):
                rows.append((name, entry.get("version") or "(no version)", entry.get("location") or ""))
    return rows


def render(document: dict) -> str:
    """Markdown for a report document (``Report.to_json()``, usually redacted)."""
    facts = decode(document.get("facts") or {})
    out: list[str] = []
    add = out.append
    mode = document.get("mode")
    add(f"### paddledoctor {document.get('doctor_version', '')} report")
    add("")
    worst = "error" if document.get("exit_code") else (
        "warn" if any(f.get("severity") == "warn" for f in document.get("findings") or []) else "ok")
    add(f"**{MARK[worst]} {text(tr(document.get('verdict', '')))}**")
    add("")
    notes = []
    if mode == "quick":
        notes.append("static checks only (`--quick`: paddle was not imported)")
    if mode == "from":
        notes.append("re-diagnosed from a recorded report")
    redaction = document.get("redaction")
    if redaction and redaction.get("redacted"):
        removed = ", ".join(redaction.get("removed") or {}) or "nothing identifying was found"
        notes.append(f"redacted: {removed} (`paddledoctor report --no-redact` keeps them)")
    else:
        notes.append("**not redacted** (`--no-redact`): check it for private data before you post it")
    add("<sub>" + "; ".join(notes) + "</sub>")
    add("")

    add("| | |")
    add("|---|---|")
    for what, value in environment_rows(facts):
        add(f"| {cell(tr(what))} | {cell(tr(value))} |")
    add("")

    areas = document.get("areas") or []
    if areas:
        add("#### Checks")
        add("")
        for area in areas:
            title = tr(codes.AREA_TITLES.get(area.get("area"), area.get("area")))
            add(f"- {MARK.get(area.get('status'), '❔')} **{title}**: {text(tr(area.get('summary', '')))}")
        add("")

    findings = document.get("findings") or []
    add(f"#### Findings ({len(findings)})")
    add("")
    if not findings:
        add("None.")
        add("")
    for f in findings:
        add(f"- **{SEVERITY_MARK.get(f.get('severity'), f.get('severity'))} {f.get('code')}**: "
            f"{text(tr(f.get('title')))}")
        fix = f.get("fix") or {}
        if fix.get("text"):
            add(f"  - Fix: {text(tr(fix['text']))}")
        if fix.get("commands"):
            add("")
            add("    ```sh")
            for cmd in fix["commands"]:
                add(f"    {cmd}")
            add("    ```")
            add("")
        add(f"  - More: `paddledoctor explain {f.get('code')}`")
    add("")

    packages = package_rows(facts)
    if packages:
        add("#### Packages")
        add("")
        add("| package | version | location |")
        add("|---|---|---|")
        for name, version, location in packages:
            add(f"| {cell(name)} | {cell(version)} | {cell(location)} |")
        add("")

    out = [tr(line) for line in out]  # the chosen language; the JSON below stays as it is
    add = out.append
    add("<details>")
    add(tr("<summary>Full report (JSON): <code>paddledoctor check --from FILE</code> re-diagnoses it"
           "</summary>"))
    add("")
    add("```json")
    # Backticks occur only inside JSON strings; as \u0060 they cannot close the fence and decode
    # to the same document.
    add(json.dumps(document, indent=1, ensure_ascii=False).replace("`", "\\u0060"))
    add("```")
    add("")
    add("</details>")
    add("")
    return "\n".join(out)
