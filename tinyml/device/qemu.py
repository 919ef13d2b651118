"""The emulated board: firmware under ``qemu-system-arm`` with ``-icount shift=0`` (one timer tick
per executed instruction, identical run to run) and semihosting exit. Its UART is a TCP socket QEMU
opens before the guest starts and waits on (``server=on,wait=on``), so no boot output is lost."""

from __future__ import annotations

import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import serial

from tinyml.boards import Board
from tinyml.device.link import read_available
from tinyml.device.target import (
    EMULATOR_START_DEADLINE_S,
    LINE_DEADLINE_S,
    DeviceError,
    LineBuffer,
    Target,
    deadline,
    read_line,
    remaining,
)
from tinyml.errors import ToolMissingError

EXIT_DEADLINE_S = 5.0
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _die_with_parent() -> None:
    """In the forked child before exec: the kernel kills the emulator when tinyml's process ends,
    whatever ends it (SIGKILL, SIGTERM from ``timeout``, SIGHUP, a crash) — nothing outlives tinyml.
    Linux only (prctl PR_SET_PDEATHSIG); elsewhere close() and Ctrl-C still stop it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class ExecTrace:
    """Log every translated block (``in_asm``) and every executed one (``exec,nochain``) to ``log``,
    for code at ``ranges`` only (QEMU's ``-dfilter``: the firmware's idle loop stays out)."""

    log: Path
    ranges: str


def qemu_command(board: Board, elf: Path, port: int | None, trace: ExecTrace | None = None) -> list[str]:
    """The one QEMU command line: the board's machine, one tick per instruction, semihosting exit,
    the UART on a local TCP socket (``port``) or on stdio (``None``: for a pipe)."""
    if board.emulator is None:
        raise DeviceError(f"board {board.id} has no emulator; use a serial port (--port)")
    serial_args = ["-serial", "stdio"] if port is None else [
        # nodelay: the firmware writes byte by byte; with Nagle each reply would wait ~40 ms for an ACK
        "-chardev", f"socket,id=uart0,host=127.0.0.1,port={port},server=on,wait=on,nodelay=on",
        "-serial", "chardev:uart0"]
    return [board.emulator.binary, "-M", board.emulator.machine, "-nographic", "-monitor", "none", *serial_args,
            "-icount", "shift=0", "-semihosting-config", "enable=on,target=native", "-kernel", str(elf),
            *(["-d", "in_asm,exec,nochain", "-dfilter", trace.ranges, "-D", str(trace.log)] if trace else [])]


class QemuTarget(Target):
    lossless_input = True  # QEMU's UART takes the next byte only when the guest has read the last

    def __init__(self, board: Board, elf: Path, trace: ExecTrace | None = None) -> None:
        if board.emulator is None:
            raise DeviceError(f"board {board.id} has no emulator; use a serial port (--port)")
        self.board = board
        self.elf = Path(elf)
        self.trace = trace
        self.name = f"QEMU {board.emulator.machine}"
        self._proc: subprocess.Popen[bytes] | None = None
        self._link: serial.SerialBase | None = None
        self._lines = LineBuffer()

    def open(self) -> None:
        assert self.board.emulator is not None
        binary = self.board.emulator.binary
        if shutil.which(binary) is None:
            raise ToolMissingError(f"{binary} not found; install it (apt-get install qemu-system-arm, or run "
                                   "scripts/bootstrap.sh)")
        if not self.elf.is_file():
            raise DeviceError(f"firmware {self.elf} does not exist; build it first (`tinyml build`)")
        port = _free_port()
        self._proc = subprocess.Popen(qemu_command(self.board, self.elf, port, self.trace), stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        until = deadline(EMULATOR_START_DEADLINE_S)
        while True:
            if self._proc.poll() is not None:
                out = self._proc.stdout.read().decode(errors="replace").strip() if self._proc.stdout else ""
                raise DeviceError(f"QEMU exited at start ({out.splitlines()[-1] if out else 'no output'}); "
                                  f"check {self.elf} is firmware for {self.board.id}")
            try:
                self._link = serial.serial_for_url(f"socket://127.0.0.1:{port}", timeout=0)
                sock = getattr(self._link, "_socket", None)
                if sock is not None:  # commands are tiny: without this, Nagle adds ~40 ms to each round trip
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return
            except serial.SerialException:
                if remaining(until) == 0:
                    self.close()
                    raise DeviceError(f"QEMU did not open its serial socket within {EMULATOR_START_DEADLINE_S:.0f} s"
                                      ) from None
                time.sleep(0.02)

    def _read_some(self, wait_s: float) -> bytes:
        assert self._link is not None
        return read_available(self._link, wait_s, "lost the emulator's serial link; the firmware may have crashed")

    def readline(self, timeout: float = LINE_DEADLINE_S) -> str | None:
        if self._link is None:
            raise DeviceError("the emulator is not running; open() it first")
        return read_line(self._lines, self._read_some, timeout,
                         lambda: self._proc is not None and self._proc.poll() is not None)

    def write(self, data: bytes) -> None:
        if self._link is None:
            raise DeviceError("the emulator is not running; open() it first")
        self._link.write(data)

    @property
    def exit_code(self) -> int | None:
        return self._proc.poll() if self._proc is not None else None

    def wait_exit(self, timeout: float = EXIT_DEADLINE_S) -> int | None:
        if self._proc is None:
            return None
        try:
            return self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait(timeout=EXIT_DEADLINE_S)
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._proc = None
