"""The host's C/C++ runtime and shared libraries against Paddle's, statically (PD110, PD111): small
ELF files built with gcc in the test (a .so that needs GLIBCXX_3.4.99 from libstdc++.so.6, one that
needs a libdoesnotexist.so.1), resolved as ld.so would, then judged; and the ELF reader against
readelf on the machine's own libc and libstdc++."""

from __future__ import annotations

import os
import sys
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from paddledoctor.doctor import diagnose
from paddledoctor.probes import binaries, loader
from paddledoctor.probes.elf import ELFError, ELFFile

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fatbin_writer as W  # noqa: E402  (synthesized inputs, beside this file)

GCC = shutil.which("gcc")
needs_gcc = pytest.mark.skipif(not GCC, reason="gcc is not installed")


def sh(*args, cwd=None):
    subprocess.run(args, check=True, capture_output=True, timeout=120, cwd=cwd)


def stub(folder: Path, soname: str, version: str | None = None, symbol: str = "pd_stub") -> Path:
    """A shared library named soname that defines symbol (in version, when given)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stub.c").write_text(f"int {symbol}(void) {{ return 1; }}\n")
    args = [GCC, "-shared", "-fPIC", "-o", str(folder / soname), str(folder / "stub.c"),
            f"-Wl,-soname,{soname}"]
    if version:
        (folder / "v.map").write_text(f"{version} {{ global: {symbol}; local: *; }};\n")
        args.append(f"-Wl,--version-script={folder / 'v.map'}")
    sh(*args)
    return folder / soname


def user(out: Path, libs: list[Path], runpath: str | None = None, symbols=("pd_stub",)) -> Path:
    """A shared library that calls symbols and so needs each of libs (by soname)."""
    src = out.parent / (out.name + ".c")
    src.write_text("".join(f"int {s}(void);\n" for s in symbols) +
                   "int pd_use(void) { return " + " + ".join(f"{s}()" for s in symbols) + "; }\n")
    args = [GCC, "-shared", "-fPIC", "-o", str(out), str(src)]
    for lib in libs:
        args += [f"-L{lib.parent}", f"-l:{lib.name}"]
    if runpath:
        args.append(f"-Wl,-rpath,{runpath},--enable-new-dtags")
    out.parent.mkdir(parents=True, exist_ok=True)
    sh(*args)
    return out


def fake_paddle(tmp_path: Path) -> Path:
    (tmp_path / "site" / "paddle" / "base").mkdir(parents=True)
    (tmp_path / "site" / "paddle" / "libs").mkdir(parents=True)
    return tmp_path / "site" / "paddle"


def judge(location: Path, **kw):
    facts = {"paddle": {"found": True, "location": str(location)},
             "binaries": binaries.probe({"found": True, "location": str(location)},
                                        ld_library_path=kw.pop("ld_library_path", ""), **kw)}
    report = diagnose(facts, {"quick": True}, mode="quick", areas=["paddle"])
    return facts, [f for f in report.findings if f.code in ("PD110", "PD111")]


@needs_gcc
def test_a_newer_glibcxx_than_the_machine_has_is_pd110(tmp_path):
    fake = stub(tmp_path / "build", "libstdc++.so.6", "GLIBCXX_3.4.99", "pd_newer_cxx")
    paddle = fake_paddle(tmp_path)
    user(paddle / "base" / "libpaddle.so", [fake], symbols=["pd_newer_cxx"])
    with ELFFile(paddle / "base" / "libpaddle.so") as e:
        assert e.version_needs()["libstdc++.so.6"] == ["GLIBCXX_3.4.99"]
    facts, found = judge(paddle)
    assert [f.code for f in found] == ["PD110"], found
    f = found[0]
    system = facts["binaries"]["loader"]["provided"]["libstdc++.so.6"]["path"]
    assert f.title == f"import paddle would fail: GLIBCXX_3.4.99 not found in {system}"
    assert f.evidence["needed_by"] == ["libpaddle.so"] and f.evidence["missing_versions"] == ["GLIBCXX_3.4.99"]
    assert f.evidence["newest_defined"]["GLIBCXX"].startswith("GLIBCXX_3.4.")


@needs_gcc
def test_wrong_case_a_libstdcxx_that_defines_it_first_on_ld_library_path(tmp_path):
    """The same library, with a libstdc++.so.6 defining GLIBCXX_3.4.99 first on LD_LIBRARY_PATH
    (as conda's would be): the loader picks that one, and there is no PD110."""
    fake = stub(tmp_path / "build", "libstdc++.so.6", "GLIBCXX_3.4.99", "pd_newer_cxx")
    paddle = fake_paddle(tmp_path)
    user(paddle / "base" / "libpaddle.so", [fake], symbols=["pd_newer_cxx"])
    facts, found = judge(paddle, ld_library_path=str(fake.parent))
    assert found == []
    p = facts["binaries"]["loader"]["provided"]["libstdc++.so.6"]
    assert p["path"] == str(fake) and p["how"] == "LD_LIBRARY_PATH"


@needs_gcc
def test_a_library_the_loader_cannot_find_is_pd111(tmp_path):
    gone = stub(tmp_path / "build", "libdoesnotexist.so.1")
    paddle = fake_paddle(tmp_path)
    user(paddle / "base" / "libpaddle.so", [gone])
    gone.unlink()
    facts, found = judge(paddle)
    assert [f.code for f in found] == ["PD111"]
    f = found[0]
    assert f.severity.value == "error"
    assert f.title == ("import paddle would fail: libdoesnotexist.so.1, needed by libpaddle.so, is "
                       "not found by the loader")
    assert "ld.so.cache" in f.evidence["searched"]


@needs_gcc
def test_wrong_case_runpath_origin_finds_the_library(tmp_path):
    """The same need, with the library in paddle/libs and libpaddle.so's RUNPATH $ORIGIN/../libs
    (Paddle's own layout): found, no PD111."""
    paddle = fake_paddle(tmp_path)
    dep = stub(paddle / "libs", "libdoesnotexist.so.1")
    user(paddle / "base" / "libpaddle.so", [dep], runpath="$ORIGIN/../libs")
    facts, found = judge(paddle)
    assert found == []
    assert facts["binaries"]["loader"]["loaded_at_import"] == ["libdoesnotexist.so.1", "libpaddle.so"]


@needs_gcc
def test_a_library_loaded_at_import_satisfies_a_plugin_without_runpath(tmp_path):
    """paddle/libs/libplugin.so needs libdep.so.1 and has no RUNPATH (as libopenvino_*_plugin.so
    in 3.3.1): ld.so finds libdep.so.1 already loaded by libpaddle.so. A plugin need that nothing
    provides is PD111 as a warning (it fails when dlopened, not at import)."""
    paddle = fake_paddle(tmp_path)
    dep = stub(paddle / "libs", "libdep.so.1")
    user(paddle / "base" / "libpaddle.so", [dep], runpath="$ORIGIN/../libs")
    user(paddle / "libs" / "libplugin.so", [dep])
    assert judge(paddle)[1] == []
    gone = stub(tmp_path / "build", "libgone.so.2")
    user(paddle / "libs" / "libplugin2.so", [gone])
    gone.unlink()
    found = judge(paddle)[1]
    assert [(f.code, f.severity.value) for f in found] == [("PD111", "warn")]
    assert found[0].title == "libplugin2.so would fail to load: libgone.so.2 is not found by the loader"


@needs_gcc
def test_cuda_libraries_paddle_dlopens_are_left_to_the_wheels_checks(tmp_path):
    cudnn = stub(tmp_path / "build", "libcudnn.so.8")
    paddle = fake_paddle(tmp_path)
    user(paddle / "base" / "libpaddle.so", [cudnn])
    cudnn.unlink()
    facts, found = judge(paddle)
    assert found == [] and facts["binaries"]["loader"]["skipped_dlopened"] == ["libcudnn.so.8"]


def test_wrong_elf_class_is_skipped_like_ld_so(tmp_path):
    (tmp_path / "libx.so.1").write_bytes(W.elf({".text": b"\0"}, bits=32))
    ld = loader.Loader(64, 62, ld_library_path=str(tmp_path), executable="", cache={}, defaults=[])
    assert ld.find("libx.so.1", str(tmp_path), [], [])[0] is None
    ld32 = loader.Loader(32, 3, ld_library_path=str(tmp_path), executable="", cache={}, defaults=[])
    assert ld32.find("libx.so.1", str(tmp_path), [], [])[0] == str(tmp_path / "libx.so.1")


def test_search_order_rpath_only_without_runpath(tmp_path):
    ld = loader.Loader(64, 62, ld_library_path="/lp", executable="", cache={}, defaults=[])
    assert [w for _, w in ld.search_order("/o", ["$ORIGIN/r"], [])] == ["DT_RPATH", "LD_LIBRARY_PATH"]
    order = ld.search_order("/o", ["$ORIGIN/r"], ["$ORIGIN/../libs"])
    assert order == [("/lp", "LD_LIBRARY_PATH"), ("/libs", "DT_RUNPATH")]


# -- ld.so.cache --------------------------------------------------------------------------------

@pytest.mark.skipif(not os.path.exists("/etc/ld.so.cache") or not shutil.which("ldconfig"),
                    reason="no ld.so.cache or ldconfig here")
def test_ld_so_cache_parser_agrees_with_ldconfig():
    parsed = loader.parse_ld_so_cache(Path("/etc/ld.so.cache").read_bytes())
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, timeout=10).stdout
    listed = {}
    for line in out.splitlines()[1:]:
        m = re.match(r"\s*(\S+) \(([^)]*)\) => (\S+)", line)
        if m and m.group(2).startswith("libc6"):
            listed.setdefault(m.group(1), []).append(m.group(3))
    assert parsed and set(parsed) == set(listed)
    assert all(parsed[k] == v for k, v in listed.items())


