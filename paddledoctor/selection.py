"""Which findings a run shows: ``check --only AREA|CODE``, ``--skip AREA|CODE`` and the config
file's ``ignore = ["PD306", ...]``.

- ``only``: keep the findings of these areas or codes (and only these areas' lines);
- ``skip``: drop the findings of these areas or codes (and these areas' lines);
- ``ignore``: keep the findings, marked ``ignored`` (the JSON still has them), out of the verdict and
  the exit code.

Values are area names (``host``, ``paddle``, ``gpu``, ``cuda``, ...) or codes (``PD402``), given
repeated or comma-separated.
"""

from __future__ import annotations

import re
from typing import Iterable

from . import codes


class SelectionError(ValueError):
    """An area or code that does not exist."""


def split(values: "Iterable[str] | str | None") -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    out = []
    for v in values:
        out.extend(x.strip() for x in str(v).split(",") if x.strip())
    return out


def parse(values, what: str = "--only") -> tuple[set, set]:
    """(areas, codes) named by ``values``; SelectionError on a name that is neither."""
    areas, named = set(), set()
    for v in split(values):
        if re.fullmatch(r"(?i)PD\d{3}", v):
            code = v.upper()
            if code not in codes.CODES:
                raise SelectionError(f"{what}: unknown code {code} (`paddledoctor codes` lists them)")
            named.add(code)
        elif v.lower() in codes.AREAS:
            areas.add(v.lower())
        else:
            raise SelectionError(f"{what}: {v!r} is neither an area ({', '.join(codes.AREAS)}) "
                                 "nor a code such as PD402")
    return areas, named


def selects(finding_code: str, finding_area: str, areas: set, named: set) -> bool:
    return finding_code in named or finding_area in areas


def apply(findings: list, options: dict) -> list:
    """The findings with --only/--skip applied and ``ignore`` marked (options as check() records
    them: lists of areas and codes)."""
    only_a, only_c = parse(options.get("only"))
    skip_a, skip_c = parse(options.get("skip"), "--skip")
    _, ignore = parse(options.get("ignore"), "ignore")
    out = []
    for f in findings:
        if (only_a or only_c) and not selects(f.code, f.area, only_a, only_c):
            continue
        if selects(f.code, f.area, skip_a, skip_c):
            continue
        if f.code in ignore:
            f.ignored = True
        out.append(f)
    return out


def areas_shown(options: dict) -> "set[str] | None":
    """The area lines a run shows (None: all)."""
    only_a, only_c = parse(options.get("only"))
    skip_a, _ = parse(options.get("skip"), "--skip")
    if not (only_a or only_c or skip_a):
        return None
    shown = (only_a | {codes.CODES[c].area for c in only_c}) if (only_a or only_c) else set(codes.AREAS)
    return shown - skip_a
