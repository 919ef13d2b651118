from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import typer
from rich.table import Table

from tinyml.console import stdout


def analyze(
    model: Path = typer.Argument(..., help="An int8 .tflite model."),
    board: str | None = typer.Option(None, help="Check that it fits this board (id or alias)."),
    runtime: str = typer.Option("native", help="The runtime it will be deployed with (native or tflm): its "
                                               "arena and flash decide the fit."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Ops, parameters, MACs, tensor sizes, TFLM arena, and whether the model fits a board (the rule
    `tinyml generate` applies, for --runtime)."""
    from tinyml.boards import get_board
    from tinyml.errors import DoesNotFitError
    from tinyml.generate.frontend import front_end_for
    from tinyml.tflite.analyze import analyze as run_analysis
    from tinyml.tflite.model import load_model

    target = get_board(board) if board else None
    parsed = load_model(model)
    front_end = front_end_for(model, parsed.input_tensors[0]) if parsed.input_tensors else None
    result = run_analysis(parsed, target, where=str(model), runtime=runtime,
                          front_end=front_end.need if front_end else None)
    if as_json:
        print(json.dumps(asdict(result) | {"fits": result.fit.fits if result.fit else None}, indent=2))
    else:
        table = Table(title=f"{model.name}")
        for col in ("#", "op", "output", "MACs", "params"):
            table.add_column(col, justify="right" if col in ("#", "MACs", "params") else "left")
        for op in result.ops:
            table.add_row(str(op.index), op.opcode, "x".join(map(str, op.output_shape)), f"{op.macs:,}",
                          f"{op.params:,}")
        stdout.print(table)
        stdout.print(f"MACs {result.macs:,} | params {result.params:,} | model {result.model_bytes:,} B | "
                     f"TFLM arena {result.arena_bytes:,} B | largest activation {result.largest_activation:,} B")
        if result.fit:
            stdout.print(f"{result.fit.runtime} arena on {result.fit.board}: {result.runtime_arena_bytes:,} B")
            stdout.print(("[green]fits[/green] " if result.fit.fits else "") + result.fit.describe())
    if result.fit and not result.fit.fits:
        raise DoesNotFitError(f"model does not fit — {result.fit.describe()}; use a smaller model "
                              "(e.g. `tinyml train kws --model dscnn-s`), a bigger board or the other --runtime")
