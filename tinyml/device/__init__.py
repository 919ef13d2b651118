"""Talking to devices: one Target interface (QEMU or a serial port; the board's platform chooses),
a protocol session on top, and the pure parser of the firmware's lines. pyserial is imported only
inside this package."""

from tinyml.device.target import DeviceError, Target

__all__ = ["DeviceError", "Target"]
