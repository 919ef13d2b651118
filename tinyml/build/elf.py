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


def elf_sizes(path: Path) -> ElfSizes:
    raw = Path(path).read_bytes()
    if raw[:4] != b"\x7fELF" or raw[4] != 1:
        raise TinymlError(f"{path} is not a 32-bit ELF file; point at the firmware's .elf")
    endian = "<" if raw[5] == 1 else ">"
    shoff, = struct.unpack_from(endian + "I", raw, 0x20)
    shentsize, shnum = struct.unpack_from(endian + "HH", raw, 0x2E)
    text = data = bss = 0
    for i in range(shnum):
        _name, kind, flags, _addr, _off, size = struct.unpack_from(endian + "IIIIII", raw, shoff + i * shentsize)
        if not flags & SHF_ALLOC:
            continue
        if kind == SHT_NOBITS:
            bss += size
        elif flags & SHF_WRITE:
            data += size
        else:
            text += size
    return ElfSizes(text, data, bss)
