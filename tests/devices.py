"""A firmware process (host build or QEMU) driven over its stdin/stdout, for tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tinyml.boards import Board
from tinyml.device import protocol as p
from tinyml.device.qemu import _die_with_parent, qemu_command

RESPONSE_DEADLINE_S = 10.0


class HostDevice:
    def __init__(self, argv: list[str]) -> None:
        # dies with the test process (as tinyml's own emulator): a failed test leaves no QEMU behind
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0,
                                     preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        self.greeting = self.read_response()

    def read_response(self) -> list[p.Event]:
        events: list[p.Event] = []
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            assert line, f"device closed the line after {events}"
            events.append(p.parse_line(line.decode()))
            if isinstance(events[-1], p.Ready):
                return events

    def send(self, data: bytes) -> list[p.Event]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        return self.read_response()

    def close(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        return self.proc.wait(timeout=RESPONSE_DEADLINE_S)


def qemu_argv(board: Board, elf: Path) -> list[str]:
    """The product's QEMU command line with the UART on stdio (for a pipe)."""
    return qemu_command(board, elf, None)
