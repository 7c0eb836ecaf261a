"""The support report: the check's facts and findings, redacted, as Markdown or JSON.

    import paddledoctor.report as r
    text = r.support_report(fmt="markdown")     # what `paddledoctor report` prints

The JSON form is the same document as ``check --json`` (one schema), redacted unless asked not to
be; the Markdown form embeds that document, so ``check --from report.md`` re-diagnoses it.
"""

from __future__ import annotations

import json
import os

from .model import Report
from .render import markdown
from .redaction import NOT_REDACTED, Redactor, redact

FORMATS = ("markdown", "json")


def document(report: Report, redacted: bool = True, redactor: Redactor | None = None) -> dict:
    doc = report.to_json()
    if redacted:
        return redact(doc, redactor)
    doc["redaction"] = dict(NOT_REDACTED)
    return doc


def render(report: Report, fmt: str = "markdown", redacted: bool = True,
           redactor: Redactor | None = None) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    doc = document(report, redacted, redactor)
    if fmt == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    return markdown.render(doc)


def support_report(fmt: str = "markdown", redacted: bool = True, quick: bool = False,
                   timeout: float = 60.0, bench: bool = False,
                   from_file: str | os.PathLike | None = None) -> tuple[str, Report]:
    """Check this machine (or re-diagnose a recorded report) and render the support report."""
    from .doctor import check

    report = check(quick=quick, timeout=timeout, bench=bench, from_file=from_file)
    return render(report, fmt, redacted), report
