"""Ctrl-C in a real terminal: training runs in a pseudo-terminal 80 columns wide, the test types
Ctrl-C into it mid-epoch (so the terminal driver, not the test, raises SIGINT and echoes what a
terminal would), and the screen is rendered with a terminal emulator (pyte) to read what a user sees."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
from pathlib import Path

import pyte

COLUMNS, ROWS = 80, 30
STARTUP_DEADLINE_S = 180.0  # importing TensorFlow and two tiny epochs
EXIT_DEADLINE_S = 60.0


def _wait(pid: int, deadline: float) -> int:
    """The child's wait status; killed, and the test failed, when it outlives ``deadline``."""
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError(f"the program was still running {EXIT_DEADLINE_S:.0f} s after Ctrl-C")


def _run_in_terminal(argv: list[str], interrupt_when: bytes) -> tuple[int, list[str], int]:
    """Run ``argv`` on a pty; type Ctrl-C once ``interrupt_when`` was printed. Returns the exit
    code, the rendered screen lines and the terminal's local flags after the program ended."""
    pid, fd = pty.fork()
    if pid == 0:  # child: the command, with the pty as its controlling terminal
        # as a user's shell starts it: Ctrl-C not ignored (a test run in the background inherits SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.execv(sys.executable, [sys.executable, "-m", "tinyml", *argv])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    out = b""
    typed_at = None
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the program ended and closed the terminal
                break
            if not chunk:
                break
            out += chunk
        if typed_at is None and interrupt_when in out:
            time.sleep(0.3)  # mid-epoch
            os.write(fd, b"\x03")
            typed_at = time.monotonic()
            deadline = typed_at + EXIT_DEADLINE_S
    assert typed_at is not None, f"never saw {interrupt_when!r}: {out[-2000:]!r}"
    lflags = termios.tcgetattr(fd)[3]
    status = _wait(pid, deadline)
    os.close(fd)
    screen = pyte.Screen(COLUMNS, ROWS)
    pyte.ByteStream(screen).feed(out)
    return os.waitstatus_to_exitcode(status), [line.rstrip() for line in screen.display if line.strip()], lflags


def test_ctrl_c_during_training_shows_each_epoch_once_and_how_to_resume(tiny_layout: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    code, screen, lflags = _run_in_terminal(
        ["train", "kws", "--data", str(tiny_layout), "--out", str(run), "--epochs", "500", "--batch-size", "2"],
        interrupt_when=b"epoch 3/500")
    text = "\n".join(screen)
    assert code == 130, text
    for epoch in (1, 2):
        assert sum(f"epoch {epoch}/500" in line for line in screen) == 1, text
    assert "interrupted — run the same command again" in text, text
    assert "Traceback" not in text, text
    assert lflags & termios.ECHO and lflags & termios.ECHOCTL, "the terminal's echo was not restored"
    state = json.loads((run / "state.json").read_text())
    assert state["epochs_done"] >= 2  # what the message promises: finished epochs are kept
