"""NVIDIA's compatibility rules (paddledoctor/archs.py), each with the case that breaks it."""

from paddledoctor import archs


def test_parse_arch_forms():
    assert archs.parse_arch("sm_86") == 86
    assert archs.parse_arch("compute_120") == 120
    assert archs.parse_arch("sm_90a") == 90
    assert archs.parse_arch("8.6") == 86
    assert archs.parse_arch("12.0") == 120
    assert archs.parse_arch(75) == 75
    assert archs.parse_arch("x") is None and archs.parse_arch(True) is None
    assert archs.cc_arch((9, 0)) == 90 and archs.cc_arch("6.1") == 61


def test_sass_runs_within_its_major_only():
    assert archs.sass_runs_on(80, 86)        # sm_80 on an RTX 3090 (8.6)
    assert archs.sass_runs_on(86, 89)        # sm_86 on an RTX 4090 (8.9)
    assert not archs.sass_runs_on(86, 80)    # newer minor never runs on an older GPU
    assert not archs.sass_runs_on(86, 90)    # no SASS crosses a major: H100
    assert not archs.sass_runs_on(90, 120)   # RTX 5090
    assert not archs.sass_runs_on(61, 60)    # P100 is 6.0


def test_ptx_jits_forward_only():
    assert archs.ptx_runs_on(80, 90) and archs.ptx_runs_on(90, 120)
    assert not archs.ptx_runs_on(90, 86)


def test_coverage_of_the_real_cu118_list_on_each_generation():
    sass, ptx = [61, 70, 75, 80, 86], []
    assert archs.coverage(86, sass, ptx).how == "sass"
    assert archs.coverage(89, sass, ptx).how == "sass"
    assert archs.coverage(90, sass, ptx).how == "none"
    assert archs.coverage(120, sass, ptx).how == "none"
    assert archs.coverage(60, sass, ptx).how == "none"
    assert archs.coverage(90, sass, [86]).how == "ptx"
    assert archs.coverage(90, [90], [86]).how == "sass"
