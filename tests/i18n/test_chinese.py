"""The doctor in Chinese (issue #17): the catalog is complete, the check of a simulated GPU machine
with the CPU build is all Chinese with the same install command, English stays byte for byte what
it was, --json stays English, a real Chinese ticket is explained in Chinese, and the columns of a
real terminal line up."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import doctor_env, nvml_machine

ROOT = Path(__file__).resolve().parents[2]
TICKETS = ROOT / "tests" / "explain" / "tickets"
CJK = re.compile(r"[\u4e00-\u9fff]")


def doctor(*args, lang_env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    env = doctor_env(nvml_machine(), extra={"PADDLEDOCTOR_CONFIG": "none", **(lang_env or {})})
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "PADDLEDOCTOR_LANG"):
        if not lang_env or var not in lang_env:
            env.pop(var, None)
    return subprocess.run([sys.executable, "-m", "paddledoctor", *args], capture_output=True,
                          text=True, env=env, timeout=300, **kw)


def test_every_message_has_a_chinese_entry_with_the_same_placeholders():
    """A ratchet: the messages still untranslated are listed in untranslated.txt (656 of 1,283 at
    the first landing: the outputs of bench, fleet, explain's patterns and the pasted-text parsers);
    a new message without a zh entry, or an entry whose placeholders differ, fails. Translate one and
    remove its line."""
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "i18n.py"), "check"],
                         capture_output=True, text=True, timeout=120)
    known = set((Path(__file__).parent / "untranslated.txt").read_text(encoding="utf-8").splitlines())
    problems = [line for line in run.stdout.splitlines() if line.startswith("zh: ")]
    missing = {re.sub(r"^zh: missing: [^:]+:\d+: ", "", line) for line in problems if line.startswith("zh: missing")}
    others = [line for line in problems if not line.startswith("zh: missing")]
    assert not others, others
    assert missing <= known, sorted(missing - known)[:20]


def test_every_code_has_a_chinese_page_and_explain_shows_it():
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "zh_pages.py"), "--check"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout
    zh = doctor("explain", "PD101", lang_env={"LANG": "zh_CN.UTF-8"})
    assert zh.returncode == 0 and zh.stdout.startswith("# PD101: ") and CJK.search(zh.stdout)
    en = doctor("explain", "PD101")
    assert en.stdout.startswith("# PD101: CPU build of PaddlePaddle")


@pytest.fixture(scope="module")
def quick_runs():
    return {"en": doctor("check", "--quick"), "zh": doctor("check", "--quick", lang_env={"LANG": "zh_CN.UTF-8"}),
            "json": doctor("check", "--quick", "--json", lang_env={"LANG": "zh_CN.UTF-8"})}


def test_the_chinese_check_is_chinese_with_the_same_install_command(quick_runs):
    zh, doc = quick_runs["zh"].stdout, json.loads(quick_runs["json"].stdout)
    pd101 = next(f for f in doc["findings"] if f["code"] == "PD101")
    for command in pd101["fix"]["commands"]:
        assert f"$ {command}" in zh
    assert "错误 PD101" in zh and "飞桨" in zh and "无法用飞桨训练" in zh
    # every line with English words in it is a command, a code, a name or a number: no sentence
    for line in zh.splitlines():
        words = re.findall(r"\b[a-z]{4,}\b", line)
        if line.strip().startswith("$") or not words:
            continue
        assert CJK.search(line), f"an English line in the Chinese output: {line!r}"
    # an English list in English brackets, "(cc 8.0, 80 GiB)", is a sentence the catalog missed
    for line in zh.splitlines():
        if not line.strip().startswith("$"):
            assert not re.search(r"\([^()]*, [^()]*\)", line), f"an English list: {line!r}"


def test_json_stays_english_whatever_the_language(quick_runs):
    doc = json.loads(quick_runs["json"].stdout)
    assert not CJK.search(json.dumps([f["title"] for f in doc["findings"]], ensure_ascii=False))


def test_english_is_unchanged_when_no_language_is_chosen(quick_runs):
    en = quick_runs["en"].stdout
    assert not CJK.search(en)
    assert "ERROR PD101 CPU build of PaddlePaddle 3.3.1 on a machine with 2 NVIDIA GPU(s)" in en
    again = doctor("--lang", "en", "check", "--quick", lang_env={"LANG": "zh_CN.UTF-8"}).stdout
    # the host line holds free memory and disk, which move between two runs
    steady = lambda text: [line for line in text.splitlines() if "RAM free" not in line]  # noqa: E731
    assert steady(again) == steady(en)


def test_a_wrong_language_is_one_line_and_exit_2():
    run = doctor("check", "--quick", lang_env={"PADDLEDOCTOR_LANG": "fr"})
    assert run.returncode == 2 and "fr" in run.stderr and "Traceback" not in run.stderr


def test_a_real_chinese_ticket_is_explained_in_chinese():
    manifest = json.loads((TICKETS / "manifest.json").read_text(encoding="utf-8"))["tickets"]
    ticket = next(t for t in manifest if t["language"] == "zh" and t["expected"] == "PD101"
                  and (TICKETS / f"{t['id']}.txt").exists()) if any(
        t["language"] == "zh" and t["expected"] == "PD101" for t in manifest) else next(
        t for t in manifest if t["language"] == "zh" and t["expected"])
    run = doctor("explain", str(TICKETS / f"{ticket['id']}.txt"), lang_env={"LANG": "zh_CN.UTF-8"})
    assert ticket["expected"] in run.stdout and CJK.search(run.stdout.replace(ticket["expected"], ""))


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed here")
def test_columns_line_up_in_a_real_chinese_terminal(tmp_path):
    """fleet's table of ranks is the doctor's table; rich measures CJK as two columns, so in a real
    terminal every row's separators stand in the same columns."""
    from rich.cells import cell_len
    env = doctor_env(nvml_machine(), extra={"PADDLEDOCTOR_CONFIG": "none", "LANG": "zh_CN.UTF-8"})
    env.pop("NO_COLOR", None)
    session = f"pd{os.getpid()}"
    cmd = f"{sys.executable} -m paddledoctor codes; sleep 30"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "200", cmd],
                   env=env, check=True)
    try:
        text = ""
        for _ in range(100):
            time.sleep(0.3)
            text = subprocess.run(["tmux", "capture-pane", "-p", "-t", session, "-S", "0"],
                                  capture_output=True, text=True).stdout
            if "PD9" in text:
                break
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    rows = [line for line in text.splitlines() if re.match(r"\s*PD\d{3}", line)]
    assert len(rows) > 50 and any(CJK.search(r) for r in rows), text[:2000]
    # the column after the code starts at the same cell for every row
    starts = {cell_len(r[:r.index(m.group(0))]) for r in rows for m in [re.search(r"PD\d{3}\s+(\S)", r)]}
    assert len(starts) == 1, starts
    seconds = set()
    for r in rows:
        parts = re.split(r"\s{2,}", r.strip())
        if len(parts) >= 3:
            seconds.add(cell_len(r[:r.index(parts[2], len(parts[0]) + len(parts[1]))]))
    assert len(seconds) == 1, seconds


@pytest.mark.parametrize("ticket, said", [
    ("paddle-55050", "从粘贴的文本中读到：环境信息块（Python 3.11，OS Mac）。文本中没有：NVIDIA 显卡驱动和 GPU（nvidia-smi），"),
    ("paddledetection-5664", "显卡驱动版本（显卡驱动 512.15）"),
])
def test_what_explain_read_from_a_real_paste_is_said_in_chinese(ticket, said):
    """The line of what a paste held is built from pieces: a sentence's head with its list ("Not in
    the text: a, b, c"), items with their own list in parentheses, an item holding a comma ("memory,
    disk and /dev/shm"). Each piece is translated, none is cut at the wrong comma."""
    run = doctor("explain", str(TICKETS / f"{ticket}.txt"), lang_env={"LANG": "zh_CN.UTF-8"})
    line = next(line for line in run.stdout.splitlines() if line.startswith("从粘贴的文本中读到"))
    assert said in line and line.endswith("内存、磁盘和 /dev/shm"), line
    assert not re.search(r"\b(Not in the text|read from|driver version|environment block)\b", line), line
