"""The one log/progress channel: everything human-readable goes to stderr through Rich,
so stdout stays free for machine-readable output (JSON, tables piped elsewhere)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True, highlight=False)
stdout = Console(highlight=False)


def info(message: str) -> None:
    console.print(message)


def step(message: str) -> None:
    console.print(f"[bold cyan]==>[/bold cyan] {message}")


def warn(message: str) -> None:
    console.print(f"[yellow]warning:[/yellow] {message}")


@contextmanager
def progress(transient: bool = False) -> Iterator[Progress]:
    """A Rich progress display on the shared console."""
    columns = (
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[status]}"),
    )
    with Progress(*columns, console=console, transient=transient) as bar:
        yield bar
