"""The bench's comparators shown a real wrong case (issue #12: a bit comparison that always answered
"identical" passed every test). A real `paddledoctor bench` on the real Paddle, with a test-only
fault at the load boundary (tests/fakes/faults/sitecustomize.py): paddle.load of a .pdparams file
returns its first floating tensor with one element one unit in the last place off. The doctor's
code is not touched; Paddle answers as it would on a machine whose disk or memory flips a bit."""

from __future__ import annotations

import json

import pytest

from conftest import FAKES, run_cli

FAULTS = FAKES / "faults"


@pytest.fixture(scope="module")
def corrupted(tmp_path_factory):
    where = tmp_path_factory.mktemp("bench-corrupt")
    proc = run_cli("bench", "--dir", str(where), "--size", "4MiB", "--json", pythonpath=[FAULTS],
                   env={"PADDLEDOCTOR_TEST_FAULT": "corrupt-load"}, timeout=600)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc, json.loads(proc.stdout)


def test_one_element_one_ulp_off_after_load_is_pd701(corrupted):
    proc, doc = corrupted
    assert proc.returncode == 1
    pd701 = [f for f in doc["findings"] if f["code"] == "PD701"]
    assert len(pd701) == 1, doc["findings"]
    assert pd701[0]["evidence"]["format"] == "dygraph"
    # exactly the corrupted tensor, as loaded and as set into the fresh model; nothing else
    diffs = pd701[0]["evidence"]["differences"]
    assert [d.split(": ")[0] for d in diffs] == ["pdparams[0.bias]", "fresh model[0.bias]"], diffs
    assert all(d.split(": ")[1].startswith("max abs diff ") and float(d.split()[-1]) > 0
               for d in diffs), diffs
    assert doc["facts"]["bench"]["dygraph"]["exact"] is False
    # the other formats do not go through paddle.load of a .pdparams: still exact
    for fmt in ("safetensors", "static", "inference", "jit"):
        assert doc["facts"]["bench"][fmt]["exact"] is True, fmt


def test_a_resume_from_the_corrupted_load_is_pd702(corrupted):
    proc, doc = corrupted
    r = doc["facts"]["bench"]["resume"]
    assert r["bitwise"] is False and 0 < r["max_abs_diff_params"] < 1e-6
    pd702 = [f for f in doc["findings"] if f["code"] == "PD702"]
    assert len(pd702) == 1 and "does not give the uninterrupted run's parameters" in pd702[0]["title"]
    assert doc["verdict"].startswith("Checkpoints on this machine are not safe as set up")
