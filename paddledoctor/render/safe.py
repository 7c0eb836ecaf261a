"""Strings from a file, made safe for the output they go to.

A checkpoint from a stranger names its tensors, its metadata, its globals, even its own file
name; any of those can hold an escape sequence. Printed raw, ``ESC [2K ESC [1A`` erases the
"ERROR PD804" line above it and writes a fake all-clear, ``ESC ] 52`` writes the clipboard, and
U+202E reverses the text after it. Every renderer passes such strings through this module:

- :func:`terminal`: C0 and C1 control characters, DEL, the line and paragraph separators and the
  bidirectional overrides become visible escapes (``\\x1b``, ``\\u202e``), so the text stays on
  one line and readable, and nothing in it reaches the terminal as a control;
- :func:`markup`: the same, then rich's markup escape (rich's ``escape`` alone lets control
  characters through);
- :func:`markdown`: the same (a line break becomes a space), then the characters Markdown acts
  on in running text or a table cell (``<``, ``>``, ``&``, backticks, brackets of a link, pipes);
- :func:`dumps`: JSON with non-ASCII characters kept readable (``ensure_ascii=False``), but
  C1 controls, separators and bidi overrides written as ``\\uXXXX`` (``json.dumps`` escapes only
  the C0 controls); the document decodes the same.
"""

from __future__ import annotations

import json
import re
from typing import Any

# C0, DEL, C1; U+061C, U+200E/F marks; U+2028/9 separators; U+202A-E embeddings and overrides;
# U+2066-9 isolates
_CONTROL = "\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[{_CONTROL}]")
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal(value: Any) -> str:
    """``str(value)`` on one line with every control character shown as an escape."""
    return _UNSAFE.sub(_visible, str(value))


def markup(value: Any) -> str:
    """:func:`terminal`, then escaped for rich markup (a ``[bold]`` in a name stays text)."""
    from rich.markup import escape

    return escape(terminal(value))


def markdown(value: Any) -> str:
    """:func:`terminal`, then inert in Markdown running text and table cells: no HTML, no code
    span, no link, no cell boundary."""
    text = terminal(str(value).replace("\r", " ").replace("\n", " "))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char in "\\`[]|":
        text = text.replace(char, "\\" + char)
    return text


def dumps(document: Any, **options) -> str:
    """``json.dumps(document, ensure_ascii=False, **options)`` with the controls json leaves raw
    escaped, so printing it cannot drive a terminal."""
    dumped = json.dumps(document, ensure_ascii=False, **options)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)
