"""The one interface every device sits behind (Zephyr twister's DeviceAdapter, esptool's named
timeouts): ``flash()``, ``open()``, ``readline(timeout)``, ``write()``, ``close()``.

Implementations: ``QemuTarget`` (the emulated board, ``tinyml.device.qemu``) and ``SerialTarget``
(a real board on a serial port, ``tinyml.device.serial_port``), chosen by name from the board
file's ``target``. Reading lines is all a target does; parsing them is ``tinyml.device.protocol``.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from types import TracebackType

from tinyml.errors import TinymlError

# Named deadlines (seconds). Every wait in the device layer uses one of these.
BOOT_DEADLINE_S = 10.0  # reset/boot until the firmware's first m-ready
RESPONSE_DEADLINE_S = 10.0  # a command until its m-ready (long inferences get more: see Session)
LINE_DEADLINE_S = 2.0  # default for one readline
EMULATOR_START_DEADLINE_S = 10.0  # QEMU listening on its serial socket


class DeviceError(TinymlError):
    """The device is missing, silent, or talks nonsense."""


class Target(ABC):
    """A board (real or emulated) that runs firmware and talks lines over a serial link."""

    name: str
    _lines: LineBuffer
    # True when the link cannot drop bytes the firmware has not read yet (the emulator's UART holds
    # its socket back): commands may then be pipelined instead of sent one answer at a time.
    lossless_input: bool = False

    @property
    def bytes_received(self) -> int:
        return self._lines.received

    @property
    def partial_line(self) -> bytes:
        return self._lines.partial()

    def flash(self) -> None:  # noqa: B027 — optional: boards flashed by PlatformIO need nothing here
        """Put the firmware on the device (QEMU: nothing to do, the ELF is loaded at open)."""

    @abstractmethod
    def open(self) -> None:
        """Connect (and start or reset the device) so that no output from its boot is lost."""

    @abstractmethod
    def readline(self, timeout: float = LINE_DEADLINE_S) -> str | None:
        """The next line without its ending, or None when none completed within ``timeout``."""

    @abstractmethod
    def write(self, data: bytes) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Target:
        self.open()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class LineBuffer:
    """Splits a byte stream into lines (\\n, \\r\\n or \\r endings); keeps partial lines."""

    # A device spewing bytes without line endings is cut into lines this long. The longest real line
    # is `m-results-[...]` of a wide output (the MLPerf AD autoencoder: 640 values, ~5 KB).
    MAX_LINE = 32768

    def __init__(self) -> None:
        self._buf = bytearray()
        self._after_cr = False
        self.received = 0  # bytes fed so far: a device can talk without ever ending a line

    def feed(self, data: bytes) -> None:
        self._buf.extend(data)
        self.received += len(data)

    def partial(self) -> bytes:
        """The start of the line not ended yet."""
        return bytes(self._buf[:40])

    def pop(self) -> str | None:
        if self._after_cr and self._buf[:1] == b"\n":  # the \n of a \r\n split across two reads
            del self._buf[:1]
        self._after_cr = False
        for i, b in enumerate(self._buf):
            if b in (10, 13):
                line = bytes(self._buf[:i])
                skip = 2 if b == 13 and i + 1 < len(self._buf) and self._buf[i + 1] == 10 else 1
                self._after_cr = b == 13 and skip == 1 and i + 1 == len(self._buf)
                del self._buf[: i + skip]
                return line.decode("ascii", errors="replace")
        if len(self._buf) >= self.MAX_LINE:
            line = bytes(self._buf[: self.MAX_LINE])
            del self._buf[: self.MAX_LINE]
            return line.decode("ascii", errors="replace")
        return None


POLL_S = 0.05  # longest single wait inside readline, so deadlines are kept to within this


def read_line(lines: LineBuffer, read_some: Callable[[float], bytes], timeout: float,
              ended: Callable[[], bool] = lambda: False) -> str | None:
    """The next complete line from ``lines``, refilled by ``read_some(wait_s)`` until ``timeout``;
    once ``ended()`` (the device is gone) whatever partial line is left, else None."""
    until = deadline(timeout)
    while True:
        line = lines.pop()
        if line is not None:
            return line
        data = read_some(min(POLL_S, remaining(until)))
        if data:
            lines.feed(data)
        elif ended():
            return lines.pop()
        elif remaining(until) == 0:
            return None


def deadline(seconds: float) -> float:
    return time.monotonic() + seconds


def remaining(until: float) -> float:
    return max(0.0, until - time.monotonic())
