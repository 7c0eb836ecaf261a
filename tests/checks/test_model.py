"""paddledoctor.model: the report's JSON round trip, Unavailable, exit codes; and the checks' promise
that odd facts never crash the doctor."""

from __future__ import annotations

import json

import pytest

from paddledoctor import checks
from paddledoctor.doctor import diagnose, load_report_facts
from paddledoctor.model import (SCHEMA_VERSION, Finding, Fix, Report, ReportFormatError, Severity,
                                Unavailable, decode, encode, facts_from_document, is_available)

from conftest import FIXTURES, SYNTHESIZED

FIXTURES_OK = SYNTHESIZED / "gpu_build_ok_a100.json"

ROUND_TRIP = ["gpu_build_ok_a100", "driver_too_old", "op_hang_gpu", "import_sigill",
              "hidden_gpus", "gpu_build_no_gpu"]


def findings_json(report: Report) -> list[dict]:
    return [f.to_json() for f in report.findings]


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_report_json_round_trip(name):
    facts = load_report_facts(SYNTHESIZED / f"{name}.json")
    report = diagnose(facts, {"strict": False})
    doc = json.loads(json.dumps(report.to_json()))
    facts2 = facts_from_document(doc)
    assert facts2 == facts
    report2 = diagnose(facts2, {"strict": False})
    assert findings_json(report2) == findings_json(report)
    assert [a.to_json() for a in report2.areas] == [a.to_json() for a in report.areas]
    assert report2.verdict() == report.verdict() and report2.exit_code() == report.exit_code()
    # Findings themselves survive their JSON.
    assert [Finding.from_json(f) for f in doc["findings"]] == report.findings


def test_unavailable_encodes_and_decodes():
    u = Unavailable("NVML library not found")
    assert not u and not is_available(u) and not is_available(None) and is_available(0)
    assert encode(u) == {"unavailable": "NVML library not found"}
    facts = {"nvml": u, "host": {"flags": [Unavailable("x"), 1], "ok": True}, "t": (1, 2)}
    plain = encode(facts)
    assert plain == {"nvml": {"unavailable": "NVML library not found"},
                     "host": {"flags": [{"unavailable": "x"}, 1], "ok": True}, "t": [1, 2]}
    assert decode(json.loads(json.dumps(plain))) == {**facts, "t": [1, 2]}
    # Only a dict whose one key is "unavailable" with a reason is an Unavailable.
    assert decode({"unavailable": "x", "other": 1}) == {"unavailable": "x", "other": 1}
    assert decode({"unavailable": 5}) == {"unavailable": 5}
    assert encode(Severity.WARN) == "warn"


@pytest.mark.parametrize("doc, message", [
    ([1, 2], "not a paddledoctor report"),
    ({"facts": {}}, "not a paddledoctor report"),
    ({"schema_version": 1}, "not a paddledoctor report"),
    ({"schema_version": SCHEMA_VERSION + 1, "facts": {}}, "newer"),
    ({"schema_version": "1", "facts": {}}, "upgrade"),
    ({"schema_version": 1, "facts": []}, "not an object"),
])
def test_facts_from_document_rejects(doc, message):
    with pytest.raises(ReportFormatError, match=message):
        facts_from_document(doc)


def test_facts_from_document_accepts_older_schema():
    assert facts_from_document({"schema_version": 0, "facts": {"runtime": {"unavailable": "x"}}}) == {
        "runtime": Unavailable("x")}


def test_load_report_facts(tmp_path):
    doc = json.loads((SYNTHESIZED / "driver_too_old.json").read_text())
    md = tmp_path / "report.md"
    md.write_text("# Support report\n\nsome text\n\n```json\n" + json.dumps(doc) + "\n```\n")
    assert load_report_facts(md) == load_report_facts(SYNTHESIZED / "driver_too_old.json")
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    with pytest.raises(ReportFormatError, match="neither"):
        load_report_facts(bad)
    with pytest.raises(ReportFormatError, match="directory"):
        load_report_facts(tmp_path)
    with pytest.raises(ReportFormatError, match="cannot read"):
        load_report_facts(tmp_path / "missing.json")
    binary = tmp_path / "weights.bin"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(ReportFormatError):
        load_report_facts(binary)


def report_with(*severities: Severity, strict: bool = False) -> Report:
    findings = [Finding(code="PD001", severity=s, title=f"t{i}") for i, s in enumerate(severities)]
    return Report(facts={}, findings=findings, areas=[], doctor_version="0", mode="from",
                  options={"strict": strict})


def test_exit_code_and_strict():
    assert report_with().exit_code() == 0 and report_with().exit_code(strict=True) == 0
    assert report_with(Severity.INFO).exit_code(strict=True) == 0
    assert report_with(Severity.WARN).exit_code() == 0
    assert report_with(Severity.WARN).exit_code(strict=True) == 1
    assert report_with(Severity.WARN, Severity.ERROR).exit_code() == 1
    assert report_with(Severity.WARN).to_json()["exit_code"] == 0
    assert report_with(Severity.WARN, strict=True).to_json()["exit_code"] == 1
    assert report_with(Severity.INFO, Severity.ERROR).worst is Severity.ERROR
    assert "can train" in report_with(Severity.INFO).verdict()
    assert "1 warning" in report_with(Severity.WARN).verdict()
    assert "cannot train" in report_with(Severity.ERROR).verdict()


def test_fix_and_finding_json():
    f = Finding(code="PD201", severity=Severity.WARN, title="t", evidence={"x": Unavailable("y")},
                fix=Fix(["a", "b"], "text"), area="cuda")
    doc = json.loads(json.dumps(f.to_json()))
    assert doc["evidence"] == {"x": {"unavailable": "y"}}
    assert Finding.from_json(doc) == f
    assert Finding.from_json({"code": "PD001", "severity": "info", "title": "t"}).fix is None


