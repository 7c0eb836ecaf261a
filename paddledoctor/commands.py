"""`paddledoctor codes` (the table of codes, a line each) and `paddledoctor fix` (the pip commands of
the current findings, run after confirmation, then a re-check). Only click is imported at load time.

`fix` runs nothing but ``python -m pip install ...`` commands, in this interpreter's environment, and
only inside a virtual environment or a conda environment (``--force`` to run elsewhere): a fix
printed as text, an uninstall, a ``conda`` or ``sudo`` command is shown and left to the user.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import click


@click.command("codes")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
@click.option("--area", metavar="AREA", help="Only the codes of this area (host, paddle, gpu, ...).")
def codes_command(as_json: bool, area: str | None) -> None:
    """The table of finding codes: code, severity, area and a one-line title each.

    `paddledoctor explain CODE` prints a code's page."""
    from . import codes

    if area is not None and area not in codes.AREAS:
        raise click.UsageError(f"unknown area {area!r} (areas: {', '.join(codes.AREAS)})")
    rows = [c for c in sorted(codes.CODES.values(), key=lambda c: c.code)
            if area is None or c.area == area]
    if as_json:
        click.echo(json.dumps([{"code": c.code, "severity": c.severity.value, "area": c.area,
                                "title": c.title, "since": c.since, "retired": c.retired}
                               for c in rows], indent=2))
        return
    from .i18n import ljust, tr
    from .render.findings import severity_word

    for c in rows:
        retired = tr(" (retired)") if c.retired else ""
        severity = severity_word(c.severity).lower()  # ERROR/WARN/INFO, as the severity's value
        click.echo(f"{c.code}  {ljust(severity, 5)}  {c.area:<12}  {tr(c.title)}{retired}")


def in_managed_environment() -> str | None:
    """'venv' / 'conda' when this interpreter runs in one (where pip installs are the user's own),
    else None (a system or distribution python)."""
    if sys.prefix != getattr(sys, "base_prefix", sys.prefix) or os.environ.get("VIRTUAL_ENV"):
        return "venv"
    if os.path.isdir(os.path.join(sys.prefix, "conda-meta")):
        return "conda"
    return None


def pip_commands(report) -> list[tuple[str, str]]:
    """(code, command) for every ``pip install`` fix command of the findings that count."""
    out, seen = [], set()
    for f in report.active:
        if f.severity.value == "info" or not f.fix:
            continue
        for cmd in f.fix.commands:
            argv = _argv(cmd)
            if argv and cmd not in seen:
                seen.add(cmd)
                out.append((f.code, cmd))
    return out


def _argv(cmd: str) -> list[str] | None:
    """``python -m pip install ARGS`` (or this interpreter's path) as an argv for this interpreter;
    None for any other command."""
    try:
        parts = shlex.split(cmd)
    except ValueError:
        return None
    if len(parts) < 5 or parts[1:4] != ["-m", "pip", "install"]:
        return None
    if parts[0] not in ("python", "python3", sys.executable):
        return None
    if any(p in ("|", "&&", ";", ">", "<") for p in parts):
        return None
    return [sys.executable, "-m", "pip", "install", *parts[4:]]


def run_pip(argv: list[str]) -> int:
    return subprocess.call(argv)


@click.command("fix")
@click.option("--yes", "-y", "assume_yes", is_flag=True, help="Run the commands without asking.")
@click.option("--force", is_flag=True, help="Run even outside a virtual or conda environment.")
@click.option("--dry-run", is_flag=True, help="Show the commands; run nothing.")
@click.option("--full", is_flag=True, help="Judge with the full check (imports paddle in a child); "
                                            "the default is the static check --quick.")
@click.option("--timeout", type=click.FloatRange(min=1, max=3600), default=60.0, show_default=True,
              metavar="S", help="Deadline for each child probe of the checks.")
def fix_command(assume_yes: bool, force: bool, dry_run: bool, full: bool, timeout: float) -> None:
    """Run the pip commands the current findings print, after confirmation, then check again.

    Only `python -m pip install ...` commands run, in this interpreter's environment; other fixes
    are shown for you to do. Exits like `check` on the re-check."""
    from .doctor import check
    from .i18n import tr

    def say(line: str) -> None:
        click.echo(tr(line))

    report = check(quick=not full, timeout=timeout)
    commands = pip_commands(report)
    others = [(f.code, c) for f in report.active if f.fix and f.severity.value != "info"
              for c in f.fix.commands if _argv(c) is None]
    if not commands:
        say("paddledoctor fix: no pip command to run. " + report.verdict())
        for code, c in others:
            say(f"  not run ({code}): {c}")
        sys.exit(report.exit_code())
    say(f"paddledoctor fix: {len(commands)} command(s) for this environment "
               f"({sys.prefix}):")
    for code, c in commands:
        click.echo(f"  [{code}] $ {c}")  # a command: never translated
    for code, c in others:
        say(f"  not run ({code}): {c}")
    if dry_run:
        sys.exit(report.exit_code())
    where = in_managed_environment()
    if where is None and not force:
        raise click.ClickException(
            f"refusing to pip install into {sys.prefix}: it is not a virtual or conda environment "
            "(pip would change the system's Python). Activate one, or pass --force.")
    if not assume_yes and not click.confirm(tr("Run them?"), default=False):
        say("paddledoctor fix: nothing was run.")
        sys.exit(report.exit_code())
    for code, c in commands:
        click.echo(f"$ {c}")  # a command: never translated
        rc = run_pip(_argv(c))
        if rc != 0:
            raise click.ClickException(f"`{c}` failed (exit {rc}); the remaining commands were not "
                                       "run")
    after = check(quick=not full, timeout=timeout)
    fixed = {f.code for f in report.active} - {f.code for f in after.active}
    say(f"paddledoctor fix: re-checked. {after.verdict()}"
               + (f" Resolved: {', '.join(sorted(fixed))}." if fixed else ""))
    sys.exit(after.exit_code())
