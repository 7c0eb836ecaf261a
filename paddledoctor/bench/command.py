"""The `paddledoctor bench` click command: parse options, call the library, render, exit code.
Imports only click and the standard library at load time (the CLI imports this at startup)."""

from __future__ import annotations

import json
import os
import re
import sys

import click

from ..redaction import scrub

MIN_SIZE = 1 << 20


class _Size(click.ParamType):
    name = "SIZE"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        from .sizes import parse_size
        try:
            n = parse_size(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if n < MIN_SIZE:
            self.fail(f"{value!r} is below the smallest size the bench takes (1MiB)", param, ctx)
        return n


def _device(ctx, param, value: str) -> str:
    if value in ("auto", "cpu") or re.fullmatch(r"gpu:\d+", value):
        return value
    raise click.BadParameter(f"{value!r}: use auto, cpu or gpu:N (such as gpu:0)")


def _directory(ctx, param, value: str | None) -> str:
    path = os.path.abspath(value or ".")
    if not os.path.exists(path):
        raise click.BadParameter(f"{value}: no such folder")
    if not os.path.isdir(path):
        raise click.BadParameter(f"{value}: not a folder")
    return path


def _model_spec(ctx, param, value: str | None) -> str | None:
    if value is None:
        return None
    from .model import FACTORY_SPEC
    if not FACTORY_SPEC.match(value):
        raise click.BadParameter(f"{value!r}: give MODULE:FACTORY, such as mytrain.setup:make")
    return value


@click.command("bench")
@click.option("--size", type=_Size(), default="256MiB", show_default=True,
              help="Bytes of model parameters (the checkpoint is about 3x: Adam's two moments).")
@click.option("--dir", "directory", callback=_directory, metavar="DIR",
              help="Where to write (only inside a temporary folder of its own, removed at the end). "
                   "Default: the current folder; use the disk your checkpoints go to.")
@click.option("--device", default="auto", show_default=True, callback=_device,
              help="auto, cpu or gpu:N.")
@click.option("--project", type=_Size(), metavar="SIZE",
              help="Project the times and memory to your real checkpoint's size (such as 40GB).")
@click.option("--timeout", type=click.FloatRange(min=5, max=86400), default=900.0,
              show_default=True, metavar="S", help="Deadline for the whole bench.")
@click.option("--model", "model", metavar="MODULE:FACTORY", callback=_model_spec,
              help="Bench your own training instead: FACTORY() returns a dict with 'model' and "
                   "'optimizer' (and optionally 'scheduler', 'scaler', 'batch', 'loss'). Says which "
                   "state you must save to resume exactly.")
@click.option("--steps", type=click.IntRange(min=2, max=1000), default=6, show_default=True,
              help="With --model: training steps straight, against half + save + load + half.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON document.")
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
def bench_command(size, directory, device, project, timeout, model, steps, as_json, strict) -> None:
    """Checkpoint round trip on this machine: correctness (bit for bit, resume, every format) and
    throughput (against the disk's own limit and safetensors)."""
    from . import bench_report, run_bench

    options = {"size": size, "dir": directory, "device": device, "project": project,
               "timeout": timeout, "strict": strict}
    with _progress(enabled=not as_json and sys.stderr.isatty()) as progress:
        if model:
            from .model import run_bench_model
            options.update({"model": model, "steps": steps})
            facts = run_bench_model(model, directory=directory, device=device, timeout=timeout,
                                    steps=steps, progress=progress)
        else:
            facts = run_bench(size=size, directory=directory, device=device, timeout=timeout,
                              project=project, progress=progress)
    report = bench_report(facts, options)
    if as_json:
        click.echo(json.dumps(scrub(report.to_json()), indent=2))
    else:
        from ..render import bench as render_bench
        render_bench.render(report)
    sys.exit(report.exit_code(strict))


class _progress:
    """A rich progress bar on stderr (a TTY only): one step per child, the stage as its text."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None

    def __enter__(self):
        if not self.enabled:
            return None
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
        self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                            TimeElapsedColumn(), console=Console(stderr=True), transient=True)
        self.bar.start()
        self.task = self.bar.add_task("bench", total=3)
        self.parts: list[str] = []
        return self.update

    def update(self, part: str, stage: str) -> None:
        if part not in self.parts:
            self.parts.append(part)
            self.bar.update(self.task, completed=len(self.parts) - 1)
        self.bar.update(self.task, description=f"{part}: {stage}")

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False
