"""`paddledoctor inspect` for a person: per file its format and a table of its tensors (name,
shape, dtype, bytes; with --stats NaN/Inf/min/max/mean), the plain values, then the findings as
`check` prints them and a one-line verdict."""

from __future__ import annotations

import sys
from typing import TextIO

from ..model import Report
from .findings import print_findings_and_verdict

MAX_ROWS = 500


def _size(n: int | None) -> str:
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _num(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.6g}"
    return str(x)


def render(report: Report, file: TextIO | None = None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from ..inspect.reader import FORMAT_TITLES

    console = Console(file=file or sys.stdout, highlight=False, soft_wrap=True)
    inspected = report.facts.get("inspect") or {}
    console.print(f"[bold]paddledoctor {report.doctor_version}[/bold] inspect "
                  "(read without importing paddle or running the file's code)")
    for f in inspected.get("files") or []:
        console.print()
        fmt = FORMAT_TITLES.get(f.get("format"), f.get("format"))
        extra = ""
        if f.get("pickle"):
            extra = f", pickle protocol {f['pickle']['protocol']}"
        if f.get("names_from"):
            extra += f", names from {f['names_from']}"
        console.print(f"[bold]{escape(str(f.get('path')))}[/bold]  {_size(f.get('size'))}, "
                      f"{escape(str(fmt))}{escape(extra)}, {escape(str(f.get('kind')))}")
        tensors = f.get("tensors") or []
        params = f.get("parameters")
        if tensors:
            stats = bool(f.get("stats"))
            table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
            for col in ("name", "shape", "dtype", "bytes"):
                table.add_column(col, justify="right" if col == "bytes" else "left")
            if stats:
                for col in ("nan", "inf", "min", "max", "mean"):
                    table.add_column(col, justify="right")
            for t in tensors[:MAX_ROWS]:
                row = [escape(t["name"] or "<root>"), escape(str(t["shape"])), t["dtype"],
                       _size(t.get("nbytes"))]
                if stats:
                    row += [_num(t.get(k)) for k in ("nan", "inf", "min", "max", "mean")]
                table.add_row(*row)
            console.print(table)
            if len(tensors) > MAX_ROWS:
                console.print(f"  ... {len(tensors) - MAX_ROWS} more (--json lists them all)")
            totals = f.get("totals") or {}
            line = (f"  total: {totals.get('tensors')} tensor(s), {totals.get('elements')} "
                    f"elements, {_size(totals.get('nbytes'))}")
            if "nan" in totals:
                line += f", {totals['nan']} NaN, {totals['inf']} Inf"
            console.print(line)
        elif params is not None:
            table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
            for col in ("parameter", "shape", "dtype"):
                table.add_column(col)
            for p in params[:MAX_ROWS]:
                table.add_row(escape(p["name"]), escape(str(p["shape"])), p["dtype"])
            console.print(table)
            console.print(f"  {len(params)} parameter(s) declared (their values are in the "
                          ".pdiparams)")
        for v in (f.get("values") or [])[:20]:
            console.print(f"  [dim]{escape(v['name'] or '<root>')}:[/dim] "
                          f"{escape(repr(v['value']))} ({v['type']})")
        for o in f.get("opaque") or []:
            console.print(f"  [dim]{escape(o['name'] or '<root>')}:[/dim] {escape(o['type'])} "
                          "(opaque record, not read)")
    d = inspected.get("diff")
    if d and not d.get("skipped"):
        console.print()
        console.print(f"[bold]diff[/bold] {escape(d['a'])} vs {escape(d['b'])}: "
                      f"{d['compared']} tensor(s) compared, max abs diff "
                      f"{_num(d.get('max_abs_diff'))}")
        for t in d.get("tensors") or []:
            if t.get("max_abs_diff") or t.get("nonfinite_mismatch") or t.get("identical_bytes") is False:
                console.print(f"  {escape(t['name'])}: max abs diff {_num(t.get('max_abs_diff'))}, "
                              f"{t.get('differing', '?')} element(s) differ")
    print_findings_and_verdict(console, report)
