"""Knowledge distillation: the loss itself, and a student trained from a teacher run for real."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tinyml.errors import RunDirError
from tinyml.train import distill
from tinyml.train.kws import TrainConfig, train_kws
from tinyml.train.rundir import RunDir


def test_the_loss_mixes_hard_labels_and_tempered_soft_targets() -> None:
    from tinyml import tfimport

    keras = tfimport.keras()
    student = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], np.float32)
    teacher = np.array([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]], np.float32)
    labels = np.array([0, 2])
    y = distill.targets(labels, teacher)
    assert y.shape == (2, 4) and y.dtype == np.float32
    hard_only, _ = distill.objects(temperature=4.0, alpha=0.0)
    ce = -np.log(student[np.arange(2), labels])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(hard_only(y, student)), ce, rtol=1e-5)
    soft_only, accuracy = distill.objects(temperature=2.0, alpha=1.0)

    def tempered(p: np.ndarray) -> np.ndarray:
        z = np.log(p) / 2.0
        return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)

    pt, ps = tempered(teacher), tempered(student)
    kl = (pt * np.log(pt / ps)).sum(axis=1) * 4.0
    np.testing.assert_allclose(keras.ops.convert_to_numpy(soft_only(y, student)), kl, rtol=1e-4)
    assert keras.ops.convert_to_numpy(soft_only(distill.targets(labels, student), student)).max() < 1e-6
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(accuracy(y, student)), [1.0, 1.0])


@pytest.mark.slow
def test_a_student_learns_from_a_teacher_run(trained_run: Path, synth_dataset: Path, tmp_path: Path) -> None:
    from tinyml.quantize.service import quantize_run

    cfg = TrainConfig(data=str(synth_dataset), model="dscnn-s", epochs=3, batch_size=32, teacher=str(trained_run))
    out = tmp_path / "student"
    train_kws(replace(cfg, epochs=2), out)  # stopped after 2 of 3 epochs ...
    result = train_kws(cfg, out)  # ... and resumed: the checkpoint carries the distillation loss
    assert result.resumed_from == 2 and result.epochs_done == 3
    history = json.loads(RunDir(out).state.read_text())["history"]
    assert len(history) == 3 and all(np.isfinite(h["loss"]) for h in history)
    assert json.loads(RunDir(out).config.read_text())["train"]["teacher"] == str(trained_run)
    report = quantize_run(out)
    assert report.labels == json.loads(RunDir(trained_run).config.read_text())["labels"]


def test_a_teacher_with_other_labels_is_refused(tiny_layout: Path, tmp_path: Path) -> None:
    teacher = tmp_path / "teacher"
    teacher.mkdir()
    (teacher / "run.json").write_text(json.dumps({"labels": ["a", "_silence_", "_unknown_"], "train": {}}))
    (teacher / "model.keras").write_bytes(b"")
    with pytest.raises(RunDirError, match="train the teacher on the same keywords"):
        train_kws(TrainConfig(data=str(tiny_layout), teacher=str(teacher)), tmp_path / "student")
    assert not (tmp_path / "student").exists()
