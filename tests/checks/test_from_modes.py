"""One meaning per document: `check --from` re-diagnoses a bench, inspect or fleet report as what it is
(its areas, its verdict, its exit code), never as a machine where nothing is installed (issue #12:
`check --from bench.json` added a false PD100 and a machine verdict; a subset assertion hid it).

Each document here is written by a real run of the doctor (bench on the real Paddle; inspect of a
real paddle.save file); the fleet document is a cluster report as `paddledoctor fleet` records it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import run_cli

from paddledoctor.doctor import diagnose
from paddledoctor.model import DOCUMENT_AREAS, Report, document_mode


def essence(doc: dict) -> dict:
    """What a re-diagnosis must give back exactly."""
    return {"mode": doc["mode"], "verdict": doc["verdict"], "exit_code": doc["exit_code"],
            "areas": [a["area"] for a in doc["areas"]],
            "findings": sorted((f["code"], f["severity"], f["title"]) for f in doc["findings"])}


def redo(tmp_path, doc: dict, *args: str) -> "tuple[subprocess.CompletedProcess, dict]":
    saved = tmp_path / f"{doc['mode']}.json"
    saved.write_text(json.dumps(doc))
    proc = run_cli("check", "--from", str(saved), "--json", *args, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc, json.loads(proc.stdout)


@pytest.fixture(scope="module")
def bench_doc(tmp_path_factory) -> dict:
    where = tmp_path_factory.mktemp("bench-from")
    proc = run_cli("bench", "--dir", str(where), "--size", "2MiB", "--json", timeout=600)
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def inspect_doc(tmp_path_factory) -> dict:
    where = tmp_path_factory.mktemp("inspect-from")
    code = ("import sys, numpy as np, paddle; w = np.ones([2, 3], 'float32'); w[0, 0] = np.inf; "
            "paddle.save({'linear_0.w_0': paddle.to_tensor(w)}, sys.argv[1])")
    subprocess.run([sys.executable, "-c", code, str(where / "m.pdparams")], check=True,
                   capture_output=True, timeout=300)
    proc = run_cli("inspect", str(where / "m.pdparams"), "--stats", "--json", timeout=120)
    return json.loads(proc.stdout)


def test_a_bench_report_is_re_diagnosed_as_a_bench_report(bench_doc, tmp_path):
    assert bench_doc["mode"] == "bench"
    proc, again = redo(tmp_path, bench_doc)
    assert essence(again) == essence(bench_doc)
    assert "PD100" not in {f["code"] for f in again["findings"]}  # the facts hold no install
    assert again["verdict"].startswith("Checkpoints ")
    assert again["source"].endswith("bench.json") and proc.returncode == bench_doc["exit_code"]


def test_an_inspect_report_is_re_diagnosed_as_an_inspect_report(inspect_doc, tmp_path):
    assert inspect_doc["mode"] == "inspect"
    assert {f["code"] for f in inspect_doc["findings"]} == {"PD807"}
    proc, again = redo(tmp_path, inspect_doc)
    assert essence(again) == essence(inspect_doc)
    assert again["verdict"] == "1 file(s) inspected, with 1 warning(s)."  # PD807 is a warning
    assert proc.returncode == 0


def test_a_fleet_report_is_re_diagnosed_as_a_fleet_report(tmp_path):
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fleet"))
    from test_fleet_checks import cluster, rank  # a cluster report's facts as fleet records them
    facts = cluster([rank(0), rank(1)], all_reduce={"ok": False, "elements": 4099,
                                                    "wrong_elements": 1, "head": [3, 5, 2],
                                                    "expected_head": [3, 5, 2]})
    doc = diagnose(facts, {}, mode="fleet", areas=["fleet"]).to_json()
    assert doc["verdict"].startswith("This job cannot train as set up")
    proc, again = redo(tmp_path, doc)
    assert essence(again) == essence(doc)
    assert [f["code"] for f in again["findings"]] == ["PD901"]


def test_a_machine_report_is_re_diagnosed_as_a_machine(tmp_path):
    from conftest import SYNTHESIZED
    doc = json.loads((SYNTHESIZED / "driver_too_old.json").read_text())
    proc, again = redo(tmp_path, doc)
    assert again["mode"] == "from" and again["verdict"].startswith("This machine cannot train")
    assert [a["area"] for a in again["areas"]][:2] == ["host", "paddle"]


def test_one_verdict_implementation_serves_every_mode():
    """The fleet's table prints Report.verdict(); every mode's verdict comes from there."""
    from paddledoctor.fleet import table
    for mode in ("full", "quick", "from", *DOCUMENT_AREAS):
        r = Report(facts={"fleet": {"world_size": 2}, "inspect": {"files": []}}, findings=[],
                   areas=[], doctor_version="x", mode=mode)
        assert table.verdict(r) == r.verdict()
    assert document_mode({"mode": "quick"}) == ("from", None)
    assert document_mode({"mode": "bench"}) == ("bench", ["bench"])
    assert document_mode({}) == ("from", None)
