"""The doctor itself: probes that could not run."""

from __future__ import annotations

from ..model import NOT_IN_PASTE, Fix
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


@check("doctor")
def report_understood(facts, options):
    """PD003: values of a recorded report this doctor could not read were set aside (shape.py)."""
    odd = F.get(facts, "doctor", "not_understood")
    if odd:
        yield finding("PD003", f"{len(odd)} value(s) of these facts are not in the shape this doctor "
                               f"reads and were set aside: {odd[0]}" + (" ..." if len(odd) > 1 else ""),
                      {"not_understood": odd[:20]},
                      Fix([], "The areas those values feed were judged without them. A report from "
                              "another doctor version: run `paddledoctor check --json` again on "
                              "that machine with this version."))


@summary("doctor")
def summarize(facts, options):
    return "hidden", ""
