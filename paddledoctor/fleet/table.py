"""The cluster table rank 0 prints: one row per group of ranks that look the same (verdict, device kind,
Paddle, what their checks found; the measured times as a range: "0-511, 513-999 ... ok"), so that
only the ranks that differ get a row of their own; then the collective check, what differs between
ranks, and the findings with their fixes. Plain text: it goes to the launcher's log
(log/workerlog.0), not to a terminal."""

from __future__ import annotations

from typing import Callable

from ..i18n import ljust, tr, width
from ..model import Report, Severity
from ..render.findings import finding_lines
from ..sizes import format_size


def _figure_parts(r: dict) -> tuple[str, str, list]:
    """A rank's verdict, device and figures. Each figure is (text, value): the text has a ``{}``
    where a measured value goes (op time, bus bandwidth, save speed), so that ranks whose figures
    differ only in those values make one row."""
    if "unavailable" in r:
        return "FAIL", "?", [(r["unavailable"], None)]
    fig = r.get("figures") or {}
    measured = r.get("measured") or {}
    op = measured.get("device_op") or {}
    ar = measured.get("all_reduce") or {}
    bw = [row for row in measured.get("bandwidth") or [] if row.get("busbw_gbps") is not None]
    parts = [(f"Paddle {fig.get('paddle') or '?'} {fig.get('build') or ''}".strip(), None)]
    op_text = f"op {'ok' if op.get('ok') else 'FAILED' if op else 'not run'}"
    parts.append((op_text + " {} ms", ("{:.1f}", op["seconds"] * 1000))
                 if op.get("seconds") is not None else (op_text, None))
    parts.append((f"all-reduce {'ok' if ar.get('ok') else 'WRONG' if ar else 'not run'}", None))
    if bw:
        parts.append((f"busbw {{}} GB/s @ {format_size(bw[-1]['bytes'])}", ("{:.2f}", bw[-1]["busbw_gbps"])))
    if fig.get("checkpoint"):
        base, _, speed = fig["checkpoint"].partition(", save ")
        number, _, unit = speed.partition(" ")
        try:
            parts.append((base + ", save {} " + unit, ("{:.0f}", float(number))))
        except ValueError:
            parts.append((fig["checkpoint"], None))
    codes = [f["code"] for f in r.get("findings") or [] if f.get("severity") in ("error", "warn")]
    if codes:
        parts.append((" ".join(codes), None))
    verdict = {"ok": "ok", "warn": "warn", "error": "FAIL"}.get(r.get("verdict"), "?")
    if op.get("ok") is False:
        verdict = "FAIL"
    return verdict, op.get("device") or r.get("device") or "?", parts


def _groups(ranks: list[dict]) -> list[list[dict]]:
    """Ranks that would print the same row but for their host, device index and measured values,
    in the order of their first rank."""
    groups: dict = {}
    for r in ranks:
        verdict, device, parts = _figure_parts(r)
        key = (verdict, device.split(":")[0], tuple(text for text, _ in parts))
        groups.setdefault(key, []).append(r)
    return sorted(groups.values(), key=lambda g: g[0].get("rank", 0))


def _spread(values: list) -> str:
    """One value, or the range the group's values span ('1.21-1.30')."""
    spec = values[0][0]
    low, high = spec.format(min(v for _, v in values)), spec.format(max(v for _, v in values))
    return low if low == high else f"{low}-{high}"


def _group_row(group: list[dict]) -> list[str]:
    from ..checks.fleet import rank_ranges

    rows = [_figure_parts(r) for r in group]
    verdict, _, parts = rows[0]
    texts = [text.format(_spread([row[2][i][1] for row in rows])) if value else text
             for i, (text, value) in enumerate(parts)]
    hosts = sorted({r.get("host") or "?" for r in group})
    devices = sorted({device for _, device, _ in rows})
    if len(devices) == 1:
        device = devices[0]
    else:
        kind = devices[0].split(":")[0]
        indexes = [d.split(":", 1)[1] for d in devices]
        device = (f"{kind}:{rank_ranges(int(i) for i in indexes)}"
                  if all(i.isdigit() for i in indexes) else f"{kind} x{len(devices)}")
    return [rank_ranges(r.get("rank", 0) for r in group),
            hosts[0] if len(hosts) == 1 else f"{len(hosts)} hosts", device, verdict,
            ", ".join(texts)]


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
                            + [_group_row(g) for g in _groups(ranks)])))
    echo("")
    echo(_collective_line(fleet, coll))
    bw = [row for row in coll.get("bandwidth", {}).get("rows") or [] if row.get("busbw_gbps")]
    if bw:
        echo("  all-reduce bus bandwidth (rank " + str(fleet.get("this_rank")) + "): "
             + ", ".join(f"{format_size(row['bytes'])} {row['busbw_gbps']:.3f} GB/s" for row in bw))
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
