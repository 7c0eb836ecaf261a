"""The library under the CLI: gather facts (probes), judge them (checks), return a Report.

The two child probes (NVML; paddle import + training step) start first and run while the static
probes read the disk in this process, so the whole check takes about as long as ``import paddle``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

from . import __version__
from .model import Report, ReportFormatError, Unavailable, document_mode, facts_from_document

DEFAULT_TIMEOUT = 60.0
NVML_TIMEOUT = 15.0


def _guard(probe: Callable[[], Any]) -> Any:
    """A probe in this process that raises gives Unavailable with the reason, never a crash."""
    try:
        return probe()
    except Exception as exc:  # noqa: BLE001
        return Unavailable(f"probe failed: {type(exc).__name__}: {exc}")


def collect_facts(quick: bool = False, timeout: float = DEFAULT_TIMEOUT,
                  checkpoint_dir: str | os.PathLike | None = None) -> dict:
    from .probes import binaries, gpu, host, installed, loader
    from .probes import environment
    from .probes import stack as stack_probe

    nvml_child = gpu.start_nvml(min(NVML_TIMEOUT, timeout))
    paddle_child = None if quick else gpu.start_paddle(timeout)
    try:
        facts: dict = {
            "host": _guard(host.probe),
            "distributions": _guard(installed.probe_distributions),
            "paddle": _guard(installed.probe_paddle_package),
            "cuda_libs": _guard(installed.probe_cuda_libraries),
            "driver_libs": _guard(loader.probe_driver_library),
            # the stack around Paddle (#15): metadata of the distributions, conda/container/WSL2
            "stack": _guard(stack_probe.probe),
            "environment": _guard(environment.probe),
        }
        facts["cuda_runtime"] = _guard(lambda: installed.probe_cuda_runtime(facts["paddle"]))
        # static: the fatbin archs and loader needs of Paddle's own libraries (cached per file)
        facts["binaries"] = _guard(lambda: binaries.probe(
            facts["paddle"], timeout=min(timeout, binaries.COLD_READ_TIMEOUT)))
        if checkpoint_dir is not None:
            facts["checkpoint_dir"] = _guard(lambda: probe_checkpoint_dir(checkpoint_dir))
        facts["nvml"] = gpu.nvml_facts(nvml_child.wait())
        if paddle_child is None:
            facts["runtime"] = Unavailable("not run: --quick checks only what is on disk and what "
                                           "the driver says")
        else:
            facts["runtime"] = gpu.paddle_runtime_facts(paddle_child.wait())
    finally:  # Ctrl-C or any error: no child outlives the doctor
        nvml_child.kill()
        if paddle_child is not None:
            paddle_child.kill()
    facts["doctor"] = {
        "version": __version__,
        "mode": "quick" if quick else "full",
        "timeout_s": timeout,
        "child_pids": [c.proc.pid for c in (nvml_child, paddle_child) if c and c.proc],
    }
    return facts


def diagnose(facts: dict, options: dict | None = None, mode: str = "full",
             source: str = "", areas: "list[str] | None" = None) -> Report:
    """Judge facts: every check, or only those of ``areas`` (``bench`` and ``inspect`` reports
    carry their own facts alone)."""
    from . import checks

    options = dict(options or {})
    findings, areas = checks.run(facts, options, areas)
    return Report(facts=facts, findings=findings, areas=areas, doctor_version=__version__,
                  mode=mode, options=options, source=source)


def load_report_facts(path: str | os.PathLike) -> dict:
    """The facts of a recorded report (``check --json`` output, or a Markdown report embedding it)."""
    return facts_from_document(load_report_document(path))


def _read_text(p: Path, paste: bool) -> str:
    try:
        data = p.read_bytes()
    except IsADirectoryError:
        raise ReportFormatError(f"{p} is a directory, not a report file") from None
    except OSError as exc:
        raise ReportFormatError(f"cannot read {p}: {exc.strerror or exc}") from None
    if paste:
        from .explain import decode_log  # UTF-16 (PowerShell's >), GBK, BOMs, CRLF
        text = decode_log(data)
        sample = text[:65536]
        controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f")
        if sample and controls > len(sample) // 20:  # binary data, not a log or a paste
            raise ReportFormatError(f"{p} is not a text file")
        return text
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ReportFormatError(f"{p} is not a text file") from None


def load_report_document(path: str | os.PathLike) -> Any:
    """A recorded report's whole JSON document (validated by :func:`facts_from_document`)."""
    p = Path(path)
    text = _read_text(p, paste=False)
    try:
        return json.loads(text)
    except ValueError:
        doc = _json_in_markdown(text)
        if doc is None:
            raise ReportFormatError(f"{p} is neither a JSON report nor a Markdown report "
                                    "with one embedded") from None
        return doc


def load_facts(path: str | os.PathLike) -> "tuple[dict, str, list | None, Any]":
    """What ``check --from FILE`` re-diagnoses: (facts, mode, areas, document). A recorded report is
    judged as what it is (a machine's report "from", or a bench/inspect/fleet document, by
    :func:`document_mode`); a file that is neither JSON nor a Markdown report embedding one is read
    as the environment text a user pasted into an issue (nvidia-smi, pip list, run_check(), ...):
    mode "pasted"."""
    p = Path(path)
    text = _read_text(p, paste=True)
    try:
        doc = json.loads(text)
        is_json = True
    except ValueError:
        doc, is_json = _json_in_markdown(text), False
    if doc is not None:
        try:
            facts = facts_from_document(doc)
            mode, areas = document_mode(doc)
            return facts, mode, areas, doc
        except ReportFormatError:
            if is_json:
                raise
    from .paste import read_paste

    pasted = read_paste(text)
    if not pasted.has_environment:
        raise ReportFormatError(
            f"{p} is neither a paddledoctor report nor environment text paddledoctor can read "
            "(nvidia-smi, pip list / freeze, conda list, paddle.utils.run_check(), summary_env.py, "
            "nvcc --version, lscpu, /etc/os-release)")
    return pasted.facts, "pasted", None, None


