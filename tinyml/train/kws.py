"""Train the DS-CNN keyword spotter, with per-epoch checkpoints and resume.

Each epoch draws fresh augmentation from ``numpy.random.default_rng([seed, epoch])`` so a
resumed run sees the same data stream as an uninterrupted one. Accuracy is always measured
in inference mode (``training=False``: dropout off, batch-norm moving statistics).
"""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinyml import console
from tinyml.audio import features
from tinyml.audio.augment import AugmentConfig, training_features
from tinyml.datasets.speech_commands import LABELS, KwsData, Split, load_kws
from tinyml.errors import RunDirError
from tinyml.models.dscnn import build_dscnn, spec
from tinyml.train.rundir import RunDir, write_json


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


@dataclass(frozen=True)
class TrainResult:
    run: RunDir
    epochs_done: int
    val_accuracy: float
    test_accuracy: float
    seconds_per_epoch: float
    resumed_from: int


def eval_features(split: Split) -> np.ndarray:
    return features.mfcc(split.audio.astype(np.float32) / 32768.0)


def accuracy(model: Any, x: np.ndarray, y: np.ndarray) -> float:
    if len(y) == 0:
        return float("nan")
    probs = model.predict(x, batch_size=256, verbose=0)
    return float(np.mean(np.argmax(probs, axis=1) == y))


def learning_rate(cfg: TrainConfig, epoch: int) -> float:
    """Cosine decay from ``learning_rate`` to 5% of it over the run."""
    t = epoch / max(1, cfg.epochs - 1)
    return cfg.learning_rate * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * t)))


def _prepare(run: RunDir, cfg: TrainConfig) -> int:
    """Create or validate the run folder; return the number of epochs already done."""
    if run.config.is_file():
        previous = run.read_config()["train"]
        mine = cfg.identity()
        if {k: previous.get(k) for k in mine} != mine:
            diff = ", ".join(k for k in mine if previous.get(k) != mine[k])
            raise RunDirError(f"{run.path} was trained with other settings ({diff}); use a new --out folder")
        return int(run.read_state()["epochs_done"]) if run.checkpoint.is_file() else 0
    if run.path.exists() and any(run.path.iterdir()):
        raise RunDirError(f"{run.path} is not empty and is not a tinyml run; choose a new --out folder")
    run.path.mkdir(parents=True, exist_ok=True)
    write_json(run.config, {
        "task": "kws", "train": asdict(cfg), "labels": list(LABELS),
        "input_shape": list(features.INPUT_SHAPE), "architecture": asdict(spec(cfg.model)),
        "front_end": {k: getattr(features, k) for k in (
            "SAMPLE_RATE", "CLIP_SAMPLES", "WINDOW", "STRIDE", "FFT_SIZE", "N_MEL", "LOW_HZ", "HIGH_HZ",
            "LOG_OFFSET", "N_MFCC", "N_FRAMES")},
    })
    return 0


class _ProgressCallback:
    """Keras callback feeding the shared Rich progress display (built lazily to import keras late)."""

    @staticmethod
    def make(bar: Any, task: Any) -> Any:
        import keras

        class Callback(keras.callbacks.Callback):
            def on_train_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
                logs = logs or {}
                bar.update(task, advance=1, status=f"loss {logs.get('loss', float('nan')):.3f} "
                                                   f"acc {logs.get('accuracy', float('nan')):.3f}")

        return Callback()


