"""The page of each finding code (docs/codes/PDnnn.md), for `paddledoctor explain PDnnn`.

The pages live in docs/codes/ at the top of the source tree (the Chinese ones in docs/codes/zh/); a
built wheel carries them as paddledoctor/_pages (see setup.py). Both places are tried. A language
without its own page of a code gets the English one.
"""

from __future__ import annotations

from pathlib import Path

from . import codes

_HERE = Path(__file__).resolve().parent
PLACES = (_HERE / "_pages", _HERE.parent / "docs" / "codes")


def page(code: str, lang: str = "en") -> str:
    folders = [place / lang for place in PLACES] if lang != "en" else []
    for place in folders + list(PLACES):
        path = place / f"{code}.md"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    entry = codes.get(code)
    return f"# {entry.code}: {entry.title}\n\n(severity {entry.severity.value}; the page is not installed)\n"
