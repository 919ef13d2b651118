from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="The TensorFlow Lite Micro library Cortex-M firmware links.")


@app.command("export")
def export() -> None:
    """Export the pinned TFLM + CMSIS-NN from TINYML_TFLM_DIR into tinyml's cache (once) and print its folder."""
    from tinyml.build.tflm import export_tflm

    print(export_tflm())
