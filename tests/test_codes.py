"""The table of codes (paddledoctor/codes.py) and the pages (docs/codes/PDnnn.md) hold together:
every code has its page and every page its code, codes follow the group convention, every code the
source uses is in the table, and `paddledoctor explain` prints the pages."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from paddledoctor import codes, pages

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "docs" / "codes"
PACKAGE = ROOT / "paddledoctor"
HEADINGS = ("## What it checks", "## Why it matters", "## How to fix")
# The first digit of a code is its area (see the codes.py docstring).
GROUP = {"0": "doctor", "1": "paddle", "2": "cuda", "3": "gpu", "4": "host", "5": "ops",
         "6": "requirements", "7": "bench", "8": "checkpoint", "9": "fleet"}

ALL_CODES = sorted(codes.CODES)


def page_text(code: str) -> str:
    return (PAGES / f"{code}.md").read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    start = text.index(heading) + len(heading)
    nxt = text.find("\n## ", start)
    return text[start:nxt if nxt >= 0 else None]


def explain(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "paddledoctor", "explain", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


# --- the table ---------------------------------------------------------------------------------

def test_codes_are_unique_in_the_table():
    listed = [c.code for c in codes._TABLE]
    assert len(listed) == len(set(listed)), sorted(c for c in listed if listed.count(c) > 1)
    assert set(listed) == set(codes.CODES)


@pytest.mark.parametrize("code", ALL_CODES)
def test_code_follows_the_group_convention(code):
    entry = codes.CODES[code]
    assert re.fullmatch(r"PD\d{3}", code), code
    assert entry.code == code
    assert GROUP[code[2]] == entry.area, f"{code} is in area {entry.area!r}, its group is {GROUP[code[2]]!r}"
    assert entry.area in codes.AREAS and entry.area in codes.AREA_TITLES
    assert entry.title and not entry.title.endswith(".")
    assert re.fullmatch(r"\d+\.\d+\.\d+", entry.since)


def test_every_code_literal_in_the_source_is_in_the_table():
    used = {}
    for path in PACKAGE.rglob("*.py"):
        for match in re.findall(r'"(PD\d{3})"', path.read_text(encoding="utf-8")):
            used.setdefault(match, []).append(str(path.relative_to(ROOT)))
    assert used, "no code literal found: the pattern or the layout changed"
    unknown = {c: where for c, where in used.items() if c not in codes.CODES}
    assert not unknown, f"codes used but not in paddledoctor/codes.py: {unknown}"


def test_get_names_an_unknown_code():
    with pytest.raises(KeyError, match="PD999"):
        codes.get("PD999")


# --- the pages ---------------------------------------------------------------------------------

@pytest.mark.parametrize("code", ALL_CODES)
def test_every_code_has_a_page(code):
    assert (PAGES / f"{code}.md").is_file(), f"docs/codes/{code}.md is missing"


def test_every_page_is_a_code_in_the_table():
    names = [p.name for p in PAGES.iterdir() if p.name != "zh"]
    assert names, "docs/codes/ is empty"
    strays = [n for n in names if not n.endswith(".md") or n[:-3] not in codes.CODES]
    assert not strays, f"pages without a code in paddledoctor/codes.py: {strays}"


def test_every_chinese_page_is_a_code_with_its_english_page():
    """docs/codes/zh/PDnnn.md: the Chinese page of a code, same headings and code as the English."""
    for page in (PAGES / "zh").glob("*"):
        assert page.suffix == ".md" and page.stem in codes.CODES, f"stray Chinese page {page.name}"
        text = page.read_text(encoding="utf-8")
        assert text.startswith(f"# {page.stem}: "), page.name
        if "short form, written by tools/zh_pages.py" in text:  # title, severity, fix commands, link
            assert f"explain {page.stem}" in text and "严重性：" in text, page.name
            continue
        assert text.count("\n## ") >= 4 and "```sh" in text, page.name
        assert re.search(rf"^(ERROR|WARN|INFO) {page.stem} ", text, re.M), page.name


@pytest.mark.parametrize("code", ALL_CODES)
def test_page_shape(code):
    entry = codes.CODES[code]
    text = page_text(code)
    first, _, rest = text.partition("\n")
    assert first == f"# {code}: {entry.title}"
    positions = []
    for heading in HEADINGS:
        assert re.search(rf"^{re.escape(heading)}$", text, re.M), f"{code}: no '{heading}'"
        positions.append(text.index(heading))
    assert positions == sorted(positions), f"{code}: headings out of order"
    for heading in HEADINGS:
        assert section(text, heading).strip(), f"{code}: '{heading}' is empty"
    assert text.count("```") % 2 == 0, f"{code}: an unclosed code fence"


@pytest.mark.parametrize("code", ALL_CODES)
def test_page_states_the_tables_severity_area_and_version(code):
    entry = codes.CODES[code]
    line = next((ln for ln in page_text(code).splitlines() if ln.startswith("Severity: ")), None)
    assert line, f"{code}: no 'Severity: …' line"
    assert line.startswith(f"Severity: {entry.severity.value}"), line
    assert f"Area: {entry.area}" in line and f"Since: {entry.since}" in line, line


@pytest.mark.parametrize("code", ALL_CODES)
def test_page_fix_has_something_to_run_and_example_shows_the_code(code):
    text = page_text(code)
    assert "```sh" in section(text, "## How to fix"), f"{code}: no ```sh block in How to fix"
    assert "## Example" in text
    assert re.search(rf"^(ERROR|WARN|INFO) {code} ", section(text, "## Example"), re.M), \
        f"{code}: the example does not show a '{code}' finding as `check` prints it"


def test_pages_refer_only_to_codes_in_the_table():
    for code in ALL_CODES:
        unknown = set(re.findall(r"PD\d{3}", page_text(code))) - set(codes.CODES)
        assert not unknown, f"{code}.md refers to unknown codes {sorted(unknown)}"


# --- paddledoctor explain ----------------------------------------------------------------------

def test_pages_module_reads_the_page_not_the_fallback():
    text = pages.page("PD101")
    assert text == page_text("PD101")
    assert "the page is not installed" not in text


def test_explain_prints_the_page():
    result = explain("PD101")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"# PD101: {codes.CODES['PD101'].title}\n")
    assert result.stdout.strip() == page_text("PD101").strip()


def test_explain_is_case_insensitive():
    lower, upper = explain("pd101"), explain("PD101")
    assert lower.returncode == 0, lower.stderr
    assert lower.stdout == upper.stdout


def test_explain_unknown_code_is_a_usage_error_without_traceback():
    result = explain("PD999")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert "PD999" in errors[0]
