from __future__ import annotations

from pathlib import Path

import typer

from tinyml.audio.detect import DetectConfig


def generate(
    model: Path = typer.Argument(..., help="An int8 .tflite model."),
    board: str = typer.Option("qemu-stm32f405", help="Board id or alias (`tinyml boards`)."),
    out: Path = typer.Option(..., help="Project folder (new, or a project tinyml generated before)."),
    runtime: str = typer.Option("native", help="tflm (TensorFlow Lite Micro), native (code-generated C, no "
                                "interpreter) or echo (link test, no model code)."),
    weights: str = typer.Option("auto", help="native runtime: int16 (fastest), int8 (half the flash) or auto "
                                "(int16 when it fits the board)."),
    name: str | None = typer.Option(None, help="Model name in the firmware (a C identifier)."),
    mlperf_id: str | None = typer.Option(None, help="MLPerf Tiny model id the firmware reports to the official "
                                         "runner (kws01, vww01, ic01, ad01; default: from the model's input)."),
    energy: bool = typer.Option(False, help="MLPerf Tiny energy mode for the EnergyRunner: its IO manager's baud, "
                                "timestamps as falling edges on the board's timestamp pin (boards/*.yaml `energy`)."),
    labels: str | None = typer.Option(None, help="Comma-separated class labels (default: from the run folder)."),
    force: bool = typer.Option(False, help="Write into a non-empty folder that is not a tinyml project."),
    detect_threshold: float = typer.Option(DetectConfig.threshold, min=0.01, max=1.0,
                                           help="KWS firmware: mean keyword probability the streaming detector "
                                                "reports (higher: fewer false alarms, more misses)."),
) -> None:
    """Render a PlatformIO firmware project that runs MODEL on BOARD and speaks the serial protocol."""
    from tinyml.boards import get_board
    from tinyml.generate.project import generate as run_generate

    label_list = [s.strip() for s in labels.split(",")] if labels else None
    run_generate(model, get_board(board), out, runtime, name, label_list, force, weights,
                 DetectConfig(threshold=detect_threshold), mlperf_id, energy)
