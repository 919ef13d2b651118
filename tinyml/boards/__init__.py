"""Board registry: every board fact lives in ``boards/*.yaml``; this package only loads
and validates them."""

from tinyml.boards.registry import (
    Board,
    Emulator,
    Energy,
    PlatformIO,
    UsbId,
    all_boards,
    get_board,
    load_board,
    write_variant,
)

__all__ = ["Board", "Emulator", "Energy", "PlatformIO", "UsbId", "all_boards", "get_board", "load_board",
           "write_variant"]
