"""Train the DS-CNN keyword spotter, with per-epoch checkpoints and resume.

Each epoch draws fresh augmentation from ``numpy.random.default_rng([seed, epoch])`` so a
resumed run sees the same data stream as an uninterrupted one. Accuracy is always measured
in inference mode (``training=False``: dropout off, batch-norm moving statistics).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from tinyml import console, tfimport
from tinyml.audio import features
from tinyml.audio.augment import REAL_VOICES, UNIFORM_NOISE, AugmentConfig, training_features
from tinyml.datasets.speech_commands import UNKNOWN, KwsData, Split, is_synthetic, load_kws, scan
from tinyml.errors import RunDirError, TinymlError
from tinyml.locking import folder_lock
from tinyml.models.dscnn import build_dscnn, spec, widths_of
from tinyml.train import balance, distill
from tinyml.train.ensemble import member_seeds, merge_dscnn, merged_widths
from tinyml.train.loop import (
    TrainResult,
    accuracy,
    check_hyperparameters,
    finished,
    prepare_run,
    save_model,
    train_epochs,
)
from tinyml.train.rundir import RunDir, write_json

__all__ = ["AUGMENTATIONS", "TrainConfig", "TrainResult", "eval_features", "train_kws"]

# "basic" is the default: on real recordings it measured 3 points above "real-voices"
# (benchmarks/kws_real.py, rows 2 and 3); "uniform-noise" is "basic" as it was before README row 11.
AUGMENTATIONS = {"basic": AugmentConfig(), "real-voices": REAL_VOICES, "uniform-noise": UNIFORM_NOISE}


@dataclass(frozen=True)
class TrainConfig:
    data: str
    model: str = "dscnn"
    epochs: int = 20
    batch_size: int = 64
    learning_rate: float = 2e-3
    seed: int = 0
    silence_pct: float = 10.0
    # `_unknown_` clips per epoch, % of the keyword clips. 20 rather than 30: on real recordings the
    # keywords gain 3 points for 9.5 of `_unknown_`'s (README, "Synthetic speech, real people", row 9)
    unknown_pct: float = 20.0
    augment: bool = True
    keywords: str = ""  # comma-separated keyword folders; "" = the dataset's own (see load_kws)
    augmentation: str = "basic"  # a name in AUGMENTATIONS
    unknown_pool: bool = True  # every epoch draws its `_unknown_` clips afresh from all of them
    teacher: str = ""  # a finished KWS run to distill from (soft targets + hard labels); "" = none
    widths: str = ""  # comma-separated channel counts (first conv + one per block); "" = the model's own
    init_model: str = ""  # a .keras model of that architecture to start from (a pruned run); "" = random init
    # Each output divided by its class's share of an epoch (train/balance.py): the decision for accuracy
    # per class instead of per clip; `_unknown_` at 20% of the keyword clips is twice a keyword's share.
    balanced: bool = False
    # Members trained with seeds seed, seed+1, ... and merged into one DS-CNN as wide as all of them
    # (train/ensemble.py): the mean of their logits, in one model every runtime takes. 1 = a single model.
    ensemble: int = 1

    @classmethod
    def from_run(cls, train: dict[str, Any]) -> TrainConfig:
        """The config a run recorded (``run.json`` ``train``); keys this tinyml does not know are left out."""
        return cls(**{k: v for k, v in train.items() if k in cls.__dataclass_fields__})

    @property
    def width_tuple(self) -> tuple[int, ...] | None:
        return tuple(int(w) for w in self.widths.split(",")) if self.widths else None

    @property
    def keyword_tuple(self) -> tuple[str, ...] | None:
        return tuple(k.strip() for k in self.keywords.split(",") if k.strip()) or None

    def identity(self) -> dict[str, Any]:
        """Everything that must match for a run to be resumed (all but ``epochs``)."""
        return {k: v for k, v in asdict(self).items() if k != "epochs"}


def eval_features(split: Split) -> np.ndarray:
    return features.pcm_features(split.audio)


# Entries of run.json that must match for a run to be resumed or reused, beside the settings: an
# augmentation name's contents change between tinyml versions, a dataset folder can be rebuilt.
RECIPE = ("augmentation", "data_fingerprint")


def _config(cfg: TrainConfig, labels: tuple[str, ...], data_fingerprint: str) -> dict[str, Any]:
    widths = cfg.width_tuple
    if cfg.ensemble > 1:
        widths = merged_widths([widths_of(cfg.model, widths)] * cfg.ensemble)
    return {
        "task": "kws", "train": asdict(cfg), "labels": list(labels),
        "augmentation": asdict(AUGMENTATIONS[cfg.augmentation]) if cfg.augment else None,  # what the name meant
        "data_fingerprint": data_fingerprint,  # DatasetIndex.fingerprint: the clips trained on
        "input_shape": list(features.INPUT_SHAPE),
        "model_spec": {"kind": "dscnn", "name": cfg.model, "input_shape": list(features.INPUT_SHAPE),
                       "n_classes": len(labels), **({"widths": list(widths)} if widths else {})},
        "architecture": asdict(spec(cfg.model)),
        "front_end": features.config(),
    }


def _teacher_run(cfg: TrainConfig, labels: tuple[str, ...]) -> RunDir | None:
    if not cfg.teacher:
        return None
    teacher = RunDir(Path(cfg.teacher))
    teacher.require_model()
    theirs = tuple(teacher.read_config().get("labels", ()))
    if theirs != labels:
        raise RunDirError(f"teacher {teacher.path} has labels {','.join(theirs)}, the student {','.join(labels)}; "
                          "train the teacher on the same keywords")
    return teacher


def train_kws(cfg: TrainConfig, out: Path, data: KwsData | None = None,
              retrain_if_changed: bool = False) -> TrainResult:
    """Train (or resume, or reuse) the run in ``out``; a run there made otherwise — other settings,
    another augmentation recipe, other clips — is refused, or with ``retrain_if_changed`` trained anew."""
    with folder_lock(Path(out), "--out folder"):
        return _train_kws(cfg, out, data, retrain_if_changed)


def _train_kws(cfg: TrainConfig, out: Path, data: KwsData | None, retrain_if_changed: bool) -> TrainResult:
    check_hyperparameters(cfg.learning_rate, cfg.batch_size)
    if cfg.ensemble < 1:
        raise TinymlError(f"--ensemble {cfg.ensemble}: give the number of models to train (1 = a single model)")
    if cfg.ensemble > 1 and cfg.init_model:
        raise TinymlError("an ensemble trains its members from scratch; leave out --init-model or --ensemble")
    cfg = replace(cfg, data=str(Path(cfg.data).resolve()))  # run.json works from any folder
    if cfg.augmentation not in AUGMENTATIONS:
        raise TinymlError(f"unknown augmentation '{cfg.augmentation}'; choose one of: {', '.join(AUGMENTATIONS)}")
    run = RunDir(Path(out))
    index = scan(Path(cfg.data), cfg.keyword_tuple)  # a bad folder fails here
    labels = data.labels if data else index.labels
    teacher_run = _teacher_run(cfg, labels)
    done = prepare_run(run, cfg.identity(), _config(cfg, labels, index.fingerprint()),
                       TrainConfig(data=cfg.data).identity(), RECIPE, retrain_if_changed)
    if cfg.ensemble > 1:
        return _train_ensemble(cfg, run, labels, data, retrain_if_changed)
    if (result := finished(run, cfg.epochs, done)) is not None:
        return result

    data = data or load_kws(Path(cfg.data), seed=cfg.seed, silence_pct=cfg.silence_pct, unknown_pct=cfg.unknown_pct,
                            keywords=labels[:-2], unknown_pool=cfg.unknown_pool)
    keras = tfimport.keras()  # after the dataset loaded: a bad folder fails at once
    console.info(data.report.summary())
    write_json(run.path / "dataset.json", data.report.as_dict())
    train, val, test = data.splits["train"], data.splits["validation"], data.splits["test"]
    keras.utils.set_random_seed(cfg.seed + done)
    loss, metric = distill.objects() if teacher_run else ("sparse_categorical_crossentropy", "accuracy")
    teacher = keras.models.load_model(teacher_run.model, compile=False) if teacher_run else None
    if done:
        model = keras.models.load_model(run.checkpoint)
        console.info(f"resuming {run.path} after epoch {done}/{cfg.epochs}")
    else:
        model = (keras.models.load_model(cfg.init_model, compile=False) if cfg.init_model else
                 build_dscnn(cfg.model, features.INPUT_SHAPE, len(labels), keras, cfg.width_tuple))
        model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate), loss=loss, metrics=[metric])
    aug = AUGMENTATIONS[cfg.augmentation]

    def epoch_data(epoch: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([cfg.seed, epoch])
        rows = rng.permutation(train.epoch_rows(len(labels) - 1, rng))
        audio = train.audio[rows]
        x = (training_features(audio, train.is_silence[rows], data.noise, aug, rng) if cfg.augment
             else features.pcm_features(audio))
        if teacher is None:
            return x, train.labels[rows]
        return x, distill.targets(train.labels[rows], teacher.predict(x, batch_size=256, verbose=0))

    return train_epochs(run, model, done, cfg.epochs, epoch_data, (eval_features(val), val.labels),
                        (eval_features(test), test.labels), cfg.batch_size, cfg.learning_rate, _measured_on(cfg),
                        _balance(run, train, labels) if cfg.balanced else None)


def _measured_on(cfg: TrainConfig) -> str:
    """What a run's validation and test accuracy are measured on."""
    return (f"held-out SYNTHETIC voices of {cfg.data}" if is_synthetic(Path(cfg.data))
            else f"the validation and test speakers of {cfg.data}")


