"""The report as JUnit XML for CI systems: one test case per check area of the report (Host, Paddle
install, ...). An area with an ``error`` finding fails; with ``strict`` a ``warn`` fails too; other
findings are kept in the test case's output. Built with the standard library's ElementTree, which
escapes every text and attribute."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

from .. import codes
from ..model import Finding, Report, Severity
from .findings import finding_lines


def _finding_text(f: Finding) -> str:
    return "\n".join(finding_lines(f))


def to_xml(report: Report, strict: bool = False, seconds: float | None = None) -> bytes:
    failing = {Severity.ERROR} | ({Severity.WARN} if strict else set())
    suite = ET.Element("testsuite", name="paddledoctor")
    props = ET.SubElement(suite, "properties")
    for name, value in (("doctor_version", report.doctor_version), ("mode", report.mode),
                        ("verdict", report.verdict())):
        ET.SubElement(props, "property", name=name, value=str(value))
    tests = failures = skipped = 0
    for area in report.areas:
        tests += 1
        title = codes.AREA_TITLES.get(area.area, area.area)
        case = ET.SubElement(suite, "testcase", classname=f"paddledoctor.{area.area}", name=title,
                             time="0")
        in_area = [f for f in report.findings if f.area == area.area]
        bad = [f for f in in_area if f.severity in failing]
        if bad:
            failures += 1
            first = bad[0]
            failure = ET.SubElement(case, "failure", type=first.code,
                                    message=f"{first.code} {first.title}")
            failure.text = "\n\n".join(_finding_text(f) for f in bad)
        elif area.status == "skipped":
            skipped += 1
            ET.SubElement(case, "skipped", message=area.summary)
        out = [area.summary] + [_finding_text(f) for f in in_area if f not in bad]
        ET.SubElement(case, "system-out").text = "\n".join(t for t in out if t)
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    suite.set("time", f"{seconds:.3f}" if seconds is not None else "0")
    root = ET.Element("testsuites", name="paddledoctor", tests=str(tests), failures=str(failures),
                      errors="0")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def write(report: Report, path: str | os.PathLike, strict: bool = False,
          seconds: float | None = None) -> None:
    """Write the XML atomically (a CI reads the file only once it is whole)."""
    data = to_xml(report, strict, seconds)
    tmp = f"{os.fspath(path)}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
