"""A small, bounded ELF reader: headers, section headers, a named section's bytes (lazily, through
mmap), the dynamic section's DT_NEEDED/DT_RPATH/DT_RUNPATH/DT_SONAME, and the GNU symbol version
needs (``.gnu.version_r``) and definitions (``.gnu.version_d``).

Why our own reader rather than pyelftools: the doctor needs five facts from a file, must stay light
on import in ``check --quick``, and must never crash nor read a whole 1 GB ``libphi.so``. Every read
here is checked against the file's size before it is made, every table walk is bounded by its count
and by the bytes it may occupy, and any inconsistency is an :class:`ELFError` with a one-line reason.

Layout: the System V ABI ("ELF-64 Object File Format", gABI chapter 4) and the Linux Standard Base
Core spec, "Symbol Versioning" (Elfxx_Verneed / Elfxx_Vernaux / Elfxx_Verdef / Elfxx_Verdaux, which
have the same layout in ELF32 and ELF64).
"""

from __future__ import annotations

import mmap
import os
import struct
from dataclasses import dataclass

ELF_MAGIC = b"\x7fELF"
SHT_NOBITS = 8
SHT_DYNAMIC = 6
SHT_GNU_VERDEF = 0x6FFFFFFD
SHT_GNU_VERNEED = 0x6FFFFFFE
DT_NULL, DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH = 0, 1, 14, 15, 29

MAX_SECTIONS = 1 << 16        # e_shnum is 16 bits; the extended count in section 0 is bounded too
MAX_VERSION_ENTRIES = 1 << 14  # real libraries have tens; a loop in a corrupt table stops here
MAX_STRING = 1 << 16           # a name longer than this is not a name


class ELFError(ValueError):
    """The file is not an ELF file this reader accepts, or it is inconsistent (truncated, corrupt)."""


@dataclass(frozen=True)
class Section:
    name: str
    type: int
    flags: int
    addr: int
    offset: int
    size: int
    link: int
    info: int
    entsize: int


