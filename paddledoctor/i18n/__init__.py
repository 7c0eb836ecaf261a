"""The doctor in its user's language (issue #17).

Everything the doctor computes stays English: findings, summaries, verdicts, the JSON document, the
logs, what ``check --from`` reads back. Only a renderer translates, at the moment it prints, with
:func:`tr`: the English text is looked up in the chosen language's gettext catalog
(``i18n/locale/<lang>/LC_MESSAGES/paddledoctor.mo``, compiled by ``tools/i18n.py``). A catalog entry is
either a whole text or a template of one with ``{named}`` values (``"NVML stopped answering:
{incomplete}"``): the text is matched against the template, each value is itself translated when it
is a known text, and the translation is filled with them. Commands, codes, paths and numbers are
values and come through as they are.

Why at print time rather than a message object made in each check: the checks, the JSON and every
test keep seeing one English str; English output cannot change; and a string another branch adds to a
check is found by the extractor (which reads the source's f-strings) without anyone marking it.

The language: ``--lang``, then ``PADDLEDOCTOR_LANG``, then the first of ``LC_ALL``, ``LC_MESSAGES``,
``LANG`` that is set (``zh...`` is Chinese), else English.
"""

from __future__ import annotations

import gettext
import os
import re
import string
from functools import lru_cache
from pathlib import Path

LANGUAGES = ("en", "zh")
ENV = "PADDLEDOCTOR_LANG"
LOCALE_VARS = ("LC_ALL", "LC_MESSAGES", "LANG")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "paddledoctor"
LABEL = "label"  # the msgctxt of evidence labels
DEPTH = 4  # how deep values inside values are translated
VERBATIM = {"c", "cmd", "command", "commands", "path", "source", "line"}  # values never translated

_chosen = {"lang": None}


class LanguageError(ValueError):
    """A language the doctor does not speak (``--lang fr``, ``PADDLEDOCTOR_LANG=fr``)."""


def normalise(value: str, origin: str) -> str:
    """``zh``, ``zh_CN``, ``zh-Hans``, ``en_US.UTF-8`` ... to a language of LANGUAGES."""
    low = value.strip().lower()
    for lang in LANGUAGES:
        if low == lang or re.match(rf"{lang}([_.@-]|$)", low):
            return lang
    raise LanguageError(f"{origin}={value}: paddledoctor speaks {' or '.join(LANGUAGES)}")


def choose(flag: "str | None" = None, environ=None) -> str:
    """The language of this run, by the rule in the module docstring."""
    environ = os.environ if environ is None else environ
    if flag:
        return normalise(flag, "--lang")
    if environ.get(ENV):
        return normalise(environ[ENV], ENV)
    for var in LOCALE_VARS:  # POSIX: the first one set decides
        value = environ.get(var)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def set_language(lang: "str | None") -> None:
    _chosen["lang"] = lang


def language() -> str:
    """The chosen language; chosen from the environment when nothing set it."""
    if _chosen["lang"] is None:
        try:
            _chosen["lang"] = choose()
        except LanguageError:
            _chosen["lang"] = "en"  # the CLI reports a bad PADDLEDOCTOR_LANG; a library call is quiet
    return _chosen["lang"]


def tr(text, lang: "str | None" = None):
    """``text`` in the chosen language (``lang`` or :func:`language`); a non-str or an unknown
    text comes back as it is."""
    lang = lang or language()
    if lang == "en" or not isinstance(text, str) or not text:
        return text
    return catalog(lang).translate(text)


def label(key: str, lang: "str | None" = None) -> str:
    """An evidence label (a JSON key of a finding's evidence) as shown to a person."""
    lang = lang or language()
    if lang == "en":
        return key
    return catalog(lang).labels.get(key, key)


def _unbrace(text: str) -> str:
    return text.replace("{{", "{").replace("}}", "}")


class Template:
    """One catalog entry with values: its English as a regular expression. A value at either end
    of the text (no literal word on that side) never spans a ", " or "; ": there it would swallow
    the neighbours of a list ("{free} disk free" is the last part of the host line, not all of it)."""

    def __init__(self, msgid: str, msgstr: str):
        parsed = list(string.Formatter().parse(msgid))
        pattern, names, anchor = [], [], ""
        for i, (literal, field, _, _) in enumerate(parsed):
            pattern.append(re.escape(literal))
            if len(literal) > len(anchor):
                anchor = literal
            if field is None:
                continue
            at_edge = (i == 0 and not literal) or (i == len(parsed) - 1)
            if field in names:
                pattern.append(f"(?P={field})")
            else:
                pattern.append(f"(?P<{field}>(?:(?!, |; ).)*?)" if at_edge else f"(?P<{field}>.*?)")
            names.append(field)
        self.regex = re.compile("".join(pattern), re.DOTALL)
        self.anchor = anchor  # the longest literal: a text without it cannot match
        self.ends_literal = bool(parsed) and parsed[-1][1] is None and bool(parsed[-1][0])
        self.weight = len(PLACEHOLDER.sub("", msgid))
        self.msgstr = msgstr


PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_]*\}")
SEPARATORS = ((", ", "，"), ("; ", "；"))


class Catalog:
    """A language's entries: whole texts, templates (most literal text first: the most specific
    wins), and evidence labels.

    A text is translated as the first of: a whole entry; a template that matches all of it; a
    template that matches its beginning, the rest translated in turn (a sentence the source builds
    from pieces); its parts around "; " or ", " (a list the source joins). Values are translated
    the same way; what matches nothing stays as it is."""

    def __init__(self, entries: dict):
        self.exact, self.labels, templates = {}, {}, []
        for key, value in entries.items():
            if not key or not value:
                continue
            context, _, msgid = key.rpartition("\x04")
            if context == LABEL:
                self.labels[msgid] = value
            elif PLACEHOLDER.search(msgid):
                templates.append(Template(msgid, value))
            else:
                self.exact[_unbrace(msgid)] = _unbrace(value)
        self.templates = sorted(templates, key=lambda t: -t.weight)
        self._seen: dict = {}

    def translate(self, text: str, depth: int = 0) -> str:
        return self._translate(text, depth)[0]

    def _translate(self, text: str, depth: int) -> "tuple[str, bool]":
        """(the translation, whether the catalog knew any of it)."""
        key = (text, depth)
        if key not in self._seen:
            self._seen[key] = self._find(text, depth)
        return self._seen[key]

    def _fill(self, t: Template, m, depth: int) -> str:
        values = {k: (self.translate(v, depth + 1) if depth < DEPTH and v and k not in VERBATIM else v)
                  for k, v in m.groupdict().items()}
        return t.msgstr.format(**values)

    def _find(self, text: str, depth: int) -> "tuple[str, bool]":
        hit = self.exact.get(text)
        if hit is not None:
            return hit, True
        if depth > DEPTH:
            return text, False
        candidates = [t for t in self.templates if t.anchor in text]
        for t in candidates:
            m = t.regex.fullmatch(text)
            if m:
                return self._fill(t, m, depth), True
        head_exact = [(e, z) for e, z in self.exact.items() if len(e) > 8 and text.startswith(e)]
        for english, chinese in sorted(head_exact, key=lambda p: -len(p[0])):
            rest, known = self._translate(text[len(english):], depth + 1)
            if known:
                return chinese + rest, True
        for t in candidates:
            if not t.ends_literal:
                continue
            m = t.regex.match(text)
            if m and 0 < m.end() < len(text):
                rest, known = self._translate(text[m.end():], depth + 1)
                if known:
                    return self._fill(t, m, depth) + rest, True
        for english, chinese in SEPARATORS:
            parts = text.split(english)
            if len(parts) > 1:
                done = [self._translate(p, depth + 1) for p in parts]
                if any(known for _, known in done):
                    return chinese.join(p for p, _ in done), True
        return text, False


@lru_cache(maxsize=None)
def catalog(lang: str) -> Catalog:
    """The compiled catalog of a language (empty when it is not installed)."""
    found = gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[lang], fallback=True)
    # GNUTranslations keeps every entry of the .mo in _catalog (context entries as "ctx\x04id")
    return Catalog(dict(getattr(found, "_catalog", {}) or {}))


def translations(doc: dict, lang: "str | None" = None) -> "dict | None":
    """The texts of a report document in another language, for the field ``--json`` adds next to
    the English (which stays as it is): verdict, each area's title and summary, each finding's
    title, fix text and evidence labels, in the document's order."""
    lang = lang or language()
    if lang == "en":
        return None
    from .. import codes
    return {
        "lang": lang,
        "verdict": tr(doc.get("verdict"), lang),
        "areas": [{"area": a.get("area"), "title": tr(codes.AREA_TITLES.get(a.get("area"), a.get("area")), lang),
                   "summary": tr(a.get("summary"), lang)} for a in doc.get("areas") or []],
        "findings": [{"code": f.get("code"), "title": tr(f.get("title"), lang),
                      "fix": tr((f.get("fix") or {}).get("text"), lang) or None,
                      "evidence_labels": {k: label(k, lang) for k in (f.get("evidence") or {})}}
                     for f in doc.get("findings") or []],
    }


def console(file=None, **options):
    """A rich Console whose print() puts each text it is given into the chosen language, for the
    renderers that print English sentences with markup (bench, inspect): the markup is part of the
    catalog's entry, the values in it come through as they are."""
    from rich.console import Console

    class TranslatingConsole(Console):
        def print(self, *objects, **kwargs):
            super().print(*(tr(o) if isinstance(o, str) else o for o in objects), **kwargs)

    return TranslatingConsole(file=file, **options)


def width(text: str) -> int:
    """The columns a text takes at a terminal (a CJK character takes two)."""
    from rich.cells import cell_len

    return cell_len(text)


def ljust(text: str, columns: int) -> str:
    """``text`` padded with spaces to ``columns`` terminal columns (str.ljust counts characters)."""
    return text + " " * max(0, columns - width(text))
