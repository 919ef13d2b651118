from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True, help="Train models.")


@app.command("kws")
def kws(
    data: Path = typer.Option(..., help="Speech Commands-layout dataset folder, or 'speech-commands' (Speech "
                                        "Commands v2, downloaded once into the cache)."),
    out: Path = typer.Option(..., help="Run folder (created; an interrupted run resumes)."),
    epochs: int = typer.Option(20, min=1),
    model: str = typer.Option("dscnn", help="dscnn (MLPerf Tiny reference), dscnn-s (smaller) or dscnn-l (larger, "
                                            "a teacher)."),
    batch_size: int = typer.Option(64, min=1),
    learning_rate: float = typer.Option(2e-3),
    seed: int = typer.Option(0),
    augment: bool = typer.Option(True, help="Speed/VTLP/reverb/channel/noise/SpecAugment augmentation."),
    augmentation: str = typer.Option("basic", help="Augmentation recipe: basic (speed, VTLP, reverb, channel, "
                                                   "gain, shift, noise, SpecAugment), real-voices (adds a noise "
                                                   "floor, -24 dB gain, high-pass) or uniform-noise (basic with "
                                                   "the noise volume uniform in amplitude: the earlier default; "
                                                   "README, row 11)."),
    unknown_pct: float | None = typer.Option(None, min=0.0, help="_unknown_ clips per epoch, as % of the keyword "
                                                              "clips (drawn afresh each epoch; default 20)."),
    teacher: Path | None = typer.Option(None, help="A trained KWS run to distill from (e.g. a dscnn-l run): soft "
                                                   "targets at temperature 4 mixed with the labels."),
    keywords: str | None = typer.Option(None, help="Keyword folders, comma-separated (default: the dataset's: "
                                                   "its manifest, the MLPerf Tiny ten, or every word folder)."),
    balanced: bool = typer.Option(False, help="Class-balanced decision: each output divided by its class's share "
                                              "of an epoch (accuracy per class rather than per clip)."),
    ensemble: int = typer.Option(1, min=1, help="Train this many models (seeds seed, seed+1, ...) and merge them "
                                                "into one DS-CNN as wide as all of them: the mean of their "
                                                "logits, deployable as any DS-CNN (N times the training)."),
) -> None:
    """Train the DS-CNN keyword spotter (the keywords + _silence_ + _unknown_, 49x10 MFCC)."""
    from tinyml.datasets.download import kws_data_folder
    from tinyml.models.dscnn import spec
    from tinyml.train.kws import TrainConfig, train_kws

    spec(model)
    data = kws_data_folder(data)
    cfg = TrainConfig(data=str(data.resolve()), model=model, epochs=epochs, batch_size=batch_size,
                      learning_rate=learning_rate, seed=seed, augment=augment, keywords=keywords or "",
                      augmentation=augmentation, teacher=str(teacher.resolve()) if teacher else "", balanced=balanced,
                      ensemble=ensemble, **({"unknown_pct": unknown_pct} if unknown_pct is not None else {}))
    train_kws(cfg, out)


def _image(task: str, data: Path, out: Path, board: str, epochs: int, batch_size: int, learning_rate: float,
           seed: int, samples: int, generations: int, resolution: list[int] | None, width: list[float] | None,
           augment: bool, runtime: str) -> None:
    from tinyml.mcunet.search import RESOLUTIONS, WIDTHS
    from tinyml.train.image import ImageTrainConfig, train_image

    cfg = ImageTrainConfig(data=str(data.resolve()), board=board, epochs=epochs, batch_size=batch_size,
                           learning_rate=learning_rate, seed=seed, samples=samples, generations=generations,
                           resolutions=tuple(resolution or RESOLUTIONS), widths=tuple(width or WIDTHS), augment=augment,
                           runtime=runtime)
    train_image(cfg, out, task=task)


_DATA = typer.Option(..., help="Image-folder dataset (<class>/<image>, or train/ val/ test/ of those).")
_OUT = typer.Option(..., help="Run folder (created; an interrupted run resumes).")
_BOARD = typer.Option("qemu-stm32f405", help="Board whose SRAM/flash the network must fit.")
_RES = typer.Option(None, "--resolution", help="Restrict the input resolutions searched (repeatable).")
_WIDTH = typer.Option(None, "--width", help="Restrict the width multipliers searched (repeatable).")
_RUNTIME = typer.Option("native", help="Runtime the network will be deployed with (native or tflm): its arena "
                                       "and flash are the budget.")


@app.command("image")
def image(data: Path = _DATA, out: Path = _OUT, board: str = _BOARD, epochs: int = typer.Option(15, min=1),
          batch_size: int = typer.Option(32, min=1), learning_rate: float = typer.Option(2e-3),
          seed: int = typer.Option(0), samples: int = typer.Option(100, min=1, help="Samples per search space."),
          generations: int = typer.Option(12, min=1, help="Evolution generations."),
          resolution: list[int] | None = _RES, width: list[float] | None = _WIDTH,
          augment: bool = typer.Option(True), runtime: str = _RUNTIME) -> None:
    """Search the MCUNet-style network that fits the board, then train it."""
    _image("image", data, out, board, epochs, batch_size, learning_rate, seed, samples, generations, resolution,
           width, augment, runtime)


@app.command("vww")
def vww(data: Path = _DATA, out: Path = _OUT, board: str = _BOARD, epochs: int = typer.Option(15, min=1),
        batch_size: int = typer.Option(32, min=1), learning_rate: float = typer.Option(2e-3),
        seed: int = typer.Option(0), samples: int = typer.Option(100, min=1),
        generations: int = typer.Option(12, min=1), resolution: list[int] | None = _RES,
        width: list[float] | None = _WIDTH, augment: bool = typer.Option(True), runtime: str = _RUNTIME) -> None:
    """Visual Wake Words (person / no person): `train image` on a two-class folder dataset."""
    _image("vww", data, out, board, epochs, batch_size, learning_rate, seed, samples, generations, resolution,
           width, augment, runtime)
