"""The fatbin reader on nvcc-built libraries (skipped without nvcc), on synthesized fatbins (the
writer in fatbin_writer.py), on garbage and truncated input, and on the CUDA toolkit's libraries."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from paddledoctor.probes.elf import ELFError, ELFFile
from paddledoctor.probes.fatbin import FatbinError, parse_fatbin, read_library, summarize

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fatbin_writer as W  # noqa: E402  (synthesized inputs, beside this file)

NVCC = shutil.which("nvcc") or (os.path.exists("/usr/local/cuda/bin/nvcc") and "/usr/local/cuda/bin/nvcc")
KERNEL = "__global__ void k(float *x){ x[threadIdx.x] *= 2.0f; }\n" \
         "extern \"C\" void launch(float *x){ k<<<1,32>>>(x); }\n"


def write(tmp_path, data: bytes, name="lib.so"):
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


# -- synthesized ------------------------------------------------------------------------------------

def test_synthesized_sass_and_ptx(tmp_path):
    fb = W.container(W.sass(75), W.sass(86), W.ptx(90, compressed=True))
    r = read_library(write(tmp_path, W.elf({".nv_fatbin": fb})))
    assert r["sass"] == [75, 86] and r["ptx"] == [90]
    assert r["containers"] == 1 and r["entries"] == 3 and r["compressed_entries"] == 1
    assert r["sections"] == [".nv_fatbin"]


@pytest.mark.parametrize("bits,little", [(64, True), (32, True), (64, False), (32, False)])
def test_every_elf_class_and_byte_order(tmp_path, bits, little):
    fb = W.container(W.sass(80), W.ptx(80))
    r = read_library(write(tmp_path, W.elf({".nv_fatbin": fb}, bits=bits, little=little)))
    assert (r["sass"], r["ptx"]) == ([80], [80])


def test_the_build_set_is_what_most_containers_carry(tmp_path):
    """665 containers of 61..86 and one third-party container with sm_90 (as in libphi.so of
    2.6.2): sm_90 is in sass_any with its count, not in the build set."""
    main = [W.container(*(W.sass(a) for a in (61, 70, 75, 80, 86))) for _ in range(9)]
    odd = W.container(W.sass(35), W.sass(90))
    r = read_library(write(tmp_path, W.elf({".nv_fatbin": b"".join(main) + odd})))
    assert r["sass"] == [61, 70, 75, 80, 86]
    assert r["sass_any"]["sm_90"] == 1 and r["sass_any"]["sm_80"] == 9 and r["containers"] == 10


def test_wrong_case_a_majority_arch_is_in_the_build_set(tmp_path):
    fb = b"".join(W.container(W.sass(80), W.sass(90)) for _ in range(3)) + W.container(W.sass(80))
    assert read_library(write(tmp_path, W.elf({".nv_fatbin": fb})))["sass"] == [80, 90]


def test_relocatable_fatbin_is_reported_apart(tmp_path):
    data = W.elf({".nv_fatbin": W.container(W.sass(80)),
                  "__nv_relfatbin": W.container(W.sass(90), W.ptx(90))})
    r = read_library(write(tmp_path, data))
    assert r["sass"] == [80] and r["ptx"] == []
    assert r["relocatable"]["sass_any"] == {"sm_90": 1} and r["relocatable"]["ptx_any"] == {"compute_90": 1}


def test_larger_entry_headers_and_arch_suffixes(tmp_path):
    fb = W.container(W.sass(100, header_size=112, flags=0x1100011),
                     W.sass(120, header_size=96, flags=0x1200011), W.ptx(90, flags=0x100011,
                                                                       header_size=80))
    r = read_library(write(tmp_path, W.elf({".nv_fatbin": fb})))
    assert r["sass"] == [100, 120] and r["ptx"] == [90]
    assert list(r["sass_any"]) == ["sm_100a", "sm_120f"] and list(r["ptx_any"]) == ["compute_90a"]


def test_no_fatbin_section(tmp_path):
    r = read_library(write(tmp_path, W.elf({".text": b"\x90" * 16})))
    assert (r["sass"], r["ptx"], r["containers"], r["sections"]) == ([], [], 0, [])


# -- garbage ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    b"", b"\0" * 8, b"garbage" * 10,
    W.container(W.sass(80))[:-5],                       # container claims more than there is
    W.container(W.sass(80))[:40],                       # entry header cut short
    b"\x50\xed\x55\xba" + b"\xff" * 60,                 # magic, then nonsense sizes
    W.container(W.sass(80)) + b"\x01\x02\x03\x04" + b"\0" * 12,  # a second container with bad magic
])
def test_garbage_is_a_fatbin_error(data):
    with pytest.raises(FatbinError):
        parse_fatbin(data)


def test_zero_padding_after_the_last_container_is_fine():
    assert len(parse_fatbin(W.container(W.sass(80)) + b"\0" * 32)) == 1


def test_entry_count_is_bounded():
    fb = W.container(*(W.sass(80) for _ in range(20)))
    with pytest.raises(FatbinError, match="more than 10"):
        parse_fatbin(fb, max_entries=10)


@pytest.mark.parametrize("cut", [10, 60, 200, -40, -8])
def test_truncated_elf_is_an_elf_or_fatbin_error(tmp_path, cut):
    data = W.elf({".nv_fatbin": W.container(W.sass(80), W.ptx(80))})
    with pytest.raises((ELFError, FatbinError)):
        read_library(write(tmp_path, data[:cut]))


def test_random_bytes_never_crash(tmp_path):
    import random
    rng = random.Random(1234)
    base = W.elf({".nv_fatbin": W.container(W.sass(80), W.ptx(80))})
    for i in range(300):
        data = bytearray(base)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        p = write(tmp_path, bytes(data), f"m{i}.so")
        try:
            read_library(p)
        except (ELFError, FatbinError):
            pass


# -- real: nvcc --------------------------------------------------------------------------------------

def nvcc_build(tmp_path, *args, name="k.so"):
    if not NVCC:
        pytest.skip("nvcc is not installed")
    src = tmp_path / "k.cu"
    src.write_text(KERNEL)
    out = tmp_path / name
    subprocess.run([NVCC, *args, "-o", str(out), str(src)], check=True, capture_output=True,
                   timeout=300)
    return str(out)


SHARED = ["-shared", "-Xcompiler", "-fPIC"]


def test_nvcc_several_sass_and_ptx(tmp_path):
    p = nvcc_build(tmp_path, "-gencode", "arch=compute_75,code=sm_75",
                   "-gencode", "arch=compute_80,code=sm_80",
                   "-gencode", "arch=compute_90,code=compute_90",
                   "-gencode", "arch=compute_120,code=sm_120", *SHARED)
    r = read_library(p)
    assert r["sass"] == [75, 80, 120] and r["ptx"] == [90]


@pytest.mark.parametrize("mode,compressed", [("none", False), ("size", True)])
def test_nvcc_compressed_and_not(tmp_path, mode, compressed):
    p = nvcc_build(tmp_path, "-gencode", "arch=compute_75,code=sm_75",
                   "-gencode", "arch=compute_90,code=compute_90", f"--compress-mode={mode}",
                   "-Xfatbin", "-compress-all" if compressed else "-compress=false", *SHARED)
    r = read_library(p)
    assert r["sass"] == [75] and r["ptx"] == [90]
    assert (r["compressed_entries"] > 0) is compressed


def test_nvcc_arch_specific_targets(tmp_path):
    p = nvcc_build(tmp_path, "-gencode", "arch=compute_90a,code=sm_90a",
                   "-gencode", "arch=compute_100f,code=sm_100f", *SHARED)
    r = read_library(p)
    assert r["sass"] == [90, 100] and set(r["sass_any"]) == {"sm_90a", "sm_100f"}


def test_nvcc_relocatable_object(tmp_path):
    p = nvcc_build(tmp_path, "-gencode", "arch=compute_75,code=sm_75", "-rdc=true", "-c",
                   "-Xcompiler", "-fPIC", name="k.o")
    r = read_library(p)
    assert r["sections"] == ["__nv_relfatbin"] and r["relocatable"]["sass_any"] == {"sm_75": 1}


# -- real: the CUDA toolkit's libraries and torch ---------------------------------------------------

CUDA_LIBS = sorted(glob.glob("/usr/local/cuda/lib64/lib*.so*"))


@pytest.mark.skipif(not CUDA_LIBS, reason="no CUDA toolkit in /usr/local/cuda/lib64")
def test_cuda_toolkit_libraries_read_cleanly():
    """Whatever the toolkit has (cudart, cupti, nvvm here; cuBLAS where installed): every library
    reads without error, and any fatbin in it has archs a real toolkit produces."""
    for p in CUDA_LIBS:
        if os.path.islink(p):
            continue
        r = read_library(p)
        for a in r["sass"] + r["ptx"]:
            assert 30 <= a <= 130, (p, a)


def test_torch_cuda_libraries_match_torch_arch_list():
    """torch's own arch list against the SASS the reader finds in libtorch_cuda.so (only with a
    CUDA build of torch; the torch 2.13.0 wheel available here is +cpu)."""
    torch = pytest.importorskip("torch")
    lib = glob.glob(os.path.join(os.path.dirname(torch.__file__), "lib", "libtorch_cuda*.so"))
    if not lib or not torch.version.cuda:
        pytest.skip("torch here is a CPU build: no libtorch_cuda.so")
    flags = torch._C._cuda_getArchFlags().split()
    want_sass = sorted({int(f[3:]) for f in flags if f.startswith("sm_")})
    r = read_library(lib[0])
    assert sorted({int(k.split("_")[1].rstrip("af")) for k in r["sass_any"]}) == want_sass


def test_summarize_of_nothing():
    assert summarize([]) == {"sass": [], "ptx": [], "sass_any": {}, "ptx_any": {}, "containers": 0,
                             "entries": 0, "compressed_entries": 0}


def test_elf_section_views_are_released(tmp_path):
    p = write(tmp_path, W.elf({".nv_fatbin": W.container(W.sass(80))}))
    elf = ELFFile(p)
    view = elf.section_data(".nv_fatbin")
    assert len(parse_fatbin(view)) == 1
    elf.close()
    with pytest.raises(ValueError):
        view[0]


def _torch_cuda_wheel():
    """A CUDA build of torch as a wheel file on this machine's disk (torch 2.14.1+cu130 lies in
    the local package folder here), or PADDLEDOCTOR_TORCH_CUDA_WHEEL."""
    found = [os.environ.get("PADDLEDOCTOR_TORCH_CUDA_WHEEL", "")]
    found += sorted(glob.glob("/opt/pypi-more/files/torch-2.1[4-9]*-manylinux*_x86_64.whl"))
    return next((p for p in found if p and os.path.isfile(p)), None)


def test_the_reader_finds_torchs_own_arch_list_in_the_real_libtorch_cuda():
    """Real CUDA binaries the doctor's authors did not build: the CUDA build of torch. The arch list
    torch reports (torch.cuda.get_arch_list(), compiled into libtorch_python.so as the string
    torch._C._cuda_getArchFlags() returns) must be the build set the reader finds in
    libtorch_cuda.so, without importing torch (no GPU here, nor its nvidia-* wheels)."""
    import re
    import zipfile
    wheel = _torch_cuda_wheel()
    if not wheel:
        pytest.skip("no CUDA build of torch on this disk (set PADDLEDOCTOR_TORCH_CUDA_WHEEL)")
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "paddledoctor-tests"
    target = cache / Path(wheel).stem
    names = ["torch/lib/libtorch_cuda.so", "torch/lib/libtorch_python.so"]
    if not all((target / n).is_file() for n in names):
        with zipfile.ZipFile(wheel) as z:
            for n in names:
                z.extract(n, target)
    flags_text = (target / names[1]).read_bytes()
    m = re.search(rb"\x00((?:sm|compute)_\d+[af]?(?: (?:sm|compute)_\d+[af]?){2,})\x00", flags_text)
    assert m, "torch's arch flags string not found in libtorch_python.so"
    flags = m.group(1).decode().split()
    want_sass = sorted({int(re.sub(r"\D", "", f)) for f in flags if f.startswith("sm_")})
    want_ptx = sorted({int(re.sub(r"\D", "", f)) for f in flags if f.startswith("compute_")})
    r = read_library(target / names[0])
    assert r["sass"] == want_sass and r["ptx"] == want_ptx, (r["sass"], r["ptx"], flags)
    assert r["entries"] > 1000  # the whole library was read, not its first container