@pytest.mark.parametrize("data", [b"", b"glibc-ld.so.cache1.1" + b"\xff" * 40, b"junk" * 30,
                                  b"ld.so-1.7.0\0" + b"\xff\xff\xff\x7f"])
def test_garbage_ld_so_cache_is_refused(data):
    with pytest.raises((ValueError, Exception)) as exc:
        loader.parse_ld_so_cache(data)
    assert isinstance(exc.value, (ValueError, __import__("struct").error))


# -- the ELF reader against readelf ---------------------------------------------------------------

READELF = shutil.which("readelf")
SYSTEM_LIBS = [p for p in ("/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6",
                           "/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib64/libc.so.6")
               if os.path.exists(p)]


@pytest.mark.skipif(not READELF or not SYSTEM_LIBS, reason="no readelf or no system libraries")
@pytest.mark.parametrize("path", SYSTEM_LIBS)
def test_versions_and_needed_agree_with_readelf(path):
    text = subprocess.run([READELF, "-V", "-d", "-W", path], capture_output=True, text=True,
                          timeout=30).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", text)
    defs_part = text.split("Version definition section", 1)[1].split("Version needs section", 1)[0]
    defs = re.findall(r"Rev: 1\s+Flags: (\S+)\s+Index: \d+\s+Cnt: \d+\s+Name: (\S+)", defs_part)
    needs_part = text.split("Version needs section", 1)[1]
    needs = {}
    current = None
    for line in needs_part.splitlines():
        m = re.search(r"File: (\S+)", line)
        if m:
            current = needs.setdefault(m.group(1), [])
        m = re.search(r"Name: (\S+)\s+Flags", line)
        if m and current is not None:
            current.append(m.group(1))
    with ELFFile(path) as e:
        assert e.dynamic()["needed"] == needed
        assert e.version_definitions() == [n for flags, n in defs if flags != "BASE"]
        assert e.version_needs() == needs


