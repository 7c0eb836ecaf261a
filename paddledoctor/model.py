"""The report model: facts, findings and the JSON document that carries them.

Facts are plain JSON values (dicts, lists, strings, numbers, booleans) plus :class:`Unavailable`,
which stands where a fact could not be had and says why. Findings are judgements made by the pure
checks in :mod:`paddledoctor.checks`. A :class:`Report` is both, and round-trips through JSON so that
a recorded report can be re-diagnosed by a newer doctor (``check --from``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

# 2: `mode` is the kind of the document judged (a bench, inspect or fleet document given to check --from
# keeps its own; "from" is a machine's report only) and "pasted" is new; version 1 documents are read
# (see document_mode). The fields are described in docs/report.schema.json.
SCHEMA_VERSION = 2
# The reason of every fact a pasted environment text (``check --from issue.md``) does not give.
NOT_IN_PASTE = "not in the pasted text"


class Severity(str, enum.Enum):
    INFO = "info"
    WARN = "warn"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return {"info": 0, "warn": 1, "error": 2}[self.value]


@dataclass(frozen=True)
class Unavailable:
    """A fact that could not be gathered, and why ("NVML library not found", "timed out after 30 s")."""

    reason: str

    def __bool__(self) -> bool:  # so that `if facts.get(x):` treats it as missing
        return False

    def to_json(self) -> dict:
        return {"unavailable": self.reason}

    def __str__(self) -> str:  # in a sentence: "unknown (not in the pasted text)"
        return f"unknown ({self.reason})"


def is_available(value: Any) -> bool:
    return value is not None and not isinstance(value, Unavailable)


@dataclass
class Fix:
    """What to do about a finding: shell commands to run (in order) and/or a sentence."""

    commands: list[str] = field(default_factory=list)
    text: str = ""

    def to_json(self) -> dict:
        return {"commands": list(self.commands), "text": self.text}

    @classmethod
    def from_json(cls, data: dict) -> "Fix":
        return cls(commands=list(data.get("commands") or []), text=data.get("text") or "")


@dataclass
class Finding:
    code: str
    severity: Severity
    title: str
    evidence: dict = field(default_factory=dict)
    fix: Fix | None = None
    area: str = ""
    ignored: bool = False  # by the config file's `ignore = [...]`: kept, but not in the verdict

    def to_json(self) -> dict:
        doc = {
            "code": self.code,
            "severity": self.severity.value,
            "area": self.area,
            "title": self.title,
            "evidence": encode(self.evidence),
            "fix": self.fix.to_json() if self.fix else None,
        }
        if self.ignored:
            doc["ignored"] = True
        return doc

    @classmethod
    def from_json(cls, data: dict) -> "Finding":
        return cls(
            code=data["code"],
            severity=Severity(data["severity"]),
            title=data["title"],
            evidence=decode(data.get("evidence") or {}),
            fix=Fix.from_json(data["fix"]) if data.get("fix") else None,
            area=data.get("area", ""),
            ignored=bool(data.get("ignored", False)),
        )


@dataclass
class AreaResult:
    """One line of the report per area: what was checked, and how it went."""

    area: str
    status: str  # "ok", "info", "warn", "error" or "skipped"
    summary: str

    def to_json(self) -> dict:
        return {"area": self.area, "status": self.status, "summary": self.summary}


def status_of(findings) -> str:
    """"error", "warn" or "ok" for findings (Finding objects): the worst severity among those that
    count (the config file's ignored ones do not), as the verdict and the exit status judge them."""
    severities = {f.severity for f in findings if not f.ignored}
    return "error" if Severity.ERROR in severities else "warn" if Severity.WARN in severities else "ok"


@dataclass
class Report:
    facts: dict
    findings: list[Finding]
    areas: list[AreaResult]
    doctor_version: str
    mode: str  # "full", "quick", "from" (a machine's report re-diagnosed), "pasted" (facts read
    # from pasted environment text), "bench", "inspect", "fleet"
    options: dict = field(default_factory=dict)
    source: str = ""  # where the facts came from when mode == "from"
    schema_version: int = SCHEMA_VERSION

    @property
    def active(self) -> list[Finding]:
        """The findings that count: all but those the config file ignores."""
        return [f for f in self.findings if not f.ignored]

    @property
    def worst(self) -> Severity | None:
        if not self.active:
            return None
        return max((f.severity for f in self.active), key=lambda s: s.rank)

    @property
    def status(self) -> str:
        """"error", "warn" or "ok": the verdict in one word, for a table cell, a mark or a colour."""
        return status_of(self.findings)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.active if f.severity is severity)

    def exit_code(self, strict: bool = False) -> int:
        """0: nothing at error (warnings allowed unless strict); 1: at least one error."""
        worst = self.worst
        if worst is Severity.ERROR or (strict and worst is Severity.WARN):
            return 1
        return 0

    def verdict(self) -> str:
        """One line: what the report says, for the question its mode asks."""
        errors, warns = self.count(Severity.ERROR), self.count(Severity.WARN)
        if self.mode == "bench":
            if errors:
                return (f"Checkpoints on this machine are not safe as set up: {errors} error(s), "
                        f"{warns} warning(s).")
            return "Checkpoints round-trip exactly on this machine" + (
                f", with {warns} warning(s)." if warns else ".")
        if self.mode == "inspect":
            files = len(((self.facts.get("inspect") or {}).get("files")) or [])
            if errors:
                return f"{files} file(s) inspected: {errors} error(s), {warns} warning(s)."
            return f"{files} file(s) inspected" + (
                f", with {warns} warning(s)." if warns else ": no problem found.")
        if self.mode == "pasted":
            if errors:
                return (f"The pasted environment cannot train with PaddlePaddle as set up: {errors} "
                        f"error(s), {warns} warning(s) (from what the text shows).")
            return ("No problem found in what the pasted text shows" + (
                f", with {warns} warning(s)." if warns else ".")
                + " What it does not show was not checked.")
        if self.mode == "fleet":
            fleet = self.facts.get("fleet") if isinstance(self.facts.get("fleet"), dict) else {}
            ranks = fleet.get("world_size", "?")
            if errors:
                return (f"This job cannot train as set up: {errors} error(s), {warns} warning(s) "
                        f"across {ranks} rank(s).")
            if warns:
                return f"Every rank can train, with {warns} warning(s)."
            return f"Every rank can train ({ranks} rank(s))."
        if errors:
            return f"This machine cannot train with PaddlePaddle as set up: {errors} error(s), {warns} warning(s)."
        if warns:
            return f"This machine can train with PaddlePaddle, with {warns} warning(s)."
        return "This machine can train with PaddlePaddle."

    def to_json(self) -> dict:
        return {
            "schema_version": self.schema_version,
            "doctor_version": self.doctor_version,
            "mode": self.mode,
            "source": self.source,
            "options": self.options,
            "verdict": self.verdict(),
            "exit_code": self.exit_code(bool(self.options.get("strict"))),
            "areas": [a.to_json() for a in self.areas],
            "findings": [f.to_json() for f in self.findings],
            "facts": encode(self.facts),
        }


