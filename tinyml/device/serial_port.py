"""A real board on a serial port (pyserial). The port is the one given (``--port``) or the only
connected port whose USB VID:PID the board file lists; the board is reset on open where its
USB-serial bridge allows (DTR/RTS), and a board that does not reset is woken with a command."""

from __future__ import annotations

import errno
import time

import serial
from serial.tools import list_ports

from tinyml.boards import Board
from tinyml.device.link import read_available
from tinyml.device.target import LINE_DEADLINE_S, DeviceError, LineBuffer, Target, read_line

RESET_PULSE_S = 0.1


def find_port(board: Board) -> str:
    """The serial port of the one connected board matching ``board``'s USB ids."""
    ports = list(list_ports.comports())
    matches = [p.device for p in ports if p.vid is not None and any(
        u.vid == p.vid and u.pid == p.pid for u in board.usb_ids)]
    if len(matches) == 1:
        return matches[0]
    ids = ", ".join(str(u) for u in board.usb_ids) or "none listed"
    seen = ", ".join(f"{p.device} ({p.vid:04X}:{p.pid:04X})" if p.vid is not None else p.device for p in ports)
    if not matches:
        raise DeviceError(f"no serial port for {board.id} (USB ids {ids}); connected: {seen or 'nothing'} — "
                          "plug the board in or pass --port")
    raise DeviceError(f"{len(matches)} ports match {board.id}: {', '.join(matches)}; choose one with --port")


class SerialTarget(Target):
    def __init__(self, port: str, baud: int, reset: bool = True) -> None:
        self.port = port
        self.baud = baud
        self.reset = reset
        self.name = port
        self._link: serial.Serial | None = None
        self._lines = LineBuffer()

    def open(self) -> None:
        try:
            self._link = serial.serial_for_url(self.port, baudrate=self.baud, timeout=0, exclusive=True)
        except serial.SerialException as err:
            if getattr(err, "errno", None) == errno.EBUSY or "busy" in str(err).lower() or "lock" in str(err).lower():
                raise DeviceError(f"{self.port} is busy; close the program using it (a serial monitor?)") from err
            raise DeviceError(f"cannot open {self.port} ({err}); check the port name (`tinyml devices`)") from err
        if self.reset and isinstance(self._link, serial.Serial):
            self._reset_pulse(self._link)
        self._link.reset_input_buffer()

    @staticmethod
    def _reset_pulse(link: serial.Serial) -> None:
        """EN/RST via RTS (ESP32-style auto-reset bridges); boards without it ignore the pulse. Ports
        without modem lines (ptys, socat links, some virtual COM ports) refuse the ioctl: no pulse
        then — the session wakes such a device with a command instead."""
        try:
            link.dtr = False
            link.rts = True
            time.sleep(RESET_PULSE_S)
            link.rts = False
        except (OSError, serial.SerialException):
            pass

    def _read_some(self, wait_s: float) -> bytes:
        assert self._link is not None
        return read_available(self._link, wait_s, f"{self.port} went away; was the board unplugged or reset?")

    def readline(self, timeout: float = LINE_DEADLINE_S) -> str | None:
        if self._link is None:
            raise DeviceError(f"{self.port} is not open")
        return read_line(self._lines, self._read_some, timeout)

    def write(self, data: bytes) -> None:
        if self._link is None:
            raise DeviceError(f"{self.port} is not open")
        try:
            self._link.write(data)
            self._link.flush()
        except serial.SerialException as err:
            raise DeviceError(f"writing to {self.port} failed ({err})") from err

    def close(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None
