"""Pre-flight for a training job: the doctor's check plus the job's requirements, as one call that
returns the report when the machine can run the job and raises :class:`PreflightError` when not.

    import paddledoctor
    paddledoctor.preflight(require_gpu=True, min_gpus=8, min_free_gpu_mem="20GiB",
                           min_free_disk="100GiB", checkpoint_dir="/mnt/ckpt")

Arguments left out (None) come from the config file (``paddledoctor.toml`` or ``[tool.paddledoctor]``
in ``pyproject.toml``, see :mod:`paddledoctor.config`); arguments given win over the file.
"""

from __future__ import annotations

import os

from .config import ConfigError, resolve
from .model import Finding, Report, Severity


class PreflightError(RuntimeError):
    """The machine does not meet the job's requirements. ``findings``: the failing findings (each
    with its code, evidence and fix); ``report``: the whole report; ``str()``: a readable summary."""

    def __init__(self, report: Report, findings: list[Finding]):
        self.report = report
        self.findings = findings
        super().__init__(summary(report, findings))

    def __reduce__(self):  # picklable, so that it crosses multiprocessing boundaries
        return (type(self), (self.report, self.findings))


def summary(report: Report, findings: list[Finding]) -> str:
    lines = [f"paddledoctor pre-flight failed: {len(findings)} problem(s). {report.verdict()}"]
    from .render.findings import finding_lines

    for f in findings:
        lines.extend(finding_lines(f, evidence=False, indent="  "))
    return "\n".join(lines)


def failing(report: Report, strict: bool = False) -> list[Finding]:
    worst = {Severity.ERROR} | ({Severity.WARN} if strict else set())
    return [f for f in report.findings if f.severity in worst]


def settings(require_gpu=None, min_gpus=None, min_free_gpu_mem=None, min_free_disk=None,
             checkpoint_dir=None, bench=None, quick=None, timeout=None, strict=None,
             config: "str | os.PathLike | bool | None" = None) -> tuple[dict, str | None]:
    """The requirements in force: the arguments given over the config file's. Raises ConfigError."""
    if checkpoint_dir is not None:
        checkpoint_dir = os.fspath(checkpoint_dir)
    return resolve({"require_gpu": require_gpu, "min_gpus": min_gpus,
                    "min_free_gpu_mem": min_free_gpu_mem, "min_free_disk": min_free_disk,
                    "checkpoint_dir": checkpoint_dir, "bench": bench, "quick": quick,
                    "timeout": timeout, "strict": strict}, config)


def check_with(settings: dict, from_file=None, config_file: str | None = None) -> Report:
    """Run the doctor with resolved settings (as :func:`settings` returns them)."""
    from .doctor import DEFAULT_TIMEOUT, check

    report = check(quick=settings.get("quick", False),
                   timeout=settings.get("timeout", DEFAULT_TIMEOUT),
                   require_gpu=settings.get("require_gpu", False),
                   min_gpus=settings.get("min_gpus", 0),
                   strict=settings.get("strict", False),
                   from_file=from_file,
                   bench=settings.get("bench", False),
                   min_free_gpu_mem=settings.get("min_free_gpu_mem", 0),
                   min_free_disk=settings.get("min_free_disk", 0),
                   checkpoint_dir=settings.get("checkpoint_dir"),
                   only=settings.get("only"), skip=settings.get("skip"),
                   ignore=settings.get("ignore"))
    if config_file:
        report.options["config_file"] = config_file
    return report


def preflight(require_gpu: bool | None = None, min_gpus: int | None = None,
              min_free_gpu_mem: "int | str | None" = None, min_free_disk: "int | str | None" = None,
              checkpoint_dir: "str | os.PathLike | None" = None, bench: bool | None = None,
              quick: bool | None = None, timeout: float | None = None, strict: bool | None = None,
              config: "str | os.PathLike | bool | None" = None) -> Report:
    """Check this machine against a training job's requirements.

    Returns the :class:`~paddledoctor.model.Report` when nothing is at ``error`` (nor at ``warn``
    with ``strict=True``); raises :class:`PreflightError` otherwise. Sizes take ``"20GiB"``,
    ``"100GB"`` or a number of bytes. ``checkpoint_dir``: the folder must be writable and hold
    ``min_free_disk`` (else the current folder must). ``bench=True`` adds a short checkpoint round
    trip into ``checkpoint_dir``. ``quick=True`` skips the real training step (no paddle import in a
    child: ~0.2 s instead of ~3 s). ``config``: a config file, None to look for one from the current
    folder, False for none. A bad value or config file raises
    :class:`~paddledoctor.config.ConfigError` (a ValueError).
    """
    resolved, config_file = settings(require_gpu, min_gpus, min_free_gpu_mem, min_free_disk,
                                     checkpoint_dir, bench, quick, timeout, strict, config)
    report = check_with(resolved, config_file=config_file)
    bad = failing(report, resolved.get("strict", False))
    if bad:
        raise PreflightError(report, bad)
    return report


__all__ = ["preflight", "PreflightError", "ConfigError"]
