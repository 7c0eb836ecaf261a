"""The one channel every child reports on: JSON lines to the file descriptor the doctor gave it as its
first argument (``sys.argv[1]``, set by ``_start.py``), and the one way a child turns an exception
into a line of text. ``_start.py`` puts this folder on sys.path, so a child in any feature's
``children/`` folder imports it with ``from _channel import emit, error_text``.

Standard library only; never imports paddledoctor (a child must start fast and survive a broken
paddledoctor import).
"""

import json
import os
import re
import sys
import time

OUT = os.fdopen(int(sys.argv[1]), "w", buffering=1)  # one file object on the fd: import, never reopen
T0 = time.monotonic()
# Where "stage" lines are also appended, for a parent that shows progress while the loop drains the
# channel (bench sets it for its children).
STAGES = os.environ.get("PADDLEDOCTOR_BENCH_STAGES")
# Paddle's own summary of an error: "InvalidArgumentError: ..." after its C++ traceback
# (FLAGS_call_stack_level=2), or "(InvalidArgument) ..." in its short form.
_SUMMARY = re.compile(r"^(?:[A-Z]\w*(?:Error|Exception): |\([A-Z]\w+\) )")
_NOISE = re.compile(r"^(?:\d+\s|-+$|C\+\+ Traceback|Error Message Summary)")  # frames, headers
_ERROR_WORDS = ("error", "should", "timeout")  # looked for in the line, lower-cased


def emit(event, **data):
    """One event, one line; values JSON cannot hold are written as their str()."""
    data["event"] = event
    OUT.write(json.dumps(data, default=str) + "\n")
    if event == "stage" and STAGES:
        try:
            with open(STAGES, "a", encoding="utf-8") as f:
                f.write(data["name"] + "\n")
        except OSError:
            pass  # a full disk: the progress bar is the least of it


def emit_timed(event, **data):
    """An event stamped with the seconds since this child started ("t"), for a parent that draws a
    timeline of its child's steps (fleet)."""
    emit(event, t=round(time.monotonic() - T0, 3), **data)


def error_text(exc, limit=500):
    """The meaningful line of an exception, after its type: Paddle's errors are long C++ dumps whose
    frames name ``ErrorSummary``, so Paddle's own summary line first, else the first other line that
    names an error (or a timeout), else the last line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    head = f"{type(exc).__name__}: "
    wordy = [line for line in lines if not _NOISE.match(line)
             and any(word in line.lower() for word in _ERROR_WORDS)]
    chosen = next((line for line in lines if _SUMMARY.match(line)), None) or \
        (wordy[0] if wordy else lines[-1] if lines else "")
    return head + chosen[:limit]
