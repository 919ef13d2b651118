"""``tinyml train image``: search the MCUNet-style network that fits the board, then train it
on an image-folder dataset (checkpoints and resume as for KWS).

The chosen architecture is written to ``RUN/arch.json`` (and the search to ``RUN/search.json``)
so it can be rebuilt; a resumed run reuses it instead of searching again.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from tinyml import console, tfimport
from tinyml.boards import get_board
from tinyml.datasets.images import fingerprint, load_images, scan_images
from tinyml.locking import folder_lock
from tinyml.mcunet.search import RESOLUTIONS, WIDTHS, search
from tinyml.models.mcunet import Arch, build_mcunet
from tinyml.train.loop import (
    TrainResult,
    check_hyperparameters,
    finished,
    require_new_run_dir,
    resume_point,
    start_run,
    train_epochs,
)
from tinyml.train.rundir import RunDir, write_json


@dataclass(frozen=True)
class ImageTrainConfig:
    data: str
    board: str
    epochs: int = 15
    batch_size: int = 32
    learning_rate: float = 2e-3
    seed: int = 0
    samples: int = 100
    population: int = 32
    generations: int = 12
    resolutions: tuple[int, ...] = RESOLUTIONS
    widths: tuple[float, ...] = WIDTHS
    augment: bool = True
    runtime: str = "native"  # the runtime the network will be deployed with: its arena is the budget
    arch: str = ""  # a fixed architecture (Arch JSON, a `tinyml search` trial) instead of searching one

    def identity(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items() if k != "epochs"}


def augment_images(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Horizontal flip, translation by up to 1/8 of the side (reflect padding), brightness and contrast."""
    n, r = x.shape[0], x.shape[1]
    pad = max(1, r // 8)
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="reflect")
    out = np.empty_like(x)
    for i in range(n):
        dy, dx = rng.integers(0, 2 * pad + 1, 2)
        img = padded[i, dy : dy + r, dx : dx + r]
        out[i] = img[:, ::-1] if rng.random() < 0.5 else img
    contrast = rng.uniform(0.7, 1.3, (n, 1, 1, 1)).astype(np.float32)
    brightness = rng.uniform(-0.2, 0.2, (n, 1, 1, 1)).astype(np.float32)
    mean = out.mean(axis=(1, 2, 3), keepdims=True)
    return np.clip((out - mean) * contrast + mean + brightness, -1.0, 1.0)


def train_image(cfg: ImageTrainConfig, out: Path, task: str = "image", retrain_if_changed: bool = False) -> TrainResult:
    """Train (or resume, or reuse) the run in ``out``; a run there made otherwise — other settings,
    other images — is refused, or with ``retrain_if_changed`` searched and trained anew."""
    with folder_lock(Path(out), "--out folder"):
        return _train_image(cfg, out, task, retrain_if_changed)


def _train_image(cfg: ImageTrainConfig, out: Path, task: str, retrain_if_changed: bool) -> TrainResult:
    check_hyperparameters(cfg.learning_rate, cfg.batch_size)
    cfg = replace(cfg, data=str(Path(cfg.data).resolve()))  # run.json works from any folder
    run = RunDir(Path(out))
    board = get_board(cfg.board)
    classes, files = scan_images(Path(cfg.data))
    recipe = {"data_fingerprint": fingerprint(Path(cfg.data), files)}  # the images trained on
    done = resume_point(run, cfg.identity(), recipe, ImageTrainConfig(cfg.data, cfg.board).identity(),
                        retrain_if_changed)
    if done is not None:
        arch = Arch.from_json(run.read_config()["model_spec"]["arch"])
    else:
        require_new_run_dir(run)  # before spending time on the search
        if cfg.arch:
            arch, result = Arch.from_json(json.loads(cfg.arch)), None
        else:
            console.step(f"searching a network for {board.id} ({len(classes)} classes)")
            result = search(board, len(classes), cfg.seed, cfg.samples, cfg.resolutions, cfg.widths,
                            population=cfg.population, generations=cfg.generations, runtime=cfg.runtime)
            arch = result.best.arch
            m, need = result.best.memory, result.budget.need(result.best.memory)
            console.info(f"chosen {arch.describe()}: {m.macs:,} MACs, {cfg.runtime} arena "
                         f"~{need.arena_bytes / 1024:.1f} KB, flash ~{need.flash_bytes / 1024:.1f} KB (budget "
                         f"{result.budget.sram / 1024:.0f} KB SRAM, {result.budget.flash / 1024:.0f} KB flash)")
        shape = [arch.resolution, arch.resolution, 3]
        done = start_run(run, {"task": task, "train": asdict(cfg), "labels": list(classes), "input_shape": shape,
                               "board": board.id, "model_spec": {"kind": "mcunet", "arch": arch.to_json()},
                               **recipe})
        if result is not None:
            write_json(run.path / "search.json", result.to_json())
        write_json(run.path / "arch.json", arch.to_json())
    if (result_done := finished(run, cfg.epochs, done)) is not None:
        return result_done

    keras = tfimport.keras()

    data = load_images(Path(cfg.data), arch.resolution)
    console.info(data.report.summary())
    (x_train, y_train), val, test = data.splits["train"], data.splits["validation"], data.splits["test"]
    keras.utils.set_random_seed(cfg.seed + done)
    if done:
        model = keras.models.load_model(run.checkpoint)
        console.info(f"resuming {run.path} after epoch {done}/{cfg.epochs}")
    else:
        model = build_mcunet(arch, keras)
        model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    def epoch_data(epoch: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([cfg.seed, epoch])
        x = augment_images(x_train, rng) if cfg.augment else x_train
        order = rng.permutation(len(x))
        return x[order], y_train[order]

    return train_epochs(run, model, done, cfg.epochs, epoch_data, val, test, cfg.batch_size, cfg.learning_rate,
                        f"the validation and test images of {cfg.data}")
