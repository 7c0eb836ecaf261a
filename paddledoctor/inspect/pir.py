"""PIR programs (``.json``, what ``save_inference_model``/``jit.save`` write under PIR): the
parameter ops ("p", or "builtin.parameter") with their names, shapes and dtypes."""

from __future__ import annotations

from .dtypes import PIR


def is_pir(doc: object) -> bool:
    return (isinstance(doc, dict) and isinstance(doc.get("base_code"), dict)
            and doc["base_code"].get("magic") == "pir")


def parameters(doc: dict) -> list[dict]:
    """Sorted by name, as save_inference_model writes them into the .pdiparams."""
    found: dict[str, dict] = {}
    program = doc.get("program")
    regions = program.get("regions", []) if isinstance(program, dict) else []
    todo = [(r, 0) for r in regions if isinstance(r, dict)]
    while todo:
        region, depth = todo.pop()
        if depth > 32:
            continue
        for block in region.get("blocks", []) or []:
            if not isinstance(block, dict):
                continue
            for op in block.get("ops", []) or []:
                if not isinstance(op, dict):
                    continue
                for sub in op.get("regions", []) or []:
                    if isinstance(sub, dict):
                        todo.append((sub, depth + 1))
                if op.get("#") not in ("p", "builtin.parameter"):
                    continue
                names = [a for a in (op.get("A") or []) if isinstance(a, str)]
                out = op.get("O")
                out = out[0] if isinstance(out, list) and out else out
                if not names or not isinstance(out, dict):
                    continue
                dtype, shape = _type(out.get("TT"))
                found.setdefault(names[-1], {"name": names[-1], "shape": shape, "dtype": dtype})
    return [found[k] for k in sorted(found)]


def _type(tt: object) -> tuple[str, list]:
    if not isinstance(tt, dict) or not isinstance(tt.get("D"), list) or len(tt["D"]) < 2:
        return "unknown", []
    inner, dims = tt["D"][0], tt["D"][1]
    tag = inner.get("#", "") if isinstance(inner, dict) else ""
    tag = tag.split(".", 1)[-1]
    shape = [d for d in dims if isinstance(d, int)] if isinstance(dims, list) else []
    return PIR.get(tag, tag or "unknown"), shape
