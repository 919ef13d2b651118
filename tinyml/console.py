"""The one log/progress channel: everything human-readable goes to stderr through Rich,
so stdout stays free for machine-readable output (JSON, tables piped elsewhere)."""

from __future__ import annotations

import os
import sys
import tempfile
import termios
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column

console = Console(stderr=True, highlight=False)
stdout = Console(highlight=False)


def info(message: str) -> None:
    console.print(message)


def step(message: str) -> None:
    console.print(f"[bold cyan]==>[/bold cyan] {message}")


def warn(message: str) -> None:
    console.print(f"[yellow]warning:[/yellow] {message}")


NARROW = 100  # columns below which the progress line drops the elapsed time and shortens the bar


def progress_columns(width: int) -> tuple[ProgressColumn, ...]:
    """Progress columns that fit ``width``: the count (M/N) and time left are never cut; the
    description and status give way (ellipsis) on a narrow terminal."""
    narrow = width < NARROW
    squeeze = Column(no_wrap=True, overflow="ellipsis", ratio=1)
    return (
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}", table_column=Column(no_wrap=True, overflow="ellipsis",
                                                                                  max_width=24 if narrow else None)),
        BarColumn(bar_width=10 if narrow else 40),
        MofNCompleteColumn(table_column=Column(no_wrap=True)),
        *(() if narrow else (TimeElapsedColumn(),)),
        TimeRemainingColumn(),
        TextColumn("{task.fields[status]}", table_column=squeeze),
    )


@contextmanager
def progress(transient: bool = False) -> Iterator[Progress]:
    """A Rich progress display on the shared console."""
    with _no_control_echo(), Progress(*progress_columns(console.width), console=console, transient=transient,
                                      expand=console.width < NARROW) as bar:
        yield bar


@contextmanager
def _no_control_echo() -> Iterator[None]:
    """Keep the terminal from echoing keys (Ctrl-C as ``^C``) while a live display is drawn: the echo
    moves the cursor (onto a new line when the progress line fills the width), so the display's
    last redraw lands one line low and repeats the line above it."""
    fd = sys.stdin.fileno() if sys.stdin is not None and sys.stdin.isatty() else None
    if fd is None or not console.is_terminal:
        yield
        return
    saved = termios.tcgetattr(fd)
    quiet = list(saved)
    quiet[3] &= ~(termios.ECHO | termios.ECHOCTL)  # lflags: keys typed meanwhile are not drawn either
    termios.tcsetattr(fd, termios.TCSANOW, quiet)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, saved)


@contextmanager
def capture_c_stderr() -> Iterator[list[str]]:
    """Capture C-level stderr (TFLM's allocation log and error messages) into a list of lines."""
    sys.stderr.flush()
    saved = os.dup(2)
    lines: list[str] = []
    with tempfile.TemporaryFile() as sink:
        try:
            os.dup2(sink.fileno(), 2)
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines.extend(sink.read().decode(errors="replace").splitlines())
