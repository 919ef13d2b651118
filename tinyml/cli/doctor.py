"""`tinyml doctor`: per board, what building, flashing and running need on this machine."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from tinyml.console import stdout


def doctor(board: str | None = typer.Option(None, help="One board (id or alias); default: every board."),
           runtime: str = typer.Option("native", help="The runtime to check for (native or tflm)."),
           port: str | None = typer.Option(None, help="The serial port you would pass to deploy."),
           as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """List, per board, what is present and what is missing to build, flash and run (and how to get it)."""
    from tinyml.boards import all_boards, get_board
    from tinyml.errors import ToolMissingError
    from tinyml.platform import platform_for
    from tinyml.platform.fit import check_runtime

    check_runtime(runtime)
    boards = [get_board(board)] if board else all_boards()
    report = {b.id: platform_for(b).requirements(runtime, port) for b in boards}
    if as_json:
        print(json.dumps({bid: [r.__dict__ for r in reqs] for bid, reqs in report.items()}, indent=2))
    else:
        table = Table(title=f"what each board needs here ({runtime} runtime)")
        table.add_column("board", no_wrap=True, min_width=max(len(b.id) for b in boards))
        for col in ("stage", "needs", "", "detail / how to get it"):
            table.add_column(col)
        for bid, reqs in report.items():
            for i, r in enumerate(reqs):
                table.add_row(bid if i == 0 else "", r.stage, r.what, "[green]ok[/green]" if r.present else
                              "[red]missing[/red]", r.detail if r.present else f"{r.detail}; {r.fix}")
        stdout.print(table)
    if board and not all(r.present for r in report[boards[0].id]):
        missing = ", ".join(r.what for r in report[boards[0].id] if not r.present)
        raise ToolMissingError(f"{boards[0].id} is not ready here: missing {missing} (see the table for how)")