def _train_ensemble(cfg: TrainConfig, run: RunDir, labels: tuple[str, ...], data: KwsData | None,
                    retrain_if_changed: bool) -> TrainResult:
    """Train (or reuse) each member in ``members/<i>`` of the run, then merge them into the run's model."""
    seeds, results = member_seeds(cfg.seed, cfg.ensemble), []
    for i, seed in enumerate(seeds):
        console.step(f"ensemble member {i + 1} of {cfg.ensemble} (seed {seed})")
        results.append(_train_kws(replace(cfg, ensemble=1, seed=seed), run.path / "members" / str(i), data,
                                  retrain_if_changed))
    newest = max(r.run.model.stat().st_mtime for r in results)
    merged_since = run.metrics.is_file() and run.model.is_file() and run.model.stat().st_mtime >= newest
    if merged_since and (result := finished(run, cfg.epochs, cfg.epochs)) is not None:
        return result
    keras = tfimport.keras()
    model = merge_dscnn([keras.models.load_model(r.run.model, compile=False) for r in results], cfg.model, keras)
    data = data or load_kws(Path(cfg.data), seed=cfg.seed, silence_pct=cfg.silence_pct, unknown_pct=cfg.unknown_pct,
                            keywords=labels[:-2], unknown_pool=cfg.unknown_pool)
    val, test = data.splits["validation"], data.splits["test"]
    val_acc = accuracy(model, eval_features(val), val.labels)
    test_acc = accuracy(model, eval_features(test), test.labels)
    save_model(model, run.model)
    per_epoch = float(sum(r.seconds_per_epoch for r in results))
    measured_on = _measured_on(cfg)
    write_json(run.metrics, {"val_accuracy": val_acc, "test_accuracy": test_acc, "epochs": cfg.epochs,
                             "seconds_per_epoch": per_epoch, "params": int(model.count_params()), "history": [],
                             "inference_mode": True, "measured_on": measured_on,
                             "members": [{"run": str(r.run.path), "seed": s, "val_accuracy": r.val_accuracy,
                                          "test_accuracy": r.test_accuracy}
                                         for r, s in zip(results, seeds, strict=True)]})
    members = ", ".join(f"{r.test_accuracy:.3f}" for r in results)
    console.info(f"ensemble of {cfg.ensemble} on {measured_on}: val accuracy {val_acc:.3f}, test accuracy "
                 f"{test_acc:.3f} (members' test accuracy {members}) -> {run.model}")
    return TrainResult(run, cfg.epochs, val_acc, test_acc, per_epoch, 0)


def _balance(run: RunDir, train: Split, labels: tuple[str, ...]) -> Callable[[Any], None]:
    """The class-balanced decision for this run's training prior, recorded in ``balance.json``."""
    counts = train.epoch_counts(len(labels), labels.index(UNKNOWN))
    shifts = balance.logit_shifts(counts, len(labels) - 2)

    def finish(model: Any) -> None:
        balance.apply(model, shifts)
        write_json(run.path / "balance.json", {
            "rule": "output bias += -ln(clips per epoch / mean keyword clips per epoch) (class-balanced decision)",
            "clips_per_epoch": dict(zip(labels, counts.tolist(), strict=True)),
            "logit_shift": {label: round(float(v), 6) for label, v in zip(labels, shifts, strict=True)}})
        console.info("class-balanced decision: " + ", ".join(
            f"{label} {v:+.2f}" for label, v in zip(labels, shifts, strict=True) if abs(v) >= 0.005)
            + " added to the output logits (each class's share of an epoch)")

    return finish
