"""paddledoctor.knowledge.wheels: the table of Paddle GPU wheel variants and what is derived from it."""

from __future__ import annotations

import pytest

from paddledoctor.knowledge import wheels
from paddledoctor.knowledge.wheels import (RELEASES, VARIANT_BY_TAG, VARIANTS, choose_variant,
                                           driver_at_least, lowest_driver_for, python_supported,
                                           version_tuple)


@pytest.mark.parametrize("text, expected", [
    ("550.54.14", (550, 54, 14)),
    ("470.256.02", (470, 256, 2)),
    ("12.6", (12, 6)),
    ("9.5.1.17", (9, 5, 1, 17)),
    ("3.0.0rc1", (3, 0, 0)),       # a pre-release tag ends the number, its digits are not glued on
    ("3.3.0.post1", (3, 3, 0)),
    ("12.2-1", (12, 2, 1)),
    ("", ()),
    ("N/A", ()),
])
def test_version_tuple(text, expected):
    assert version_tuple(text) == expected


@pytest.mark.parametrize("driver, floor, ok", [
    ("550.54.14", "550.54.14", True),
    ("550.54.13", "550.54.14", False),
    ("560.28.03", "550.54.14", True),
    ("1000.1", "999.99.99", True),     # numbers, not strings
    ("525.60.13", "525.60.2", True),
    ("470.256.02", "525.60.13", False),
])
def test_driver_at_least(driver, floor, ok):
    assert driver_at_least(driver, floor) is ok


@pytest.mark.parametrize("release, python, ok", [
    ("3.3.1", "3.11.9", True),
    ("3.3.1", "3.10", True),           # 3.10 > 3.9, not "3.10" < "3.9"
    ("3.3.1", "3.13.0", True),
    ("3.3.1", "3.14.0", False),
    ("3.3.1", "3.8.10", False),
    ("3.0.0", "3.8.18", True),
    ("2.6.2", "3.11.9", True),
    ("2.5.2", "3.11.9", None),         # a release line the table does not know
])
def test_python_supported(release, python, ok):
    assert python_supported(release, python) is ok


# Each row: a machine, and the wheel the doctor must name for it, with the fact that decides it.
@pytest.mark.parametrize("driver, ccs, windows, release, tag, shipped_in, support", [
    # H100 + R535: cu118 has no sm_90 (PD-74088); cu126 runs on R535 by minor compatibility
    ("535.247.01", ["9.0"], False, "3.3.1", "cu126", "3.3.1", "minor-compat"),
    ("535.247.01", ["9.0"], False, None, "cu126", "3.3.1", "minor-compat"),
    # RTX 5090 + R570: only cu129 >= 3.2.0 has sm_120 (PD-76037), by minor compatibility on 570
    ("570.172.08", ["12.0"], False, "3.3.1", "cu129", "3.3.1", "minor-compat"),
    ("570.172.08", ["12.0"], False, "3.1.1", "cu129", "3.3.1", "minor-compat"),  # 3.1 cu129: no sm_120
    ("580.95.05", ["12.0"], False, "3.3.1", "cu129", "3.3.1", "documented"),     # cu130: no sm_120 (PD-78720)
    ("580.95.05", ["9.0"], False, "3.3.1", "cu130", "3.3.1", "documented"),
    # P100 (6.0): only the 3.x cu118 wheels have sm_60 (12.x lists start at 61; 2.6.2 too)
    ("550.163.01", ["6.0"], False, "3.3.1", "cu118", "3.3.0", "documented"),
    ("550.163.01", ["6.0"], False, "2.6.2", "cu118", "3.3.0", "documented"),
    # V100 + R470: CUDA 11.8 at its documented floor 450.80.02
    ("470.256.02", ["7.0"], False, "3.3.1", "cu118", "3.3.0", "documented"),
    # a 2.6 user on an A100 stays on 2.6.2 (PyPI)
    ("535.247.01", ["8.0"], False, "2.6.2", "cu118", "2.6.2", "documented"),
    # a 2.6 user on an H100: no 2.6 wheel has sm_90, the 3.x move is named
    ("535.247.01", ["9.0"], False, "2.6.2", "cu126", "3.3.1", "minor-compat"),
    ("550.54.14", ["8.0"], False, "3.3.1", "cu126", "3.3.1", "documented"),
    # Windows: cu12x wheels start at 75 (PX-4285): a GTX 1080 gets cu118
    ("576.02", ["6.1"], True, "3.3.1", "cu118", "3.3.0", "documented"),
    ("576.02", ["8.9"], True, "3.3.1", "cu129", "3.3.1", "documented"),
    ("452.39", ["7.5"], True, None, "cu118", "3.3.0", "documented"),
])
def test_choose(driver, ccs, windows, release, tag, shipped_in, support):
    c = wheels.choose(driver, ccs, windows=windows, release=release)
    assert c is not None
    assert (c.variant.tag, c.release, c.support) == (tag, shipped_in, support)
    assert tag in wheels.variants_for(c.release, windows)
    for cc in ccs:  # never a wheel without SASS for a GPU here
        assert c.coverage[wheels.A.cc_arch(cc)] == "sass"


