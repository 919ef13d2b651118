"""Benchmark (not a test): training time per epoch, and the int8 model's MACs, flash and TFLM
arena, for both DS-CNN variants, on a SYNTHETIC dataset (the seven offline speech engines).

    python benchmarks/kws.py [--per-word 150] [--epochs 2] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from pathlib import Path

from tinyml.boards import get_board
from tinyml.datasets.synth import SynthConfig, synthesize
from tinyml.models.dscnn import VARIANTS
from tinyml.quantize.service import quantize_run
from tinyml.tflite.analyze import analyze
from tinyml.tflite.model import load_model
from tinyml.train.kws import TrainConfig, train_kws
from tinyml.train.rundir import RunDir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-word", type=int, default=150)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--board", default="qemu-stm32f405")
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    work = args.work or Path(tempfile.mkdtemp(prefix="tinyml-bench-"))
    data = synthesize(work / "synth", SynthConfig(per_word=args.per_word))
    board = get_board(args.board)
    rows = []
    for name in VARIANTS:
        out = work / f"run-{name}-{args.epochs}"
        result = train_kws(TrainConfig(data=str(data), model=name, epochs=args.epochs), out)
        quantize_run(out)
        a = analyze(load_model(RunDir(out).int8_model), board)
        report = json.loads(RunDir(out).report_json.read_text())
        rows.append((name, result.seconds_per_epoch, a.macs, a.params, a.model_bytes, a.arena_bytes,
                     report["float_accuracy"], report["int8_accuracy"], a.fit.fits if a.fit else None))
    clips = json.loads((data / "tinyml-synth.json").read_text())["clips"]
    print(f"\nKWS benchmark: {clips} synthetic clips, {args.epochs} epochs, board {board.id}")
    print(f"{'model':10} {'s/epoch':>8} {'MACs':>10} {'params':>8} {'flash B':>9} {'arena B':>9} "
          f"{'float':>6} {'int8':>6} fits")
    for name, sec, macs, params, size, arena, fa, ia, fits in rows:
        print(f"{name:10} {sec:8.1f} {macs:10,} {params:8,} {size:9,} {arena:9,} {fa:6.3f} {ia:6.3f} {fits}")
    ref = rows[0]
    for row in rows[1:]:
        print(f"{row[0]} vs {ref[0]}: MACs x{row[2] / ref[2]:.2f}, flash x{row[4] / ref[4]:.2f}, "
              f"arena x{row[5] / ref[5]:.2f}")


if __name__ == "__main__":
    main()
