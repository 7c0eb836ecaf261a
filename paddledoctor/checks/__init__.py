"""Checks: pure functions from facts to findings. No I/O here, ever: a recorded report's facts must
give the same findings on any machine (``check --from``).

A check is a generator registered with :func:`check`; it yields :class:`Finding` objects made with
:func:`finding`, which takes the severity, area and default title from the code table. Each area
also has a summary function giving the ✓ line shown when nothing in the area failed.
"""

from __future__ import annotations

from typing import Callable, Iterable

from .. import codes
from ..model import AreaResult, Finding, Fix, Severity

CheckFn = Callable[[dict, dict], Iterable[Finding]]
SummaryFn = Callable[[dict, dict], "tuple[str, str]"]

CHECKS: list[tuple[str, CheckFn]] = []
SUMMARIES: dict[str, SummaryFn] = {}


def check(area: str) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        CHECKS.append((area, fn))
        return fn
    return register


def summary(area: str) -> Callable[[SummaryFn], SummaryFn]:
    def register(fn: SummaryFn) -> SummaryFn:
        SUMMARIES[area] = fn
        return fn
    return register


def finding(code: str, title: str | None = None, evidence: dict | None = None,
            fix: Fix | None = None, severity: Severity | None = None) -> Finding:
    entry = codes.get(code)
    return Finding(code=code, severity=severity or entry.severity, title=title or entry.title,
                   evidence=evidence or {}, fix=fix, area=entry.area)


def register_all() -> None:
    """Import every module of this package: a module's @check functions register when it is
    imported, so a new check module runs without being listed anywhere (a hand-kept list of imports
    let a module missing from it never run, silently). Cheap after the first call: imports are cached."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def run(facts: dict, options: dict | None = None,
        areas: "Iterable[str] | None" = None) -> tuple[list[Finding], list[AreaResult]]:
    """All checks on these facts (or only those of ``areas``: ``bench`` and ``inspect`` judge their
    own facts alone). A check that raises (a bug, or facts from an odd report) becomes a PD002
    finding naming it, an error: a pre-flight never passes a machine it could not judge. The
    others still run."""
    from .shape import conform

    register_all()

    options = options or {}
    facts = conform(facts)  # a value of the wrong type never reaches a check
    wanted = None if areas is None else set(areas)
    findings: list[Finding] = []
    for area, fn in CHECKS:
        if wanted is not None and area not in wanted:
            continue
        try:
            findings.extend(fn(facts, options))
        except Exception as exc:  # noqa: BLE001 - the doctor never crashes on odd facts
            findings.append(finding("PD002", f"The check {fn.__name__} failed on these facts: "
                                             f"the {area} area was not judged (a doctor bug)",
                                    evidence={"check": fn.__name__, "area": area,
                                              "error": f"{type(exc).__name__}: {exc}"}))
    findings = _dedupe(findings)
    if options.get("only") or options.get("skip") or options.get("ignore"):
        from .. import selection  # --only / --skip / ignore = [...] (#15)
        findings = selection.apply(findings, options)
        shown = selection.areas_shown(options)
        if shown is not None:
            wanted = shown if wanted is None else wanted & shown
    areas_out = _areas(facts, options, findings, wanted)  # a failed summary adds its PD002
    findings.sort(key=lambda f: (-f.severity.rank, f.code))
    return findings, areas_out


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen, out = set(), []
    for f in findings:
        key = (f.code, f.title)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _areas(facts: dict, options: dict, findings: list[Finding],
           wanted: "set[str] | None" = None) -> list[AreaResult]:
    results = []
    for area in codes.AREAS:
        if wanted is not None and area not in wanted:
            continue
        in_area = [f for f in findings if (f.area == area or (
            f.code == "PD002" and f.evidence.get("area") == area))  # not judged: no ✓
                   and not f.ignored]
        fn = SUMMARIES.get(area)
        try:
            status, text = fn(facts, options) if fn else ("ok", "")
        except Exception as exc:  # noqa: BLE001 - said as it is, never shown as a pass
            error = f"{type(exc).__name__}: {exc}"
            status, text = "error", f"(summary failed: {error}: a doctor bug)"
            crash = finding("PD002", f"The summary of the {area} area failed on these facts "
                                     "(a doctor bug)",
                            evidence={"summary": fn.__name__, "area": area, "error": error})
            findings.append(crash)
            in_area.append(crash)
        if in_area:
            status = max((f.severity for f in in_area), key=lambda s: s.rank).value
        if (status == "hidden" and not in_area) or not (text or in_area):
            continue
        results.append(AreaResult(area=area, status=status, summary=text))
    return results
