"""Benchmark (not a test): the compression levers of issue 16 on keyword spotting, from one
trained DS-CNN (the teacher; default: the demo's run):

- ``dscnn-s`` (32 filters, 3 blocks: ~0.25x the MACs) trained alone;
- ``dscnn-s`` distilled from the teacher (``--teacher``: soft targets at temperature 4 mixed with
  the hard labels);
- the teacher pruned to half its channels (``tinyml prune --keep 0.5``) and fine-tuned.

Each is quantized to int8 and measured with the TFLite Micro host interpreter on the teacher's
held-out synthetic voices and on real recordings never trained or tuned on (default:
../shared/data/kws-real-dev). Finished runs are reused from --work, so it resumes.

    python benchmarks/compress.py [--teacher work/deploy/kws/kws-run] [--epochs 30] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import replace
from pathlib import Path

from tinyml.boards import get_board
from tinyml.evaluate.service import evaluate
from tinyml.prune.service import prune_run
from tinyml.quantize.service import quantize_run
from tinyml.tflite.analyze import analyze
from tinyml.tflite.model import load_model
from tinyml.train.kws import TrainConfig, train_kws
from tinyml.train.rundir import RunDir

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "data" / "kws-real-dev"
PRUNE_KEEP = 0.5
PRUNE_EPOCHS = 5


def _measure(name: str, run: Path, real: Path) -> dict[str, object]:
    quant = quantize_run(run)
    report = evaluate(run, real)
    int8 = analyze(load_model(RunDir(run).int8_model))
    return {"model": name, "macs": int8.macs, "params": int8.params, "synthetic": quant.int8_accuracy,
            "real": report.int8_accuracy, "keywords": report.keyword_accuracy, "unknown": report.unknown_accuracy}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teacher", type=Path, default=ROOT / "work" / "deploy" / "kws" / "kws-run")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--work", type=Path, default=ROOT / "work" / "bench-compress")
    parser.add_argument("--real", type=Path, default=DEV)
    args = parser.parse_args()
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    teacher = RunDir(args.teacher)
    teacher.require_model()
    train = TrainConfig.from_run(teacher.read_config()["train"])
    student = replace(train, model="dscnn-s", epochs=args.epochs, teacher="", widths="", init_model="")
    rows = [_measure(f"{train.model} (teacher)", teacher.path, args.real)]
    train_kws(student, args.work / "dscnn-s")
    rows.append(_measure("dscnn-s alone", args.work / "dscnn-s", args.real))
    train_kws(replace(student, teacher=str(teacher.path.resolve())), args.work / "dscnn-s-distilled")
    rows.append(_measure("dscnn-s distilled", args.work / "dscnn-s-distilled", args.real))
    pruned = args.work / "pruned-half"
    if not (pruned / "prune.json").is_file():
        prune_run(teacher.path, get_board("qemu"), pruned, keep=PRUNE_KEEP, epochs=PRUNE_EPOCHS)
    rows.append(_measure(f"{train.model} pruned to {PRUNE_KEEP:.0%} channels, {PRUNE_EPOCHS} ep.", pruned, args.real))
    (args.work / "compress.json").write_text(json.dumps(rows, indent=2) + "\n")
    print(f"\n{'model':40} {'MACs':>10} {'params':>8} {'synthetic':>9} {'real':>6} {'keywords':>8} {'unknown':>8}")
    for r in rows:
        print(f"{r['model']:40} {r['macs']:>10,} {r['params']:>8,} {r['synthetic']:9.3f} {r['real']:6.3f} "
              f"{r['keywords'] or 0:8.3f} {r['unknown'] or 0:8.3f}")
    print(f"synthetic: int8 on the teacher's held-out SYNTHETIC voices; real: int8 on {args.real} (never trained on)")


if __name__ == "__main__":
    main()
