"""The bench where Linux's means are missing, forced on Linux: no posix_fadvise (macOS, Windows),
and the available memory read through psutil rather than /proc/meminfo."""

from __future__ import annotations

import collections
import json
import os

import pytest

from paddledoctor.bench import runner
from paddledoctor.probes import isolate

NO_FADVISE = """\
# Test shim, imported at interpreter start (sitecustomize): this Python has no posix_fadvise and no
# F_NOCACHE, as on Windows.
import fcntl, os
del os.posix_fadvise
if hasattr(fcntl, "F_NOCACHE"):
    del fcntl.F_NOCACHE
"""


@pytest.fixture
def no_fadvise_env(tmp_path):
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(NO_FADVISE)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(shim)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH")
                                                         else []))
    return env


def test_without_posix_fadvise_the_disk_limit_is_measured_and_the_read_said_to_be_warm(
        tmp_path, no_fadvise_env):
    work = tmp_path / "work"
    work.mkdir()
    result = isolate.run(str(runner.CHILDREN / "bench_disk.py"), [json.dumps({"dir": str(work), "bytes": 4 << 20})],
                         timeout=60, env=no_fadvise_env)

    assert result.failure() is None, result.stderr
    disk = next(e["value"] for e in result.events if e.get("event") == "result")
    assert disk["write_mbps"] > 0 and disk["read_mbps"] > 0
    assert disk["cold"] is False and disk["cold_method"] == "none"
    assert "cannot be measured on linux" in disk["note"] and "posix_fadvise" in disk["note"]
    assert list(work.iterdir()) == []


def test_with_posix_fadvise_the_read_is_cold(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    result = isolate.run(str(runner.CHILDREN / "bench_disk.py"), [json.dumps({"dir": str(work), "bytes": 4 << 20})],
                         timeout=60)
    disk = next(e["value"] for e in result.events if e.get("event") == "result")
    if disk["fs_type"] in ("tmpfs", "ramfs"):
        pytest.skip("the test's folder is in memory")
    assert disk["cold_method"] in ("posix_fadvise(DONTNEED)", "O_DIRECT")


def test_the_memory_the_bench_judges_is_psutils(monkeypatch, tmp_path):
    """FAKE at the psutil boundary: a machine with 1 GiB available. A --size that does not fit is
    refused before anything is allocated, wherever /proc/meminfo is (or is not)."""
    import psutil

    vm = collections.namedtuple("svmem", "total available percent used free")
    monkeypatch.setattr(psutil, "virtual_memory", lambda: vm(2 << 30, 1 << 30, 50.0, 1 << 30, 0))
    memory = runner.memory_available()
    assert memory["available"] == 1 << 30 and memory["total"] == 2 << 30

    facts = runner.run_bench(size=512 << 20, directory=tmp_path, timeout=30, short=True)
    assert facts["memory"]["fits"] is False
    assert [f["kind"] for f in facts["failures"]] == ["memory"]
    assert list(tmp_path.iterdir()) == []
