"""Talking to devices: one Target interface (QEMU or a serial port, chosen by the board file),
a protocol session on top, and the pure parser of the firmware's lines. pyserial is imported only
inside this package."""

from __future__ import annotations

from pathlib import Path

from tinyml.boards import Board
from tinyml.device.target import DeviceError, Target


def open_target(board: Board, elf: Path | None = None, port: str | None = None) -> Target:
    """The target for ``board``: an explicit port wins; else the board file's target (QEMU runs ``elf``)."""
    if port is not None or board.target == "serial":
        from tinyml.device.serial_port import SerialTarget, find_port

        return SerialTarget(port or find_port(board), board.baud)
    from tinyml.device.qemu import QemuTarget

    if elf is None:
        raise DeviceError(f"{board.id} is emulated: pass the firmware ELF to run (build the project first)")
    return QemuTarget(board, elf)


__all__ = ["DeviceError", "Target", "open_target"]
