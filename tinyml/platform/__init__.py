"""Board families as platform objects: ``platform_for(board)`` is the one place a board's family is
decided. Everything that depends on it — project parts, the fit rule, build, flash, the Target —
is asked of the platform (see ``base.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tinyml.boards import Board, get_board
from tinyml.build.firmware import Firmware, find_elf, project_board
from tinyml.build.linkcheck import LinkCheck
from tinyml.device.session import Session
from tinyml.errors import BoardError
from tinyml.platform.base import Platform, Requirement, preflight
from tinyml.platform.families import FAMILIES
from tinyml.platform.fit import RUNTIMES, Fit, MemoryNeed, Placement


def platform_for(board: Board | str) -> Platform:
    board = get_board(board) if isinstance(board, str) else board
    family = FAMILIES.get(board.port)
    if family is None:
        raise BoardError(f"{board.source}: firmware port '{board.port}' has no platform in tinyml; use one of: "
                         f"{', '.join(sorted(FAMILIES))}")
    return family(board)


def build_project(project: Path) -> Firmware:
    """Build a generated project for its board."""
    board, runtime = project_board(Path(project))
    return platform_for(board).build(Path(project), runtime)


def offline_check(project: Path) -> LinkCheck:
    """Link a Cortex-M project with the local Arm toolchain (no PlatformIO platform needed)."""
    board, runtime = project_board(Path(project))
    return platform_for(board).offline_check(Path(project), runtime)


def flash_project(project: Path, port: str | None = None) -> str:
    board, _ = project_board(Path(project))
    return platform_for(board).flash(Path(project), port)


def project_elf(project: Path) -> tuple[Board, Path]:
    board, _ = project_board(Path(project))
    return board, find_elf(Path(project), board.id)


@contextmanager
def session_for(board: Board, elf: Path | None = None, port: str | None = None) -> Iterator[Session]:
    """A protocol session with the firmware ready (the emulator started on ``elf``, or the board on
    its serial port); an emulated firmware is asked to exit afterwards, and the target is closed."""
    platform = platform_for(board)
    with platform.open_target(elf, port) as target:
        session = Session(target)
        session.wait_ready()
        try:
            yield session
        finally:
            if platform.ends_session(port):
                session.exit()


__all__ = ["RUNTIMES", "Fit", "MemoryNeed", "Placement", "Platform", "Requirement", "build_project",
           "flash_project", "offline_check", "platform_for", "preflight", "project_elf", "session_for"]
