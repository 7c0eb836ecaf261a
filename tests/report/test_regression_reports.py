"""Reports written by earlier doctor versions (tests/fixtures/regression/, see its README) still read:
`check --from` of each gives the mode and the exact codes expected, and the document it prints follows
today's schema (docs/report.schema.json, checked by tests/codes_seen.py on every emitted document)."""

from __future__ import annotations

import json

import pytest

from conftest import REGRESSION, codes_of, run_json
from paddledoctor.model import SCHEMA_VERSION, document_mode

# file -> (the mode check --from judges it as, the codes it gives now); the README's table.
EXPECTED = {
    "9fa1d42/check-two-a100-cpu-build.json": ("from", {"PD101"}),
    "9fa1d42/check-quick-cpu-only.json": ("from", {"PD300"}),
    "973c2dc/check-two-a100-cpu-build.json": ("from", {"PD101"}),
    "973c2dc/bench-cpu-1mib.json": ("bench", {"PD708"}),
    "973c2dc/inspect-pdparams.json": ("inspect", {"PD807"}),
    "525dafb/bench-cpu-1mib.json": ("bench", {"PD708"}),
    # version 1 wrote mode "from" for a re-diagnosed bench document (with a false PD100): read now
    # as the bench document it is
    "525dafb/check-from-bench.json": ("bench", {"PD708"}),
}


def test_every_regression_fixture_is_expected_and_documented():
    files = {str(p.relative_to(REGRESSION)) for p in REGRESSION.glob("*/*.json")}
    assert files == set(EXPECTED)
    readme = (REGRESSION / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme for name in EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_an_old_report_is_re_diagnosed(name):
    mode, expected = EXPECTED[name]
    old = json.loads((REGRESSION / name).read_text(encoding="utf-8"))
    assert old["schema_version"] < SCHEMA_VERSION  # written by an earlier version
    proc, doc = run_json("check", "--from", str(REGRESSION / name))
    assert (doc["mode"], codes_of(doc)) == (mode, expected), proc.stderr
    assert doc["schema_version"] == SCHEMA_VERSION and doc["source"] == str(REGRESSION / name)
    assert proc.returncode == doc["exit_code"] == (1 if any(
        f["severity"] == "error" for f in doc["findings"]) else 0)
    assert "Traceback" not in proc.stderr


def test_version_1_from_document_is_read_by_its_facts():
    """Only a version 1 "from" document is read by the part its facts hold: a version 2 "from" is a
    machine's report, whatever its facts."""
    doc = json.loads((REGRESSION / "525dafb/check-from-bench.json").read_text(encoding="utf-8"))
    assert (doc["schema_version"], doc["mode"]) == (1, "from")
    assert document_mode(doc) == ("bench", ["bench"])
    assert document_mode({**doc, "schema_version": 2}) == ("from", None)
    machine = json.loads((REGRESSION / "9fa1d42/check-quick-cpu-only.json").read_text(encoding="utf-8"))
    assert document_mode({**machine, "mode": "from"}) == ("from", None)