@pytest.mark.parametrize("data", [b"\x7fELF" + b"\x09" * 60, b"\x7fELF\x02\x01" + b"\xff" * 58,
                                  b"not an elf file at all, no" * 3, b"\x7fELF"])
def test_garbage_is_an_elf_error(tmp_path, data):
    p = tmp_path / "bad.so"
    p.write_bytes(data)
    with pytest.raises(ELFError):
        ELFFile(p)


def test_synthesized_dynamic_and_version_needs_every_class(tmp_path):
    for bits in (32, 64):
        for little in (True, False):
            data = W.elf({".text": b"\0"}, bits=bits, little=little,
                         dynamic=[(1, "libstdc++.so.6"), (1, "libc.so.6"), (29, "$ORIGIN/../libs"),
                                  (14, "libpaddle.so")],
                         verneed={"libstdc++.so.6": ["GLIBCXX_3.4.30", "CXXABI_1.3.13"],
                                  "libc.so.6": ["GLIBC_2.27"]})
            p = tmp_path / f"l{bits}{little}.so"
            p.write_bytes(data)
            with ELFFile(p) as e:
                assert e.dynamic() == {"needed": ["libstdc++.so.6", "libc.so.6"], "rpath": [],
                                       "runpath": ["$ORIGIN/../libs"], "soname": "libpaddle.so"}
                assert e.version_needs() == {"libstdc++.so.6": ["GLIBCXX_3.4.30", "CXXABI_1.3.13"],
                                             "libc.so.6": ["GLIBC_2.27"]}


@needs_gcc
def test_the_executables_rpath_is_searched_like_condas_python(tmp_path):
    """conda's python carries DT_RPATH $ORIGIN/../lib: a library without RUNPATH that needs
    libstdc++.so.6 gets $CONDA_PREFIX/lib's copy before the system's."""
    env = tmp_path / "env"
    (env / "bin").mkdir(parents=True)
    (tmp_path / "main.c").write_text("int main(void) { return 0; }\n")
    sh(GCC, "-o", str(env / "bin" / "python"), str(tmp_path / "main.c"),
       "-Wl,-rpath,$ORIGIN/../lib,--disable-new-dtags")
    fake = stub(env / "lib", "libstdc++.so.6", "GLIBCXX_3.4.99", "pd_newer_cxx")
    paddle = fake_paddle(tmp_path)
    user(paddle / "base" / "libpaddle.so", [fake], symbols=["pd_newer_cxx"])
    facts, found = judge(paddle, executable=str(env / "bin" / "python"))
    assert found == []
    p = facts["binaries"]["loader"]["provided"]["libstdc++.so.6"]
    assert p["path"] == str(env / "lib" / "libstdc++.so.6") and p["how"] == "the executable's DT_RPATH"
    # wrong case: the same python with DT_RUNPATH instead (new dtags) does not lend it to libraries
    sh(GCC, "-o", str(env / "bin" / "python"), str(tmp_path / "main.c"),
       "-Wl,-rpath,$ORIGIN/../lib,--enable-new-dtags")
    facts, found = judge(paddle, executable=str(env / "bin" / "python"))
    assert [f.code for f in found] == ["PD110"]
