"""`--help` in the chosen language: a click help formatter that translates the headings, the help
texts of the commands (paragraph by paragraph, as tools/i18n.py extracts them) and the help of each
option, at the moment the help is written. Option names, metavars and defaults stay as they are."""

from __future__ import annotations

import re

import click

from . import language, tr

# click's own words (it marks them for gettext's default domain, which ships no Chinese); listed for
# tools/i18n.py, which puts them in the catalog
HEADINGS = ("Usage:", "Options", "Commands", "Arguments")
DEFAULT = re.compile(r"^(.*?)((?:\s+\[[^\]]*\])*)$", re.DOTALL)  # "help  [default: 60.0]"


def _paragraphs(text: str) -> str:
    """Each paragraph rewrapped into one line, translated; click keeps "\\b" blocks as they are."""
    out = []
    for para in re.split(r"\n\s*\n", text):
        if para.lstrip().startswith("\b"):
            out.append(para)
            continue
        one = " ".join(para.split())
        done = tr(one)
        out.append(done if done != one else para)
    return "\n\n".join(out)


def _short(text: str) -> str:
    """A command's one-line help in the list of commands: click cuts the first sentence with
    '...'; the whole sentence is what the catalog knows."""
    from . import catalog

    if text.endswith("...") and language() != "en":
        head = text[:-3]
        for english, chinese in catalog(language()).exact.items():
            if english.startswith(head):
                return chinese.split("。")[0] + "。" if "。" in chinese else chinese
    return _paragraphs(text)


class TranslatedFormatter(click.HelpFormatter):
    def write_usage(self, prog, args="", prefix=None):
        if prefix is None and language() != "en":
            prefix = tr("Usage:") + " "
        super().write_usage(prog, args, prefix)

    def write_heading(self, heading):
        super().write_heading(tr(heading))

    def write_text(self, text):
        super().write_text(_paragraphs(text) if language() != "en" else text)

    def write_dl(self, rows, col_max=30, col_spacing=2):
        if language() != "en":
            translated = []
            for first, second in rows:
                m = DEFAULT.match(second or "")
                body, suffix = (m.group(1), m.group(2)) if m else (second, "")
                translated.append((first, _short(body) + suffix if body else second))
            rows = translated
        super().write_dl(rows, col_max, col_spacing)


class TranslatedContext(click.Context):
    formatter_class = TranslatedFormatter
