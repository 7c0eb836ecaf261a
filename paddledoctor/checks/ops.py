"""A real training step on each device, checked against a float64 reference."""

from __future__ import annotations

from ..model import Fix
from . import check, finding, summary
from . import facts as F

_HINT = {
    "cpu": "Reinstall Paddle; a failure on the CPU alone points at a broken wheel or a faulty CPU/RAM.",
    "gpu": "Look at the driver, CUDA and cuDNN findings above; a failure on one GPU only points at "
           "that GPU (ECC, overheating): drain it and run `nvidia-smi -q -d ECC`.",
}


@check("ops")
def training_step_on_each_device(facts, options):
    for op in F.get(facts, "runtime", "ops", default=[]) or []:
        device, outcome = op.get("device"), op.get("outcome")
        hint = Fix([], _HINT["gpu" if str(device).startswith("gpu") else "cpu"])
        evidence = {k: op.get(k) for k in ("device", "outcome", "error", "signal", "wrong",
                                           "max_abs_err", "seconds") if op.get(k) not in (None, [])}
        if outcome == "signal":
            yield finding("PD501", f"A training step on {device} killed the interpreter "
                                   f"({op.get('signal') or op.get('error')})", evidence, hint)
        elif outcome == "timeout":
            yield finding("PD502", f"A training step on {device} hung: {op.get('error')}", evidence, hint)
        elif outcome == "wrong":
            yield finding("PD503", f"A training step on {device} gave a wrong result "
                                   f"({', '.join(op.get('wrong') or [])}: max error {op.get('max_abs_err')})",
                          evidence, hint)
        elif outcome in ("exception", "exited"):
            yield finding("PD504", f"A training step on {device} failed: {op.get('error')}",
                          evidence, hint)


@check("ops")
def paddle_reads_its_devices(facts, options):
    """The steps between import and the training steps: build info, CUDA init, device properties,
    cuDNN. A hang there (CUDA init on a stuck GPU) is as fatal as one in the step."""
    stopped = F.get(facts, "runtime", "stopped_in")
    if stopped and not str(stopped.get("stage", "")).startswith("training step on "):
        yield finding("PD505", f"Paddle stopped in '{stopped.get('stage')}': {stopped.get('error')}",
                      dict(stopped),
                      Fix([], "A hang or crash in CUDA initialisation points at the driver or a GPU: "
                              "see the GPU findings, and try `nvidia-smi`."))
    error = F.get(facts, "runtime", "probe_error")
    if error:
        yield finding("PD505", f"Paddle failed while reading its build or devices: {error.get('error')}",
                      {"error": error.get("error")},
                      Fix([], "Reinstall Paddle; if it persists, report it with `paddledoctor check --json`."))


@summary("ops")
def summarize(facts, options):
    if not F.runtime_ran(facts):
        return "skipped", F.reason(facts, "runtime") or "not run"
    if not F.imported(facts):
        return "skipped", "not run: paddle could not be imported"
    ops = F.get(facts, "runtime", "ops", default=[]) or []
    ok = [o["device"] for o in ops if o.get("outcome") == "ok"]
    if not ops:
        return "skipped", "no device was tried"
    return "ok", (f"forward, backward and an SGD step, checked against a float64 reference: "
                  f"{', '.join(ok) or 'none'} correct")
