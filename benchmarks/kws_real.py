"""Benchmark (not a test): how well a keyword spotter trained ONLY on synthetic speech hears real
people, and what each lever of the recipe is worth (ablation).

Every row synthesizes its dataset (espeak-ng, flite, festival, RHVoice, MBROLA, and the neural Piper and
Kokoro voices — offline), trains the DS-CNN,
quantizes it to int8 and measures it with the TFLite Micro host interpreter on a folder of real
recordings that is never trained, calibrated or tuned on (default: ../shared/data/kws-real-dev,
300 clips of 30 words from Speech Commands). Rows add one lever at a time; ``5-default`` is the
recipe of `tinyml deploy kws`, the rows after it are variants of it.

    python benchmarks/kws_real.py [--real DIR] [--work DIR] [--rows default|accurate|all] [--epochs N]

Finished rows are reused from --work (their run folders), so an interrupted benchmark resumes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from tinyml.datasets.synth import SynthConfig, synthesize
from tinyml.deploy.pipeline import KWS_ACCURATE_ENSEMBLE, KWS_EPOCHS, KWS_PER_WORD, kws_synth_config
from tinyml.evaluate.service import EvalReport, evaluate
from tinyml.quantize.service import quantize_run
from tinyml.train.kws import TrainConfig, train_kws

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "data" / "kws-real-dev"
ESPEAK_ONLY = {"engines": ("espeak-ng",), "engine_weights": (1.0,)}
# The three engines of Debian's main section, at the shares they had before rhvoice and mbrola
# (festival speaks with every festival voice installed, contrib's too).
FREE_ENGINES = {"engines": ("espeak-ng", "flite", "festival"), "engine_weights": (0.4, 0.35, 0.25)}
# The five Debian engines alike, without the neural voices (the default before them).
DEBIAN_ENGINES = {"engines": ("espeak-ng", "flite", "festival", "rhvoice", "mbrola"), "engine_weights": (0.2,) * 5}


@dataclass(frozen=True)
class Row:
    name: str
    lever: str
    synth: SynthConfig
    train: TrainConfig


def recipe_rows(per_word: int, epochs: int) -> list[Row]:
    """The rows that add the default recipe's levers one at a time (the default is ``5-default``),
    then a variant of it."""
    default_synth = SynthConfig(per_word=per_word)  # the other words' clips at SynthConfig's default
    default_train = TrainConfig(data="", epochs=epochs)  # the default `_unknown_` share
    wide_train = replace(default_train, unknown_pct=WIDE_UNKNOWN_PCT)
    old_train = replace(default_train, unknown_pct=10.0, unknown_pool=False)
    base_synth = replace(default_synth, extra_unknown=False, **ESPEAK_ONLY)
    free_synth = replace(default_synth, **FREE_ENGINES)
    double_synth = kws_synth_config(2 * per_word, None)  # deploy's rule: the other words' clips scale too
    return [
        Row("0-before", "espeak-ng only, 25 Speech Commands unknown words at 10% (the earlier recipe)", base_synth,
            old_train),
        Row("1-voices", "+ flite and festival voices (statistical voices of real speakers)",
            replace(free_synth, extra_unknown=False), old_train),
        Row("2-unknown", f"+ ~230 unknown words (phonetic neighbours), {WIDE_UNKNOWN_PCT:.0f}% drawn afresh "
                         "each epoch", free_synth, wide_train),
        Row("3-debian", "+ RHVoice and MBROLA voices (Debian non-free): the default's clips of these five engines",
            replace(default_synth, per_word=round(0.85 * per_word), unknown_per_word=40, **DEBIAN_ENGINES),
            wide_train),
        Row("4-neural", "+ neural voices (Piper's joe; Kokoro-82M, 128 mixed styles)", default_synth, wide_train),
        Row(DEFAULT_ROW, f"+ `_unknown_` at {default_train.unknown_pct:.0f}% of the keyword clips instead of "
                         f"{WIDE_UNKNOWN_PCT:.0f}%: the default recipe", default_synth, default_train),
        Row("6-real-voices", "default + real-voices augmentation (noise floor, gain -24..+6 dB, high-pass, "
                             "more reverb)", default_synth, replace(default_train, augmentation="real-voices")),
        Row("7-double", "default at twice the clips, other words too (`tinyml deploy kws --per-word 1400`; about "
                        "twice the time)", double_synth, default_train),
        Row(ACCURATE_ROW, f"7-double + the class-balanced decision + {KWS_ACCURATE_ENSEMBLE} models merged into one "
                          "(an ensemble): `tinyml deploy kws --accurate`", double_synth,
            replace(default_train, balanced=True, ensemble=KWS_ACCURATE_ENSEMBLE)),
        Row("9-uniform-noise", "default with the word clips' noise volume uniform in amplitude (Speech Commands' "
                               "draw; the default until README row 11)", default_synth,
            replace(default_train, augmentation="uniform-noise")),
    ]


DEFAULT_ROW = "5-default"
ACCURATE_ROW = "8-accurate"  # the recipe of `tinyml deploy kws --accurate`
RECIPES = {"default": (DEFAULT_ROW, "default recipe"), "accurate": (ACCURATE_ROW, "--accurate recipe")}  # --rows names
WIDE_UNKNOWN_PCT = 30.0  # the `_unknown_` share of rows 2-4 (the default until row 5)


def data_dir(work: Path, synth: SynthConfig) -> Path:
    """Rows with the same synthesis settings share one dataset."""
    digest = hashlib.sha1(json.dumps(asdict(synth), sort_keys=True).encode()).hexdigest()[:10]
    return work / f"data-{digest}"


def run_row(row: Row, work: Path, real: Path) -> tuple[EvalReport, float, float]:
    started = time.monotonic()
    data = synthesize(data_dir(work, row.synth), row.synth)
    out = work / f"run-{row.name}"
    train_kws(replace(row.train, data=str(data)), out)
    quant = quantize_run(out)
    report = evaluate(out, real)
    return report, quant.int8_accuracy, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=DEV, help="Folder of real recordings (measure only).")
    parser.add_argument("--work", type=Path, default=ROOT / "work" / "bench-kws-real")
    parser.add_argument("--rows", default="all", help="all, default, accurate, or row names, comma-separated")
    parser.add_argument("--per-word", type=int, default=KWS_PER_WORD)
    parser.add_argument("--epochs", type=int, default=KWS_EPOCHS)
    parser.add_argument("--seed", type=int, default=0, help="training seed (the synthetic set stays the same)")
    args = parser.parse_args()
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    rows = [replace(r, train=replace(r.train, seed=args.seed)) for r in recipe_rows(args.per_word, args.epochs)]
    if args.rows in RECIPES:
        rows = [r for r in rows if r.name == RECIPES[args.rows][0]]
    elif args.rows != "all":
        rows = [r for r in rows if r.name in args.rows.split(",")]
    results = []
    for row in rows:
        report, synthetic, seconds = run_row(row, args.work, args.real)
        results.append((row, report, synthetic, seconds))
    print(f"\nSynthetic-only KWS on real recordings: {args.real} (never trained or tuned on)")
    print(f"{'row':13} {'real all':>8} {'keywords':>8} {'unknown':>8} {'synthetic':>9} {'minutes':>7}  lever")
    previous = None
    for row, r, synthetic, seconds in results:
        delta = "" if previous is None else f" ({100 * (r.int8_accuracy - previous):+.1f} pts)"
        print(f"{row.name:13} {r.int8_accuracy:8.3f} {r.keyword_accuracy or 0:8.3f} {r.unknown_accuracy or 0:8.3f} "
              f"{synthetic:9.3f} {seconds / 60:7.1f}  {row.lever}{delta}")
        previous = r.int8_accuracy
    recipe_of = dict(RECIPES.values())
    for row, r, _, _ in results:
        if recipe := recipe_of.get(row.name):
            print(f"\n{recipe}: keywords {r.keyword_accuracy:.3f} (goal >= 0.85), _unknown_ "
                  f"{r.unknown_accuracy:.3f} (goal >= 0.70), all {r.int8_accuracy:.3f}; int8 via TFLite Micro")


if __name__ == "__main__":
    main()