def train_kws(cfg: TrainConfig, out: Path, data: KwsData | None = None) -> TrainResult:
    run = RunDir(Path(out))
    done = _prepare(run, cfg)
    if done >= cfg.epochs and run.model.is_file():
        metrics = _read_metrics(run)
        console.info(f"{run.path}: already trained for {done} epochs; nothing to do")
        return TrainResult(run, done, metrics["val_accuracy"], metrics["test_accuracy"],
                           metrics["seconds_per_epoch"], done)

    import keras

    data = data or load_kws(Path(cfg.data), seed=cfg.seed, silence_pct=cfg.silence_pct, unknown_pct=cfg.unknown_pct)
    console.info(data.report.summary())
    write_json(run.path / "dataset.json", data.report.as_dict())
    train, val, test = data.splits["train"], data.splits["validation"], data.splits["test"]
    x_val, x_test = eval_features(val), eval_features(test)
    keras.utils.set_random_seed(cfg.seed + done)
    if done:
        model = keras.models.load_model(run.checkpoint)
        console.info(f"resuming {run.path} after epoch {done}/{cfg.epochs}")
    else:
        model = build_dscnn(cfg.model, features.INPUT_SHAPE, len(LABELS), keras)
        model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    state = run.read_state() if done else {"epochs_done": 0, "history": []}
    aug = AugmentConfig()
    steps = math.ceil(len(train.labels) / cfg.batch_size)
    epoch_times: list[float] = [h["seconds"] for h in state["history"]]
    def epoch_data(epoch: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([cfg.seed, epoch])
        x = (training_features(train.audio, train.is_silence, data.noise, aug, rng) if cfg.augment
             else eval_features(train))
        return x, rng.permutation(len(x))

    # The next epoch's augmentation (numpy, releases the GIL) overlaps this epoch's training.
    with console.progress() as bar, ThreadPoolExecutor(max_workers=1) as prefetch:
        upcoming = prefetch.submit(epoch_data, done) if done < cfg.epochs else None
        for epoch in range(done, cfg.epochs):
            started = time.perf_counter()
            assert upcoming is not None
            x, order = upcoming.result()
            upcoming = prefetch.submit(epoch_data, epoch + 1) if epoch + 1 < cfg.epochs else None
            model.optimizer.learning_rate.assign(learning_rate(cfg, epoch))
            task = bar.add_task(f"epoch {epoch + 1}/{cfg.epochs}", total=steps, status="")
            hist = model.fit(x[order], train.labels[order], batch_size=cfg.batch_size, epochs=1, shuffle=False,
                             verbose=0, callbacks=[_ProgressCallback.make(bar, task)])
            val_acc = accuracy(model, x_val, val.labels)
            seconds = time.perf_counter() - started
            epoch_times.append(seconds)
            entry = {"epoch": epoch + 1, "loss": float(hist.history["loss"][-1]),
                     "train_accuracy": float(hist.history["accuracy"][-1]), "val_accuracy": val_acc,
                     "learning_rate": learning_rate(cfg, epoch), "seconds": seconds}
            bar.update(task, status=f"loss {entry['loss']:.3f} train acc {entry['train_accuracy']:.3f} "
                                    f"val acc {val_acc:.3f} ({seconds:.1f} s)")
            tmp = run.path / ".checkpoint.tmp.keras"
            model.save(tmp)
            os.replace(tmp, run.checkpoint)
            state = {"epochs_done": epoch + 1, "history": [*state["history"], entry]}
            write_json(run.state, state)

    test_acc = accuracy(model, x_test, test.labels)
    val_acc = state["history"][-1]["val_accuracy"] if state["history"] else accuracy(model, x_val, val.labels)
    tmp = run.path / ".model.tmp.keras"
    model.save(tmp)
    os.replace(tmp, run.model)
    per_epoch = float(np.mean(epoch_times)) if epoch_times else 0.0
    write_json(run.metrics, {"val_accuracy": val_acc, "test_accuracy": test_acc, "epochs": cfg.epochs,
                             "seconds_per_epoch": per_epoch, "params": int(model.count_params()),
                             "history": state["history"], "inference_mode": True})
    console.info(f"float model: val accuracy {val_acc:.3f}, test accuracy {test_acc:.3f} "
                 f"(inference mode) -> {run.model}")
    return TrainResult(run, cfg.epochs, val_acc, test_acc, per_epoch, done)


def _read_metrics(run: RunDir) -> dict[str, Any]:
    import json

    return json.loads(run.metrics.read_text())