class ELFFile:
    """An ELF file opened read-only through mmap. Use as a context manager (or call close()).

    Only the ELF header and the section header table are read on open; section contents are
    memoryviews into the mapping, read by the OS only where touched."""

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        self._map = None
        self._views: list[memoryview] = []
        with open(self.path, "rb") as f:
            self.file_size = os.fstat(f.fileno()).st_size
            if self.file_size < 52:
                raise ELFError(f"{self.file_size} bytes: too short for an ELF header")
            head = f.read(4)
            if head != ELF_MAGIC:
                raise ELFError("not an ELF file (no \\x7fELF magic)")
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        if hasattr(mmap, "MADV_RANDOM"):
            # Headers scattered over a large file: without this, each page fault reads ahead
            # 128 KiB or more (libphi.so of 2.6.2, 3402 fatbin entries over 1.7 GB: 1.9 s cold from
            # disk with readahead, 0.4 s without).
            try:
                self._map.madvise(mmap.MADV_RANDOM)
            except OSError:
                pass
        try:
            self._parse_header()
            self.sections = self._parse_sections()
        except Exception:
            self.close()
            raise

    # -- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        for v in self._views:
            try:
                v.release()
            except BufferError:  # a caller still holds a slice of it
                pass
        self._views.clear()
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:  # a caller still holds a view: the mapping goes with the last one
                pass
            self._map = None

    def __enter__(self) -> "ELFFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- raw reads, always bounded -----------------------------------------------------------------
    def _bytes(self, offset: int, size: int) -> bytes:
        if offset < 0 or size < 0 or offset + size > self.file_size:
            raise ELFError(f"read of {size} bytes at {offset} runs past the end of the file "
                           f"({self.file_size} bytes): truncated or corrupt")
        return self._map[offset:offset + size]

    def _unpack(self, fmt: str, offset: int) -> tuple:
        fmt = self._endian + fmt
        return struct.unpack(fmt, self._bytes(offset, struct.calcsize(fmt)))

    def _cstring(self, offset: int, limit: int) -> str:
        """A NUL-terminated string at ``offset`` that must end before ``limit``."""
        if not 0 <= offset < min(limit, self.file_size):
            raise ELFError(f"string offset {offset} outside its table")
        end = self._map.find(b"\0", offset, min(limit, self.file_size, offset + MAX_STRING))
        if end < 0:
            raise ELFError(f"unterminated string at {offset}")
        return self._map[offset:end].decode("utf-8", "replace")

    # -- headers ---------------------------------------------------------------------------------
    def _parse_header(self) -> None:
        ei_class, ei_data = self._map[4], self._map[5]
        if ei_class not in (1, 2):
            raise ELFError(f"unknown ELF class {ei_class}")
        if ei_data not in (1, 2):
            raise ELFError(f"unknown ELF data encoding {ei_data}")
        self.bits = 32 if ei_class == 1 else 64
        self.little_endian = ei_data == 1
        self._endian = "<" if self.little_endian else ">"
        if self.bits == 64:
            (self.e_type, self.e_machine, _ver, _entry, _phoff, shoff, _flags, _ehsize, _phentsize,
             _phnum, shentsize, shnum, shstrndx) = self._unpack("HHIQQQIHHHHHH", 16)
            min_shentsize = 64
        else:
            (self.e_type, self.e_machine, _ver, _entry, _phoff, shoff, _flags, _ehsize, _phentsize,
             _phnum, shentsize, shnum, shstrndx) = self._unpack("HHIIIIIHHHHHH", 16)
            min_shentsize = 40
        self._shoff, self._shentsize = shoff, shentsize
        self._shnum, self._shstrndx = shnum, shstrndx
        if shoff == 0:
            self._shnum = 0  # no section header table (a stripped or odd file): nothing to read
            return
        if shentsize < min_shentsize:
            raise ELFError(f"section header entry size {shentsize} < {min_shentsize}")
        if shnum == 0 or shstrndx == 0xFFFF:  # extended numbering: real values in section 0
            first = self._raw_section(0)
            if shnum == 0:
                self._shnum = first[5]  # sh_size
            if shstrndx == 0xFFFF:
                self._shstrndx = first[6]  # sh_link
        if self._shnum > MAX_SECTIONS:
            raise ELFError(f"{self._shnum} sections: more than this reader accepts")
        if shoff + self._shnum * shentsize > self.file_size:
            raise ELFError("the section header table runs past the end of the file: truncated")

    def _raw_section(self, index: int) -> tuple:
        off = self._shoff + index * self._shentsize
        if self.bits == 64:
            return self._unpack("IIQQQQIIQQ", off)
        return self._unpack("IIIIIIIIII", off)

    def _parse_sections(self) -> list[Section]:
        if not self._shnum:
            return []
        raw = [self._raw_section(i) for i in range(self._shnum)]
        if not 0 <= self._shstrndx < len(raw):
            raise ELFError(f"section name table index {self._shstrndx} out of range")
        str_off, str_size = raw[self._shstrndx][4], raw[self._shstrndx][5]
        if str_off + str_size > self.file_size:
            raise ELFError("the section name table runs past the end of the file")
        out = []
        for (name, typ, flags, addr, offset, size, link, info, _align, entsize) in raw:
            text = self._cstring(str_off + name, str_off + str_size) if name < str_size else ""
            out.append(Section(text, typ, flags, addr, offset, size, link, info, entsize))
        return out

    # -- sections --------------------------------------------------------------------------------
    def section(self, name: str) -> Section | None:
        for s in self.sections:
            if s.name == name:
                return s
        return None

    def section_data(self, section: Section | str) -> memoryview | None:
        """The bytes of a section as a memoryview into the mapping (no copy: pages are read only
        where the caller looks). None for a section that is absent or has no bytes in the file."""
        s = self.section(section) if isinstance(section, str) else section
        if s is None or s.type == SHT_NOBITS or s.size == 0:
            return None
        if s.offset + s.size > self.file_size:
            raise ELFError(f"section {s.name} runs past the end of the file: truncated")
        view = memoryview(self._map)[s.offset:s.offset + s.size]
        self._views.append(view)
        return view

    def _linked_strtab(self, s: Section) -> tuple[int, int]:
        if not 0 < s.link < len(self.sections):
            raise ELFError(f"section {s.name} links to no string table (sh_link {s.link})")
        st = self.sections[s.link]
        if st.offset + st.size > self.file_size:
            raise ELFError(f"string table {st.name} runs past the end of the file")
        return st.offset, st.offset + st.size

    # -- .dynamic --------------------------------------------------------------------------------
    def dynamic(self) -> dict:
        """{"needed": [...], "rpath": [...], "runpath": [...], "soname": str|None} from .dynamic."""
        out: dict = {"needed": [], "rpath": [], "runpath": [], "soname": None}
        s = next((x for x in self.sections if x.type == SHT_DYNAMIC), None)
        if s is None or s.size == 0:
            return out
        lo, hi = self._linked_strtab(s)
        fmt, step = ("qQ", 16) if self.bits == 64 else ("iI", 8)
        if s.offset + s.size > self.file_size:
            raise ELFError(".dynamic runs past the end of the file")
        for i in range(s.size // step):
            tag, val = self._unpack(fmt, s.offset + i * step)
            if tag == DT_NULL:
                break
            if tag in (DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH):
                text = self._cstring(lo + val, hi) if val < hi - lo else None
                if text is None:
                    raise ELFError(f"a .dynamic string offset ({val}) is outside .dynstr")
                if tag == DT_NEEDED:
                    out["needed"].append(text)
                elif tag == DT_SONAME:
                    out["soname"] = text
                else:
                    out["rpath" if tag == DT_RPATH else "runpath"] += [p for p in text.split(":") if p]
        return out

    # -- GNU symbol versions -----------------------------------------------------------------------
    def version_needs(self) -> dict[str, list[str]]:
        """{needed file: [version names]} from .gnu.version_r (e.g. libstdc++.so.6 ->
        [GLIBCXX_3.4.30, CXXABI_1.3.13, ...])."""
        s = next((x for x in self.sections if x.type == SHT_GNU_VERNEED), None)
        out: dict[str, list[str]] = {}
        if s is None or s.size == 0:
            return out
        lo, hi = self._linked_strtab(s)
        end = s.offset + s.size
        off, seen = s.offset, 0
        for _ in range(min(s.info or MAX_VERSION_ENTRIES, MAX_VERSION_ENTRIES)):
            if off + 16 > end:
                raise ELFError(".gnu.version_r: an entry runs past the section")
            version, cnt, file_, aux, nxt = self._unpack("HHIII", off)
            if version != 1:
                raise ELFError(f".gnu.version_r: unknown entry version {version}")
            names = out.setdefault(self._cstring(lo + file_, hi), [])
            a = off + aux
            for _ in range(min(cnt, MAX_VERSION_ENTRIES)):
                if a + 16 > end or a < s.offset:
                    raise ELFError(".gnu.version_r: an auxiliary entry runs past the section")
                _hash, _flags, _other, name, anext = self._unpack("IHHII", a)
                names.append(self._cstring(lo + name, hi))
                seen += 1
                if not anext:
                    break
                a += anext
            if not nxt:
                break
            off += nxt
        if seen > MAX_VERSION_ENTRIES:
            raise ELFError(".gnu.version_r: too many entries")
        return out

    def version_definitions(self) -> list[str]:
        """The version names this file defines (.gnu.version_d): GLIBC_2.17 ... in libc.so.6,
        GLIBCXX_3.4 ... and CXXABI_1.3 ... in libstdc++.so.6. The file's own soname entry (the
        base definition, flag VER_FLG_BASE) is left out."""
        s = next((x for x in self.sections if x.type == SHT_GNU_VERDEF), None)
        out: list[str] = []
        if s is None or s.size == 0:
            return out
        lo, hi = self._linked_strtab(s)
        end = s.offset + s.size
        off = s.offset
        for _ in range(min(s.info or MAX_VERSION_ENTRIES, MAX_VERSION_ENTRIES)):
            if off + 20 > end:
                raise ELFError(".gnu.version_d: an entry runs past the section")
            version, flags, _ndx, cnt, _hash, aux, nxt = self._unpack("HHHHIII", off)
            if version != 1:
                raise ELFError(f".gnu.version_d: unknown entry version {version}")
            if cnt and not flags & 1:  # VER_FLG_BASE: the file's own name, not a version
                a = off + aux
                if a + 8 > end or a < s.offset:
                    raise ELFError(".gnu.version_d: an auxiliary entry runs past the section")
                name, _anext = self._unpack("II", a)
                out.append(self._cstring(lo + name, hi))  # the first aux names it; others: parents
            if not nxt:
                break
            off += nxt
        return out


def read_elf_facts(path: str | os.PathLike) -> dict:
    """The loader-relevant facts of one file: class, dynamic entries and version needs."""
    with ELFFile(path) as elf:
        dyn = elf.dynamic()
        return {"bits": elf.bits, "little_endian": elf.little_endian, "machine": elf.e_machine,
                **dyn, "version_needs": elf.version_needs()}
