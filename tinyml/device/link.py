"""Reading from a pyserial link (a real port or QEMU's socket) without waiting longer than asked."""

from __future__ import annotations

import serial

from tinyml.device.target import DeviceError

READ_CHUNK = 4096


def read_available(link: serial.SerialBase, wait_s: float, lost: str) -> bytes:
    """What has arrived, waiting at most ``wait_s`` for the first byte; ``lost`` words the error."""
    link.timeout = wait_s
    try:
        return bytes(link.read(max(1, min(READ_CHUNK, link.in_waiting))))
    except serial.SerialException as err:
        raise DeviceError(f"{lost} ({err})") from err
