"""Looking at processes through /proc, for the tests that prove no child outlives the doctor.

A run is tagged with a unique environment variable; its children and grandchildren inherit it, so a
test finds exactly the processes its own run started, even while other tests run at the same time.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

import pytest

TAG = "PADDLEDOCTOR_TEST_RUN"


def new_tag() -> dict:
    """An environment entry that marks one run's processes."""
    return {TAG: uuid.uuid4().hex}


@pytest.fixture
def run_tag():
    """Tags for a test's runs (``tag = run_tag()``). Whatever of those runs is still alive when the
    test ends is killed: a test that fails on a surviving child must not leave it running for an
    hour (its assertions look before this does)."""
    made: list[dict] = []

    def make() -> dict:
        made.append(new_tag())
        return made[-1]

    yield make
    for tag in made:
        kill_tagged(tag)


def kill_tagged(tag: dict) -> None:
    for pid in tagged(tag):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:  # gone meanwhile
            pass


def alive(pid: int) -> bool:
    """The process exists and is not a zombie (a killed orphan may wait a moment for its reaper)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


def tagged(tag: dict, cmdline_contains: str = "") -> list[int]:
    """Live processes whose environment carries the tag (and whose command line contains a string)."""
    (name, value), = tag.items()
    needle = f"{name}={value}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            env = Path(f"/proc/{entry}/environ").read_bytes()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:  # gone meanwhile, or not ours
            continue
        if needle in env.split(b"\0") and cmdline_contains.encode() in cmdline and alive(int(entry)):
            found.append(int(entry))
    return found


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.05):
    """Poll until predicate() is truthy; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
