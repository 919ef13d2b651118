"""Train the DS-CNN keyword spotter, with per-epoch checkpoints and resume.

Each epoch draws fresh augmentation from ``numpy.random.default_rng([seed, epoch])`` so a
resumed run sees the same data stream as an uninterrupted one. Accuracy is always measured
in inference mode (``training=False``: dropout off, batch-norm moving statistics).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinyml import console, tfimport
from tinyml.audio import features
from tinyml.audio.augment import AugmentConfig, training_features
from tinyml.datasets.speech_commands import LABELS, KwsData, Split, load_kws
from tinyml.models.dscnn import build_dscnn, spec
from tinyml.train.loop import TrainResult, finished, prepare_run, train_epochs
from tinyml.train.rundir import RunDir, write_json

__all__ = ["TrainConfig", "TrainResult", "eval_features", "train_kws"]


@dataclass(frozen=True)
class TrainConfig:
    data: str
    model: str = "dscnn"
    epochs: int = 20
    batch_size: int = 64
    learning_rate: float = 2e-3
    seed: int = 0
    silence_pct: float = 10.0
    unknown_pct: float = 10.0
    augment: bool = True

    def identity(self) -> dict[str, Any]:
        """Everything that must match for a run to be resumed (all but ``epochs``)."""
        return {k: v for k, v in asdict(self).items() if k != "epochs"}


def eval_features(split: Split) -> np.ndarray:
    return features.mfcc(split.audio.astype(np.float32) / 32768.0)


def _config(cfg: TrainConfig) -> dict[str, Any]:
    return {
        "task": "kws", "train": asdict(cfg), "labels": list(LABELS),
        "input_shape": list(features.INPUT_SHAPE),
        "model_spec": {"kind": "dscnn", "name": cfg.model, "input_shape": list(features.INPUT_SHAPE),
                       "n_classes": len(LABELS)},
        "architecture": asdict(spec(cfg.model)),
        "front_end": {k: getattr(features, k) for k in (
            "SAMPLE_RATE", "CLIP_SAMPLES", "WINDOW", "STRIDE", "FFT_SIZE", "N_MEL", "LOW_HZ", "HIGH_HZ",
            "LOG_OFFSET", "N_MFCC", "N_FRAMES")},
    }


def train_kws(cfg: TrainConfig, out: Path, data: KwsData | None = None) -> TrainResult:
    run = RunDir(Path(out))
    done = prepare_run(run, cfg.identity(), _config(cfg))
    if (result := finished(run, cfg.epochs, done)) is not None:
        return result

    data = data or load_kws(Path(cfg.data), seed=cfg.seed, silence_pct=cfg.silence_pct, unknown_pct=cfg.unknown_pct)
    keras = tfimport.keras()  # after the dataset loaded: a bad folder fails at once
    console.info(data.report.summary())
    write_json(run.path / "dataset.json", data.report.as_dict())
    train, val, test = data.splits["train"], data.splits["validation"], data.splits["test"]
    keras.utils.set_random_seed(cfg.seed + done)
    if done:
        model = keras.models.load_model(run.checkpoint)
        console.info(f"resuming {run.path} after epoch {done}/{cfg.epochs}")
    else:
        model = build_dscnn(cfg.model, features.INPUT_SHAPE, len(LABELS), keras)
        model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    aug = AugmentConfig()

    def epoch_data(epoch: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([cfg.seed, epoch])
        x = (training_features(train.audio, train.is_silence, data.noise, aug, rng) if cfg.augment
             else eval_features(train))
        order = rng.permutation(len(x))
        return x[order], train.labels[order]

    return train_epochs(run, model, done, cfg.epochs, epoch_data, (eval_features(val), val.labels),
                        (eval_features(test), test.labels), cfg.batch_size, cfg.learning_rate)
