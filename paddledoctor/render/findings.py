"""A finding as `check` prints it (severity and code, title, evidence, fix, "more:"), and the
closing verdict line: shared by the terminal renderers of every command."""

from __future__ import annotations

import json

from ..i18n import label, tr
from ..model import Finding, Severity, encode

SEV_STYLE = {Severity.ERROR: "bold red", Severity.WARN: "yellow", Severity.INFO: "cyan"}


def finding_lines(f: Finding, evidence: bool = True, indent: str = "") -> list[str]:
    """A finding as plain text lines (for logs, exceptions and XML, where there is no terminal):
    the same layout as :func:`print_finding`."""
    lines = [f"{indent}{f.severity.value.upper()} {f.code} {f.title}"]
    if evidence:
        for key, value in f.evidence.items():
            if value not in (None, "", [], {}):
                lines.append(f"{indent}    {key}: {value}")
    if f.fix and f.fix.text:
        lines.append(f"{indent}    fix: {f.fix.text}")
    for cmd in (f.fix.commands if f.fix else []):
        lines.append(f"{indent}      $ {cmd}")
    lines.append(f"{indent}    more: paddledoctor explain {f.code}")
    return lines


def print_finding(console, f: Finding, verbose: bool = False) -> None:
    from rich.markup import escape

    style = SEV_STYLE[f.severity]
    console.print(f"[{style}]{severity_word(f.severity)} {f.code}[/{style}] {escape(tr(f.title))}")
    if f.severity is Severity.INFO and not f.fix and not verbose:
        return
    for key, value in f.evidence.items():
        if value in (None, "", [], {}):
            continue
        if isinstance(value, list) and not any(isinstance(v, (dict, list)) for v in value):
            value = ", ".join(map(str, value))
        elif isinstance(value, (dict, list)):
            value = json.dumps(encode(value), separators=(", ", ": "))
        console.print(f"    [dim]{escape(label(str(key)))}{tr(':')}[/dim]{_space()}{escape(tr(str(value)))}")
    if f.fix and (f.fix.commands or f.fix.text):
        if f.fix.text:
            console.print(f"    [bold]{tr('fix:')}[/bold]{_space()}{escape(tr(f.fix.text))}")
        for cmd in f.fix.commands:  # commands are never translated
            console.print(f"      [bold cyan]$ {escape(cmd)}[/bold cyan]")
    console.print(f"    [dim]{escape(tr(f'more: paddledoctor explain {f.code}'))}[/dim]")


def _space() -> str:
    """After a colon: a space in English, none after Chinese's full-width colon (it has its own)."""
    return "" if tr(":") == "：" else " "


def severity_word(severity: Severity) -> str:
    """ERROR, WARN, INFO, in the chosen language."""
    return {Severity.ERROR: tr("ERROR"), Severity.WARN: tr("WARN"), Severity.INFO: tr("INFO")}[severity]


def print_verdict(console, report) -> None:
    from rich.markup import escape

    worst = report.worst
    style = "bold red" if worst is Severity.ERROR else "yellow" if worst is Severity.WARN else "bold green"
    console.print(f"[{style}]{escape(tr(report.verdict()))}[/{style}]")


def print_findings_and_verdict(console, report, verbose: bool = False) -> None:
    """How every report ends: its findings, then the one-line verdict. Findings the config file
    ignores get one line naming them (their details stay in --json)."""
    from rich.markup import escape

    shown = [f for f in report.findings if not getattr(f, "ignored", False)]
    ignored = [f for f in report.findings if getattr(f, "ignored", False)]
    if shown:
        console.print()
    for f in shown:
        print_finding(console, f, verbose=verbose)
    if ignored:
        console.print()
        listed = ", ".join(f"{f.code} ({f.severity.value})" for f in ignored)
        console.print(f"[dim]{escape(tr(f'ignored by the config file: {listed}'))}[/dim]")
    console.print()
    print_verdict(console, report)
