"""`paddledoctor inspect` for a person: per file its format and a table of its tensors (name,
shape, dtype, bytes; with --stats NaN/Inf/min/max/mean), the plain values, then the findings as
`check` prints them and a one-line verdict."""

from __future__ import annotations

import sys
from typing import TextIO

from .. import i18n
from ..model import Report
from .findings import print_findings_and_verdict

MAX_ROWS = 500
MAX_VALUES = 20


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


def _render_folders(console, report: Report, escape) -> set:
    """A training folder: one line per checkpoint, newest last, with why it cannot be resumed
    from. Returns the paths of the files shown this way (their tensors are in --json)."""
    from ..checks.checkpoint import LAYOUT_TITLES, _judged

    members: set = set()
    for folder in (report.facts.get("inspect") or {}).get("folders") or []:
        judged = _judged(folder, report.facts)
        console.print()
        layouts = ", ".join(LAYOUT_TITLES.get(x, x) for x in folder.get("layouts") or []) or "no known layout"
        console.print(f"[bold]{escape(str(folder.get('path')))}[/bold]: {len(judged)} checkpoint(s), "
                      f"{escape(layouts)} (oldest first)")
        for unit, faults in judged:
            for paths in unit["files"].values():
                members.update(paths)
            mark = "[green]✓[/green]" if not faults else "[bold red]✗[/bold red]"
            files = sum(len(p) for p in unit["files"].values())
            text = "complete, readable, consistent" if not faults else "; ".join(faults[:3]) + (
                f" (+{len(faults) - 3} more)" if len(faults) > 3 else "")
            console.print(f"  {mark} {escape(str(unit['name']))}  [dim]{files} file(s)[/dim]  {escape(text)}")
        if folder.get("truncated"):
            console.print(f"  [yellow]{escape(folder['truncated'])}[/yellow]")
        if judged:
            console.print("  [dim]each file's tensors: paddledoctor inspect --json[/dim]")
    return members


def render(report: Report, file: TextIO | None = None) -> None:
    from rich.markup import escape
    from rich.table import Table

    from ..inspect.reader import FORMAT_TITLES

    console = i18n.console(file=file or sys.stdout, highlight=False, soft_wrap=True)
    inspected = report.facts.get("inspect") or {}
    console.print(f"[bold]paddledoctor {report.doctor_version}[/bold] inspect "
                  "(read without importing paddle or running the file's code)")
    members = _render_folders(console, report, escape)
    for f in inspected.get("files") or []:
        if f.get("path") in members:
            continue
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
                table.add_column(i18n.tr(col), justify="right" if col == "bytes" else "left")
            if stats:
                for col in ("nan", "inf", "min", "max", "mean"):
                    table.add_column(i18n.tr(col), justify="right")
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
            where = f.get("values_in")
            console.print(f"  {len(params)} parameter(s) declared (their values are in "
                          + (escape(", ".join(where)) if where else
                             "the .pdiparams of save_inference_model, or the .pdparams and .pdopt "
                             "of paddle.static.save") + ")")
        values = f.get("values") or []
        for v in values[:MAX_VALUES]:
            console.print(f"  [dim]{escape(v['name'] or '<root>')}:[/dim] "
                          f"{escape(repr(v['value']))} ({v['type']})")
        if len(values) > MAX_VALUES:
            console.print(f"  ... {len(values) - MAX_VALUES} more value(s) (--json lists them all)")
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
