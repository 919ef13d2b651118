from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True, help="Train models.")


@app.command("kws")
def kws(
    data: Path = typer.Option(..., help="Speech Commands-layout dataset folder."),
    out: Path = typer.Option(..., help="Run folder (created; an interrupted run resumes)."),
    epochs: int = typer.Option(20, min=1),
    model: str = typer.Option("dscnn", help="dscnn (MLPerf Tiny reference) or dscnn-s (smaller)."),
    batch_size: int = typer.Option(64, min=1),
    learning_rate: float = typer.Option(2e-3),
    seed: int = typer.Option(0),
    augment: bool = typer.Option(True, help="Speed/VTLP/reverb/channel/noise/SpecAugment augmentation."),
) -> None:
    """Train the DS-CNN keyword spotter (12 classes, 49x10 MFCC)."""
    from tinyml.models.dscnn import spec
    from tinyml.train.kws import TrainConfig, train_kws

    spec(model)
    cfg = TrainConfig(data=str(data.resolve()), model=model, epochs=epochs, batch_size=batch_size,
                      learning_rate=learning_rate, seed=seed, augment=augment)
    train_kws(cfg, out)
