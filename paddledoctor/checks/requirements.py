"""The user's stated expectations (--require gpu, --min-gpus N) turned into findings."""

from __future__ import annotations

from ..model import Fix
from . import check, finding, summary
from . import facts as F


def usable_gpus(facts) -> tuple[int, str]:
    """How many GPUs Paddle can train on here, and how that was established."""
    b = F.build(facts)
    if not b or not b["cuda"]:
        return 0, "the installed Paddle is not a CUDA build" if b else "Paddle is not installed"
    if F.runtime_ran(facts):
        ops = F.get(facts, "runtime", "ops", default=[]) or []
        return (sum(1 for o in ops if str(o.get("device")).startswith("gpu")
                    and o.get("outcome") == "ok"), "GPUs where the training step was correct")
    healthy = [g for g in F.nvml_gpus(facts) if not g.get("error")]
    return len(healthy), "GPUs NVML reports healthy (static check: no training step run)"


@check("requirements")
def required_gpus(facts, options):
    need = max(int(options.get("min_gpus") or 0), 1 if options.get("require_gpu") else 0)
    if not need:
        return
    have, how = usable_gpus(facts)
    if have >= need:
        return
    evidence = {"required": need, "usable": have, "counted_as": how,
                "nvml_gpus": F.nvml_gpu_count(facts)}
    fix = Fix([], "See the findings above for why the GPUs are not usable.")
    if options.get("require_gpu") and have == 0:
        yield finding("PD601", f"A GPU is required, none is usable ({how})", evidence, fix)
    else:
        yield finding("PD602", f"{need} GPU(s) required, {have} usable ({how})", evidence, fix)


@summary("requirements")
def summarize(facts, options):
    need = max(int(options.get("min_gpus") or 0), 1 if options.get("require_gpu") else 0)
    if not need:
        return "hidden", ""
    have, how = usable_gpus(facts)
    return "ok", f"{need} GPU(s) required, {have} usable ({how})"
