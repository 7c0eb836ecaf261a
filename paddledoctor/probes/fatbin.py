"""Which GPU code a shared library carries: the SASS and PTX archs of its ``.nv_fatbin`` (and
``__nv_relfatbin``) sections, read from the fatbin headers alone (payloads are never decompressed).

Layout (NVIDIA does not publish it; reverse-engineered descriptions agree, and every field below was
checked against fatbins built by nvcc 13.0 here and against the real paddlepaddle-gpu 2.6.2 wheel):

container header, 16 bytes, little endian::

    u32 magic 0xBA55ED50 | u16 version (1) | u16 header size (16) | u64 fat size (bytes after the header)

A section holds one or more containers back to back. Each container's entries follow its header,
each entry a header then its payload::

    0  u16 kind (1 PTX, 2 ELF = SASS)   2  u16 entry version (0x0101)   4  u32 entry header size
    8  u64 payload size (padded)        16 u32 compressed size (0 when stored plain)
    24 u16 code version minor           26 u16 major (ELF: cubin ABI 1.x; PTX: the PTX ISA version)
    28 u32 arch (75 = sm_75 / compute_75)                  32 u32 name offset  36 u32 name length
    40 u64 flags: 0x1 64-bit, 0x10 Linux, 0x2000 compressed (LZ4, CUDA <= 12), 0x8000 compressed
       (zstd, CUDA >= 12.8), 0x100000 arch-specific target (sm_90a), 0x200000 family target (sm_100f)
    56 u64 uncompressed size (when compressed)

The entry header is 64 bytes or more (80/96/112 for newer archs): the payload starts at
``entry + header size`` and the next entry at ``entry + header size + payload size``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

FATBIN_MAGIC = 0xBA55ED50
KIND_PTX, KIND_ELF = 1, 2
FLAG_64BIT = 0x1
FLAG_LINUX = 0x10
FLAG_COMPRESSED_LZ4 = 0x2000
FLAG_COMPRESSED_ZSTD = 0x8000
FLAG_ARCH_SPECIFIC = 0x100000   # sm_90a: runs only on exactly that cc
FLAG_FAMILY = 0x200000          # sm_100f: the family of that major
FATBIN_SECTIONS = (".nv_fatbin", "__nv_relfatbin")
ENTRY_MIN = 64
MAX_ENTRIES = 1 << 20  # libcublasLt has thousands of entries; garbage must stop somewhere


class FatbinError(ValueError):
    """The bytes are not a fatbin this reader accepts (bad magic, truncated, inconsistent sizes)."""


@dataclass(frozen=True)
class Entry:
    kind: int          # 1 PTX, 2 ELF (SASS)
    arch: int          # 75 for sm_75 / compute_75
    version: tuple     # (major, minor): cubin ABI for ELF, PTX ISA for PTX
    flags: int
    offset: int        # of the entry header, within the section
    header_size: int
    payload_size: int
    compressed_size: int
    uncompressed_size: int

    @property
    def is_ptx(self) -> bool:
        return self.kind == KIND_PTX

    @property
    def is_sass(self) -> bool:
        return self.kind == KIND_ELF

    @property
    def compressed(self) -> bool:
        return bool(self.flags & (FLAG_COMPRESSED_LZ4 | FLAG_COMPRESSED_ZSTD))

    @property
    def suffix(self) -> str:
        return "a" if self.flags & FLAG_ARCH_SPECIFIC else "f" if self.flags & FLAG_FAMILY else ""

    @property
    def name(self) -> str:
        return f"{'compute' if self.is_ptx else 'sm'}_{self.arch}{self.suffix}"


_HEADER = struct.Struct("<IHHQ")
_ENTRY = struct.Struct("<HHIQIIHHIIIQQQ")  # 64 bytes


def parse_fatbin(data, max_entries: int = MAX_ENTRIES) -> list[list[Entry]]:
    """The entries of every container in ``data`` (a section's bytes), one list per container.
    Reads headers only; raises FatbinError on bytes that are not a consistent fatbin."""
    if len(data) < _HEADER.size:
        raise FatbinError(f"{len(data)} bytes: too short for a fatbin header")
    containers: list[list[Entry]] = []
    count, pos, total = 0, 0, len(data)
    while pos + _HEADER.size <= total:
        magic, version, header_size, fat_size = _HEADER.unpack_from(data, pos)
        if magic != FATBIN_MAGIC:
            if pos and not any(bytes(data[pos:pos + 16])):
                break  # zero padding after the last container
            raise FatbinError(f"bad fatbin magic {magic:#010x} at offset {pos}")
        if header_size < _HEADER.size:
            raise FatbinError(f"fatbin header size {header_size} at offset {pos} is below 16")
        end = pos + header_size + fat_size
        if end > total:
            raise FatbinError(f"the fatbin container at offset {pos} claims {fat_size} bytes, past "
                              f"the end of the section ({total} bytes): truncated")
        entries: list[Entry] = []
        p = pos + header_size
        while p < end:
            if p + ENTRY_MIN > end:
                raise FatbinError(f"a fatbin entry header at offset {p} runs past its container")
            (kind, _ever, ehs, psize, csize, _x, minor, major, arch, _no, _nl, flags, _z,
             usize) = _ENTRY.unpack_from(data, p)
            if ehs < ENTRY_MIN or p + ehs + psize > end:
                raise FatbinError(f"the fatbin entry at offset {p} has inconsistent sizes "
                                  f"(header {ehs}, payload {psize})")
            entries.append(Entry(kind, arch, (major, minor), flags, p, ehs, psize, csize, usize))
            count += 1
            if count > max_entries:
                raise FatbinError(f"more than {max_entries} fatbin entries")
            p += ehs + psize
        containers.append(entries)
        pos = end
    return containers


def summarize(containers: list[list[Entry]]) -> dict:
    """A library's code, as the doctor judges it.

    ``sass``/``ptx``: the archs that at least half of the containers carry, the library's own build
    set. A library links third-party device code built for other archs (libphi.so of 2.6.2 has 665
    containers of sm_61/70/75/80/86 and one of sm_35...sm_90): one container with sm_90 does not
    make the build run on an H100. ``sass_any``/``ptx_any``: every arch seen, with the number of
    containers that carry it."""
    n = len(containers)
    sass_count: dict[str, int] = {}
    ptx_count: dict[str, int] = {}
    compressed = entries = 0
    for c in containers:
        for name in {e.name for e in c if e.is_sass}:
            sass_count[name] = sass_count.get(name, 0) + 1
        for name in {e.name for e in c if e.is_ptx}:
            ptx_count[name] = ptx_count.get(name, 0) + 1
        entries += len(c)
        compressed += sum(1 for e in c if e.compressed)

    def majority(counts):
        return sorted({_arch_int(k) for k, v in counts.items() if 2 * v >= n}) if n else []

    def names(counts):
        return dict(sorted(counts.items(), key=lambda kv: (_arch_int(kv[0]), kv[0])))

    return {"sass": majority(sass_count), "ptx": majority(ptx_count),
            "sass_any": names(sass_count), "ptx_any": names(ptx_count),
            "containers": n, "entries": entries, "compressed_entries": compressed}


def _arch_int(name: str) -> int:
    return int(name.split("_", 1)[1].rstrip("af"))


def read_library(path) -> dict:
    """The fatbin code of one ELF file (see :func:`elf_fatbin`). Raises ELFError / FatbinError."""
    from .elf import ELFFile

    with ELFFile(path) as elf:
        return elf_fatbin(elf)


def elf_fatbin(elf) -> dict:
    """The fatbin code of an open ELF file (see :func:`summarize`), from ``.nv_fatbin``: the device
    code the CUDA runtime registers when the library loads. ``__nv_relfatbin`` (relocatable device
    code kept for device linking, never loaded as kernels) is reported apart, as ``relocatable``.
    A file without fatbin sections has empty lists. Raises FatbinError."""
    parts = {}
    for name in FATBIN_SECTIONS:
        view = elf.section_data(name)
        if view is None:
            continue
        try:
            parts[name] = parse_fatbin(view)
        finally:
            view.release()
    out = summarize(parts.get(".nv_fatbin", []))
    out["sections"] = sorted(parts)
    if "__nv_relfatbin" in parts:
        rel = summarize(parts["__nv_relfatbin"])
        out["relocatable"] = {k: rel[k] for k in ("sass_any", "ptx_any", "containers")}
    return out
