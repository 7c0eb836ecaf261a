"""inspect against real checkpoints written by paddle 3.3.1: the listing (names, shapes, dtypes,
and with --stats the SHA-256 of each tensor's bytes) equals what paddle.load returns, for
dygraph, static, inference (PIR .json and legacy .pdmodel), protocols 2/3/4, safetensors, a
tensor saved alone, DenseTensor records and an RNG state."""

from __future__ import annotations

import json
import os

import pytest

from inspect_support import codes, expected, inspect_json, real_checkpoints, run_inspect

from paddledoctor.inspect import inspect, inspect_facts

PICKLES = ["dygraph.pdparams", "dygraph_p2.pdparams", "dygraph_p3.pdparams", "dygraph.pdopt",
           "static.pdparams", "dtypes.pdparams", "dtypes_p2.pdparams", "nested.pdparams",
           "tensor.pdtensor", "densetensor.pdparams", "model.safetensors", "rng.pdstate",
           "other_model.pdparams"]


@pytest.fixture(scope="module")
def ck():
    return real_checkpoints()


def listing(facts: dict) -> dict:
    out = {}
    for t in facts["tensors"]:
        name = "" if t.get("param_name") and t["name"] == t["param_name"] and \
            len(facts["tensors"]) == 1 else t["name"]
        out[name] = {"shape": t["shape"], "dtype": t["dtype"], "sha256": t["sha256"]}
    return out


@pytest.mark.parametrize("name", PICKLES)
def test_listing_equals_paddle_load(ck, name):
    facts = inspect_facts([ck / name], stats=True)["files"][0]
    want = expected(ck)[name]
    assert facts["problems"] == []
    assert listing(facts) == want["tensors"]
    # the order too: paddle.load keeps the dict order
    assert [t for t in listing(facts)] == list(want["tensors"])
    assert {o["name"]: o["type"] for o in facts["opaque"]} == want["opaque"]
    plain = {v["name"]: v["value"] for v in facts["values"]}
    assert plain == {k: v for k, v in want["values"].items()}


@pytest.mark.parametrize("prefix", ["infer_legacy", "infer_pir", "jit_pir"])
def test_pdiparams_named_from_its_program_equals_the_loaded_program(ck, prefix):
    files = inspect_facts([ck / f"{prefix}.pdiparams"], stats=True)["files"]
    facts = files[0]
    want = json.loads((ck / f"{prefix}.expected.json").read_text())["tensors"]
    assert facts["format"] == "tensor-stream" and facts["problems"] == []
    assert facts["names_from"].endswith(".json" if "pir" in prefix else ".pdmodel")
    assert {t["name"]: {"shape": t["shape"], "dtype": t["dtype"], "sha256": t["sha256"]}
            for t in facts["tensors"]} == want


@pytest.mark.parametrize("prefix", ["infer_legacy", "infer_pir"])
def test_paddle_load_of_a_pdiparams_returns_only_its_first_tensor(ck, prefix):
    facts = inspect_facts([ck / f"{prefix}.pdiparams"], stats=True)["files"][0]
    got = expected(ck)[f"{prefix}.pdiparams"]["tensors"]
    assert list(got) == [""]
    first = facts["tensors"][0]
    assert got[""] == {"shape": first["shape"], "dtype": first["dtype"], "sha256": first["sha256"]}
    assert len(facts["tensors"]) > 1  # what paddle.load silently dropped


def test_program_files_list_their_parameters(ck):
    facts = inspect_facts([ck / "jit_pir.json", ck / "infer_legacy.pdmodel"])["files"]
    assert [p["name"] for p in facts[0]["parameters"]] == \
        ["layer_norm_0.b_0", "layer_norm_0.w_0", "linear_0.b_0", "linear_0.w_0", "linear_1.w_0"]
    assert facts[1]["parameters"] == [{"name": "fc_0.b_0", "shape": [3], "dtype": "float32"},
                                      {"name": "fc_0.w_0", "shape": [4, 3], "dtype": "float32"}]


def test_pickle_globals_are_exactly_the_allowlisted_ones_paddle_writes(ck):
    files = {f["path"].rsplit("/", 1)[1]: f for f in
             inspect_facts([ck / n for n in PICKLES if n.endswith((".pdparams", ".pdopt"))])["files"]}
    assert files["dygraph.pdparams"]["pickle"]["globals"] == [
        "numpy._core.multiarray._reconstruct", "numpy.dtype", "numpy.ndarray"]
    assert "_codecs.encode" in files["dygraph_p2.pdparams"]["pickle"]["globals"]
    assert "builtins.eval" in files["densetensor.pdparams"]["pickle"]["globals"]
    assert all(t.get("record") == "DenseTensor" for t in files["densetensor.pdparams"]["tensors"])


