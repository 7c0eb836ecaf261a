"""The Markdown report renders cleanly (checked by rendering it to HTML) and the JSON inside it
round-trips through `check --from`."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import markdown
import pytest
from conftest import SYNTHESIZED as FIXTURES, broken_paddle, codes_of, run_cli

from paddledoctor.doctor import check
from paddledoctor.render import markdown as md_render
from paddledoctor.report import document
from paddledoctor.report import render as render_report


class Html(HTMLParser):
    """The parts of the rendered HTML the tests look at."""

    def __init__(self):
        super().__init__()
        self.stack, self.tables, self.code, self.details, self.tags = [], [], [], 0, []
        self.errors = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "table":
            self.tables.append([])
        if tag == "tr" and self.tables:
            self.tables[-1].append([])
        if tag in ("td", "th") and self.tables:
            self.tables[-1][-1].append("")
        if tag == "details":
            self.details += 1
        if tag == "code":
            self.code.append("")
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass
        else:
            self.errors.append(f"stray </{tag}>")

    def handle_data(self, data):
        if "td" in self.stack or "th" in self.stack:
            self.tables[-1][-1][-1] += data
        if "code" in self.stack:
            self.code[-1] += data


def to_html(text: str) -> Html:
    html = markdown.markdown(text, extensions=["tables", "fenced_code", "md_in_html"])
    parser = Html()
    parser.feed(html)
    parser.close()
    return parser


@pytest.mark.parametrize("fixture", ["no_avx.json", "cudnn_mismatch.json",
                                     "import_sigill.json", "gpu_build_ok_a100.json"])
def test_recorded_reports_render_to_clean_html_with_the_json_inside(fixture, tmp_path):
    path = FIXTURES / fixture
    report = check(from_file=path)
    text = render_report(report, "markdown")
    html = to_html(text)
    assert not html.errors
    env = {row[0]: row[1] for row in html.tables[0][1:]}
    assert {"OS", "Python", "PaddlePaddle", "CUDA", "cuDNN", "NVIDIA driver", "GPUs", "CPU"} <= set(env)
    assert report.facts["paddle"] and env["PaddlePaddle"].split(",")[0] in text
    # the findings, each with its code
    for f in report.findings:
        assert f.code in text
    # the JSON block: exactly one, inside <details>, and it is the whole document
    assert html.details == 1
    blocks = [c for c in html.code if c.lstrip().startswith("{")]
    assert len(blocks) == 1
    doc = json.loads(blocks[0])
    assert doc == json.loads(json.dumps(document(report)))
    # ... which check --from reads back from the Markdown file itself, to the same diagnosis
    md = tmp_path / "report.md"
    md.write_text(text)
    again = check(from_file=md)
    assert codes_of(again) == codes_of(report)
    assert again.exit_code() == report.exit_code()


def test_table_cells_cannot_break_the_table():
    row = md_render.cell("a | b\nc <host> & d")
    assert "\n" not in row and "\\|" in row and "&lt;host&gt;" in row and "&amp;" in row
    html = to_html(f"| x | y |\n|---|---|\n| k | {row} |\n")
    assert html.tables[0][1] == ["k", "a | b c <host> & d"]


def test_backticks_in_facts_cannot_close_the_json_fence(tmp_path):
    report = check(from_file=FIXTURES / "no_avx.json")
    report.facts["host"]["os"]["distribution"] = "Evil ``` \n# heading"
    text = render_report(report, "markdown", redacted=False)
    html = to_html(text)
    blocks = [c for c in html.code if c.lstrip().startswith("{")]
    assert len(blocks) == 1
    assert json.loads(blocks[0])["facts"]["host"]["os"]["distribution"] == "Evil ``` \n# heading"


def test_report_of_this_machine_renders_and_round_trips(tmp_path):
    """The real thing, end to end: `paddledoctor report -o FILE` here, then `check --from FILE`."""
    out = tmp_path / "report.md"
    proc = run_cli("report", "-o", str(out), timeout=240)
    assert proc.returncode == 0, proc.stderr
    assert "report written to" in proc.stderr and proc.stdout == ""
    text = out.read_text()
    assert re.search(r"^\*\*✅ This machine can train with PaddlePaddle", text, re.M)
    html = to_html(text)
    assert not html.errors and html.details == 1
    rows = {r[0]: r[1] for r in html.tables[0][1:]}
    assert rows["PaddlePaddle"].startswith("3.") and "CPU build" in rows["PaddlePaddle"]
    assert "ok in" in rows["import paddle"]
    packages = {r[0] for r in html.tables[1][1:]}
    assert {"paddlepaddle", "numpy"} <= packages
    proc = run_cli("check", "--from", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["mode"] == "from"


def test_json_format_is_the_check_document_plus_redaction():
    proc = run_cli("report", "--quick", "--format", "json")
    check_proc = run_cli("check", "--quick", "--json")
    doc, check_doc = json.loads(proc.stdout), json.loads(check_proc.stdout)
    assert set(doc) == set(check_doc) | {"redaction"}
    assert doc["schema_version"] == check_doc["schema_version"]
    assert codes_of(doc) == codes_of(check_doc)


@pytest.mark.parametrize("args,message", [
    (["--from", "missing.json"], "cannot read"),
    (["--format", "pdf"], "Invalid value"),
    (["-o", "/nonexistent-dir/x/report.md", "--quick"], "cannot write"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    proc = run_cli("report", *args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_a_paddle_that_crashes_on_import_still_gets_a_report(tmp_path):
    """The user who most needs the report is the one whose Paddle is broken."""
    path, env = broken_paddle("segv")
    proc = run_cli("report", pythonpath=[path], env=env, timeout=240)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    html = to_html(proc.stdout)
    rows = {r[0]: r[1] for r in html.tables[0][1:]}
    assert rows["import paddle"].startswith("failed")
    assert "PD104" in proc.stdout


def test_the_markdown_mark_is_the_verdicts_own_status():
    """One verdict: the Markdown's mark comes from the findings that count, as the verdict line and
    the terminal's colour do. A warning the config ignores is no warning (it was ⚠️ beside "can
    train."), and a warning under --strict is still a warning (it was ❌ beside "can train, with 1
    warning(s).")."""
    ignored = check(from_file=FIXTURES / "low_disk.json", ignore=["PD404"])
    assert ignored.status == "ok" and ignored.verdict() == "This machine can train with PaddlePaddle."
    assert md_render.render(document(ignored)).splitlines()[2].startswith("**✅ ")

    strict = check(from_file=FIXTURES / "low_disk.json", strict=True)
    assert strict.status == "warn" and strict.exit_code(strict=True) == 1
    assert md_render.render(document(strict)).splitlines()[2].startswith("**⚠️ ")

    failing = check(from_file=FIXTURES / "op_hang_gpu.json")
    assert failing.status == "error"
    assert md_render.render(document(failing)).splitlines()[2].startswith("**❌ ")
