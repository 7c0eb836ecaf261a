"""SYNTHESIZED test inputs: a tiny writer of fatbin containers and of minimal ELF files that carry
them, so that the reader's tests run without nvcc. The layout written here is the one the reader
documents (paddledoctor/probes/fatbin.py), itself checked against nvcc 13.0's output and the real
paddlepaddle-gpu 2.6.2 wheel by the nvcc and real-wheel tests; these files are not real artifacts.
"""

from __future__ import annotations

import struct

MAGIC = 0xBA55ED50


def entry(kind: int, arch: int, payload: bytes = b"", flags: int = 0x11, header_size: int = 64,
          compressed: bool = False, version=(1, 8)) -> bytes:
    """One entry: kind 1 PTX / 2 ELF, its header then its payload padded to 8 bytes."""
    padded = payload + b"\0" * (-len(payload) % 8)
    if compressed:
        flags |= 0x8000
    head = struct.pack("<HHIQIIHHIIIQQQ", kind, 0x0101, header_size, len(padded),
                       len(payload) if compressed else 0, 64 if header_size > 64 else 0,
                       version[1], version[0], arch, 0, 0, flags, 0,
                       4 * len(payload) if compressed else 0)
    return head + b"\0" * (header_size - 64) + padded


def container(*entries: bytes) -> bytes:
    body = b"".join(entries)
    return struct.pack("<IHHQ", MAGIC, 1, 16, len(body)) + body


def sass(arch: int, **kw) -> bytes:
    return entry(2, arch, b"\x7fELF-synthesized-cubin", **kw)


def ptx(arch: int, **kw) -> bytes:
    return entry(1, arch, b".version 8.0\n.target sm_%d\n" % arch, version=(8, 0), **kw)


def elf(sections: dict[str, bytes], bits: int = 64, little: bool = True,
        dynamic: list[tuple[int, str]] | None = None,
        verneed: dict[str, list[str]] | None = None) -> bytes:
    """A minimal ELF shared object (e_type ET_DYN, x86-64/i386 machine) with the given sections,
    and optionally a .dynamic (tag, string) list and a .gnu.version_r table, with their .dynstr."""
    e = "<" if little else ">"
    names = [""] + list(sections)
    contents = [b""] + list(sections.values())
    types = [0] + [1] * len(sections)
    links = [0] * len(names)
    infos = [0] * len(names)
    if dynamic is not None or verneed:
        strtab = bytearray(b"\0")

        def s(text):
            off = len(strtab)
            strtab.extend(text.encode() + b"\0")
            return off
        dynstr_index = len(names)
        if dynamic is not None:
            fmt = e + ("qQ" if bits == 64 else "iI")
            dyn = b"".join(struct.pack(fmt, tag, s(text)) for tag, text in dynamic)
            dyn += struct.pack(fmt, 0, 0)
        if verneed:
            vn = bytearray()
            files = list(verneed.items())
            for i, (file_, versions) in enumerate(files):
                last = i == len(files) - 1
                vn += struct.pack(e + "HHIII", 1, len(versions), s(file_), 16,
                                  0 if last else 16 + 16 * len(versions))
                for j, v in enumerate(versions):
                    vn += struct.pack(e + "IHHII", 0, 0, 2 + j, s(v),
                                      0 if j == len(versions) - 1 else 16)
        names.append(".dynstr")
        contents.append(bytes(strtab))
        types.append(3)
        links.append(0)
        infos.append(0)
        if dynamic is not None:
            names.append(".dynamic")
            contents.append(dyn)
            types.append(6)
            links.append(dynstr_index)
            infos.append(0)
        if verneed:
            names.append(".gnu.version_r")
            contents.append(bytes(vn))
            types.append(0x6FFFFFFE)
            links.append(dynstr_index)
            infos.append(len(verneed))
    shstr = bytearray(b"\0")
    name_off = []
    for n in names + [".shstrtab"]:
        if n:
            name_off.append(len(shstr))
            shstr.extend(n.encode() + b"\0")
        else:
            name_off.append(0)
    names.append(".shstrtab")
    contents.append(bytes(shstr))
    types.append(3)
    links.append(0)
    infos.append(0)
    ehsize = 64 if bits == 64 else 52
    shentsize = 64 if bits == 64 else 40
    data = bytearray(b"\0" * ehsize)
    offsets = []
    for c in contents:
        data += b"\0" * (-len(data) % 8)
        offsets.append(len(data) if c else 0)
        data += c
    data += b"\0" * (-len(data) % 8)
    shoff = len(data)
    machine = 62 if bits == 64 else 3
    for i, c in enumerate(contents):
        if bits == 64:
            data += struct.pack(e + "IIQQQQIIQQ", name_off[i], types[i], 0, 0, offsets[i], len(c),
                                links[i], infos[i], 8 if i else 0, 0)
        else:
            data += struct.pack(e + "IIIIIIIIII", name_off[i], types[i], 0, 0, offsets[i], len(c),
                                links[i], infos[i], 8 if i else 0, 0)
    ident = b"\x7fELF" + bytes([2 if bits == 64 else 1, 1 if little else 2, 1]) + b"\0" * 9
    if bits == 64:
        head = struct.pack(e + "HHIQQQIHHHHHH", 3, machine, 1, 0, 0, shoff, 0, ehsize, 0, 0,
                           shentsize, len(contents), len(contents) - 1)
    else:
        head = struct.pack(e + "HHIIIIIHHHHHH", 3, machine, 1, 0, 0, shoff, 0, ehsize, 0, 0,
                           shentsize, len(contents), len(contents) - 1)
    data[:ehsize] = ident + head
    return bytes(data)
