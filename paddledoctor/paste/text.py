"""Pasted text as it arrives in an issue, turned into plain lines the parsers can read.

What users wrap around a command's output: Markdown code fences (```` ``` ````, ```` ```bash ````,
``~~~``), ``>`` quote prefixes (replies quote the original post), CRLF, shell prompts (``$``, ``#``,
``(base) user@host:~$``, ``PS C:\\>``, ``C:\\Users\\me>``), Python prompts (``>>>``, ``...``),
Markdown list bullets and inline backticks, full-width colons (Chinese input methods write ``：``),
and Chinese prose around it all. Each :class:`Line` keeps its 1-based line number in the paste and
says whether it was a command the user typed (``command``) or output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FENCE = re.compile(r"^\s*(?:`{3,}|~{3,})[\w+-]*\s*$")
QUOTE = re.compile(r"^\s*>(?=\s|$)\s?")
# Shell prompts: "$ cmd", "# cmd" (root), "(env) user@host:~/dir$ cmd", "user@host:~# cmd",
# "[user@host dir]$ cmd", "PS C:\Users\me> cmd", "C:\Users\me>cmd", "(base) PS D:\x> cmd".
SHELL_PROMPT = re.compile(
    r"^\s*(?:\([\w.\-/ ]+\)\s*)?"
    r"(?:(?:[\w.\-]+@[\w.\-]+:[^$#\s]*\s?[$#])"
    r"|(?:\[[\w.\-]+@[\w.\-]+[^\]]*\]\s?[$#])"
    r"|(?:PS\s+[A-Za-z]:\\[^>]*>)"
    r"|(?:[A-Za-z]:\\[^>]*>)"
    r"|[$%])\s*(?P<cmd>\S.*)$")
PY_PROMPT = re.compile(r"^\s*(?:>>>|\.\.\.)(?:\s(?P<stmt>.*))?$")
BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)、])\s+(?=\S)")


@dataclass(frozen=True)
class Line:
    number: int        # 1-based, in the pasted text
    text: str          # cleaned: no quote prefix, no prompt, no trailing blanks
    command: str = ""  # the command typed at a shell or Python prompt on this line ("" for output)
    python: bool = False  # the command was typed at a Python prompt (>>>)


def normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    return text.replace("\u3000", " ").replace("\xa0", " ")


def lines(text: str) -> list[Line]:
    """The paste as cleaned lines; fences become empty lines (so blocks stay apart)."""
    out: list[Line] = []
    for number, raw in enumerate(normalise(text).split("\n"), 1):
        line = raw.rstrip()
        while QUOTE.match(line):
            line = QUOTE.sub("", line, count=1)
        if FENCE.match(line):
            out.append(Line(number, ""))
            continue
        py = PY_PROMPT.match(line)
        if py:
            stmt = (py.group("stmt") or "").strip()
            out.append(Line(number, stmt, command=stmt, python=True))
            continue
        sh = SHELL_PROMPT.match(line) if not line.lstrip().startswith("#!") else None
        if sh and _looks_like_command(sh.group("cmd")):
            cmd = sh.group("cmd").strip()
            out.append(Line(number, cmd, command=cmd))
            continue
        out.append(Line(number, line))
    return out


# A prompt-like line is a command only when the word after the prompt is one users run: "# Name
# Version Build Channel" (conda list's header) and "$ 500" in prose are not commands.
COMMANDS = re.compile(
    r"^(?:sudo\s+)?(?:nvidia-smi|nvcc|pip3?|python[\d.]*|py|conda|mamba|cat|lscpu|uname|lsb_release|"
    r"ldconfig|ls|echo|export|set|env|which|where|gcc|docker|wget|curl|apt|yum|dnf|cd|source|"
    r"hostnamectl|ver|systeminfo|Get-\w+|\.\\|\./)", re.IGNORECASE)


def _looks_like_command(cmd: str) -> bool:
    return bool(COMMANDS.match(cmd.strip()))


def strip_decoration(text: str) -> str:
    """A line's text without a Markdown bullet and inline backticks (``- `paddlepaddle 3.0.0` ``)."""
    text = BULLET.sub("", text)
    return text.replace("`", "").strip()
