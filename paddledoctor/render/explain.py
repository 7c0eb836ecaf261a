"""`paddledoctor explain LOG` for a person at a terminal."""

from __future__ import annotations

import sys
from typing import TextIO

from ..i18n import tr

STATUS = {"present": ("still on this machine", "bold red"),
          "absent": ("not on this machine now", "green"),
          "elsewhere": ("not checkable here", "yellow")}


def render(explanation, source: str, file: TextIO | None = None) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(file=file or sys.stdout, highlight=False, soft_wrap=True)
    items = explanation.items
    if not items:
        console.print(tr(f"No known PaddlePaddle error found in {escape(source)}."))
        console.print(tr("[dim]paddledoctor check diagnoses the machine itself; please report the log "
                         "if it shows an error paddledoctor should know.[/dim]"))
    else:
        console.print(tr(f"[bold]{len(items)} known error(s) in {escape(source)}[/bold]"))
    for item in items:
        m, p = item.match, item.match.pattern
        console.print()
        where = tr(f"line {m.line_number}" + (f", {m.count}×" if m.count > 1 else ""))
        console.print(f"[bold cyan]{p.code}[/bold cyan] ({where}): {escape(m.line)}")  # the log's own line
        console.print(f"    [bold]{tr('cause:')}[/bold] {escape(tr(p.cause))}")
        console.print(f"    [bold]{tr('fix:')}[/bold] {escape(tr(p.fix))}")
        if item.status:
            label, style = STATUS[item.status]
            console.print(f"    [bold]{tr('this machine:')}[/bold] [{style}]{tr(label)}[/{style}] — "
                          f"{escape(tr(item.detail))}")
        console.print(f"    [dim]{tr('source:')} {escape(p.source)}[/dim]")
        console.print(f"    [dim]{escape(tr(f'more: paddledoctor explain {p.code}'))}[/dim]")
    pasted = getattr(explanation, "pasted", None)
    if pasted is not None:  # environment text in the log: the checks on it (#14)
        from ..paste import header
        from .findings import print_findings_and_verdict
        console.print()
        console.print(f"[bold]{tr('The environment pasted in the text')}[/bold]")
        console.print(f"[dim]{escape(tr(header(pasted.facts)))}[/dim]")
        print_findings_and_verdict(console, pasted)
    if explanation.report is not None:
        console.print()
        console.print(f"[bold]{tr('This machine:')}[/bold] {escape(tr(explanation.report.verdict()))} "
                      f"[dim]{tr('(paddledoctor check for the details)')}[/dim]")
