from __future__ import annotations

from pathlib import Path

import typer

from tinyml import console


def prune(
    run: Path = typer.Argument(..., help="A finished KWS training run (from `tinyml train kws`)."),
    board: str = typer.Option("qemu", help="Board whose flash and SRAM the pruned model must fit."),
    runtime: str = typer.Option("native", help="Runtime it will be deployed with: native or tflm."),
    out: Path | None = typer.Option(None, help="The pruned run's folder (default: RUN-pruned-BOARD)."),
    keep: float | None = typer.Option(None, help="Keep this fraction of every convolution's channels (default: "
                                                 "the largest of 7/8, 3/4, ... 1/4 that fits)."),
    epochs: int = typer.Option(5, min=1, help="Fine-tuning epochs after pruning."),
) -> None:
    """Structured pruning: drop the least important channels until the model fits the board, fine-tune."""
    from tinyml.boards import get_board
    from tinyml.prune.service import prune_run

    target = get_board(board)
    r = prune_run(run, target, out or run.with_name(f"{run.name}-pruned-{target.id}"), runtime, keep, epochs)
    b, p = r.before, r.pruned
    console.info(f"kept {r.keep:.1%} of the channels {b.widths} -> {p.widths}: MACs {b.macs:,} -> {p.macs:,}, "
                 f"flash {b.flash_bytes:,} -> {p.flash_bytes:,} B, SRAM {b.sram_bytes:,} -> {p.sram_bytes:,} B on "
                 f"{r.board} ({r.runtime})")
    console.info(f"float accuracy on {r.measured_on}: {b.float_accuracy:.3f} before, {p.float_accuracy:.3f} pruned, "
                 f"{r.after_accuracy:.3f} after {r.epochs} fine-tuning epochs")
    console.info(f"pruned run: {r.run} (next: tinyml quantize {r.run})")
