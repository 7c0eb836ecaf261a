from __future__ import annotations

import pytest

from paddledoctor.bench import parse_size
from paddledoctor.bench.sizes import human


@pytest.mark.parametrize("text, n", [("256MiB", 256 << 20), ("64MiB", 64 << 20), ("1GiB", 1 << 30),
                                     ("2.5GB", 2_500_000_000), ("40GB", 40 * 10**9),
                                     ("1000000", 10**6), ("512m", 512 << 20), (" 4 MiB ", 4 << 20)])
def test_sizes_as_people_write_them(text, n):
    assert parse_size(text) == n


@pytest.mark.parametrize("text", ["", "abc", "12XB", "-1GB", "1.2.3MB"])
def test_anything_else_is_refused_with_a_sentence(text):
    with pytest.raises(ValueError, match="not a size"):
        parse_size(text)


def test_human():
    assert human(256 << 20) == "256 MiB" and human(2.5 * (1 << 30)) == "2.5 GiB" and human(12) == "12 B"