GARBAGE = [
    {},
    {"host": 5, "nvml": "x"},
    {"host": [], "distributions": "y", "paddle": 3, "cuda_libs": None, "runtime": [1], "doctor": 7},
    {"host": {"cpu": "x", "memory": [], "disk": 3, "shm": {"total": "big"}, "os": 1, "python": 2,
              "env": "CUDA_VISIBLE_DEVICES=0"},
     "nvml": {"status": "ok", "gpus": "x", "gpu_count": "2", "driver_version": 535},
     "runtime": {"import": "y", "ops": [1, None, {"device": None}], "devices": {"gpu_count": "1"}},
     "paddle": {"found": True, "version_file": {"full_version": 3, "compiled_cuda_archs": ["x"],
                                               "cuda_version": 12.6, "cudnn_version": []}},
     "distributions": {"paddle_providers": [{"nope": 1}, "paddle"], "packages": {"nvidia-cudnn": 1}},
     "cuda_libs": {"cudnn": [1], "nccl": "x"}},
    {"nvml": {"status": "ok", "gpu_count": 2, "driver_version": "550.54.14",
              "gpus": [{"index": 0, "compute_capability": 8.0, "memory": 1, "processes": "x"}, 7]},
     "paddle": {"found": True, "version_file": {"full_version": "3.3.1", "cuda_version": "12.6",
                                               "cudnn_version": "9.x", "compiled_cuda_archs": [80]}},
     "runtime": {"import": {"ok": True}, "devices": {"cudnn_runtime": "90501", "gpu_count": 0}}},
]


@pytest.mark.parametrize("facts", GARBAGE)
def test_odd_facts_never_crash(facts):
    findings, areas = checks.run(facts, {"min_gpus": 2})
    assert all(isinstance(f, Finding) for f in findings)
    report = diagnose(facts, {"min_gpus": 2})
    json.dumps(report.to_json())  # still a writable report
    report.verdict()
    # No check and no summary crashed, and no probe is said to have failed: the report is odd,
    # not the machine's probes (PD003 says what was set aside).
    crashed = [(f.code, f.title, f.evidence) for f in report.findings if f.code in ("PD001", "PD002")]
    assert crashed == []
    assert not [a for a in report.areas if "summary failed" in a.summary], report.areas
    if facts:
        assert "PD003" in {f.code for f in findings}


def test_every_recorded_fixture_is_in_the_shape_the_checks_read():
    """No false PD003 on reports the doctor wrote (the shape describes what the probes write)."""
    from paddledoctor.checks.shape import conform
    paths = sorted(FIXTURES.glob("*/*.json")) + sorted(FIXTURES.glob("*/*/*.json"))
    assert len(paths) >= 20
    for path in paths:
        try:
            facts = load_report_facts(path)
        except Exception:  # noqa: BLE001 - not a report (e.g. a binaries table)
            continue
        assert "not_understood" not in (conform(facts).get("doctor") or {}), (path.name, conform(facts)["doctor"])


def test_this_machines_facts_are_in_that_shape():
    from paddledoctor.checks.shape import conform
    from paddledoctor.doctor import collect_facts
    facts = collect_facts(quick=True)
    assert "not_understood" not in conform(facts)["doctor"]
    assert conform(facts) == {**facts, "doctor": conform(facts)["doctor"]}


def test_a_crashing_check_becomes_pd002_an_error(monkeypatch):
    checks.run({})  # registers the checks

    def explodes(facts, options):
        raise KeyError("compute_capability")
        yield  # a generator, as checks are

    monkeypatch.setattr(checks, "CHECKS", checks.CHECKS + [("gpu", explodes)])
    facts = load_report_facts(SYNTHESIZED / "driver_too_old.json")
    report = diagnose(facts)
    crash = [f for f in report.findings if f.code == "PD002"]
    assert len(crash) == 1
    assert crash[0].severity is Severity.ERROR and "explodes" in crash[0].title
    assert crash[0].evidence == {"check": "explodes", "area": "gpu",
                                 "error": "KeyError: 'compute_capability'"}
    # The other checks still ran, and the pre-flight does not pass.
    assert "PD201" in {f.code for f in report.findings}
    assert report.exit_code() == 1


def test_a_crash_on_a_clean_machine_fails_the_check(monkeypatch):
    """A machine that would pass does not pass when a check could not judge it."""
    checks.run({})

    def explodes(facts, options):
        raise ValueError("odd")
        yield

    facts = load_report_facts(FIXTURES_OK)
    assert diagnose(facts).exit_code() == 0
    monkeypatch.setattr(checks, "CHECKS", checks.CHECKS + [("cuda", explodes)])
    report = diagnose(facts)
    assert report.exit_code() == 1 and [f.code for f in report.findings if f.severity is Severity.ERROR] == ["PD002"]
    cuda = next(a for a in report.areas if a.area == "cuda")
    assert cuda.status == "error"


def test_a_summary_that_fails_is_not_shown_as_passing(monkeypatch):
    checks.run({})

    def broken(facts, options):
        raise TypeError("summary bug")

    monkeypatch.setitem(checks.SUMMARIES, "host", broken)
    report = diagnose(load_report_facts(FIXTURES_OK))
    host = next(a for a in report.areas if a.area == "host")
    assert host.status == "error" and "summary failed: TypeError: summary bug" in host.summary
    assert [f.code for f in report.findings if f.severity is Severity.ERROR] == ["PD002"]
    assert report.exit_code() == 1
