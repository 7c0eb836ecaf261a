"""The doctor itself: probes that could not run."""

from __future__ import annotations

from ..model import NOT_IN_PASTE
from . import check, finding, summary
from . import facts as F

# Where a whole area's facts may be Unavailable, and what the user loses then.
PROBED = {"host": "host facts (CPU, memory, disk)", "distributions": "installed distributions",
          "paddle": "the paddle package on disk", "cuda_libs": "CUDA libraries on disk",
          "driver_libs": "the driver's libcuda.so.1 as the loader finds it",
          "nvml": "the NVIDIA driver's view", "runtime": "importing paddle and the training step"}


@check("doctor")
def probes_ran(facts, options):
    for key, what in PROBED.items():
        why = F.reason(facts, key)
        # a fact a pasted text does not give was never probed: the report's header says so
        if why and why != NOT_IN_PASTE and not (key == "runtime" and why.startswith("not run")):
            yield finding("PD001", f"The probe of {what} could not run: {why}",
                          {"probe": key, "reason": why})


@summary("doctor")
def summarize(facts, options):
    return "hidden", ""
