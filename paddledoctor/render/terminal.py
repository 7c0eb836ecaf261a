"""The report for a person at a terminal: a line per area (✓ passed, ! warning, ✗ error), each
finding with its evidence and fix commands, and a one-line verdict. Colour only on a TTY and never
with NO_COLOR (rich honours both)."""

from __future__ import annotations

import sys
from typing import TextIO

from .. import codes
from ..i18n import tr
from ..model import Report
from .findings import print_findings_and_verdict

MARK = {"ok": ("✓", "green"), "info": ("✓", "green"), "warn": ("!", "yellow"),
        "error": ("✗", "red"), "skipped": ("-", "dim")}


def render(report: Report, file: TextIO | None = None, verbose: bool = False) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(file=file or sys.stdout, highlight=False, soft_wrap=True)
    title = {"quick": tr(" (quick: static checks only)"),
             "from": tr(f" (re-diagnosed from {report.source})"),
             "pasted": tr(f" (diagnosed from the environment text pasted in {report.source})")}
    console.print(f"[bold]paddledoctor {report.doctor_version}[/bold]"
                  f"{escape(title.get(report.mode, ''))}")
    if report.mode == "pasted":
        from ..paste import header
        console.print(f"[dim]{escape(tr(header(report.facts)))}[/dim]")
    console.print()
    for area in report.areas:
        mark, style = MARK.get(area.status, ("?", ""))
        name = tr(codes.AREA_TITLES.get(area.area, area.area))
        console.print(f"[{style}]{mark}[/{style}] [bold]{escape(name)}[/bold]{tr(': ')}"
                      f"{escape(tr(area.summary))}")
        if verbose:  # -v: the facts behind the line
            from .verbose import facts_lines
            for line in facts_lines(report.facts, area.area):
                console.print(f"    [dim]{escape(line)}[/dim]")
    print_findings_and_verdict(console, report, verbose=verbose)
