"""Ensembles merged into one DS-CNN: the merged model's decision is the members' mean logits, exactly,
and an ensemble run trains its members, merges them, quantizes and is reused as any run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tinyml.errors import TinymlError
from tinyml.train.ensemble import merge_dscnn, merged_widths
from tinyml.train.kws import TrainConfig, train_kws
from tinyml.train.rundir import RunDir


def _inputs(n: int, seed: int) -> np.ndarray:
    """Inputs unlike each other as a whole (a per-input cepstral shape), not only in their noise."""
    rng = np.random.default_rng(seed)
    return (rng.normal(0, 3, (n, 49, 10, 1)) + rng.normal(0, 6, (n, 1, 10, 1))).astype(np.float32)


def _member(keras, seed: int, name: str = "dscnn-s", widths: tuple[int, ...] | None = None):
    """A DS-CNN with random weights whose batch-norm statistics are those of its inputs (as a trained
    one's are) and whose classifier spreads its logits, so that its decisions vary with the input."""
    from tinyml.models.dscnn import build_dscnn

    keras.utils.set_random_seed(seed)
    model = build_dscnn(name, (49, 10, 1), 6, keras, widths)
    x = _inputs(256, seed)
    for _ in range(60):  # moving mean and variance (momentum 0.9) settle on the inputs' statistics
        model(x, training=True)
    dense = model.get_layer("probabilities")
    pooled = keras.Model(model.input, dense.input).predict(x, verbose=0)  # the classifier reads standardized features
    mean, std = pooled.mean(axis=0), pooled.std(axis=0) + 1e-3
    w = np.random.default_rng(seed).normal(0, 1, dense.get_weights()[0].shape)
    dense.set_weights([w / std[:, None], -(mean / std) @ w])
    return model


def _mean_logit_probabilities(members: list, x: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
    """softmax of the mean log-probability = softmax of the mean logits (each member's log-softmax differs
    from its logits by one constant per input)."""
    log_p = np.mean([np.log(m.predict(x, verbose=0).astype(np.float64)) for m in members], axis=0)
    p = np.exp(log_p - log_p.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def test_the_merged_model_decides_by_the_members_mean_logits() -> None:
    from tinyml import tfimport

    keras = tfimport.keras()
    members = [_member(keras, 1), _member(keras, 2), _member(keras, 3, widths=(16, 24, 8, 32))]  # one pruned
    merged = merge_dscnn(members, "dscnn-s", keras)
    convs = [layer.filters for layer in merged.layers if type(layer) is keras.layers.Conv2D]
    assert convs == [32 + 32 + 16, 32 + 32 + 24, 32 + 32 + 8, 32 + 32 + 32]
    x = _inputs(200, 0)
    got = merged.predict(x, verbose=0)
    np.testing.assert_allclose(got, _mean_logit_probabilities(members, x), rtol=1e-4, atol=1e-6)
    decisions = got.argmax(1)
    assert len(set(decisions)) >= 3  # not one answer for every input
    for m in members:  # the ensemble is none of its members
        assert (m.predict(x, verbose=0).argmax(1) != decisions).any()


def test_members_of_other_shapes_are_refused() -> None:
    from tinyml import tfimport

    keras = tfimport.keras()
    with pytest.raises(TinymlError, match="at least two"):
        merge_dscnn([_member(keras, 1)], "dscnn-s", keras)
    with pytest.raises(TinymlError, match="same number of blocks"):
        merge_dscnn([_member(keras, 1), _member(keras, 2, name="dscnn")], "dscnn-s", keras)
    assert merged_widths([(32, 32), (16, 8)]) == (48, 40)


@pytest.mark.slow
def test_an_ensemble_run_trains_merges_quantizes_and_is_reused(synth_dataset: Path, tmp_path: Path) -> None:
    from tinyml import tfimport
    from tinyml.audio import features
    from tinyml.datasets.speech_commands import load_kws
    from tinyml.quantize.service import quantize_run

    out = tmp_path / "ensemble"
    cfg = TrainConfig(data=str(synth_dataset), model="dscnn-s", epochs=6, batch_size=32, seed=5, ensemble=2)
    result = train_kws(cfg, out)
    run = RunDir(out)
    members = sorted(p.name for p in (out / "members").iterdir())
    assert members == ["0", "1"]
    seeds = [json.loads(RunDir(out / "members" / m).config.read_text())["train"]["seed"] for m in members]
    assert seeds == [5, 6]
    spec = json.loads(run.config.read_text())["model_spec"]
    assert spec["widths"] == [64, 64, 64, 64]  # dscnn-s: 32 channels, three blocks, twice
    metrics = json.loads(run.metrics.read_text())
    assert [m["seed"] for m in metrics["members"]] == [5, 6]
    assert metrics["test_accuracy"] == pytest.approx(result.test_accuracy)
    assert "an ensemble of 2 models merged into one" in RunDir.describe_provenance(run.provenance())

    keras = tfimport.keras()
    loaded = [keras.models.load_model(out / "members" / m / "model.keras", compile=False) for m in members]
    merged = keras.models.load_model(run.model, compile=False)
    test = load_kws(synth_dataset, seed=5).splits["test"]
    x = features.pcm_features(test.audio)
    np.testing.assert_allclose(merged.predict(x, verbose=0), _mean_logit_probabilities(loaded, x),
                               rtol=1e-4, atol=1e-6)

    stamp = run.model.stat().st_mtime_ns
    again = train_kws(cfg, out)  # nothing changed: members reused, nothing merged anew
    assert run.model.stat().st_mtime_ns == stamp and again.test_accuracy == pytest.approx(result.test_accuracy)

    report = quantize_run(out)  # one int8 model, every op a DS-CNN's
    assert abs(report.int8_accuracy - report.float_accuracy) <= 0.05
    assert report.agreement.top1_agreement >= 0.95 and "SOFTMAX" in report.ops
    # the native runtime finds the members' blocks in the int8 weights: its pointwise convolutions run
    # as two groups (each member's channels read only its own), the stem and classifier dense
    from tinyml.native.lower import lower
    from tinyml.tflite.model import load_model

    convs = [ly.conv for ly in lower(load_model(run.int8_model)) if ly.kind == "conv"]
    assert [c.groups for c in convs] == [1] + [2] * (len(convs) - 1) and len(convs) == 4