def test_stats_without_numpy_are_identical(ck):
    names = ["dtypes.pdparams", "dtypes_p2.pdparams", "dygraph.pdopt", "infer_pir.pdiparams"]
    with_np = inspect_facts([ck / n for n in names], stats=True)
    os.environ["PADDLEDOCTOR_NO_NUMPY"] = "1"
    try:
        without = inspect_facts([ck / n for n in names], stats=True)
    finally:
        del os.environ["PADDLEDOCTOR_NO_NUMPY"]
    assert with_np == without
    f16 = next(t for t in with_np["files"][0]["tensors"] if t["name"] == "f16")
    assert (f16["nan"], f16["inf"], f16["min"], f16["max"]) == (0, 1, -2.0, 1.5)
    nan = next(t for t in with_np["files"][0]["tensors"] if t["name"] == "f32nan")
    assert (nan["nan"], nan["inf"], nan["mean"]) == (1, 2, 2.0)


def test_cli_lists_tensors_and_exits_0(ck):
    proc = run_inspect(ck / "dygraph.pdparams", ck / "dygraph.pdopt")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "0.weight" in proc.stdout and "[4, 3]" in proc.stdout and "float32" in proc.stdout
    assert "linear_0.w_0_moment1_0" in proc.stdout
    assert "2 file(s) inspected: no problem found." in proc.stdout


def test_cli_stats_reports_nan_and_inf_as_a_warning(ck):
    proc, doc = inspect_json(ck / "dtypes.pdparams", "--stats")
    assert proc.returncode == 0
    assert codes(doc) == {"PD807"}
    assert doc["facts"]["inspect"]["files"][0]["totals"]["nan"] == 2
    assert run_inspect(ck / "dtypes.pdparams", "--stats", "--strict").returncode == 1


def test_json_is_the_check_schema_and_check_from_rereads_it(ck, tmp_path):
    proc, doc = inspect_json(ck / "other_model.pdparams", ck / "dygraph.pdopt")
    assert proc.returncode == 1
    assert codes(doc) == {"PD803"}
    assert doc["mode"] == "inspect" and doc["schema_version"] == 2
    assert [a["area"] for a in doc["areas"]] == ["checkpoint"]
    report = tmp_path / "inspect.json"
    report.write_text(proc.stdout)
    env = dict(os.environ, NO_COLOR="1")
    import subprocess
    import sys
    again = subprocess.run([sys.executable, "-m", "paddledoctor", "check", "--from", str(report),
                            "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert "PD803" in codes(json.loads(again.stdout))


def test_optimizer_state_saved_with_its_model_matches(ck):
    report = inspect([ck / "dygraph.pdparams", ck / "dygraph.pdopt"])
    assert report.findings == []
    report = inspect([ck / "other_model.pdparams", ck / "dygraph.pdopt"])
    assert [f.code for f in report.findings] == ["PD803"]
    assert "linear_0.w_0_moment1_0" in report.findings[0].evidence["unmatched_accumulators"]


def test_pdiparams_as_pdparams_is_pd802(ck, tmp_path):
    wrong = tmp_path / "model.pdparams"
    wrong.write_bytes((ck / "infer_pir.pdiparams").read_bytes())
    report = inspect([wrong])
    assert [f.code for f in report.findings] == ["PD802"]
    assert "3 of 4 silently dropped" in report.findings[0].title
    wrong = tmp_path / "model.pdiparams"
    wrong.write_bytes((ck / "dygraph.pdparams").read_bytes())
    assert [f.code for f in inspect([wrong]).findings] == ["PD802"]


def test_pdiparams_that_does_not_match_its_program_is_pd808(ck, tmp_path):
    (tmp_path / "m.json").write_bytes((ck / "jit_pir.json").read_bytes())
    (tmp_path / "m.pdiparams").write_bytes((ck / "infer_pir.pdiparams").read_bytes())
    report = inspect([tmp_path / "m.pdiparams"])
    assert [f.code for f in report.findings] == ["PD808"]


def test_rng_state_is_an_opaque_record(ck):
    report = inspect([ck / "rng.pdstate"])
    assert [f.code for f in report.findings] == ["PD810"]
    assert report.exit_code() == 0


def test_diff_of_two_checkpoints(ck):
    proc, doc = inspect_json(ck / "dygraph.pdparams", ck / "dygraph_p2.pdparams", "--diff")
    d = doc["facts"]["inspect"]["diff"]
    assert proc.returncode == 0 and d["compared"] == 5 and d["max_abs_diff"] == 0.0
    proc, doc = inspect_json(ck / "dygraph.pdparams", ck / "other_model.pdparams", "--diff")
    d = doc["facts"]["inspect"]["diff"]
    assert d["compared"] == 5 and d["max_abs_diff"] > 0.1
    proc, doc = inspect_json(ck / "dygraph.pdparams", ck / "static.pdparams", "--diff")
    assert "PD809" in codes(doc)
    assert doc["facts"]["inspect"]["diff"]["only_in_b"] == ["fc_0.b_0", "fc_0.w_0"]
    assert run_inspect(ck / "dygraph.pdparams", "--diff").returncode == 2
    bad = run_inspect(ck / "dygraph.pdparams", ck / "missing.pdparams", "--diff")
    assert bad.returncode == 1 and "PD806" in bad.stdout and bad.stderr == ""
    bad = run_inspect(ck / "dygraph.pdparams", ck, "--diff")  # a folder: not two files
    assert bad.returncode == 2 and "--diff compares two files" in bad.stderr
    assert "Traceback" not in bad.stderr
