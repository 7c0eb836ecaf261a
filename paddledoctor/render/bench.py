"""The bench's results for a person: a table of the formats (files, save and load rates, share of
the disk's limit, peak extra memory, bit-exact or not), the resume, async_save and projection lines,
then the report (findings and verdict) as `check` prints it."""

from __future__ import annotations

import sys
from typing import TextIO

from .. import i18n
from ..model import Report, Unavailable
from . import terminal

ROWS = (("dygraph", "paddle.save/load"),
        ("safetensors", "safetensors (peer)"),
        ("static", "static.save/load"),
        ("inference", "inference model"),
        ("jit", "jit.save/load"))


def _mb(x) -> str:
    return f"{x:,.0f}" if isinstance(x, (int, float)) else "-"


def _mib(x) -> str:
    return f"{x / (1 << 20):,.0f} MiB" if isinstance(x, (int, float)) else "-"


def _secs(x) -> str:
    if not isinstance(x, (int, float)):
        return "-"
    return f"{x:.1f} s" if x < 120 else f"{x / 60:.1f} min"


def _files(entry: dict) -> str:
    files = entry.get("files")
    if not isinstance(files, dict):
        return ""
    return ", ".join(f"{name} {size / (1 << 20):.3g} MiB" if size >= (1 << 20) else f"{name} {size} B"
                     for name, size in files.items())


def render(report: Report, file: TextIO | None = None) -> None:
    from rich.markup import escape
    from rich.table import Table

    console = i18n.console(file=file or sys.stdout, highlight=False, soft_wrap=True)
    b = report.facts.get("bench")
    if isinstance(b, dict) and ("model_run" in b or "factory_error" in b):
        _render_model(console, b)
    elif isinstance(b, dict):
        disk = b.get("disk")
        limit = disk.get("write_mbps") if isinstance(disk, dict) else None
        opts = b.get("options") or {}
        console.print(f"[bold]Checkpoint round trip[/bold]: {escape(str(opts.get('size_text')))} of "
                      f"parameters, AdamW + LR scheduler, in {escape(str(b.get('temp_dir') or opts.get('dir')))}")
        table = Table(show_edge=False, pad_edge=False, box=None)
        for col in ("format", "save\nMB/s", "load\nMB/s", "save\n÷ disk", "peak +RSS\nsave",
                    "peak +RSS\nload", "bit-\nexact"):
            table.add_column(i18n.tr(col), justify="left" if col in ("format", "bit-\nexact") else "right",
                             no_wrap=True)
        notes = []
        if isinstance(disk, dict):
            cold = "" if disk.get("cold") else " (warm)"
            table.add_row("disk (write+fsync/read)", _mb(disk.get("write_mbps")),
                          _mb(disk.get("read_mbps")) + cold, "100%", "", "", "")
            notes.append(f"disk: {_mib(disk.get('bytes'))} on {disk.get('fs_type') or '?'}, cold "
                         f"read by {disk.get('cold_method')}" + (f"; {disk['note']}" if disk.get("note") else ""))
        elif isinstance(disk, Unavailable):
            notes.append(f"disk: {disk.reason}")
        for key, name in ROWS:
            e = b.get(key)
            if isinstance(e, Unavailable):
                notes.append(f"{name}: {e.reason}")
                continue
            if not isinstance(e, dict):
                continue
            if e.get("unavailable"):  # the peer could not run: say why, not a row of "?"
                notes.append(f"{name}: not measured: {e['unavailable']}")
                continue
            share = (f"{e['save_mbps'] / limit:.0%}" if isinstance(e.get("save_mbps"), (int, float))
                     and limit else "")
            exact = {True: "[green]yes[/green]", False: "[bold red]NO[/bold red]"}.get(e.get("exact"), "?")
            table.add_row(name, _mb(e.get("save_mbps")), _mb(e.get("load_mbps")), share,
                          _mib(e.get("save_rss_extra")), _mib(e.get("load_rss_extra")), exact)
            if _files(e):
                notes.append(f"{name} wrote: {_files(e)}")
            if len(e.get("save_passes_mbps") or []) > 1:
                notes.append(f"{name} save passes: " + ", ".join(_mb(x) for x in e["save_passes_mbps"])
                             + " MB/s (median in the table)")
            if isinstance(e.get("save_mbps"), (int, float)) and limit and e["save_mbps"] > limit:
                passes = ", ".join(_mb(x) for x in (disk.get("write_passes_mbps") or [])
                                   ) if isinstance(disk, dict) else ""
                notes.append(f"{name} saved faster than the disk's measured limit (random, "
                             f"incompressible bytes" + (f"; passes {passes} MB/s" if passes else "")
                             + "): this storage varies, caches or compresses, so the limit is a "
                               "floor here; compare several runs")
        console.print(table)
        for note in notes:
            console.print(f"  {escape(note)}")
        dyg = b.get("dygraph")
        if isinstance(dyg, dict) and dyg.get("d2h_mbps"):
            console.print(f"device→host {_mb(dyg['d2h_mbps'])} MB/s, host→device "
                          f"{_mb(dyg['h2d_mbps'])} MB/s")
        r = b.get("resume")
        if isinstance(r, dict):
            same = ("identical (bit for bit)" if r.get("bitwise")
                    else f"max abs diff {r.get('max_abs_diff_params')}")
            console.print(f"resume ({r.get('steps')} steps straight vs {r.get('resume_at')} + save + "
                          f"load into fresh objects + {r.get('steps', 0) - r.get('resume_at', 0)}): {same}; "
                          f"without the optimizer state: "
                          f"{'detected as different' if r.get('without_optimizer_detected') else 'NOT detected'} "
                          f"(max abs diff {r.get('without_optimizer_max_abs_diff', 0):.3g})")
            trap = r.get("unique_name_trap")
            if isinstance(trap, dict) and trap.get("raised"):
                console.print(f"  a model built twice in one process without "
                              f"paddle.utils.unique_name.guard() ({escape(', '.join(trap.get('names') or []))}) "
                              f"cannot take the saved optimizer state: {escape(str(trap.get('error')))}")
            trap = r.get("safetensors_optimizer_trap")
            if isinstance(trap, dict) and trap.get("raised") and trap.get("supported") is not False:
                console.print("  paddle.save(opt.state_dict(), ..., safetensors=True) refuses the "
                              f"LR_Scheduler entry ({escape(str(trap.get('error')))}): the peer "
                              "stores it in a JSON file beside the tensors")
        s = b.get("static")
        if isinstance(s, dict) and s.get("pir"):
            console.print("  under PIR (Paddle 3.x's default) static and inference programs are "
                          "saved as .json; .pdmodel only with FLAGS_enable_pir_api=0")
        a = b.get("async_save")
        if isinstance(a, dict):
            console.print(f"paddle.async_save: {a.get('torn_runs')} of {a.get('runs')} runs torn "
                          f"(tensors holding later values per run: "
                          f"{', '.join(map(str, a.get('torn_tensors') or []))} of {a.get('tensors')})")
        if not opts.get("short"):
            console.print("[dim]throughput and bit-exactness at --size; resume, static, inference, "
                          "jit and async_save use small models[/dim]")
        p = b.get("projection")
        if isinstance(p, dict):
            bits = [f"{label} {_secs(p.get(k))}" for label, k in (
                ("paddle.save", "paddle_save_s"), ("paddle.load", "paddle_load_s"),
                ("safetensors save", "safetensors_save_s"), ("load", "safetensors_load_s"),
                ("disk limit", "disk_write_s")) if k in p]
            mem = ""
            if p.get("save_memory"):
                mem = (f"; paddle.save needs about {p['save_memory'] / (1 << 30):.1f} GiB of RAM"
                       + (f" of {p['memory_total'] / (1 << 30):.1f} GiB" if p.get("memory_total") else ""))
            console.print(f"projected for {p['bytes'] / 1e9:.1f} GB: " + ", ".join(bits) + mem)
        console.print()
    terminal.render(report, file=file)


