"""The checkpoint checks are pure: recorded inspect facts in, findings out (as `check --from`
re-runs them), and the renderer prints a table per file and the findings as `check` does."""

from __future__ import annotations

import io

from paddledoctor.doctor import diagnose
from paddledoctor.model import Report
from paddledoctor.render import inspect as render_inspect


def tensor(name, shape=(2,), dtype="float32", **extra):
    n = 1
    for d in shape:
        n *= d
    return {"name": name, "shape": list(shape), "dtype": dtype, "nbytes": 4 * n, **extra}


def file(path, fmt="pickle", kind="model", tensors=(), problems=(), **extra):
    return {"path": path, "extension": "." + path.rsplit(".", 1)[-1], "size": 100, "format": fmt,
            "kind": kind, "tensors": list(tensors), "values": [], "opaque": [],
            "problems": list(problems), "stats": False,
            "totals": {"tensors": len(tensors), "elements": 0, "nbytes": 0}, **extra}


def judge(*files, diff=None) -> Report:
    facts = {"inspect": {"files": list(files), "stats": False}}
    if diff:
        facts["inspect"]["diff"] = diff
    return diagnose(facts, {}, mode="inspect", areas=["checkpoint"])


def codes(report):
    return [f.code for f in report.findings]


def test_a_clean_model_and_optimizer_pass():
    model = file("m.pdparams", tensors=[tensor("0.weight")],
                 parameter_names=["linear_0.w_0", "linear_0.b_0"])
    opt = file("m.pdopt", kind="optimizer",
               accumulators=["linear_0.w_0_moment1_0", "linear_0.b_0_beta1_pow_acc_0"])
    report = judge(model, opt)
    assert codes(report) == [] and report.exit_code() == 0
    assert report.areas[0].status == "ok" and "2 file(s)" in report.areas[0].summary


def test_accumulators_of_other_parameters_are_pd803():
    model = file("m.pdparams", parameter_names=["linear_2.w_0"])
    opt = file("m.pdopt", kind="optimizer",
               accumulators=["linear_0.w_0_moment1_0", "linear_2.w_0_moment1_0"])
    report = judge(model, opt)
    assert codes(report) == ["PD803"]
    assert report.findings[0].evidence["unmatched_accumulators"] == ["linear_0.w_0_moment1_0"]
    assert report.exit_code() == 1


def test_a_parameter_name_that_prefixes_another_is_not_confused():
    # "linear_1.w_0" must not own "linear_1.w_0_1_moment1_0"... unless that parameter exists
    model = file("m.pdparams", parameter_names=["linear_1.w_0", "linear_1.w_0_1"])
    opt = file("m.pdopt", kind="optimizer", accumulators=["linear_1.w_0_1_moment1_0"])
    assert codes(judge(model, opt)) == []


def test_each_problem_kind_has_its_code():
    files = [file("a.pdparams", problems=[{"kind": "truncated", "message": "ends early"}]),
             file("b.pdparams", problems=[{"kind": "refused", "message": "refuses global os.system",
                                          "global": "os.system"}]),
             file("c.pdparams", fmt="unknown", problems=[{"kind": "unknown-format", "message": "?"}]),
             file("d", fmt="unreadable", problems=[{"kind": "unreadable", "message": "d: no such file"}]),
             file("e.pdparams", fmt="tensor-stream", tensors=[tensor("#0"), tensor("#1")]),
             file("f.pdiparams", fmt="tensor-stream", names_from="f.json",
                  problems=[{"kind": "mismatch", "message": "f.json declares 3 parameters"}]),
             file("g.pdparams", tensors=[tensor("w", nan=2, inf=0)])]
    report = judge(*files)
    assert codes(report) == ["PD801", "PD802", "PD804", "PD805", "PD806", "PD808", "PD807"]
    refused = next(f for f in report.findings if f.code == "PD804")
    assert "refuses global os.system" in refused.title


def test_diff_differences_are_pd809_a_warning():
    diff = {"a": "a.pdparams", "b": "b.pdparams", "only_in_a": ["x"], "only_in_b": [],
            "shape_mismatch": [{"name": "w", "a": [2], "b": [3]}], "dtype_mismatch": [],
            "tensors": [], "compared": 0, "max_abs_diff": 0.0}
    report = judge(file("a.pdparams"), file("b.pdparams"), diff=diff)
    assert codes(report) == ["PD809"] and report.exit_code() == 0
    assert report.exit_code(strict=True) == 1


def test_a_diff_of_dtypes_alone_is_pd809_and_counts_each_kind():
    diff = {"a": "a.pdparams", "b": "b.pdparams", "only_in_a": [], "only_in_b": ["y", "z"],
            "shape_mismatch": [], "dtype_mismatch": [{"name": "w", "a": "float32", "b": "float16"}],
            "tensors": [], "compared": 1, "max_abs_diff": 0.0}
    report = judge(file("a.pdparams"), file("b.pdparams"), diff=diff)
    assert codes(report) == ["PD809"]
    (f,) = report.findings
    assert "0 tensor(s) only in the first, 2 only in the second, 0 shape and 1 dtype" in f.title
    assert f.evidence["dtype_mismatch"] == ["w: float32 vs float16"]
    same = {**diff, "only_in_b": [], "dtype_mismatch": []}  # the wrong case: nothing differs
    assert codes(judge(file("a.pdparams"), file("b.pdparams"), diff=same)) == []


def test_odd_facts_do_not_crash_the_checks():
    report = judge({"path": 3, "problems": [{"kind": "truncated"}]}, "not a dict")
    assert {f.code for f in report.findings} <= {"PD801"}, report.findings  # no PD002: no crash


def test_renderer_prints_a_table_and_the_findings():
    files = [file("m.pdparams", tensors=[tensor("0.weight", (4, 3), param_name="linear_0.w_0")]),
             file("x.pdparams", problems=[{"kind": "refused", "message": "refuses global os.system",
                                          "global": "os.system"}])]
    report = judge(*files)
    out = io.StringIO()
    render_inspect.render(report, file=out)
    text = out.getvalue()
    assert "0.weight" in text and "[4, 3]" in text and "float32" in text and "48 B" in text
    assert "ERROR PD804" in text and "more: paddledoctor explain PD804" in text
    assert text.rstrip().endswith("2 file(s) inspected: 1 error(s), 0 warning(s).")
