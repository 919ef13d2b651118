"""What quantization needs from a run's task: calibration and evaluation arrays."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinyml.errors import RunDirError


@dataclass(frozen=True)
class TaskArrays:
    x_train: np.ndarray
    y_train: np.ndarray
    x_eval: np.ndarray
    y_eval: np.ndarray
    split: str  # which split x_eval is
    measured_on: str  # what x_eval is, in words (held-out synthetic voices, a folder's test split, ...)


def task_arrays(config: dict[str, Any], data_dir: Path | None = None) -> TaskArrays:
    train_cfg = config["train"]
    data = Path(data_dir or train_cfg["data"])
    if config["task"] == "kws":
        from tinyml.datasets.speech_commands import describe, load_kws
        from tinyml.train.kws import eval_features

        kws = load_kws(data, seed=train_cfg["seed"], silence_pct=train_cfg["silence_pct"],
                       unknown_pct=train_cfg["unknown_pct"], keywords=tuple(config["labels"][:-2]))
        train = kws.splits["train"]
        split = "test" if len(kws.splits["test"].labels) else "validation"
        s = kws.splits[split]
        return TaskArrays(eval_features(train), train.labels, eval_features(s), s.labels, split,
                          describe(data, split))
    if config["task"] in ("image", "vww"):
        from tinyml.datasets.images import load_images

        images = load_images(data, int(config["input_shape"][0]))
        split = "test" if len(images.splits["test"][1]) else "validation"
        return TaskArrays(*images.splits["train"], *images.splits[split], split, f"the {split} images of {data}")
    raise RunDirError(f"unknown task '{config['task']}' in run.json; the run was made by a newer tinyml")
