from __future__ import annotations

from pathlib import Path

import typer


def deploy(
    task: str = typer.Argument(..., help="kws (keyword spotting, DS-CNN) or image (MCUNet-style)."),
    board: str = typer.Option("qemu-stm32f405", help="Board id or alias; the default is the emulated STM32F405."),
    data: str = typer.Option("synth", help="'synth' (SYNTHETIC speech generated offline), 'speech-commands' "
                                           "(Speech Commands v2, downloaded once into the cache) or a dataset folder."),
    runtime: str = typer.Option("native", help="native (code-generated) or tflm (TensorFlow Lite Micro)."),
    port: str | None = typer.Option(None, help="Serial port of a real board (default: found by USB ids)."),
    work: Path = typer.Option(Path("work/deploy"), help="Working folder (reused: unchanged stages are skipped)."),
    epochs: int | None = typer.Option(None, min=1, help="Training epochs (default: kws 45, image 10)."),
    per_word: int | None = typer.Option(None, min=1, help="Synthetic KWS clips per keyword (default 700, seven "
                                                         "speech engines), other words' clips in proportion; more "
                                                         "take longer to synthesize and train."),
    words: str | None = typer.Option(None, help="Keywords or phrases for the synthetic KWS set, comma-separated "
                                                "(default: the MLPerf Tiny ten)."),
    eval_data: list[Path] | None = typer.Option(None, "--eval-data", help="Also measure accuracy on this KWS "
                                                "folder, e.g. real recordings (repeatable)."),
    run: Path | None = typer.Option(None, "--run", help="Deploy this trained run (a search trial, a distilled or "
                                                         "pruned model) instead of training one."),
    accurate: bool = typer.Option(False, "--accurate", help="KWS: twice the synthetic clips, a class-balanced "
                                                          "decision and three models merged into one (an "
                                                          "ensemble three times as wide); about three times the "
                                                          "time (README, the --accurate rows)."),
    runs: int = typer.Option(20, min=1, help="Timed inference runs for the benchmark."),
    samples: int | None = typer.Option(None, min=1, help="Test inputs to validate on the device (kws 50, image 10)."),
) -> None:
    """Data -> train -> quantize -> generate -> build -> flash -> bench -> validate, in one go."""
    from tinyml.boards import get_board
    from tinyml.datasets.synth import parse_words
    from tinyml.deploy.pipeline import DeployConfig
    from tinyml.deploy.pipeline import deploy as run_deploy

    run_deploy(DeployConfig(task, get_board(board), work / task, data, runtime, port, epochs, per_word, runs,
                            samples or (50 if task == "kws" else 10), parse_words(words) if words else None,
                            tuple(eval_data or ()), run, accurate))
