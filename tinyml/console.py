"""The one log/progress channel: everything human-readable goes to stderr through Rich,
so stdout stays free for machine-readable output (JSON, tables piped elsewhere)."""

from __future__ import annotations

import os
import sys
import tempfile
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
    with Progress(*progress_columns(console.width), console=console, transient=transient,
                  expand=console.width < NARROW) as bar:
        yield bar


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
