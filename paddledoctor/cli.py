"""The command line: parse options, call the library, pick a renderer, set the exit code.

Exit codes: 0 nothing at error (warnings allowed unless --strict); 1 at least one error finding or
a failed requirement; 2 usage error; 3 the doctor itself could not run.
"""

from __future__ import annotations

import json
import sys

import click

from . import __version__

EXIT_DOCTOR_FAILED = 3


class BadInput(click.ClickException):
    """Bad input from the user (an unreadable report, an unknown code): one line, exit 2."""

    exit_code = 2


def _lang_option(ctx, param, value) -> None:
    """``--lang`` before the command (``paddledoctor --lang zh check``); run() takes it from
    anywhere on the line before click parses it."""
    if value:
        from .i18n import set_language
        set_language(value)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="paddledoctor")
@click.option("--lang", type=click.Choice(["en", "zh"]), expose_value=False, is_eager=True,
              callback=_lang_option, help="Language of the output: en or zh (by default "
                                          "PADDLEDOCTOR_LANG, then LC_ALL/LC_MESSAGES/LANG). "
                                          "--json stays English.")
def main() -> None:
    """Can this machine train with PaddlePaddle? If not: why, and the command that fixes it."""


@main.command("check")
@click.option("--quick", is_flag=True, help="Static checks only: never import paddle (fast; survives a "
                                            "Paddle that crashes on import).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON document.")
@click.option("--from", "from_file", type=click.Path(dir_okay=True, path_type=str), metavar="FILE",
              help="Re-diagnose a recorded report (check --json output) instead of this machine.")
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@click.option("--timeout", type=click.FloatRange(min=1, max=3600), default=60.0, show_default=True,
              metavar="S", help="Deadline for each child probe (importing paddle, the training step).")
@click.option("--require", "require", type=click.Choice(["gpu"]), multiple=True,
              help="Fail unless a GPU is usable.")
@click.option("--min-gpus", type=click.IntRange(min=0), default=0, metavar="N",
              help="Fail unless at least N GPUs are usable.")
@click.option("--bench", is_flag=True, help="Add a short (64 MiB) checkpoint save/load round trip.")
@click.option("--min-free-gpu-mem", metavar="SIZE",
              help="Fail unless each required GPU has SIZE free (e.g. 20GiB).")
@click.option("--min-free-disk", metavar="SIZE",
              help="Fail unless SIZE is free where checkpoints go (--checkpoint-dir, else here).")
@click.option("--checkpoint-dir", type=click.Path(file_okay=True, path_type=str), metavar="DIR",
              help="Fail unless checkpoints can be written to DIR.")
@click.option("--config", "config_file", type=click.Path(dir_okay=True, path_type=str),
              metavar="FILE", help="Requirements from this file (paddledoctor.toml, or pyproject.toml "
                                   "with [tool.paddledoctor]); by default the nearest one is used. "
                                   "Options given here win over the file.")
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False, path_type=str),
              metavar="FILE", help="Also write the result as JUnit XML (one test case per area).")
# -- the options people expect from a doctor (#15) --
@click.option("-v", "--verbose", is_flag=True, help="Show the facts behind each line.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing when the check passes (for && "
                                                  "guards and job prologs).")
@click.option("--only", multiple=True, metavar="AREA|CODE",
              help="Only these areas (host, paddle, gpu, cuda, ...) or codes; repeat or use commas.")
@click.option("--skip", multiple=True, metavar="AREA|CODE", help="Leave out these areas or codes.")
@click.option("--redact", "redact_identity", is_flag=True,
              help="With --json: also remove host, user, home, working directory, IP addresses and "
                   "GPU UUIDs, as `report` does (secrets are always removed).")
