"""Logs as users produce them (#14): PowerShell 5's `>` writes UTF-16 LE with a BOM, Chinese Windows
consoles GBK, editors UTF-8 with a BOM; CRLF line ends and ANSI colours. Each reads as the same text
and `explain` finds the same error in it; the plain UTF-8 reading (the old behaviour) is the wrong
case that finds nothing."""

from __future__ import annotations

import io

import pytest

from paddledoctor.explain import decode_log, explain_log, read_log

# Paddle's own text (paddle/phi/backends/dynload/dynamic_loader.cc) with a Chinese line beside it.
LOG = ("W1202 10:00:00.000 dynamic_loader.cc:285] The third-party dynamic library (libcudnn.so) that "
       "Paddle depends on is not configured correctly. (error code is libcudnn.so: cannot open shared "
       "object file: No such file or directory)\r\n训练开始前报错\r\n")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "utf-8",
                                      "gbk", "gb18030"])
def test_every_encoding_reads_as_the_same_text(encoding):
    text = read_log(io.BytesIO(LOG.encode(encoding)))
    assert text == LOG.replace("\r\n", "\n")
    assert [i.match.pattern.code for i in explain_log(text).items] == ["PD203"]


def test_the_plain_utf8_reading_was_the_wrong_case():
    raw = LOG.encode("utf-16")
    assert not explain_log(raw.decode("utf-8", errors="replace")).items  # what it read before


def test_ansi_colours_and_lone_carriage_returns_are_removed():
    assert decode_log(b"\x1b[1;31mERROR\x1b[0m done\r50%\r100%\n") == "ERROR done\n50%\n100%\n"
    assert decode_log(b"\x1b]0;title\x07text") == "text"
