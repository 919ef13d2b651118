from __future__ import annotations

from pathlib import Path

import typer


def quantize(
    run: Path = typer.Argument(..., help="Training run folder (from `tinyml train`)."),
    qat: bool = typer.Option(False, "--qat", help="Quantization-aware fine-tuning before conversion."),
    qat_epochs: int = typer.Option(2, min=1, help="Fine-tuning epochs for --qat."),
    data: Path | None = typer.Option(None, help="Dataset folder, if it moved since training."),
    force: bool = typer.Option(False, help="Convert again even if the int8 model is up to date."),
    eval_data: list[Path] | None = typer.Option(None, "--eval-data", help="Also evaluate on this Speech "
                                                "Commands-layout folder, e.g. real recordings (repeatable)."),
) -> None:
    """Full-integer int8 quantization with a float-vs-int8 report (JSON + Markdown)."""
    from tinyml.quantize.service import quantize_run

    quantize_run(run, qat=qat, data_dir=data, qat_epochs=qat_epochs, force=force, eval_data=tuple(eval_data or ()))
