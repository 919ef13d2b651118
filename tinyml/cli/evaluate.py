from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from tinyml.console import stdout


def evaluate(
    target: Path = typer.Argument(..., help="A training run folder (float + int8) or an int8 .tflite model."),
    data: Path = typer.Option(..., help="Speech Commands-layout folder to measure on (classes may be missing)."),
    split: str = typer.Option("all", help="all clips, or the train/validation/test split of the folder."),
    labels: str | None = typer.Option(None, help="Output labels of a bare .tflite, comma-separated."),
    out: Path | None = typer.Option(None, help="Folder for eval-<data>.{json,md} (default: beside the model)."),
) -> None:
    """Float and int8 (TFLite Micro) accuracy, per class, with a confusion matrix, on any KWS folder."""
    from tinyml.evaluate.service import evaluate as run_evaluate

    report = run_evaluate(target, data, split, labels, out)
    table = Table(title=f"accuracy on {report.measured_on}")
    for col in ("class", "clips", "float", "int8 (TFLM)"):
        table.add_column(col, justify="left" if col == "class" else "right")
    for c in report.per_class:
        table.add_row(c.label, str(c.clips), "" if c.float_accuracy is None else f"{c.float_accuracy:.3f}",
                      f"{c.int8_accuracy:.3f}")
    stdout.print(table)
    stdout.print(report.summary())