def check_command(quick, as_json, from_file, strict, timeout, require, min_gpus, bench,
                  min_free_gpu_mem, min_free_disk, checkpoint_dir, config_file, junit_file,
                  verbose, quiet, only, skip, redact_identity) -> None:
    """Diagnose this machine (or a recorded report)."""
    import time

    from .config import ConfigError
    from .model import ReportFormatError
    from .preflight import check_with, settings

    given = _given(click.get_current_context())
    t0 = time.monotonic()
    try:
        resolved, used = settings(
            require_gpu=True if require else None,
            min_gpus=min_gpus if "min_gpus" in given else None,
            min_free_gpu_mem=min_free_gpu_mem, min_free_disk=min_free_disk,
            checkpoint_dir=checkpoint_dir, bench=bench or None, quick=quick or None,
            timeout=timeout if "timeout" in given else None, strict=strict or None,
            config=config_file)
    except ConfigError as exc:
        raise BadInput(str(exc)) from None
    from .selection import SelectionError
    resolved.update({k: list(v) for k, v in (("only", only), ("skip", skip)) if v})
    try:
        report = check_with(resolved, from_file=from_file, config_file=used)
    except ReportFormatError as exc:
        raise BadInput(f"--from {from_file}: {exc}") from None
    except SelectionError as exc:
        raise BadInput(str(exc)) from None
    strict = resolved.get("strict", False)
    if junit_file:
        from .render import junit
        try:
            junit.write(report, junit_file, strict, time.monotonic() - t0)
        except OSError as exc:
            raise BadInput(f"--junit {junit_file}: {exc.strerror or exc}") from None
    if as_json:
        from .redaction import Redactor, redact
        click.echo(json.dumps(redact(_with_translations(report.to_json()),
                                     Redactor.for_this_machine(redact_identity)), indent=2))
    elif not (quiet and report.exit_code(strict) == 0):  # -q: silent on success
        from .render import terminal
        terminal.render(report, verbose=verbose)
    sys.exit(report.exit_code(strict))


def _with_translations(doc: dict) -> dict:
    """--json stays English; in another language its texts come under "translations"."""
    from .i18n import translations

    extra = translations(doc)
    return doc if extra is None else {**doc, "translations": extra}


def _given(ctx: click.Context) -> set:
    """The options the user typed (not click's defaults): those win over the config file."""
    from click.core import ParameterSource

    return {name for name in ctx.params
            if ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)}


@main.command("report")
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown",
              show_default=True, help="GitHub-ready Markdown, or the JSON document of check --json.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=str),
              metavar="FILE", help="Write the report to FILE instead of standard output.")
@click.option("--no-redact", "no_redact", is_flag=True,
              help="Keep host name, user, home, working directory, IP addresses, GPU UUIDs and "
                   "secrets (not for posting).")
@click.option("--bench", is_flag=True, help="Add a short (64 MiB) checkpoint save/load round trip.")
@click.option("--quick", is_flag=True, help="Static checks only: never import paddle.")
@click.option("--timeout", type=click.FloatRange(min=1, max=3600), default=60.0, show_default=True,
              metavar="S", help="Deadline for each child probe.")
@click.option("--from", "from_file", type=click.Path(dir_okay=True, path_type=str), metavar="FILE",
              help="Render a recorded report (check --json output) instead of checking this machine.")
def report_command(fmt, output, no_redact, bench, quick, timeout, from_file) -> None:
    """A redacted support report to paste into an issue (Markdown or JSON).

    Exits like `check`: 1 when the report holds an error finding."""
    from .model import ReportFormatError
    from .report import support_report

    try:
        text, report = support_report(fmt=fmt, redacted=not no_redact, quick=quick, timeout=timeout,
                                      bench=bench, from_file=from_file)
    except ReportFormatError as exc:
        raise BadInput(f"--from {from_file}: {exc}") from None
    if output:
        _write_file(output, text)
        click.echo(f"paddledoctor: report written to {output}"
                   + ("" if no_redact else " (redacted; --no-redact keeps everything)"), err=True)
    else:
        click.echo(text, nl=False)
    sys.exit(report.exit_code())


def _write_file(path: str, text: str) -> None:
    """Write whole or not at all: a temporary file next to it, renamed over it."""
    import os
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".paddledoctor-", dir=folder)
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise BadInput(f"cannot write {path}: {exc.strerror or exc}") from None
        raise


@main.command("explain")
@click.argument("target", metavar="CODE|LOGFILE|-")
@click.option("--check", "with_check", is_flag=True,
              help="Also check this machine: say whether each error's cause is still here.")
@click.option("--quick", is_flag=True, help="With --check: static checks only (no paddle import).")
@click.option("--json", "as_json", is_flag=True, help="Print the matches as JSON.")
@click.option("--timeout", type=click.FloatRange(min=1, max=3600), default=60.0, show_default=True,
              metavar="S", help="With --check: deadline for each child probe.")
