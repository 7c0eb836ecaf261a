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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="paddledoctor")
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
def check_command(quick, as_json, from_file, strict, timeout, require, min_gpus, bench) -> None:
    """Diagnose this machine (or a recorded report)."""
    from .doctor import check
    from .model import ReportFormatError

    try:
        report = check(quick=quick, timeout=timeout, require_gpu="gpu" in require,
                       min_gpus=min_gpus, strict=strict, from_file=from_file, bench=bench)
    except ReportFormatError as exc:
        raise BadInput(f"--from {from_file}: {exc}") from None
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        from .render import terminal
        terminal.render(report)
    sys.exit(report.exit_code(strict))


@main.command("explain")
@click.argument("code")
def explain_command(code: str) -> None:
    """Print the page of a finding code, such as PD101."""
    from . import codes, pages

    code = code.upper()
    if code not in codes.CODES:
        raise BadInput(f"unknown code {code}; `paddledoctor explain` takes a code such as PD101")
    click.echo(pages.page(code))


# Commands that live with their feature's package; each module imports only click at load time.
from .bench.command import bench_command  # noqa: E402
from .inspect.command import inspect_command  # noqa: E402

for _command in (bench_command, inspect_command):
    main.add_command(_command)


def run() -> None:
    """Console-script entry: Ctrl-C is one line and exit 130; the doctor's own failure is exit 3
    with one line, never a traceback."""
    try:
        main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("paddledoctor: interrupted", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001
        click.echo(f"paddledoctor: internal error: {type(exc).__name__}: {exc} "
                   "(please report it with `paddledoctor check --json`)", err=True)
        sys.exit(EXIT_DOCTOR_FAILED)
