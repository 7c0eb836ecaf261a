"""``paddledoctor explain LOG``: the known causes of the errors in a log, and whether this machine
still has them.

    from paddledoctor.explain import explain_log
    result = explain_log(open("train.log").read(), check=True)

The table of messages lives in :mod:`paddledoctor.knowledge.errors`; this module matches it against a
log and, with ``check=True``, against this machine's report: every matched code that ``check`` can
raise is looked for among its findings.
"""

from __future__ import annotations

import re

from dataclasses import dataclass

from . import codes
from .knowledge import errors
from .model import Report

# Codes whose problem lives in a file or a run, which `check` cannot see on the machine.
ELSEWHERE = {"bench": "a checkpoint round trip: `paddledoctor bench` reproduces it",
             "checkpoint": "a checkpoint file: `paddledoctor inspect FILE` examines it",
             "fleet": "the ranks of a distributed job: run `paddledoctor fleet` under "
                      "`python -m paddle.distributed.launch`"}
MAX_LOG_BYTES = 256 << 20  # a log larger than this is read from its last 256 MiB (where errors are)


@dataclass
class Explained:
    match: errors.Match
    status: str = ""   # with check: "present", "absent" or "elsewhere"
    detail: str = ""

    def to_json(self) -> dict:
        p = self.match.pattern
        out = {"id": p.id, "code": p.code, "line": self.match.line_number, "text": self.match.line,
               "count": self.match.count, "cause": p.cause, "fix": p.fix, "source": p.source}
        if self.status:
            out["on_this_machine"] = {"status": self.status, "detail": self.detail}
        return out


@dataclass
class Explanation:
    items: list[Explained]
    report: Report | None = None
    pasted: Report | None = None  # the checks on the environment text pasted in the log (#14)

    def exit_code(self) -> int:
        """Without a check: 0 when a known error was recognised, 1 when none was. With a check: 1
        when a recognised problem is still on this machine (or the check failed), else 0."""
        if self.report is None:
            return 0 if self.items or (self.pasted is not None and self.pasted.findings) else 1
        if any(i.status == "present" for i in self.items) or self.report.exit_code() == 1:
            return 1
        return 0

    def to_json(self) -> dict:
        out: dict = {"matches": [i.to_json() for i in self.items]}
        if self.report is not None:
            out["check"] = {"verdict": self.report.verdict(), "exit_code": self.report.exit_code(),
                            "findings": [f.to_json() for f in self.report.findings]}
        if self.pasted is not None:
            from .paste import header
            out["pasted"] = {"read": header(self.pasted.facts), "verdict": self.pasted.verdict(),
                             "findings": [f.to_json() for f in self.pasted.findings]}
        return out


def read_log(stream) -> str:
    """Text of a log from a binary stream: undecodable bytes replaced, at most the last 256 MiB."""
    data = stream.read(MAX_LOG_BYTES + 1)
    if len(data) > MAX_LOG_BYTES:
        tail = bytearray(data[-MAX_LOG_BYTES:])
        while True:  # keep reading, keeping only the tail
            more = stream.read(MAX_LOG_BYTES)
            if not more:
                break
            tail = (tail + more)[-MAX_LOG_BYTES:]
        data = bytes(tail)
    return decode_log(data)


_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def _looks_8bit(data: bytes) -> bool:
    """Bytes after what looks like a UTF-16 BOM that are really 8-bit text (a BOM-like pair of
    garbage before an ordinary log): almost no NULs, and mostly printable ASCII."""
    sample = data[:4096]
    if not sample or sample.count(0) > 0.05 * len(sample):
        return False
    printable = sum(1 for b in sample if 32 <= b < 127 or b in (9, 10, 13))
    return printable > 0.9 * len(sample)


def decode_log(data: bytes) -> str:
    """A log's bytes as users really produce them: UTF-16 LE/BE with or without BOM (PowerShell
    5's ``>``), UTF-8 with or without BOM, GBK/GB18030 (Chinese Windows consoles); CRLF and lone CR
    become line ends, ANSI colour and OSC sequences are removed."""
    if (data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff")) and not _looks_8bit(data[2:]):
        text = data.decode("utf-16", errors="replace")
    elif data.startswith(b"\xef\xbb\xbf"):
        text = data[3:].decode("utf-8", errors="replace")
    else:
        sample = data[:4096]
        # UTF-16 without BOM: every other byte of ASCII text is NUL
        if len(sample) >= 4 and sample[1::2].count(0) > 0.4 * len(sample[1::2]):
            text = data.decode("utf-16-le", errors="replace")
        elif len(sample) >= 4 and sample[0::2].count(0) > 0.4 * len(sample[0::2]):
            text = data.decode("utf-16-be", errors="replace")
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                try:  # cut mid-character at the end (a tail of a big log) is still UTF-8
                    text = data[:exc.start].decode("utf-8") + data[exc.start:].decode("utf-8", "replace") \
                        if exc.start > len(data) - 4 else data.decode("gb18030")
                except UnicodeDecodeError:
                    text = data.decode("utf-8", errors="replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _ANSI.sub("", text)


def judge(item: Explained, report: Report) -> None:
    code = item.match.pattern.code
    area = codes.get(code).area
    if area in ELSEWHERE:
        item.status, item.detail = "elsewhere", f"not a machine fact; it concerns {ELSEWHERE[area]}"
        return
    found = [f for f in report.findings if f.code == code]
    if found:
        item.status, item.detail = "present", f"{found[0].severity.value.upper()} {code}: {found[0].title}"
    else:
        item.status = "absent"
        item.detail = f"the check does not find {code} on this machine now" + (
            " (quick check: paddle was not imported)" if report.mode == "quick" else "")


def explain_log(text: str, check: bool = False, quick: bool = False,
                timeout: float = 60.0) -> Explanation:
    items = [Explained(m) for m in errors.scan(text)]
    pasted = pasted_report(text)
    report = None
    if check:
        from .doctor import check as run_check

        report = run_check(quick=quick, timeout=timeout)
        for item in items:
            judge(item, report)
    return Explanation(items, report, pasted)


def pasted_report(text: str, source: str = "the log") -> Report | None:
    """The checks on the environment facts pasted in the text (nvidia-smi, pip list, ...), or None
    when it holds none."""
    from .doctor import diagnose
    from .paste import read_paste

    pasted = read_paste(text)
    if not pasted.has_environment:
        return None
    return diagnose(pasted.facts, {}, mode="pasted", source=source)
