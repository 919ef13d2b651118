"""The epoch loop every trainer shares: cosine learning rate, per-epoch data prepared one epoch
ahead on a worker thread, inference-mode validation, an atomic checkpoint and state after every
epoch, and resume from them. Task trainers (KWS, image) supply the data and the model.

Ctrl-C stops training at the next batch boundary, not wherever the signal lands (a
KeyboardInterrupt raised inside a lock's acquire or a progress bar's update can leave a lock held
and the process unable to exit); the interrupt is then raised from there. A second Ctrl-C
interrupts at once."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinyml import console
from tinyml.errors import RunDirError, TinymlError
from tinyml.train.rundir import RunDir, write_json

EpochData = Callable[[int], tuple[np.ndarray, np.ndarray]]  # epoch -> (x, y), already shuffled


@dataclass(frozen=True)
class TrainResult:
    run: RunDir
    epochs_done: int
    val_accuracy: float
    test_accuracy: float
    seconds_per_epoch: float
    resumed_from: int


def check_hyperparameters(learning_rate: float, batch_size: int) -> None:
    if not learning_rate > 0:
        raise TinymlError(f"learning rate {learning_rate} must be a positive number (e.g. 0.002)")
    if batch_size < 1:
        raise TinymlError(f"batch size {batch_size} must be at least 1")


def accuracy(model: Any, x: np.ndarray, y: np.ndarray) -> float:
    """Top-1 accuracy in inference mode (dropout off, batch-norm moving statistics)."""
    if len(y) == 0:
        return float("nan")
    return float(np.mean(np.argmax(model.predict(x, batch_size=256, verbose=0), axis=1) == y))


def cosine_lr(base: float, epoch: int, epochs: int) -> float:
    """Cosine decay from ``base`` to 5% of it over the run."""
    t = epoch / max(1, epochs - 1)
    return base * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * t)))


def prepare_run(run: RunDir, identity: dict[str, Any], config: dict[str, Any],
                defaults: dict[str, Any] | None = None, recipe: tuple[str, ...] = (),
                retrain_if_changed: bool = False) -> int:
    """Create the run folder (writing ``config``) or check it belongs to the same training;
    return the number of epochs already done (see :func:`resume_point`; ``recipe`` names the
    entries of ``config`` that must match)."""
    done = resume_point(run, identity, {k: config[k] for k in recipe}, defaults, retrain_if_changed)
    return start_run(run, config) if done is None else done


def resume_point(run: RunDir, identity: dict[str, Any], recipe: dict[str, Any],
                 defaults: dict[str, Any] | None = None, retrain_if_changed: bool = False) -> int | None:
    """The number of epochs the run in ``run`` already did, or None if there is no run (to start
    one: :func:`start_run`). ``identity`` is what must match to resume; ``defaults``: each setting's
    default, which a run recorded before the setting existed had; ``recipe``: top-level entries of
    ``run.json`` that must match too (what a setting's name stood for, the data's fingerprint) — a
    run recorded without one was made otherwise. A run with other settings is refused, or with
    ``retrain_if_changed`` (a folder tinyml owns, e.g. deploy's) deleted, so that it is trained anew."""
    if not run.config.is_file():
        return None
    previous = run.read_config()
    recorded = {k: previous["train"][k] if k in previous["train"] else (defaults or {}).get(k) for k in identity}
    wanted = json.loads(json.dumps(recipe))  # as run.json holds them
    diff = [k for k in identity if recorded[k] != identity[k]]
    diff += [k for k in recipe if previous.get(k) != wanted[k] and k not in diff]
    if not diff:
        return int(run.read_state()["epochs_done"]) if run.checkpoint.is_file() else 0
    if not retrain_if_changed:
        raise RunDirError(f"{run.path} was trained with other settings ({', '.join(diff)}); use a new --out folder")
    console.info(f"{run.path} was trained with other settings ({', '.join(diff)}); training it anew")
    shutil.rmtree(run.path)
    return None


def start_run(run: RunDir, config: dict[str, Any]) -> int:
    """A new run in an empty (or absent) folder: ``run.json`` written, no epoch done."""
    require_new_run_dir(run)
    run.path.mkdir(parents=True, exist_ok=True)
    write_json(run.config, config)
    return 0


def require_new_run_dir(run: RunDir) -> None:
    if run.path.exists() and any(run.path.iterdir()):
        raise RunDirError(f"{run.path} is not empty and is not a tinyml run; choose a new --out folder")


def finished(run: RunDir, epochs: int, done: int) -> TrainResult | None:
    """The result of a run that already reached ``epochs`` (nothing to train), else None."""
    if done < epochs or not run.model.is_file():
        return None
    m = json.loads(run.metrics.read_text())
    console.info(f"{run.path}: already trained for {done} epochs; nothing to do")
    return TrainResult(run, done, m["val_accuracy"], m["test_accuracy"], m["seconds_per_epoch"], done)


def save_model(model: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.stem}.tmp.keras")
    model.save(tmp)
    os.replace(tmp, path)


@contextmanager
def _stop_on_ctrl_c() -> Iterator[threading.Event]:
    """An event Ctrl-C sets (the first one; a second raises KeyboardInterrupt at once). Outside the
    main thread, or where SIGINT is ignored, nothing is installed."""
    stop = threading.Event()
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous is signal.SIG_IGN:
        yield stop
        return

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            signal.default_int_handler(signum, frame)
        stop.set()

    signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def _check(stop: threading.Event) -> None:
    if stop.is_set():
        raise KeyboardInterrupt


def _train_epoch(model: Any, x: np.ndarray, y: np.ndarray, batch_size: int, advance: Callable[[str], None],
                 stop: threading.Event) -> dict[str, float] | None:
    """One pass over ``(x, y)`` in order, batch by batch; the epoch's mean loss and accuracy, or None
    if stopped. Not ``model.fit``: while the next epoch's data was prepared beside it on two cores,
    ``fit`` returned ~4 s after its last batch on half the epochs (measured; this loop does not)."""
    model.reset_metrics()
    logs: dict[str, Any] = {}
    for start in range(0, len(y), batch_size):
        if stop.is_set():
            return None
        logs = model.train_on_batch(x[start : start + batch_size], y[start : start + batch_size], return_dict=True)
        advance(f"loss {float(logs['loss']):.3f} acc {float(logs['accuracy']):.3f}")
    return {name: float(value) for name, value in logs.items()}


def train_epochs(run: RunDir, model: Any, done: int, epochs: int, epoch_data: EpochData,
                 val: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray], batch_size: int,
                 learning_rate: float, measured_on: str = "the dataset's validation and test splits",
                 finish: Callable[[Any], None] | None = None) -> TrainResult:
    """Train epochs ``done..epochs``; ``finish`` (if any) changes the model after the last epoch, before
    it is measured and saved (checkpoints are of the model as trained, so a resumed run finishes alike)."""
    state = run.read_state() if done else {"epochs_done": 0, "history": []}
    with _stop_on_ctrl_c() as stop, console.progress() as bar, ThreadPoolExecutor(max_workers=1) as prefetch:
        upcoming = prefetch.submit(epoch_data, done) if done < epochs else None
        for epoch in range(done, epochs):
            started = time.perf_counter()
            x, y = upcoming.result()  # type: ignore[union-attr]
            _check(stop)
            upcoming = prefetch.submit(epoch_data, epoch + 1) if epoch + 1 < epochs else None
            lr = cosine_lr(learning_rate, epoch, epochs)
            model.optimizer.learning_rate.assign(lr)
            task = bar.add_task(f"epoch {epoch + 1}/{epochs}", total=math.ceil(len(y) / batch_size), status="")
            logs = _train_epoch(model, x, y, batch_size,
                                lambda status, task=task: bar.update(task, advance=1, status=status), stop)
            if logs is None:
                raise KeyboardInterrupt  # stopped mid-epoch: not saved, resumed from its start
            _check(stop)
            val_acc = accuracy(model, *val)
            seconds = time.perf_counter() - started
            entry = {"epoch": epoch + 1, "loss": logs["loss"], "train_accuracy": logs["accuracy"],
                     "val_accuracy": val_acc, "learning_rate": lr, "seconds": seconds}
            bar.update(task, status=f"loss {entry['loss']:.3f} train acc {entry['train_accuracy']:.3f} "
                                    f"val acc {val_acc:.3f} ({seconds:.1f} s)")
            save_model(model, run.checkpoint)
            state = {"epochs_done": epoch + 1, "history": [*state["history"], entry]}
            write_json(run.state, state)

    history = state["history"]
    if finish is not None:
        finish(model)
    val_acc = history[-1]["val_accuracy"] if history and finish is None else accuracy(model, *val)
    test_acc = accuracy(model, *test)
    save_model(model, run.model)
    per_epoch = float(np.mean([h["seconds"] for h in history])) if history else 0.0
    write_json(run.metrics, {"val_accuracy": val_acc, "test_accuracy": test_acc, "epochs": epochs,
                             "seconds_per_epoch": per_epoch, "params": int(model.count_params()),
                             "history": history, "inference_mode": True, "measured_on": measured_on})
    console.info(f"float model on {measured_on}: val accuracy {val_acc:.3f}, test accuracy {test_acc:.3f} "
                 f"(inference mode) -> {run.model}")
    return TrainResult(run, epochs, val_acc, test_acc, per_epoch, done)
