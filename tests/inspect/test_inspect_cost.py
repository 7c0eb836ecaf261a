"""Bounded cost for any input (#11, item 3): hostile files of a few KB to a few hundred KB
(hostile_cost.py, synthesized) each end in a bounded verdict (PD831 over budget, or a clean
corrupt/refused/ok) well within the per-file budget, as a subprocess with a generous deadline, and
the child's peak resident memory stays under the 512 MiB budget plus the interpreter's own.
Error messages quote hostile values shortened, never their full repr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading

import pytest

import hostile_cost
from inspect_support import ROOT

from paddledoctor.inspect import budget

DEADLINE = 6 * budget.TIME_S          # generous: the budget stops a reading at 30 s
OK = set()                              # a clean verdict: no finding
EXPECTED = {
    "synth_shared_tuple_key.pdparams": {"PD831"},
    "synth_shared_tuple_set.pdparams": {"PD831"},
    "synth_shared_tuple_ordereddict.pdparams": {"PD831"},
    "synth_laughs_numpy_dtype.pdparams": {"PD801"},
    "synth_laughs_reconstruct.pdparams": {"PD801"},
    "synth_laughs_scalar.pdparams": {"PD801"},
    "synth_laughs_ordereddict.pdparams": {"PD801"},
    "synth_laughs_tuple.pdparams": {"PD801"},
    "synth_laughs_eval.pdparams": {"PD804"},
    "synth_laughs_codecs.pdparams": {"PD801"},
    "synth_laughs_value.pdparams": OK,       # listed once: a shared list is walked once
    "synth_laughs_slices.pdparams": {"PD801"},
    "synth_300k_dims.pdparams": {"PD801"},
    "synth_64_dims_of_2_61.pdparams": {"PD831"},
    "synth_300k_dims_origin_shape.pdparams": {"PD801"},
    "synth_150k_dims_1e308.safetensors": {"PD833"},
    "synth_slice_100k_times.pdparams": {"PD801"},
    "synth_20k_slices_one_array.pdparams": {"PD801", "PD831"},
    "synth_array_200k_times.pdparams": {"PD831"},
}
STATS = {"synth_slice_100k_times.pdparams", "synth_20k_slices_one_array.pdparams",
         "synth_array_200k_times.pdparams"}  # run with and without --stats
FILES = hostile_cost.all_files()


def run_measured(*args: str) -> tuple[int, str, int]:
    """``paddledoctor inspect --json ARGS`` in a child: (exit code, stdout, the child's own peak
    RSS in bytes, from wait4's rusage of that child alone)."""
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen([sys.executable, "-m", "paddledoctor", "inspect", "--json", *args],
                                stdout=out, stderr=subprocess.STDOUT, cwd=str(ROOT),
                                env=dict(os.environ, NO_COLOR="1"))
        timer = threading.Timer(DEADLINE, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return proc.returncode, out.read().decode(errors="replace"), usage.ru_maxrss * 1024


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> int:
    """The peak RSS of inspect on a tiny valid pickle: the interpreter and the package."""
    path = tmp_path_factory.mktemp("baseline") / "tiny.pdparams"
    path.write_bytes(hostile_cost.Ops().raw(b"}").text("epoch").raw(b"K\x01s").done())
    rc, out, peak = run_measured(str(path))
    assert rc == 0, out
    return peak


def test_every_file_has_an_expectation():
    assert set(FILES) == set(EXPECTED)


@pytest.mark.parametrize("name,options", [(n, []) for n in sorted(FILES)]
                         + [(n, ["--stats"]) for n in sorted(STATS)])
def test_hostile_file_costs_a_bounded_amount(tmp_path, baseline, name, options):
    path = tmp_path / name
    path.write_bytes(FILES[name])
    rc, out, peak = run_measured(str(path), *options)
    assert rc != -9, f"{name}: still running after {DEADLINE} s"
    assert rc in (0, 1) and "Traceback" not in out, out[-2000:]
    doc = json.loads(out)
    got = {f["code"] for f in doc["findings"]}
    assert got == EXPECTED[name], [f["title"] for f in doc["findings"]]
    for f in doc["findings"]:  # a hostile value is quoted short, never expanded
        assert len(json.dumps(f)) < 2000, f["title"][:300]
    assert peak < baseline + budget.MEMORY, (name, peak >> 20, baseline >> 20)