VARIANT_TITLES = {"typical": "model + optimizer", "full": "everything"}


def _render_model(console, b: dict) -> None:
    """bench --model: each resume tried, bit for bit against the uninterrupted run, and the cost
    of the checkpoint at the model's real size."""
    from rich.markup import escape

    opts = b.get("options") or {}
    device = (b.get("device") or {}).get("used") if isinstance(b.get("device"), dict) else None
    console.print(f"[bold]Your training's checkpoint[/bold]: {escape(str(opts.get('model')))} on "
                  f"{escape(str(device or opts.get('device')))}")
    run = b.get("model_run")
    if isinstance(run, Unavailable):
        console.print(f"  {escape(run.reason)}")
    elif isinstance(run, dict):
        console.print(f"  {run.get('steps')} steps straight vs {run.get('resume_at')} + save + load into "
                      f"a fresh FACTORY() + {run.get('steps', 0) - run.get('resume_at', 0)}; state: "
                      f"{escape(', '.join(run.get('pieces_present') or []))}")
        if run.get("scaler_enabled") is False:
            console.print("  the GradScaler is disabled on this device (Paddle enables it on GPUs): "
                          "its loss scale does not change here")
        if run.get("deterministic") is False:
            console.print("  [yellow]two identical straight runs differ[/yellow]: resumes are not judged")
        for label, v in (run.get("variants") or {}).items():
            if not isinstance(v, dict):
                continue
            title = VARIANT_TITLES.get(label, label.replace("without_", "everything but ").replace("_", " "))
            verdict = ("[green]exact[/green]" if v.get("exact") else
                       f"[bold red]failed[/bold red]: {escape(str(v['optimizer_load_error']))}"
                       if v.get("optimizer_load_error") else
                       f"[bold red]differs[/bold red] from step {v.get('first_differing_step')} "
                       f"(max abs diff {v.get('max_abs_diff_params', 0):.3g})")
            console.print(f"  resume saving {escape(title)}: {verdict}")
        if run.get("required"):
            console.print(f"  to resume exactly, save also: {escape(', '.join(run['required']))}")
    cost = b.get("model_checkpoint")
    disk = b.get("disk") if isinstance(b.get("disk"), dict) else {}
    if isinstance(cost, dict):
        limit = disk.get("write_mbps")
        share = f" = {cost['save_mbps'] / limit:.0%} of the disk's {_mb(limit)} MB/s" if \
            isinstance(cost.get("save_mbps"), (int, float)) and limit else ""
        console.print(f"  checkpoint: {_mib(cost.get('file_bytes'))} ({cost.get('parameters'):,} "
                      f"parameters); save {_mb(cost.get('save_mbps'))} MB/s{share}, cold load "
                      f"{_mb(cost.get('load_mbps'))} MB/s; peak +RSS save {_mib(cost.get('save_rss_extra'))}, "
                      f"load {_mib(cost.get('load_rss_extra'))}; bit-exact: "
                      f"{'yes' if cost.get('exact') else 'NO'}")
    elif isinstance(cost, Unavailable):
        console.print(f"  checkpoint: {escape(cost.reason)}")
    console.print()
