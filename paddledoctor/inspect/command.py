"""The `paddledoctor inspect` click command: parse, call the library, render, exit code."""

from __future__ import annotations

import json
import sys

import click

from ..redaction import scrub


@click.command("inspect")
@click.argument("files", nargs=-1, required=True, metavar="FILE|DIR...")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON document "
                                                      "(the schema of check --json).")
@click.option("--stats", is_flag=True, help="Read every tensor's data: NaN/Inf counts, min, max, "
                                            "mean and a SHA-256 (slower: reads the whole file).")
@click.option("--diff", is_flag=True, help="Compare two checkpoints: names, shapes, dtypes and "
                                           "the max absolute difference of the values.")
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
def inspect_command(files, as_json, stats, diff, strict) -> None:
    """Read Paddle checkpoint files safely: never imports paddle, never runs code from the file.

    Reads .pdparams/.pdopt (paddle.save pickles), .pdiparams with their .json/.pdmodel, and
    .safetensors; lists each tensor's name, shape, dtype and size, and the problems found.
    A folder is a training job's checkpoint folder (PaddleNLP Trainer, PaddleOCR, PaddleSeg,
    paddle.save pairs): each checkpoint judged complete, readable and consistent, and the newest
    one that is safe to resume from named."""
    if diff and len(files) != 2:
        raise click.UsageError("--diff compares exactly two files")
    if diff:
        import os
        folders = [f for f in files if os.path.isdir(f)]
        if folders:
            raise click.UsageError(f"--diff compares two files; {folders[0]} is a folder")
    from . import inspect

    report = inspect(files, stats=stats, diff=diff)
    report.options["strict"] = strict
    if as_json:
        click.echo(json.dumps(scrub(report.to_json()), indent=2))
    else:
        from ..render import inspect as render_inspect
        render_inspect.render(report)
    sys.exit(report.exit_code(strict))
