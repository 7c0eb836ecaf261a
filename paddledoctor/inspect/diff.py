"""Two checkpoints compared: names only in one, shapes and dtypes that differ, and for tensors that
agree the largest absolute difference of their values."""

from __future__ import annotations

from .reader import FileReading
from .stats import max_abs_diff

MAX_LISTED = 50


def diff_readings(a: FileReading, b: FileReading) -> dict:
    if any(r.facts.get("format") in ("unreadable", "empty", "unknown") for r in (a, b)):
        return {"a": a.facts["path"], "b": b.facts["path"], "compared": 0, "max_abs_diff": None,
                "skipped": "one of the files could not be read"}
    ta = {t["name"]: t for t in a.facts["tensors"]}
    tb = {t["name"]: t for t in b.facts["tensors"]}
    out: dict = {"a": a.facts["path"], "b": b.facts["path"],
                 "only_in_a": sorted(set(ta) - set(tb)), "only_in_b": sorted(set(tb) - set(ta)),
                 "shape_mismatch": [], "dtype_mismatch": [], "tensors": [], "compared": 0}
    worst = 0.0
    with open(a.facts["path"], "rb") as fa, open(b.facts["path"], "rb") as fb:
        for name in [n for n in ta if n in tb]:
            x, y = ta[name], tb[name]
            if x["shape"] != y["shape"]:
                out["shape_mismatch"].append({"name": name, "a": x["shape"], "b": y["shape"]})
                continue
            if x["dtype"] != y["dtype"]:
                out["dtype_mismatch"].append({"name": name, "a": x["dtype"], "b": y["dtype"]})
                continue
            sa, sb = a.sources.get(name), b.sources.get(name)
            if sa is None or sb is None:
                continue
            try:
                d = max_abs_diff(fa, sa.segments, fb, sb.segments, x["dtype"], sa.big_endian,
                                 sb.big_endian)
            except (EOFError, OSError, UnicodeError, ValueError) as exc:
                d = {"error": str(exc)}
            out["compared"] += 1
            if d.get("max_abs_diff") is not None:
                worst = max(worst, d["max_abs_diff"])
            out["tensors"].append({"name": name, **d})
    out["max_abs_diff"] = worst
    for key in ("only_in_a", "only_in_b", "shape_mismatch", "dtype_mismatch"):
        if len(out[key]) > MAX_LISTED:
            out[key + "_total"] = len(out[key])
            out[key] = out[key][:MAX_LISTED]
    return out
