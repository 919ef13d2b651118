from __future__ import annotations

import json

import typer
from rich.table import Table

from tinyml.console import stdout


def search(
    board: str = typer.Option(..., help="Board id or alias."),
    task: str = typer.Option("image", help="Only 'image' is searched (KWS uses DS-CNN)."),
    classes: int = typer.Option(2, min=2, help="Number of output classes."),
    resolution: list[int] | None = typer.Option(None, "--resolution", help="Resolutions to consider (repeatable)."),
    width: list[float] | None = typer.Option(None, "--width", help="Width multipliers to consider (repeatable)."),
    samples: int = typer.Option(100, min=1, help="Sub-networks sampled per (resolution, width)."),
    seed: int = typer.Option(0),
    runtime: str = typer.Option("native", help="The runtime it will be deployed with (native or tflm): the budget "
                                               "is that runtime's arena and flash."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Print the MCUNet search-space table for a board (no training) and the best network found."""
    from tinyml.boards import get_board
    from tinyml.errors import TinymlError
    from tinyml.mcunet.search import RESOLUTIONS, WIDTHS
    from tinyml.mcunet.search import search as run_search

    if task != "image":
        raise TinymlError(f"search supports --task image only (got '{task}'); KWS uses the fixed DS-CNN")
    target = get_board(board)
    result = run_search(target, classes, seed, samples, tuple(resolution or RESOLUTIONS), tuple(width or WIDTHS),
                        runtime=runtime)
    if as_json:
        print(json.dumps(result.to_json(), indent=2))
        return
    table = Table(title=f"search spaces for {target.id}, {runtime} runtime (SRAM budget "
                        f"{result.budget.sram // 1024} KB, flash budget {result.budget.flash // 1024} KB)")
    for col in ("resolution", "width", "fit", "mean MACs (fitting)", "min SRAM", "min flash", "fits?"):
        table.add_column(col, justify="left" if col == "fits?" else "right")
    for s in result.spaces:
        chosen = " ← chosen" if s == result.space else ""
        table.add_row(str(s.resolution), f"{s.width:g}", f"{s.feasible}/{s.samples}", f"{s.mean_macs:,.0f}",
                      f"{s.min_arena / 1024:.1f} KB", f"{s.min_flash / 1024:.1f} KB",
                      ("yes" if s.fits else "no") + chosen)
    stdout.print(table)
    m, need = result.best.memory, result.budget.need(result.best.memory)
    stdout.print(f"best: {result.best.arch.describe()} — {m.macs:,} MACs, estimated {runtime} arena "
                 f"{need.arena_bytes / 1024:.1f} KB (+ {need.input_bytes / 1024:.1f} KB input), flash "
                 f"{need.flash_bytes / 1024:.1f} KB")
