"""One size parser and one size formatter (paddledoctor/sizes.py) for every option, setting and
message: `--size 512m` and `min-free-disk = "512m"` are the same 512 MiB."""

from __future__ import annotations

import pytest

from paddledoctor import bench, config
from paddledoctor.sizes import SizeError, format_size, parse_size


@pytest.mark.parametrize("text, n", [("256MiB", 256 << 20), ("64MiB", 64 << 20), ("1GiB", 1 << 30),
                                     ("2.5GB", 2_500_000_000), ("40GB", 40 * 10**9),
                                     ("1000000", 10**6), ("512m", 512 << 20), (" 4 MiB ", 4 << 20),
                                     ("100g", 100 << 30), ("64k", 64 << 10), ("2t", 2 << 40),
                                     (".5g", 1 << 29), (4096, 4096)])
def test_sizes_as_people_write_them(text, n):
    assert parse_size(text) == n


@pytest.mark.parametrize("text", ["512m", "100g", "64k", "2.5GB", "20GiB", "1000000"])
def test_bench_and_config_read_a_size_the_same_way(text):
    """The bug this module fixed: `--size 512m` was 512 MiB and `min-free-disk = "512m"` 512 MB."""
    assert bench.parse_size(text) == config.parse_size(text) == parse_size(text)


@pytest.mark.parametrize("text", ["", "abc", "12XB", "-1GB", "1.2.3MB", True, [1], -5, "1PiB"])
def test_anything_else_is_refused_with_a_sentence(text):
    with pytest.raises(SizeError, match="size"):
        parse_size(text)
    with pytest.raises(config.ConfigError):
        config.parse_size(text)


@pytest.mark.parametrize("n, text", [
    (12, "12 B"), (1023, "1023 B"), (1024, "1 KiB"), (1536, "1.5 KiB"), (64 << 20, "64 MiB"),
    (256 << 20, "256 MiB"), (2.5 * (1 << 30), "2.5 GiB"), ((2 << 30) + (300 << 20), "2.3 GiB"),
    (76 << 30, "76 GiB"), ((1 << 20) - 1, "1 MiB"), (3 << 40, "3 TiB"), (None, "?"),
    ("12", "?"), (True, "?")])
def test_one_way_to_write_a_size(n, text):
    """Binary units, one decimal dropped when zero; a value that rounds to 1024 of a unit is the
    next unit ("1 MiB", never "1024.0 KiB")."""
    assert format_size(n) == text
