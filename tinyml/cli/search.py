from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from tinyml.console import stdout

if TYPE_CHECKING:
    from tinyml.boards import Board
    from tinyml.search.service import SearchRequest


def search(
    board: str = typer.Option(..., help="Board id or alias."),
    task: str = typer.Option("image", help="image (MCUNet-style) or kws (DS-CNN width, depth, first conv)."),
    classes: int = typer.Option(2, min=2, help="Number of output classes (without --train-top; else the data's)."),
    resolution: list[int] | None = typer.Option(None, "--resolution", help="Resolutions to consider (repeatable)."),
    width: list[float] | None = typer.Option(None, "--width", help="Width multipliers to consider (repeatable)."),
    samples: int = typer.Option(100, min=1, help="Sub-networks sampled per (resolution, width)."),
    seed: int = typer.Option(0),
    runtime: str = typer.Option("native", help="The runtime it will be deployed with (native or tflm): the budget "
                                               "is that runtime's arena and flash."),
    train_top: int | None = typer.Option(None, "--train-top", min=1, help="Train K fitting candidates (spread over "
                                         "the MACs range) on Ray and rank them by validation accuracy."),
    epochs: int = typer.Option(5, min=1, help="Training epochs per trial (with --train-top)."),
    data: Path | None = typer.Option(None, help="Dataset the trials train on (with --train-top)."),
    out: Path | None = typer.Option(None, help="Search folder: trials, search.md, pareto.svg (with --train-top; "
                                               "run again to resume)."),
    max_ms: float = typer.Option(0.0, min=0.0, help="Leave out candidates estimated slower than this many ms per "
                                                    "inference at the board's clock (with --train-top; 0: no limit)."),
    ray_address: str = typer.Option("", help="An existing Ray cluster (default: a local instance on all cores)."),
    cpus_per_trial: int = typer.Option(0, min=0, help="CPUs each trial's TensorFlow uses (0: the cores shared by "
                                                      "the trials that run at once)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Find the network for a board: by MACs (no training), or with --train-top K by training K candidates."""
    from tinyml.boards import get_board
    from tinyml.errors import TinymlError

    target = get_board(board)
    if train_top is not None:
        if data is None or out is None:
            raise TinymlError("--train-top needs --data DIR (what the trials train on) and --out DIR (the search "
                              "folder)")
        from tinyml.mcunet.search import RESOLUTIONS, WIDTHS
        from tinyml.search.service import SearchRequest

        req = SearchRequest(task, target, data, out, train_top, epochs, runtime, seed, ray_address, cpus_per_trial,
                            max_ms, tuple(resolution or RESOLUTIONS), tuple(width or WIDTHS))
        _trained(req, as_json)
    elif task == "kws":
        _kws_space(target, classes, runtime, as_json)
    elif task == "image":
        _image_space(target, classes, seed, samples, resolution, width, runtime, as_json)
    else:
        raise TinymlError(f"unknown search task '{task}'; choose image or kws")


def _trained(req: SearchRequest, as_json: bool) -> None:
    from tinyml.search.service import run_search

    report = run_search(req)
    task, runtime, epochs, out = req.task, req.runtime, req.epochs, req.out
    if as_json:
        print(json.dumps(report.to_json(), indent=2))
        return
    table = Table(title=f"{task} search on {report.plan.board} ({runtime}): {len(report.ranked)} trials, "
                        f"{epochs} epochs each (* = Pareto front; ms estimated from MACs)")
    for col in ("rank", "trial", "model", "val acc", "int8 acc", "M MACs", "est. ms", "SRAM KB", "flash KB", "fits"):
        table.add_column(col, justify="left" if col == "model" else "right", no_wrap=col == "model")
    for n, t in enumerate(report.ranked, 1):
        table.add_row(f"{n}{'*' if t.index in report.pareto else ''}", str(t.index + 1), t.name,
                      f"{t.val_accuracy:.3f}", f"{t.int8_accuracy:.3f}", f"{t.macs / 1e6:.2f}", f"{t.est_ms:.1f}",
                      f"{t.sram_needed / 1024:.1f}", f"{t.flash_needed / 1024:.1f}", "yes" if t.fits else "no")
    stdout.print(table)
    for i, error in report.failed:
        stdout.print(f"trial {i + 1} failed: {error}")
    best = report.best
    stdout.print(f"best: trial {best.index + 1} ({best.name}) -> {best.run}; report {out / 'search.md'}, plot "
                 f"{out / 'pareto.svg'}" if best else f"no trial fits {report.plan.board}; report {out / 'search.md'}")


def _kws_space(target: Board, classes: int, runtime: str, as_json: bool) -> None:
    from tinyml.search.space import kws_candidates

    cands = sorted(kws_candidates(target, runtime, classes), key=lambda c: -c.macs)
    if as_json:
        print(json.dumps([c.__dict__ for c in cands], indent=2))
        return
    table = Table(title=f"DS-CNN candidates that fit {target.id} ({runtime} runtime, estimated)")
    for col in ("model", "MACs", "params", "arena", "flash"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for c in cands:
        table.add_row(c.name, f"{c.macs:,}", f"{c.params:,}", f"{c.arena_bytes / 1024:.1f} KB",
                      f"{c.flash_bytes / 1024:.1f} KB")
    stdout.print(table)


def _image_space(target: Board, classes: int, seed: int, samples: int, resolution: list[int] | None,
                 width: list[float] | None, runtime: str, as_json: bool) -> None:
    from tinyml.mcunet.search import RESOLUTIONS, WIDTHS
    from tinyml.mcunet.search import search as run_search

    result = run_search(target, classes, seed, samples, tuple(resolution or RESOLUTIONS), tuple(width or WIDTHS),
                        runtime=runtime)
    if as_json:
        print(json.dumps(result.to_json(), indent=2))
        return
    table = Table(title=f"search spaces for {result.budget.board.id}, {runtime} runtime (SRAM budget "
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
