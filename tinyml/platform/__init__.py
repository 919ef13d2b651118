"""Board families as platform objects: ``platform_for(board)`` is the one place a board's family is
decided. Everything that depends on it — project parts, the fit rule, build, flash, the Target —
is asked of the platform (see ``base.py``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tinyml.boards import Board, get_board
from tinyml.build.firmware import BuildError, Firmware, find_elf, project_board
from tinyml.build.linkcheck import LinkCheck
from tinyml.device.session import Session
from tinyml.errors import BoardError
from tinyml.platform.base import Platform, Requirement, preflight
from tinyml.platform.families import FAMILIES
from tinyml.platform.fit import RUNTIMES, Fit, MemoryNeed, Placement

BUILT_STAMP = ".pio/tinyml-built.json"  # which sources made the ELF (written by build_project)


def platform_for(board: Board | str) -> Platform:
    board = get_board(board) if isinstance(board, str) else board
    family = FAMILIES.get(board.port)
    if family is None:
        raise BoardError(f"{board.source}: firmware port '{board.port}' has no platform in tinyml; use one of: "
                         f"{', '.join(sorted(FAMILIES))}")
    return family(board)


def build_project(project: Path) -> Firmware:
    """Build a generated project for its board, and record which sources made the firmware."""
    board, runtime = project_board(Path(project))
    firmware = platform_for(board).build(Path(project), runtime)
    stamp = Path(project) / BUILT_STAMP
    stamp.write_text(json.dumps({"sources": _sources_digest(Path(project)), "elf": _digest([firmware.elf])}) + "\n")
    return firmware


def _project_sources(project: Path) -> list[Path]:
    return sorted([p for p in (project / "src").rglob("*") if p.is_file()]
                  + [p for p in (project / "platformio.ini", project / "linker.ld") if p.is_file()])


def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(str(p.name).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def _sources_digest(project: Path) -> str:
    return _digest(_project_sources(project))


def offline_check(project: Path) -> LinkCheck:
    """Link a Cortex-M project with the local Arm toolchain (no PlatformIO platform needed)."""
    board, runtime = project_board(Path(project))
    return platform_for(board).offline_check(Path(project), runtime)


def flash_project(project: Path, port: str | None = None) -> str:
    board, _ = project_board(Path(project))
    return platform_for(board).flash(Path(project), port)


def project_elf(project: Path) -> tuple[Board, Path]:
    """The project's board and built firmware; refuses firmware older than the project's sources
    (``generate`` rewrote them after the last build)."""
    project = Path(project)
    board, _ = project_board(project)
    elf = find_elf(project, board.id)
    stamp = project / BUILT_STAMP
    if stamp.is_file():  # built by tinyml: the same ELF must come from the same sources
        built = json.loads(stamp.read_text())
        if built.get("elf") == _digest([elf]) and built.get("sources") != _sources_digest(project):
            raise BuildError(f"{elf} was built before the project's sources changed (`tinyml generate` rewrote "
                             f"them); rebuild it (`tinyml build {project}`)")
    return board, elf


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
