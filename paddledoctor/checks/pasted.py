"""Facts read from pasted environment text (``check --from issue.md``): what the text itself says
about how far it can be trusted. Judged from ``facts["pasted"]``, which only a paste has."""

from __future__ import annotations

from ..model import Fix
from . import check, finding
from . import facts as F

WHAT = {"driver_version": "the NVIDIA driver version", "cuda_driver_version": "the driver's CUDA version",
        "paddle_cuda": "the CUDA of the Paddle build", "paddle_version": "the Paddle version",
        "python_version": "the Python version", "paddle_with_cuda": "whether Paddle is a CUDA build"}


@check("paddle")
def pasted_parts_agree(facts, options):
    conflicts = F.get(facts, "pasted", "conflicts", default={}) or {}
    for key, seen in sorted(conflicts.items()):
        said = "; ".join(f"{s.get('value')} ({s.get('from')})" for s in seen)
        yield finding(
            "PD140", f"The pasted text gives two values for {WHAT.get(key, key)}: {said}",
            {"fact": key, "values": seen},
            Fix([], "The parts were probably run on different machines, containers or Python "
                    "environments (a conda env and the base interpreter). Ask for every output from "
                    "the one environment that fails, e.g. `paddledoctor report` run there."))


@check("paddle")
def pasted_output_complete(facts, options):
    for piece in F.get(facts, "pasted", "truncated", default=[]) or []:
        lines = piece.get("lines") or ["?", "?"]
        yield finding(
            "PD141", f"The pasted {piece.get('kind')} (lines {lines[0]}-{lines[1]}) is cut off: "
                     f"{piece.get('truncated')}",
            {"kind": piece.get("kind"), "lines": lines, "why": piece.get("truncated")},
            Fix([], "Its missing part was not judged. Ask for the whole output in a code block "
                    "(a screenshot or a trimmed list hides the rows that matter)."))
