"""The binaries probe: the package layout, the per-file cache (warm, invalidated, corrupt, read-only
or absent folder), the child's deadline, and, opt-in, the real unpacked wheels."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from paddledoctor.probes import binaries

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fatbin_writer as W  # noqa: E402  (synthesized inputs, beside this file)

LIB = W.elf({".nv_fatbin": W.container(W.sass(80), W.sass(86), W.ptx(86))})


def package(tmp_path: Path, layout=("base/libpaddle.so", "libs/libphi.so")) -> Path:
    root = tmp_path / "site" / "paddle"
    for rel in layout:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(LIB)
    return root


def run(root: Path, folder):
    return binaries.probe({"found": True, "location": str(root)}, folder=folder,
                          ld_library_path="")


def test_cold_then_warm_then_invalidated(tmp_path):
    root = package(tmp_path)
    cache = tmp_path / "cache"
    first = run(root, cache)
    assert first["cache"]["status"] == "cold" and first["cache"]["write"] == "written"
    assert first["build"]["sass"] == [80, 86] and first["build"]["ptx"] == [86]
    assert [lib["sass"] for lib in first["libraries"]] == [[80, 86], [80, 86]]
    second = run(root, cache)
    assert second["cache"]["status"] == "warm" and second["read_s"] == 0
    assert second["libraries"] == first["libraries"]
    # a changed file (another size) is read again, the other stays cached
    (root / "libs" / "libphi.so").write_bytes(W.elf({".nv_fatbin": W.container(W.sass(90))}))
    third = run(root, cache)
    assert third["cache"]["status"] == "partial" and third["cache"]["misses"] == 1
    assert third["build"]["sass"] in ([90], [80, 86])


def test_wrong_case_a_stale_cache_entry_is_not_used(tmp_path):
    """A cache entry with the right size but another mtime is a miss: the file is read again."""
    root = package(tmp_path, ("base/libpaddle.so",))
    cache = tmp_path / "cache"
    run(root, cache)
    doc = json.loads((cache / binaries.CACHE_FILE).read_text())
    for entry in doc["files"].values():
        entry["facts"]["fatbin"]["sass"] = [12345]
    (cache / binaries.CACHE_FILE).write_text(json.dumps(doc))
    assert run(root, cache)["build"]["sass"] == [12345]  # same key: trusted
    p = root / "base" / "libpaddle.so"
    os.utime(p, ns=(p.stat().st_atime_ns, p.stat().st_mtime_ns + 10**9))
    assert run(root, cache)["build"]["sass"] == [80, 86]


@pytest.mark.parametrize("content", ["{not json", "[]", '{"reader": 1, "files": {}}',
                                     '{"reader": 2, "files": []}', "\xff\xfe garbage"])
def test_corrupt_cache_is_ignored(tmp_path, content):
    root = package(tmp_path, ("base/libpaddle.so",))
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / binaries.CACHE_FILE).write_text(content, encoding="utf-8", errors="surrogateescape") \
        if not content.startswith("\xff") else (cache / binaries.CACHE_FILE).write_bytes(b"\xff\xfe\x00")
    r = run(root, cache)
    assert r["cache"]["status"] == "cold" and r["build"]["sass"] == [80, 86]
    assert run(root, cache)["cache"]["status"] == "warm"  # rewritten


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0,
                    reason="root writes into read-only folders")
def test_read_only_cache_folder_does_not_fail(tmp_path):
    root = package(tmp_path, ("base/libpaddle.so",))
    cache = tmp_path / "ro"
    cache.mkdir()
    cache.chmod(0o500)
    try:
        r = run(root, cache)
    finally:
        cache.chmod(0o700)
    assert r["build"]["sass"] == [80, 86] and r["cache"]["write"].startswith("not written")


def test_unwritable_or_absent_cache_folder_does_not_fail(tmp_path):
    root = package(tmp_path, ("base/libpaddle.so",))
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    r = run(root, blocker / "cache")  # its parent is a file: mkdir fails even for root
    assert r["build"]["sass"] == [80, 86] and r["cache"]["write"].startswith("not written")
    r = run(root, None)
    assert r["cache"]["write"] == "not written: no user cache folder"


def test_cache_folder_follows_the_platform(monkeypatch, tmp_path):
    monkeypatch.delenv("PADDLEDOCTOR_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert binaries.cache_dir() == tmp_path / "xdg" / "paddledoctor"
        monkeypatch.delenv("XDG_CACHE_HOME")
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        assert binaries.cache_dir() == tmp_path / "home" / ".cache" / "paddledoctor"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert binaries.cache_dir() == tmp_path / "local" / "paddledoctor" / "Cache"
    monkeypatch.delenv("LOCALAPPDATA")
    assert binaries.cache_dir() is None


def test_a_broken_library_is_its_own_error(tmp_path):
    root = package(tmp_path)
    (root / "libs" / "libbroken.so").write_bytes(b"\x7fELF" + b"\xff" * 100)
    r = run(root, tmp_path / "cache")
    broken = [lib for lib in r["libraries"] if lib["path"].endswith("libbroken.so")][0]
    assert broken["error"].startswith("ELFError") and broken["sass"] == []
    assert r["build"]["sass"] == [80, 86] and r["build"]["libraries_failed"] == 1


def test_the_reader_child_is_killed_at_its_deadline(tmp_path, monkeypatch):
    root = package(tmp_path, ("base/libpaddle.so",))
    r = binaries.probe({"found": True, "location": str(root)}, folder=None, timeout=0.001,
                       ld_library_path="")
    assert r["libraries"][0]["error"].startswith("not read: the reader")


def test_no_paddle_no_facts():
    assert not binaries.probe({"found": False})
    assert "no paddle package" in binaries.probe({"found": False}).reason


def test_layouts_of_2x_and_3x(tmp_path):
    root = package(tmp_path, ("base/libpaddle.so", "fluid/core_avx.so", "libs/libphi.so.3",
                              "libs/libphi_core.so", "libs/readme.txt", "nn/x.py"))
    names = [os.path.relpath(p, root) for p in binaries.paddle_libraries(str(root))]
    assert names == ["base/libpaddle.so", "fluid/core_avx.so", "libs/libphi.so.3",
                     "libs/libphi_core.so"]


# -- opt-in: the real unpacked wheels -----------------------------------------------------------

REAL_262 = os.environ.get("PADDLEDOCTOR_REAL_GPU_262")  # an unpacked paddlepaddle-gpu 2.6.2 wheel


@pytest.mark.skipif(not REAL_262 or not os.path.isdir(str(REAL_262)),
                    reason="set PADDLEDOCTOR_REAL_GPU_262 to an unpacked paddlepaddle-gpu 2.6.2 wheel")
def test_real_gpu_262_wheel_matches_the_recorded_fixture(tmp_path):
    """Regenerate the fixture from the same run: `pip download --no-deps paddlepaddle-gpu==2.6.2`,
    unzip, PADDLEDOCTOR_REAL_GPU_262=<folder>/paddle pytest tests/binaries/test_probe.py."""
    fixture = json.loads((Path(__file__).parent / "real_paddlepaddle_gpu_2_6_2_binaries.json").read_text())
    r = run(Path(REAL_262), tmp_path / "cache")
    assert r["build"]["sass"] == fixture["binaries"]["build"]["sass"] == [61, 70, 75, 80, 86]
    assert r["build"]["ptx"] == [] and r["build"]["primary"].endswith("libs/libphi.so")
    want = {lib["path"].rsplit("/", 1)[1]: (lib["sass"], lib["ptx"])
            for lib in fixture["binaries"]["libraries"]}
    got = {lib["path"].rsplit("/", 1)[1]: (lib["sass"], lib["ptx"]) for lib in r["libraries"]}
    assert got == want


def test_installed_cpu_paddle_has_no_gpu_code(tmp_path):
    """The real paddlepaddle (CPU) the tests install: its libraries read, and hold no fatbin."""
    from paddledoctor.probes.installed import probe_paddle_package
    pkg = probe_paddle_package()
    if not isinstance(pkg, dict) or not pkg.get("found"):
        pytest.skip("paddle is not installed")
    cpu = (pkg.get("version_file") or {}).get("cuda_version") in ("False", None)
    if not cpu:
        pytest.skip("the installed paddle is a GPU build")
    r = binaries.probe(pkg, folder=tmp_path / "cache")
    assert r["libraries"] and all(lib["error"] is None for lib in r["libraries"])
    assert r["build"]["has_gpu_code"] is False and r["build"]["sass"] == []
