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
    ("2.6.2", "3.11.9", None),         # a release line the table does not know
])
def test_python_supported(release, python, ok):
    assert python_supported(release, python) is ok


@pytest.mark.parametrize("driver, ccs, windows, release, tag, shipped_in", [
    ("570.124.06", ["8.0"], False, "3.3.1", "cu126", "3.3.1"),
    ("570.124.06", [], False, None, "cu126", "3.3.1"),              # no GPU facts: the driver decides
    ("575.64.03", ["12.0"], False, "3.3.1", "cu129", "3.3.1"),     # RTX 50 series needs cu129
    ("575.64.03", ["8.0", "12.0"], False, None, "cu129", "3.3.1"),
    ("580.82.07", ["9.0"], False, "3.3.1", "cu130", "3.3.1"),
    ("580.82.07", ["6.1"], False, "3.3.1", "cu129", "3.3.1"),      # CUDA 13 dropped archs below 7.5
    ("550.54.14", ["8.0"], False, "3.3.1", "cu126", "3.3.1"),
    ("535.183.01", ["8.0"], False, "3.3.1", "cu118", "3.2.2"),     # 3.3 ships no cu118: newest that does
    ("535.183.01", ["7.0"], False, "3.2.0", "cu118", "3.2.0"),     # the given release where it ships it
    ("450.80.02", ["7.5"], False, None, "cu118", "3.2.2"),
    # Windows floors differ and CUDA 13 lists none.
    ("576.02", ["12.0"], True, "3.3.1", "cu129", "3.3.1"),
    ("575.64.03", ["8.0"], True, "3.3.1", "cu126", "3.3.1"),       # below cu129's Windows floor
    ("581.57", ["8.9"], True, "3.3.1", "cu129", "3.3.1"),          # cu130: no Windows floor known
    ("452.39", ["7.5"], True, None, "cu118", "3.2.2"),
])
def test_choose_variant(driver, ccs, windows, release, tag, shipped_in):
    variant, version = choose_variant(driver, ccs, windows=windows, release=release)
    assert variant is VARIANT_BY_TAG[tag]
    assert version == shipped_in
    assert tag in wheels.variants_for(version)


@pytest.mark.parametrize("driver, ccs, windows", [
    ("535.183.01", ["12.0"], False),   # sm_120 needs cu129, whose driver floor is 575
    ("575.64.03", ["12.0"], True),     # Windows: cu129 needs 576.02
    ("440.33.01", ["7.0"], False),     # older than every variant
    ("570.124.06", ["5.2"], False),    # Maxwell: no variant compiled for it
])
def test_choose_variant_none(driver, ccs, windows):
    assert choose_variant(driver, ccs, windows=windows) == (None, None)


def test_lowest_driver_for():
    assert lowest_driver_for(["8.0"]).tag == "cu118"
    assert lowest_driver_for(["6.1", "9.0"]).tag == "cu118"
    assert lowest_driver_for(["12.0"]).tag == "cu129"
    assert lowest_driver_for(["8.0", "12.0"]).tag == "cu129"
    assert lowest_driver_for(["12.0"], windows=True).min_driver_windows == "576.02"
    assert lowest_driver_for([]).tag == "cu118"
    assert lowest_driver_for(["5.2"]) is None


def test_every_release_tag_is_a_variant():
    for version, tags, source in RELEASES:
        assert tags and source
        for tag in tags:
            assert tag in VARIANT_BY_TAG, (version, tag)


def test_releases_newest_first_and_unique():
    versions = [version_tuple(v) for v, _, _ in RELEASES]
    assert versions == sorted(versions, reverse=True)
    assert len(set(versions)) == len(versions)


def test_variants_sorted_by_driver_floor():
    linux = [version_tuple(v.min_driver_linux) for v in VARIANTS]
    assert linux == sorted(linux)
    windows = [version_tuple(v.min_driver_windows) for v in VARIANTS if v.min_driver_windows]
    assert windows == sorted(windows)
    assert [version_tuple(v.cuda) for v in VARIANTS] == sorted(version_tuple(v.cuda) for v in VARIANTS)
    assert len(VARIANT_BY_TAG) == len(VARIANTS)


def test_variant_rows_are_consistent():
    for v in VARIANTS:
        assert v.source
        assert v.tag == "cu" + v.cuda.replace(".", "")
        assert wheels.cc_tuple(v.min_cc) <= wheels.cc_tuple(v.max_cc)
        # The minor-compatibility floor of the variant's CUDA major is no higher than its own floor.
        floor = wheels.MINOR_COMPAT_FLOOR[v.cuda.split(".")[0]]
        assert driver_at_least(v.min_driver_linux, floor)


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
