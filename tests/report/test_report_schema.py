"""docs/report.schema.json documents every field of `check --json`, and can fail.

Every document the suite emits is validated against it by tests/codes_seen.py (in process:
Report.to_json; out of process: a doctor's JSON on stdout); these tests hold the schema itself to
the document: every field described, every field the model writes in the schema, wrong documents
rejected."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest

from conftest import ROOT, SYNTHESIZED, run_json
from paddledoctor import codes, doctor
from paddledoctor.model import SCHEMA_VERSION

SCHEMA = json.loads((ROOT / "docs" / "report.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def _properties(node, path="#"):
    """Every (path, schema) of a named property, recursively."""
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            yield f"{path}/{name}", sub
        for key, sub in node.items():
            if key != "properties":
                yield from _properties(sub, f"{path}/{key}")
        for name, sub in (node.get("properties") or {}).items():
            yield from _properties(sub, f"{path}/{name}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from _properties(sub, f"{path}/{i}")


def test_the_schema_is_a_valid_schema_and_every_field_is_described():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    undescribed = sorted({p for p, sub in _properties(SCHEMA)
                          if not (isinstance(sub, dict) and sub.get("description"))})
    assert not undescribed


def test_the_schema_names_this_version_and_the_code_table():
    assert SCHEMA["properties"]["schema_version"]["enum"] == [SCHEMA_VERSION]
    areas = SCHEMA["$defs"]["area"]["properties"]["area"]["enum"]
    assert areas == codes.AREAS
    assert SCHEMA["$defs"]["finding"]["properties"]["area"]["enum"] == [""] + codes.AREAS


@pytest.fixture(scope="module")
def machine_document():
    return doctor.check(from_file=SYNTHESIZED / "driver_too_old.json").to_json()


def test_every_field_the_model_writes_is_in_the_schema(machine_document):
    doc = machine_document
    assert set(doc) == set(SCHEMA["required"])
    # redaction: report --format json only; translations: --json under another language only
    assert set(SCHEMA["properties"]) - set(doc) == {"redaction", "translations"}
    assert set(doc["options"]) <= set(SCHEMA["properties"]["options"]["properties"])
    assert set(doc["facts"]) <= set(SCHEMA["properties"]["facts"]["properties"])
    finding = next(f for f in doc["findings"] if f["fix"])
    assert set(finding) == set(SCHEMA["$defs"]["finding"]["required"])
    assert set(finding["fix"]) == set(SCHEMA["$defs"]["finding"]["properties"]["fix"]["oneOf"][1]["required"])


def test_a_real_run_follows_the_schema():
    proc, doc = run_json("check", "--quick")
    assert not list(VALIDATOR.iter_errors(doc)), proc.stderr
    assert set(doc["facts"]) <= set(SCHEMA["properties"]["facts"]["properties"])


WRONG = {
    "no code": lambda d: d["findings"][0].pop("code"),
    "a code out of the pattern": lambda d: d["findings"][0].__setitem__("code", "PD12"),
    "a severity unknown": lambda d: d["findings"][0].__setitem__("severity", "fatal"),
    "an area status unknown": lambda d: d["areas"][0].__setitem__("status", "passed"),
    "an older schema version": lambda d: d.__setitem__("schema_version", 1),
    "a field not documented": lambda d: d.__setitem__("judgement", "fine"),
    "an exit code of 2": lambda d: d.__setitem__("exit_code", 2),
    "a mode unknown": lambda d: d.__setitem__("mode", "machine"),
    "a fix without commands": lambda d: d["findings"][0].__setitem__("fix", {"text": "do it"}),
    "an unavailable fact with a number": lambda d: d["facts"].__setitem__("nvml", {"unavailable": 3}),
    "no verdict": lambda d: d.pop("verdict"),
}


@pytest.mark.parametrize("wrong", sorted(WRONG))
def test_a_wrong_document_is_rejected(machine_document, wrong):
    doc = copy.deepcopy(machine_document)
    assert not list(VALIDATOR.iter_errors(doc))
    WRONG[wrong](doc)
    assert list(VALIDATOR.iter_errors(doc)), wrong