@pytest.mark.parametrize("driver, ccs, windows", [
    ("470.256.02", ["12.0"], False),   # sm_120: cu129, CUDA 12 needs >= 525.60.13
    ("440.33.01", ["7.0"], False),     # older than every variant's minor-compat floor
    ("570.124.06", ["5.2"], False),    # Maxwell: no variant compiled for it
    ("576.02", ["12.0"], True),        # Windows cu12x lists stop at 89
])
def test_choose_none(driver, ccs, windows):
    assert wheels.choose(driver, ccs, windows=windows) is None
    assert choose_variant(driver, ccs, windows=windows) == (None, None)


def test_the_old_table_was_wrong_and_is_not_any_more():
    """The rows the issue corrected: each fails on the old table."""
    assert 90 not in wheels.build_of("cu118", "3.2.2").sass          # cu118 never reached 9.0
    assert 120 not in wheels.build_of("cu129", "3.1.1").sass          # 3.1 cu129: no RTX 50
    assert 120 in wheels.build_of("cu129", "3.2.0").sass
    assert 120 not in wheels.build_of("cu130", "3.3.1").sass
    assert 60 not in wheels.build_of("cu126", "3.3.1").sass           # 12.x Linux starts at 61
    assert wheels.build_of("cu129", "3.3.1", windows=True).sass == (75, 80, 86, 89)
    assert "cu118" in wheels.variants_for("3.3.0")                     # docs PR #7685
    cu126 = wheels.VARIANT_BY_TAG["cu126"]
    assert (cu126.linux.documented, cu126.linux.documented_zh, cu126.linux.nvidia_ga,
            cu126.linux.minor_compat) == ("550.54.14", "545.23.06", "560.28.03", "525.60.13")
    assert cu126.windows.documented != "550.54.14"                     # a Linux number
    assert cu126.built_cudnn == "9.9" and cu126.cudnn == "9.5"         # #79388


def test_lowest_driver_for():
    assert lowest_driver_for(["8.0"]).tag == "cu118"
    assert lowest_driver_for(["9.0"]).tag == "cu126"
    assert lowest_driver_for(["12.0"]).tag == "cu129"
    assert lowest_driver_for(["8.0", "12.0"]).tag == "cu129"
    assert lowest_driver_for([]).tag == "cu118"
    assert lowest_driver_for(["5.2"]) is None


def test_every_release_tag_is_a_variant_with_a_build():
    for version, tags, source in RELEASES:
        assert tags and source
        for os_name, os_tags in tags.items():
            for tag in os_tags:
                assert tag in VARIANT_BY_TAG, (version, tag)
                assert wheels.build_of(tag, version, os_name == "windows"), (version, os_name, tag)


def test_releases_newest_first_and_unique():
    versions = [version_tuple(v) for v, _, _ in RELEASES]
    assert versions == sorted(versions, reverse=True)
    assert len(set(versions)) == len(versions)


def test_variants_sorted_and_every_row_sourced():
    assert [version_tuple(v.cuda) for v in VARIANTS] == sorted(version_tuple(v.cuda) for v in VARIANTS)
    assert len(VARIANT_BY_TAG) == len(VARIANTS)
    for v in VARIANTS:
        assert v.source and v.linux.source and v.tag == "cu" + v.cuda.replace(".", "")
        # the minor-compatibility floor of the variant's CUDA major is no higher than its own floor
        assert driver_at_least(v.linux.documented, v.linux.minor_compat)
        assert v.linux.minor_compat == wheels.MINOR_COMPAT_FLOOR[v.cuda.split(".")[0]]
    for b in wheels.BUILDS:
        assert b.source and b.sass == tuple(sorted(b.sass))


def test_every_release_line_has_python_bounds():
    for version, _, _ in RELEASES:
        assert python_supported(version, "3.11") is True


def test_variants_for_and_commands():
    assert wheels.variants_for("3.3.1") == ("cu126", "cu129", "cu130")
    assert wheels.variants_for("9.9.9") == ()
    assert wheels.install_command("python -m pip", "3.3.1", "cu126") == (
        "python -m pip install paddlepaddle-gpu==3.3.1 -i "
        "https://www.paddlepaddle.org.cn/packages/stable/cu126/")
    assert wheels.cpu_install_command("/opt/py/bin/python -m pip") == (
        "/opt/py/bin/python -m pip install paddlepaddle")
    assert wheels.cpu_install_command("python -m pip", "3.3.1") == "python -m pip install paddlepaddle==3.3.1"
    assert wheels.install_command("python -m pip", "2.6.2", "cu118") == (
        "python -m pip install paddlepaddle-gpu==2.6.2")             # the PyPI wheel: no -i
