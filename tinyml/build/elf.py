"""Flash and RAM a firmware uses, read from its ELF section headers (ELF32, any architecture):
like Berkeley ``size``, text = allocated read-only sections, data = allocated writable ones with
contents, bss = allocated without contents; flash = text + data, RAM = data + bss."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from tinyml.errors import TinymlError

SHF_WRITE = 0x1
SHF_ALLOC = 0x2
SHT_NOBITS = 8


@dataclass(frozen=True)
class ElfSizes:
    text: int
    data: int
    bss: int

    @property
    def flash(self) -> int:
        return self.text + self.data

    @property
    def ram(self) -> int:
        return self.data + self.bss


SHT_SYMTAB = 2
STT_FUNC = 2


def _read(path: Path) -> tuple[bytes, str, list[tuple[int, ...]]]:
    """The file, its byte order and its section headers (name, type, flags, addr, offset, size, link, info)."""
    raw = Path(path).read_bytes()
    if raw[:4] != b"\x7fELF" or raw[4] != 1:
        raise TinymlError(f"{path} is not a 32-bit ELF file; point at the firmware's .elf")
    endian = "<" if raw[5] == 1 else ">"
    shoff, = struct.unpack_from(endian + "I", raw, 0x20)
    shentsize, shnum = struct.unpack_from(endian + "HH", raw, 0x2E)
    return raw, endian, [struct.unpack_from(endian + "IIIIIIII", raw, shoff + i * shentsize) for i in range(shnum)]


def elf_sizes(path: Path) -> ElfSizes:
    text = data = bss = 0
    for _name, kind, flags, _addr, _off, size, _link, _info in _read(path)[2]:
        if not flags & SHF_ALLOC:
            continue
        if kind == SHT_NOBITS:
            bss += size
        elif flags & SHF_WRITE:
            data += size
        else:
            text += size
    return ElfSizes(text, data, bss)


def elf_functions(path: Path) -> dict[str, tuple[int, int]]:
    """Function symbols of an ELF32 -> (address without the Thumb bit, size)."""
    raw, endian, headers = _read(path)
    functions: dict[str, tuple[int, int]] = {}
    for _name, kind, _flags, _addr, offset, size, link, _info in headers:
        if kind != SHT_SYMTAB:
            continue
        str_offset = headers[link][4]
        for pos in range(offset, offset + size, 16):
            name_at, value, sym_size, info = struct.unpack_from(endian + "IIIB", raw, pos)
            if info & 0xF == STT_FUNC and name_at:
                end = raw.index(b"\0", str_offset + name_at)
                functions[raw[str_offset + name_at : end].decode(errors="replace")] = (value & ~1, sym_size)
    return functions
