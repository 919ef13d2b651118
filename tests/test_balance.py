"""The class-balanced decision: the shifts' arithmetic, the bias they move, and a balanced training run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tinyml.datasets.speech_commands import Split
from tinyml.train import balance
from tinyml.train.kws import TrainConfig, train_kws
from tinyml.train.rundir import RunDir


def test_each_class_is_shifted_by_its_log_share_against_a_keywords() -> None:
    counts = np.array([100, 100, 100, 50, 200, 0])  # 3 keywords; half, twice, never
    shifts = balance.logit_shifts(counts, keywords=3)
    np.testing.assert_allclose(shifts, [0, 0, 0, np.log(2), -np.log(2), 0], atol=1e-12)
    uneven = balance.logit_shifts(np.array([90, 110, 100, 100]), keywords=2)
    np.testing.assert_allclose(uneven, -np.log(np.array([90, 110, 100, 100]) / 100))
    with pytest.raises(ValueError, match="no keyword clips"):
        balance.logit_shifts(np.array([0, 0, 5]), keywords=2)


def test_an_epoch_counts_every_keyword_and_silence_clip_and_its_unknown_draw() -> None:
    labels = np.array([0, 0, 0, 1, 1, 2, 3, 3, 3, 3, 3], np.int32)  # keywords 0, 1; _silence_ 2; _unknown_ 3
    split = Split(np.zeros((labels.size, 16000), np.int16), labels, labels == 2, unknown_per_epoch=2)
    counts = split.epoch_counts(4, unknown=3)
    np.testing.assert_array_equal(counts, [3, 2, 1, 2])
    rows = split.epoch_rows(3, np.random.default_rng(0))
    np.testing.assert_array_equal(np.bincount(labels[rows], minlength=4), counts)  # what an epoch really draws
    np.testing.assert_array_equal(Split(split.audio, labels, labels == 2).epoch_counts(4, 3), [3, 2, 1, 5])


def test_the_shift_divides_each_probability_by_its_share() -> None:
    from tinyml import tfimport
    from tinyml.models.dscnn import build_dscnn

    keras = tfimport.keras()
    keras.utils.set_random_seed(1)
    model = build_dscnn("dscnn-s", (49, 10, 1), 5, keras)
    x = np.random.default_rng(2).normal(size=(64, 49, 10, 1)).astype(np.float32)
    before = model.predict(x, verbose=0)
    shifts = np.array([0.0, 0.3, -0.2, 0.0, -np.log(2)])
    balance.apply(model, shifts)
    after = model.predict(x, verbose=0)
    expected = before * np.exp(shifts)
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(after, expected, rtol=1e-4, atol=1e-6)
    assert not np.array_equal(before.argmax(1), after.argmax(1))  # the inputs are near enough to a boundary to move
    with pytest.raises(ValueError, match="5 outputs"):
        balance.apply(model, np.zeros(4))


@pytest.mark.slow
def test_a_balanced_run_moves_its_output_bias_by_the_epochs_shares(synth_dataset: Path, tmp_path: Path) -> None:
    from tinyml import tfimport

    out = tmp_path / "balanced"
    train_kws(TrainConfig(data=str(synth_dataset), model="dscnn-s", epochs=1, batch_size=32, balanced=True), out)
    run = RunDir(out)
    recorded = json.loads((out / "balance.json").read_text())
    counts = recorded["clips_per_epoch"]
    labels = json.loads(run.config.read_text())["labels"]
    assert set(counts) == set(labels) and counts["_unknown_"] > 0
    keras = tfimport.keras()
    trained = keras.models.load_model(run.checkpoint).get_layer("probabilities").get_weights()[1]
    final = keras.models.load_model(run.model).get_layer("probabilities").get_weights()[1]
    mean_keyword = np.mean([counts[k] for k in labels[:-2]])
    expected = np.array([-np.log(counts[k] / mean_keyword) for k in labels])
    np.testing.assert_allclose(final - trained, expected, atol=1e-5)
    assert expected[labels.index("_unknown_")] != 0
    assert "class-balanced decision" in RunDir.describe_provenance(run.provenance())