def explain_command(target: str, with_check: bool, quick: bool, as_json: bool, timeout: float) -> None:
    """Print a code's page (PD101), or the known causes of the errors in a log (a file, or - for
    standard input).

    For a log, exits 0 when it recognised a known error and 1 when none; with --check, 1 when a
    recognised cause is still on this machine."""
    import os
    import re

    from . import codes, pages

    is_code = re.fullmatch(r"(?i)PD\d{3}", target) is not None
    if is_code and not os.path.exists(target):
        code = target.upper()
        if code not in codes.CODES:
            raise BadInput(f"unknown code {code}; `paddledoctor explain` takes a code such as PD101")
        from .i18n import language
        click.echo(pages.page(code, language()))
        return

    from .explain import explain_log, read_log

    if target == "-":
        text, source = read_log(click.get_binary_stream("stdin")), "standard input"
    else:
        if os.path.isdir(target):
            raise BadInput(f"{target} is a directory; give a log file, - for standard input, or a "
                           "code such as PD101")
        try:
            with open(target, "rb") as fh:
                text = read_log(fh)
        except FileNotFoundError:
            raise BadInput(f"no such file: {target} (explain takes a code such as PD101, a log "
                           "file, or - for standard input)") from None
        except OSError as exc:
            raise BadInput(f"cannot read {target}: {exc.strerror or exc}") from None
        source = target
    result = explain_log(text, check=with_check, quick=quick, timeout=timeout)
    if as_json:
        from .redaction import scrub
        click.echo(json.dumps(scrub(result.to_json()), indent=2))
    else:
        from .render import explain as render_explain
        render_explain.render(result, source)
    sys.exit(result.exit_code())


# Commands that live with their feature's package; each module imports only click at load time.
from .bench.command import bench_command  # noqa: E402
from .commands import codes_command, fix_command  # noqa: E402
from .fleet.command import fleet_command  # noqa: E402
from .inspect.command import inspect_command  # noqa: E402

for _command in (bench_command, inspect_command, fleet_command, codes_command, fix_command):
    main.add_command(_command)

from .i18n.cli import TranslatedContext  # noqa: E402

main.context_class = TranslatedContext  # help in the chosen language
for _command in main.commands.values():
    _command.context_class = TranslatedContext


def _take_lang(argv: list) -> list:
    """Sets the language from ``--lang X`` / ``--lang=X`` wherever it is on the line (before
    ``--``), then from the environment; returns the line without it."""
    from .i18n import LanguageError, choose, set_language

    out, flag, i = [], None, 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            out.extend(argv[i:])
            break
        if arg == "--lang" or arg.startswith("--lang="):
            if arg == "--lang" and i + 1 >= len(argv):
                raise BadInput("--lang needs a value: en or zh")
            flag = arg.partition("=")[2] if "=" in arg else argv[i + 1]
            i += 1 if "=" in arg else 2
            continue
        out.append(arg)
        i += 1
    try:
        set_language(choose(flag))
    except LanguageError as exc:
        raise BadInput(str(exc)) from None
    return out


def run() -> None:
    """Console-script entry. Ctrl-C, SIGTERM and SIGHUP take one clean path (every child's process
    group killed, temporary folders and markers removed by the ``finally`` blocks on the way out):
    one line, and exit 128+n. The doctor's own failure is exit 3 with one line, never a traceback."""
    from .stopping import Stopped, guard

    try:
        args = _take_lang(sys.argv[1:])
        with guard():
            main(args=args, standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        from .i18n import tr
        exc.message = tr(exc.message)
        exc.show()
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort) as exc:
        # click turns a KeyboardInterrupt into Abort; the signal is its cause
        stop = exc if isinstance(exc, Stopped) else exc.__cause__ or exc.__context__
        if isinstance(stop, Stopped) and stop.name != "SIGINT":
            _stopped_line(f"stopped by {stop.name}")
            sys.exit(stop.exit_status)
        _stopped_line("interrupted")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001
        click.echo(f"paddledoctor: internal error: {type(exc).__name__}: {exc} "
                   "(please report it with `paddledoctor check --json`)", err=True)
        sys.exit(EXIT_DOCTOR_FAILED)


def _stopped_line(what: str) -> None:
    try:
        click.echo(f"paddledoctor: {what}", err=True)
    except OSError:  # SIGHUP: the terminal is gone, and stderr with it
        pass