def _json_in_markdown(text: str) -> Any:
    start = text.find("```json")
    if start < 0:
        return None
    end = text.find("```", start + 7)
    try:
        return json.loads(text[start + 7:end if end > 0 else None])
    except ValueError:
        return None


def probe_checkpoint_dir(path: str | os.PathLike) -> dict:
    """Where checkpoints will go: does the folder exist (or can it be made), can this process write
    there (a real file is created and removed), and how much room is free on its filesystem."""
    import tempfile

    p = Path(path).expanduser()
    facts: dict = {"path": str(p), "exists": p.is_dir()}
    if p.exists() and not p.is_dir():
        facts["error"] = "exists but is not a directory"
        return facts
    existing = p
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent  # the folder would be created under the nearest existing one
    facts["nearest_existing"] = str(existing)
    if not existing.is_dir():
        facts["writable"] = False
        facts["error"] = f"{existing} is a file: the folder cannot be created under it"
        return facts
    try:
        import shutil
        usage = shutil.disk_usage(existing)  # statvfs on POSIX, GetDiskFreeSpaceEx on Windows
        facts["free"], facts["total"] = usage.free, usage.total
    except OSError as exc:
        facts["free"] = Unavailable(f"cannot stat {existing}: {exc}")
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".paddledoctor-write-test-"):
            pass
        facts["writable"] = True
    except OSError as exc:
        facts["writable"] = False
        facts["error"] = f"{type(exc).__name__}: {exc.strerror or exc}"
    return facts


def _bench_facts(directory, timeout: float):
    """The bench round trip's facts, or Unavailable saying why it could not run (never faked)."""
    try:
        from .bench import check_bench_facts
    except ImportError as exc:
        return Unavailable(f"the checkpoint round trip is not available in this paddledoctor: {exc}")
    return check_bench_facts(directory=directory, timeout=timeout)


def check(quick: bool = False, timeout: float = DEFAULT_TIMEOUT, require_gpu: bool = False,
          min_gpus: int = 0, strict: bool = False, from_file: str | os.PathLike | None = None,
          bench: bool = False, bench_dir: str | os.PathLike | None = None,
          min_free_gpu_mem: int = 0, min_free_disk: int = 0,
          checkpoint_dir: str | os.PathLike | None = None, only=None, skip=None,
          ignore=None) -> Report:
    """Diagnose this machine (or a recorded report) and return the Report.

    ``report.exit_code()`` gives the CLI's exit status; ``report.findings`` the problems, each with a
    code, severity, evidence and fix; ``report.to_json()`` the document ``check --json`` prints.
    ``bench=True`` adds a short (64 MiB) checkpoint round trip in ``bench_dir`` (default: the
    system's temporary folder), whose facts go under ``facts["bench"]``.
    ``only`` / ``skip``: areas or codes to keep / leave out; ``ignore``: codes kept in the report
    but out of the verdict (raises :class:`paddledoctor.selection.SelectionError` on an unknown one).
    ``min_free_gpu_mem`` / ``min_free_disk`` (bytes) and ``checkpoint_dir`` are pre-flight
    requirements (see :func:`paddledoctor.preflight`): free memory on each GPU, free disk where the
    checkpoints go (``checkpoint_dir``, else the current folder), and a folder this process can write.
    """
    options = {"quick": quick, "timeout": timeout, "require_gpu": require_gpu,
               "min_gpus": min_gpus, "strict": strict, "bench": bench}
    if min_free_gpu_mem:
        options["min_free_gpu_mem"] = int(min_free_gpu_mem)
    if min_free_disk:
        options["min_free_disk"] = int(min_free_disk)
    if checkpoint_dir is not None:
        options["checkpoint_dir"] = os.fspath(checkpoint_dir)
    from . import selection  # --only / --skip AREA|CODE, ignore = ["PD306"] (#15)
    for key, value in (("only", only), ("skip", skip), ("ignore", ignore)):
        if value:
            options[key] = selection.split(value)
            selection.parse(options[key], key if key == "ignore" else f"--{key}")
    if from_file is not None:
        facts, mode, areas, doc = load_facts(from_file)
        if areas is not None:  # a bench/inspect/fleet document: its own options, then these
            options = {**(doc.get("options") if isinstance(doc.get("options"), dict) else {}),
                       **options}
        return diagnose(facts, options, mode=mode, source=str(from_file), areas=areas)
    from .stopping import library_guard

    with library_guard():  # SIGTERM/SIGHUP like Ctrl-C: children killed, the bench's folder removed
        facts = collect_facts(quick=quick, timeout=timeout, checkpoint_dir=checkpoint_dir)
        if bench:
            facts["bench"] = _bench_facts(bench_dir if bench_dir is not None else checkpoint_dir,
                                          max(timeout, 120.0))
    return diagnose(facts, options, mode="quick" if quick else "full")
