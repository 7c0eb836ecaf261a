"""paddledoctor: can this machine train with PaddlePaddle? If not, why, and the command that fixes it.

    import paddledoctor
    report = paddledoctor.check()          # probes this machine; never imports paddle here
    report.exit_code(), report.findings    # 0/1, and each finding's code, evidence and fix

This module stays light: the CLI's parent process imports nothing heavy (paddle never).
"""

__version__ = "0.1.0"

__all__ = ["check", "bench_model", "preflight", "PreflightError", "Report", "Finding", "Severity", "__version__"]


def __getattr__(name):
    if name == "check":
        from .doctor import check
        return check
    if name == "bench_model":
        from .bench import bench_model
        return bench_model
    if name in ("preflight", "PreflightError"):  # normally bound below; kept for reloads
        from .preflight import PreflightError, preflight
        return {"preflight": preflight, "PreflightError": PreflightError}[name]
    if name in ("Report", "Finding", "Severity", "Fix", "Unavailable"):
        from . import model
        return getattr(model, name)
    raise AttributeError(f"module 'paddledoctor' has no attribute {name!r}")


# Bound at import, not lazily: the function shares its name with its module, and a lazy import would
# leave ``paddledoctor.preflight`` naming the module once anything imported it. Both modules are
# light (standard library only; tomllib is imported when a config file is read).
from .preflight import PreflightError, preflight  # noqa: E402
