"""Checks judge a report by the rules of the machine it came from, not of the one that reads it.

The Windows reports here are SYNTHESIZED from the synthesized Linux report gpu_build_ok_quick.json: its
host says Windows and its paths are the ones pip and importlib give on Windows (backslashes, a drive,
and importlib's spelling of the case differing from pip's)."""

from __future__ import annotations

import copy
import json

from conftest import SYNTHESIZED as FIXTURES, codes_of
from paddledoctor.doctor import diagnose
from paddledoctor.model import Unavailable, facts_from_document

SITE = r"C:\Users\me\AppData\Local\Programs\Python\Python311\Lib\site-packages"


def _recorded() -> dict:
    return facts_from_document(json.loads((FIXTURES / "gpu_build_ok_quick.json").read_text()))


def synthesized_windows_report(paddle_at: str) -> dict:
    facts = copy.deepcopy(_recorded())
    facts["host"]["os"] = {"system": "Windows", "release": "10", "machine": "AMD64",
                           "distribution": "Windows 10 Pro 22H2"}
    facts["paddle"]["location"] = paddle_at
    facts["paddle"]["origin"] = paddle_at + r"\__init__.py"
    for provider in facts["distributions"]["paddle_providers"]:
        provider["location"] = SITE.lower()  # pip's spelling; importlib keeps the folder's case
    return facts


def test_a_windows_report_read_on_linux_gets_no_false_shadowing_finding():
    facts = synthesized_windows_report(SITE + r"\paddle")
    assert "PD107" not in codes_of(diagnose(facts))


def test_a_windows_report_whose_paddle_is_shadowed_still_gets_it():
    facts = synthesized_windows_report(r"C:\work\myproject\paddle")
    report = diagnose(facts)
    assert "PD107" in codes_of(report)


def test_a_linux_report_is_still_judged_with_posix_paths():
    facts = copy.deepcopy(_recorded())
    assert "PD107" not in codes_of(diagnose(facts))
    facts["paddle"]["location"] = "/home/user/project/paddle"
    assert "PD107" in codes_of(diagnose(facts))


def _host_line(facts) -> str:
    return next(a.summary for a in diagnose(facts).areas if a.area == "host")


def test_cpu_flags_that_were_not_read_are_unknown_not_no_avx():
    facts = copy.deepcopy(_recorded())
    facts["host"]["cpu"]["flags"] = Unavailable("CPU flags are read from /proc/cpuinfo; this is darwin")
    line = _host_line(facts)
    assert "CPU flags unknown" in line and "no AVX" not in line
    facts["host"]["cpu"]["flags"] = {"avx": False, "avx2": False, "avx512f": False}
    assert "no AVX" in _host_line(facts)  # read, and absent: that is "no AVX"
    assert "PD401" in codes_of(diagnose(facts))
