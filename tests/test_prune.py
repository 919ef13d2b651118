"""Structured pruning (`tinyml prune`): channels ranked by importance, the smaller DS-CNN given the
larger one's weights exactly, the fraction chosen by the board's fit rule, fine-tuned as a new
run that quantizes like any other."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tinyml import tfimport
from tinyml.boards import get_board, write_variant
from tinyml.cli.main import main
from tinyml.generate.frontend import build_front_end
from tinyml.models.dscnn import build_dscnn
from tinyml.prune.channels import importance, kept_channels, transplant, widths_for
from tinyml.quantize.service import quantize_run
from tinyml.tflite.analyze import analyze
from tinyml.tflite.model import load_model

SHAPE = (49, 10, 1)


def _random_bn(model: object, rng: np.random.Generator) -> None:
    for layer in model.layers:  # type: ignore[attr-defined]
        if type(layer).__name__ == "BatchNormalization":
            n = layer.get_weights()[0].size
            layer.set_weights([rng.uniform(0.5, 1.5, n), rng.normal(0, 0.1, n), rng.normal(0, 0.1, n),
                               rng.uniform(0.5, 2.0, n)])


def test_dead_channels_are_ranked_last_and_pruning_them_changes_nothing() -> None:
    """Channels that contribute nothing (zero filter, zero scale, negative shift, unread by the
    next layer) rank lowest; the pruned network computes the same function."""
    keras = tfimport.keras()
    rng = np.random.default_rng(0)
    model = build_dscnn("dscnn-s", SHAPE, 12, keras)
    _random_bn(model, rng)
    weighted = [layer for layer in model.layers if layer.get_weights()]
    x = (rng.normal(0, 1, (64, *SHAPE)) * rng.uniform(0.2, 5, (64, 1, 1, 1))
         + rng.normal(0, 3, (64, 1, 1, 1))).astype(np.float32)
    convs = [i for i, layer in enumerate(weighted) if type(layer).__name__ == "Conv2D"]
    dead = [np.sort(rng.choice(32, 8, replace=False)) for _ in convs]
    for group, i in enumerate(convs):
        conv, bn = weighted[i], weighted[i + 1]
        kernel, bias = conv.get_weights()
        kernel[..., dead[group]] = 0
        bias[dead[group]] = 0
        conv.set_weights([kernel, bias])
        gamma, beta, mean, var = bn.get_weights()
        gamma[dead[group]], beta[dead[group]] = 0, -1  # relu(-1) = 0: the channel is silent
        bn.set_weights([gamma, beta, mean, var])
        reader = weighted[convs[group + 1]] if group + 1 < len(convs) else weighted[-1]  # next conv, or the dense
        w = reader.get_weights()
        if type(reader).__name__ == "Dense":
            w[0][dead[group], :] = 0
        else:
            w[0][:, :, dead[group], :] = 0
        reader.set_weights(w)
    # the classifier calibrated to the pooled features: outputs that differ between inputs
    pooled = keras.Model(model.input, model.layers[-2].output).predict(x, verbose=0)
    kernel = weighted[-1].get_weights()[0]
    live = np.ones(kernel.shape[0], bool)
    live[dead[-1]] = False
    kernel = np.where(live[:, None], rng.normal(0, 1, kernel.shape) / (pooled.std(0)[:, None] + 1e-6), 0)
    weighted[-1].set_weights([kernel, -(pooled.mean(0) @ kernel)])
    scores = importance(model)
    widths = widths_for(scores, 0.75)
    assert widths == (24, 24, 24, 24)
    keep = kept_channels(scores, widths)
    for group in range(len(convs)):
        assert not set(keep[group]) & set(dead[group].tolist())
    pruned = build_dscnn("dscnn-s", SHAPE, 12, keras, widths)
    transplant(model, pruned, keep)
    a, b = model.predict(x, verbose=0), pruned.predict(x, verbose=0)
    assert len({int(i) for i in a.argmax(1)}) > 3  # a function of the input worth comparing
    # float32 sums in another order through a sharp classifier: equal to 1e-3, same decisions
    assert np.abs(a - b).max() < 1e-3 and (a.argmax(1) == b.argmax(1)).all()
    assert pruned.count_params() < model.count_params()


def _board(tmp_path: Path, sram_kb: int) -> object:
    return write_variant(get_board("qemu"), "tight", tmp_path / "boards", sram_kb=sram_kb)


def test_prune_chooses_the_largest_fraction_that_fits_and_fine_tunes(trained_run: Path, tmp_path: Path) -> None:
    from tinyml.prune.service import prune_run

    with pytest.raises(Exception, match="already fits"):
        prune_run(trained_run, get_board("qemu"), tmp_path / "nothing", epochs=1)
    assert not (tmp_path / "nothing").exists()
    int8 = load_model(trained_run / "model_int8.tflite")
    need = analyze(int8, get_board("qemu"), front_end=build_front_end(int8.input_tensors[0]).need).fit
    assert need is not None
    board = _board(tmp_path, (need.sram_needed - 1) // 1024)  # just under the SRAM the model needs
    report = prune_run(trained_run, board, tmp_path / "pruned", epochs=1)  # type: ignore[arg-type]
    assert report.before.sram_bytes > board.sram_bytes >= report.pruned.sram_bytes  # type: ignore[attr-defined]
    assert 0.25 <= report.keep < 1.0 and report.pruned.macs < report.before.macs
    assert report.pruned.widths == tuple(round(64 * report.keep) for _ in range(5))
    assert report.keep == max(k for k in (0.875, 0.75, 0.625, 0.5) if k <= report.keep)  # a step, the largest
    assert report.before.sram_bytes == need.sram_needed
    config = json.loads((tmp_path / "pruned" / "run.json").read_text())
    assert config["model_spec"]["widths"] == list(report.pruned.widths)
    assert config["pruned_from"]["keep"] == report.keep and config["pruned_from"]["board"] == "tight"
    assert 0.0 < report.after_accuracy <= 1.0
    quantize_run(tmp_path / "pruned")  # quantizes like any run
    pruned = load_model(tmp_path / "pruned" / "model_int8.tflite")
    assert tuple(pruned.input_tensors[0].shape) == (1, *SHAPE)


def test_prune_cli_with_a_fraction_and_its_refusals(trained_run: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prune", str(trained_run), "--keep", "1.5", "--out", str(tmp_path / "x")]) == 1
    assert "must be a fraction" in capsys.readouterr().err
    assert main(["prune", str(tmp_path), "--out", str(tmp_path / "y")]) == 1  # not a run
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert main(["prune", str(trained_run), "--keep", "0.5", "--epochs", "1", "--out", str(tmp_path / "half")]) == 0
    captured = capsys.readouterr()
    out = " ".join((captured.out + captured.err).split())
    assert "(64, 64, 64, 64, 64) -> (32, 32, 32, 32, 32)" in out and "after 1 fine-tuning epochs" in out, out
