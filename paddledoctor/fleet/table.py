"""The cluster table rank 0 prints: a row per rank (host redacted, device, verdict, key figures), the
collective check, what differs between ranks, then the findings with their fixes. Plain text: it goes
to the launcher's log (log/workerlog.0), not to a terminal."""

from __future__ import annotations

from typing import Callable

from ..i18n import ljust, tr, width
from ..model import Report, Severity
from ..render.findings import finding_lines


def _size(n: int) -> str:
    for unit, f in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= f:
            return f"{n / f:g} {unit}"
    return f"{n} B"


def _figure_row(r: dict) -> list[str]:
    if "unavailable" in r:
        return [str(r.get("rank")), "?", "?", "FAIL", r["unavailable"]]
    fig = r.get("figures") or {}
    measured = r.get("measured") or {}
    op = measured.get("device_op") or {}
    ar = measured.get("all_reduce") or {}
    bw = [row for row in measured.get("bandwidth") or [] if row.get("busbw_gbps") is not None]
    parts = [f"Paddle {fig.get('paddle') or '?'} {fig.get('build') or ''}".strip(),
             f"op {'ok' if op.get('ok') else 'FAILED' if op else 'not run'}"
             + (f" {op['seconds'] * 1000:.1f} ms" if op.get("seconds") is not None else ""),
             f"all-reduce {'ok' if ar.get('ok') else 'WRONG' if ar else 'not run'}"]
    if bw:
        parts.append(f"busbw {bw[-1]['busbw_gbps']:.2f} GB/s @ {_size(bw[-1]['bytes'])}")
    if fig.get("checkpoint"):
        parts.append(fig["checkpoint"])
    codes = [f["code"] for f in r.get("findings") or [] if f.get("severity") in ("error", "warn")]
    if codes:
        parts.append(" ".join(codes))
    verdict = {"ok": "ok", "warn": "warn", "error": "FAIL"}.get(r.get("verdict"), "?")
    if op.get("ok") is False:
        verdict = "FAIL"
    return [str(r.get("rank")), r.get("host") or "?", op.get("device") or r.get("device") or "?",
            verdict,
            ", ".join(parts)]


def _columns(rows: list[list[str]]) -> list[str]:
    """Aligned by terminal columns, not characters: a Chinese cell takes two per character."""
    widths = [max(width(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return ["  ".join(ljust(cell, w) for cell, w in zip(row, widths)) + "  " + row[-1]
            for row in rows]


def render(report: Report, echo: Callable[[str], None] = print) -> None:
    english = echo
    echo = lambda line: english(tr(line))  # noqa: E731 - each line in the chosen language
    fleet = report.facts["fleet"]
    coll = fleet.get("collective") or {}
    ranks = fleet.get("ranks") or []
    hosts = {r.get("host") for r in ranks if r.get("host")}
    echo(f"paddledoctor {report.doctor_version} fleet: {fleet['world_size']} rank(s) on "
         f"{fleet.get('nnodes') or len(hosts)} node(s), backend {fleet.get('backend')}, "
         f"{fleet.get('seconds', 0):.1f} s")
    echo("")
    echo("\n".join(_columns([[tr("rank"), tr("host"), tr("device"), tr("verdict"), tr("figures")]]
                            + [_figure_row(r) for r in ranks])))
    echo("")
    echo(_collective_line(fleet, coll))
    bw = [row for row in coll.get("bandwidth", {}).get("rows") or [] if row.get("busbw_gbps")]
    if bw:
        echo("  all-reduce bus bandwidth (rank " + str(fleet.get("this_rank")) + "): "
             + ", ".join(f"{_size(row['bytes'])} {row['busbw_gbps']:.3f} GB/s" for row in bw))
    sd = coll.get("shared_dir")
    if sd:
        echo(f"  shared dir {sd.get('dir')}: "
             + ("every rank's marker seen" if not sd.get("does_not_see") and not sd.get("write_error")
                else "NOT shared (see PD907)"))
    _differences(ranks, echo)
    if report.findings:
        echo("")
    for f in report.findings:
        lines = finding_lines(f, evidence=False)
        # a note without a command to run: its title says it all
        echo("\n".join(lines[:1] if f.severity is Severity.INFO and not (f.fix and f.fix.commands)
                        else lines))
    echo("")
    echo(verdict(report))


def _collective_line(fleet: dict, coll: dict) -> str:
    if fleet.get("world_size") == 1:
        return "Collective check: not run (one rank)"
    failed = coll.get("failed")
    if failed:
        behind = failed.get("behind")
        return (f"Collective check: FAILED in '{failed.get('step')}' ({failed.get('outcome')})"
                + (f", waiting for rank(s) {', '.join(map(str, behind))}" if behind else "")
                + (f": {failed.get('error')}" if failed.get("error") and not behind else ""))
    ar = coll.get("all_reduce") or {}
    joined = coll.get("joined") or {}
    return (f"Collective check: joined after {joined.get('seconds', 0):.1f} s; all-reduce of known "
            f"values {'correct' if ar.get('ok') else 'WRONG'}; barrier "
            f"{(coll.get('barrier') or {}).get('seconds', 0) * 1000:.0f} ms")


def _differences(ranks: list[dict], echo) -> None:
    from ..checks.fleet import differences

    reported = [r for r in ranks if "unavailable" not in r]
    if len(reported) < 2:
        return
    codes = sorted({f["code"] for r in reported for f in r.get("findings") or []
                    if f.get("severity") != "info"})
    lines = []
    for code in codes:
        text = differences(reported, lambda r, c=code: next(
            (f"{f['severity'].upper()} {f['code']} {f['title']}" for f in r.get("findings") or []
             if f["code"] == c), "-"))
        if text:
            lines.append("  " + text)
    if lines:
        echo("")
        echo("Findings that differ between ranks:")
        for line in lines:
            echo(line)


def verdict(report: Report) -> str:
    return report.verdict()  # the one implementation, in model.Report (mode "fleet")
