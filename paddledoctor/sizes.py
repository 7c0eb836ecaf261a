"""Sizes, read and written one way everywhere: ``--size``, ``--sizes``, ``min-free-disk`` and every
size the doctor prints.

Reading: a bare letter is binary, as in ``dd``, ``ulimit``, ``free -g``, ``df -h`` (whose ``100G``
is 100 GiB), Docker's ``--shm-size`` and Java's ``-Xmx``: ``512m`` is 512 MiB, ``100g`` 100 GiB.
The SI forms stay SI, as disk vendors and ``df -H`` write them: ``100GB`` is 10^9 bytes, and the
IEC forms are binary: ``20GiB`` is 2^30 bytes. Case does not matter; a number alone is bytes.

Writing: binary units with one decimal, dropped when it is zero (``12 B``, ``64 MiB``,
``1.5 GiB``, ``76 GiB``). Standard library only.
"""

from __future__ import annotations

import re
from typing import Any

UNITS = {
    "": 1, "b": 1,
    "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40,
    "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
    "kb": 10 ** 3, "mb": 10 ** 6, "gb": 10 ** 9, "tb": 10 ** 12,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*$")
_SHOWN = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
# One template per unit, written out: the Chinese catalog holds them, so that a size inside a
# sentence reads as a value and the sentence around it is still translated (i18n).
_SHOWN_AS = {"KiB": lambda n: f"{n} KiB", "MiB": lambda n: f"{n} MiB", "GiB": lambda n: f"{n} GiB",
             "TiB": lambda n: f"{n} TiB", "PiB": lambda n: f"{n} PiB"}


class SizeError(ValueError):
    """Not a size: the message is one sentence naming the value and how to write one."""


def parse_size(value: Any, what: str = "size") -> int:
    """Bytes in a size written as above (or a number of bytes); SizeError for anything else."""
    if isinstance(value, bool):
        raise SizeError(f"{what}: expected a size such as '20GiB', got {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise SizeError(f"{what}: a size cannot be negative ({value!r})")
        return int(value)
    if not isinstance(value, str):
        raise SizeError(f"{what}: expected a size such as '20GiB', got {value!r}")
    match = _SIZE.match(value)
    unit = match.group(2).lower() if match else None
    if not match or unit not in UNITS:
        raise SizeError(f"{what}: {value!r} is not a size; write it like 20GiB, 500MiB or 100GB")
    return int(float(match.group(1)) * UNITS[unit])


def format_size(n: Any) -> str:
    """Bytes for a person; "?" for what is not a number (a fact that was not measured)."""
    if isinstance(n, bool) or not isinstance(n, (int, float)):
        return "?"
    value, unit = float(n), 0
    while abs(round(value, 1)) >= 1024 and unit < len(_SHOWN) - 1:
        value /= 1024
        unit += 1
    if unit == 0:
        return f"{n:.0f} B"
    text = f"{value:.1f}"
    return _SHOWN_AS[_SHOWN[unit]](text[:-2] if text.endswith(".0") else text)