def encode(value: Any) -> Any:
    """Facts to plain JSON: Unavailable becomes {"unavailable": reason}."""
    if isinstance(value, Unavailable):
        return value.to_json()
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


def decode(value: Any) -> Any:
    """Plain JSON back to facts: a dict whose only key is "unavailable" becomes Unavailable."""
    if isinstance(value, dict):
        if set(value) == {"unavailable"} and isinstance(value["unavailable"], str):
            return Unavailable(value["unavailable"])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


# What each kind of document judges: a bench, inspect or fleet report carries its own facts alone and
# is re-diagnosed as what it is (its areas, its verdict), never as a machine with nothing installed.
DOCUMENT_AREAS = {"bench": ["bench"], "inspect": ["checkpoint"], "fleet": ["fleet"]}


def document_mode(doc: dict) -> "tuple[str, list | None]":
    """The mode and areas to re-diagnose a recorded document with: its own for a bench, inspect or
    fleet report; "from" and every area for a machine's (full, quick, or itself re-diagnosed)."""
    mode = doc.get("mode") if isinstance(doc, dict) else None
    if mode == "from" and doc.get("schema_version") == 1:
        mode = _kind_of_v1(doc.get("facts"))
    if mode in DOCUMENT_AREAS:
        return mode, list(DOCUMENT_AREAS[mode])
    return "from", None


def _kind_of_v1(facts) -> str:
    """Version 1 wrote mode "from" for any document re-diagnosed, a bench, inspect or fleet report
    included: such a document's facts hold that one part alone."""
    if isinstance(facts, dict) and len(facts) == 1 and next(iter(facts)) in DOCUMENT_AREAS:
        return next(iter(facts))
    return "from"


class ReportFormatError(ValueError):
    """A document that is not a paddledoctor report (for --from)."""


def facts_from_document(doc: Any) -> dict:
    """The facts of a recorded report, validated enough to re-run the checks on them."""
    if not isinstance(doc, dict) or "facts" not in doc or "schema_version" not in doc:
        raise ReportFormatError("not a paddledoctor report (no 'schema_version' and 'facts')")
    if not isinstance(doc["schema_version"], int) or doc["schema_version"] > SCHEMA_VERSION:
        raise ReportFormatError(
            f"report schema version {doc['schema_version']!r} is newer than this doctor reads "
            f"({SCHEMA_VERSION}); upgrade paddledoctor"
        )
    if not isinstance(doc["facts"], dict):
        raise ReportFormatError("the report's 'facts' is not an object")
    return decode(doc["facts"])
