"""The report for a person at a terminal: a line per area (✓ passed, ! warning, ✗ error), each
finding with its evidence and fix commands, and a one-line verdict. Colour only on a TTY and never
with NO_COLOR (rich honours both)."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from .. import codes
from ..model import Report, Severity, encode

MARK = {"ok": ("✓", "green"), "info": ("✓", "green"), "warn": ("!", "yellow"),
        "error": ("✗", "red"), "skipped": ("-", "dim")}
SEV_STYLE = {Severity.ERROR: "bold red", Severity.WARN: "yellow", Severity.INFO: "cyan"}


def render(report: Report, file: TextIO | None = None) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(file=file or sys.stdout, highlight=False, soft_wrap=True)
    title = {"quick": " (quick: static checks only)", "from": f" (re-diagnosed from {report.source})"}
    console.print(f"[bold]paddledoctor {report.doctor_version}[/bold]{escape(title.get(report.mode, ''))}")
    console.print()
    for area in report.areas:
        mark, style = MARK.get(area.status, ("?", ""))
        name = codes.AREA_TITLES.get(area.area, area.area)
        console.print(f"[{style}]{mark}[/{style}] [bold]{escape(name)}[/bold]: {escape(area.summary)}")
    if report.findings:
        console.print()
    for f in report.findings:
        style = SEV_STYLE[f.severity]
        console.print(f"[{style}]{f.severity.value.upper()} {f.code}[/{style}] {escape(f.title)}")
        if f.severity is Severity.INFO and not f.fix:
            continue  # a note, not a problem: its title says it all (the evidence is in --json)
        for key, value in f.evidence.items():
            if value in (None, "", [], {}):
                continue
            if isinstance(value, list) and not any(isinstance(v, (dict, list)) for v in value):
                value = ", ".join(map(str, value))
            elif isinstance(value, (dict, list)):
                value = json.dumps(encode(value), separators=(", ", ": "))
            console.print(f"    [dim]{escape(str(key))}:[/dim] {escape(str(value))}")
        if f.fix and (f.fix.commands or f.fix.text):
            if f.fix.text:
                console.print(f"    [bold]fix:[/bold] {escape(f.fix.text)}")
            for cmd in f.fix.commands:
                console.print(f"      [bold cyan]$ {escape(cmd)}[/bold cyan]")
        console.print(f"    [dim]more: paddledoctor explain {f.code}[/dim]")
    console.print()
    worst = report.worst
    style = "bold red" if worst is Severity.ERROR else "yellow" if worst is Severity.WARN else "bold green"
    console.print(f"[{style}]{escape(report.verdict())}[/{style}]")
