"""Output is safe (#11, item 4): a string from a file (a tensor name, a global, a file name) never
reaches the terminal, Markdown or JSON as a control. The attack: a state-dict key that erases the
line above and writes a fake all-clear, an OSC 52 that writes the clipboard, a bidi override, and
a file NAME with an escape, in a real checkpoint written by paddle.save."""

from __future__ import annotations

import json
import subprocess
import sys

from inspect_support import run_inspect

from paddledoctor.render import markdown, safe
from paddledoctor.render.findings import finding_lines
from paddledoctor import report as report_module

ERASE_AND_LIE = "w\x1b[2K\x1b[1A\u2713 no problem found"
CLIPBOARD = "\x1b]52;c;ZWNobyBwd25lZA==\x07"
REVERSE = "\u202etxt.exe"
KEY = ERASE_AND_LIE + CLIPBOARD + REVERSE
WRITE = r"""
import sys, paddle
paddle.save({sys.argv[2]: paddle.ones([2]), "bias": paddle.zeros([1])}, sys.argv[1])
"""
CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e")


def _hostile_files(tmp_path):
    good = tmp_path / "ok\x1b[2Kname.pdparams"
    subprocess.run([sys.executable, "-c", WRITE, str(good), KEY], check=True, timeout=300,
                   capture_output=True)
    cut = tmp_path / "cut\x1b]52;c;aGk=\x07.pdparams"
    cut.write_bytes(good.read_bytes()[:-40])  # truncated: an ERROR the attack tries to erase
    evil = tmp_path / "evil.pdparams"  # a refused global whose name erases the line
    evil.write_bytes(b"\x80\x02cposix\x1b[2K\x1b[1A\nsystem\nX\x04\x00\x00\x00trueq\x00\x85R.")
    return good, cut, evil


def test_no_control_from_a_file_reaches_the_terminal(tmp_path):
    good, cut, evil = _hostile_files(tmp_path)
    # NO_COLOR and a pipe: rich itself writes no escape; wide, so the table does not wrap the name
    proc = run_inspect(good, cut, evil, env={"COLUMNS": "400"})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "Traceback" not in out
    for control in CONTROLS:
        assert control not in out, (control, out)
    # what the file said is still shown, as visible escapes, and the errors are still there
    assert "w\\x1b[2K\\x1b[1A\u2713 no problem found\\x1b]52;c;ZWNobyBwd25lZA==\\x07\\u202etxt.exe" in out
    assert "ok\\x1b[2Kname.pdparams" in out
    assert "ERROR PD801" in out and "ERROR PD804" in out
    assert "refuses global posix\\x1b[2K\\x1b[1A.system" in out


def test_json_escapes_every_control(tmp_path):
    good, cut, evil = _hostile_files(tmp_path)
    proc = run_inspect(good, cut, evil, "--json")
    for control in CONTROLS:
        assert control not in proc.stdout
    doc = json.loads(proc.stdout)  # and decodes to the file's own name
    names = [t["name"] for f in doc["facts"]["inspect"]["files"] for t in f.get("tensors") or []]
    assert KEY in names


def test_markdown_and_report_json_are_inert():
    title = f"{KEY} [click](http://evil.example) `code` a|b <b>"
    document = {"doctor_version": "0", "verdict": title, "exit_code": 1, "facts": {},
                "findings": [{"severity": "error", "code": "PD804", "title": title,
                              "fix": {"text": title, "commands": [f"echo {CLIPBOARD}"]}}],
                "areas": [{"area": "checkpoint", "status": "error", "summary": title}]}
    text = markdown.render(document)
    for control in CONTROLS:
        assert control not in text
    shown = text.split("<details>", 1)[0]  # the JSON after it is in a code block
    assert "[click](" not in shown and "\\[click\\](http://evil.example)" in shown
    assert "\\`code\\`" in shown and "a\\|b" in shown and "<b>" not in shown
    embedded = text.split("```json\n", 1)[1].split("\n```", 1)[0]
    assert json.loads(embedded) == document  # the JSON block decodes to the same document
    dumped = safe.dumps(document, indent=2)
    assert "\u202e" not in dumped and "\u2713" in dumped and json.loads(dumped) == document


def test_report_json_writes_no_raw_control():
    from paddledoctor.model import Finding, Report, Severity
    finding = Finding("PD804", Severity.ERROR, f"refuses global {KEY}\u0085", {"global": KEY})
    report = Report(facts={}, findings=[finding], areas=[], doctor_version="0", mode="inspect")
    text = report_module.render(report, "json", redacted=False)
    for control in CONTROLS + ("\x85",):
        assert control not in text
    assert json.loads(text)["findings"][0]["evidence"]["global"] == KEY
    lines = "\n".join(finding_lines(finding))  # logs and JUnit XML (where a control is invalid)
    for control in CONTROLS:
        assert control not in lines
