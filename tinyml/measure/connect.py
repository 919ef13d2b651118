"""One place that turns (project or ELF, board, port) into a ready protocol session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tinyml.boards import Board
from tinyml.device import open_target
from tinyml.device.session import Session


@contextmanager
def session_for(board: Board, elf: Path | None = None, port: str | None = None) -> Iterator[Session]:
    """A session with the firmware ready (QEMU started on ``elf``, or the board on its serial port);
    the emulator is asked to exit and closed afterwards."""
    with open_target(board, elf, port) as target:
        session = Session(target)
        session.wait_ready()
        try:
            yield session
        finally:
            if board.target == "qemu" and port is None:
                session.exit()
