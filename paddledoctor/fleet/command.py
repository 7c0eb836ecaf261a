"""The `paddledoctor fleet` click command. Imports only click and the standard library at load time
(the CLI imports it at startup); the work is in :mod:`paddledoctor.fleet.rank`."""

from __future__ import annotations

import json
import sys

import click

from ..redaction import scrub


class _BadInput(click.ClickException):
    exit_code = 2


def _sizes(ctx, param, value):
    from ..config import ConfigError, parse_size

    try:
        sizes = [parse_size(v.strip(), "--sizes") for v in value.split(",") if v.strip()]
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from None
    if not sizes or any(s < 4 or s > 1 << 30 for s in sizes):
        raise click.BadParameter("each size between 4 B and 1 GiB, e.g. 64KiB,1MiB,16MiB")
    return sizes


@click.command("fleet")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=str), metavar="DIR",
              help="A folder every rank should share: each rank checks it sees the others' files "
                   "(and, with --bench, runs a checkpoint round trip there).")
@click.option("--timeout", type=click.FloatRange(min=10, max=3600), default=60.0, show_default=True,
              metavar="S", help="Deadline of the whole check on each rank; a rank that has not joined "
                                "after half of it is reported as hung.")
@click.option("--sizes", default="64KiB,1MiB,16MiB", show_default=True, callback=_sizes,
              help="All-reduce message sizes for the bus bandwidth.")
@click.option("--full", is_flag=True, help="Each rank runs the full check (a training step on every "
                                           "device) instead of the static one plus an op on its own "
                                           "device.")
@click.option("--json", "as_json", is_flag=True, help="Rank 0 prints the cluster report as JSON.")
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@click.option("--require", "require", type=click.Choice(["gpu"]), multiple=True,
              help="Fail a rank unless a GPU is usable there.")
@click.option("--min-gpus", type=click.IntRange(min=0), default=None, metavar="N",
              help="Fail a rank unless N GPUs are usable there.")
@click.option("--min-free-gpu-mem", metavar="SIZE", help="Fail unless each GPU has SIZE free.")
@click.option("--min-free-disk", metavar="SIZE", help="Fail unless SIZE is free where checkpoints go.")
@click.option("--checkpoint-dir", type=click.Path(path_type=str), metavar="DIR",
              help="Fail a rank unless it can write checkpoints to DIR.")
@click.option("--bench", is_flag=True, help="A checkpoint round trip on each rank (into --dir).")
@click.option("--config", "config_file", type=click.Path(path_type=str), metavar="FILE",
              help="Requirements from this file (default: the nearest paddledoctor.toml or "
                   "pyproject.toml [tool.paddledoctor]); options win over it.")
def fleet_command(directory, timeout, sizes, full, as_json, strict, require, min_gpus,
                  min_free_gpu_mem, min_free_disk, checkpoint_dir, bench, config_file) -> None:
    """The doctor on every rank of a distributed job, and a collective check across them.

    Start it with Paddle's launcher, as the job's first step:

        python -m paddle.distributed.launch --nnodes N --nproc_per_node M paddledoctor fleet

    Every rank exits 1 when any rank fails, so the launcher stops the job; rank 0 prints the table.
    """
    from ..config import ConfigError
    from ..preflight import settings
    from . import rank as fleet_rank

    try:
        resolved, _ = settings(require_gpu=True if require else None, min_gpus=min_gpus,
                               min_free_gpu_mem=min_free_gpu_mem, min_free_disk=min_free_disk,
                               checkpoint_dir=checkpoint_dir, bench=bench or None,
                               strict=strict or None, config=config_file)
        launch = fleet_rank.launch_env()
    except (ConfigError, fleet_rank.NotLaunched) as exc:
        raise _BadInput(str(exc)) from None
    strict = bool(resolved.get("strict"))

    def show(report) -> None:
        if launch.rank == 0:
            if as_json:
                click.echo(json.dumps(scrub(report.to_json()), indent=2))
            else:
                from .table import render
                render(report, click.echo)
        else:
            from .table import verdict
            click.echo(f"paddledoctor fleet, rank {launch.rank} of {launch.world_size}: "
                       f"{'FAIL' if report.exit_code(strict) else 'ok'}. {verdict(report)} "
                       "(rank 0's log has the table)")
        sys.stdout.flush()

    report = fleet_rank.run_rank(resolved, directory=directory, timeout=timeout, sizes=sizes,
                                 full=full, on_report=show)
    sys.exit(report.exit_code(strict))
