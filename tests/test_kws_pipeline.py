"""Real TensorFlow: train a DS-CNN on synthetic speech, quantize to int8, run it under TFLM."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tinyml.datasets.speech_commands import LABELS, load_kws
from tinyml.tflite.interpreters import LiteRtRunner, TflmRunner, quantize_input
from tinyml.tflite.model import load_model
from tinyml.train.kws import eval_features
from tinyml.train.rundir import RunDir

from .conftest import FIXTURE_EPOCHS

pytestmark = pytest.mark.slow


def test_trained_model_beats_chance_on_held_out_voices(trained_run: Path) -> None:
    metrics = json.loads(RunDir(trained_run).metrics.read_text())
    assert metrics["inference_mode"] is True
    chance = 1 / len(LABELS)
    assert metrics["test_accuracy"] > 3 * chance, metrics
    assert len(metrics["history"]) == FIXTURE_EPOCHS
    augmentation = RunDir(trained_run).read_config()["augmentation"]  # what "basic" meant when it trained
    assert augmentation["spec_augment"]["time_masks"] == 0 and augmentation["spec_augment"]["freq_masks"] == 2


def test_int8_model_types_and_quantization(trained_run: Path) -> None:
    model = load_model(RunDir(trained_run).int8_model)
    (inp,), (out,) = model.input_tensors, model.output_tensors
    assert (inp.dtype, out.dtype) == ("INT8", "INT8")
    assert inp.shape == (1, 49, 10, 1) and out.shape == (1, 12)
    assert inp.quant.scale[0] > 0 and -128 <= inp.quant.zero_point[0] <= 127
    # softmax output: TFLite fixes scale 1/256 and zero point -128
    assert out.quant.scale[0] == pytest.approx(1 / 256) and out.quant.zero_point[0] == -128
    assert model.op_names == ["CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "FULLY_CONNECTED", "SOFTMAX"]


def test_report_is_honest(trained_run: Path) -> None:
    run = RunDir(trained_run)
    report = json.loads(run.report_json.read_text())
    assert report["mode"] == "ptq" and report["split"] == "test"
    assert report["int8_accuracy"] > 3 / len(LABELS)
    assert abs(report["int8_accuracy"] - report["float_accuracy"]) < 0.1
    assert sum(map(sum, report["confusion"])) == report["samples"]
    assert report["agreement"]["top1_agreement"] > 0.95
    assert report["arena_bytes"] > 10_000 and report["model_bytes"] == run.int8_model.stat().st_size
    md = run.report_md.read_text()
    assert "TFLite Micro host interpreter" in md and f"{report['int8_accuracy']:.4f}" in md


def test_tflm_host_execution_matches_the_report(trained_run: Path) -> None:
    """Re-run the test split through TFLM and LiteRT: accuracy equals the report's, and the
    two interpreters agree on (almost) every output."""
    run = RunDir(trained_run)
    cfg = json.loads(run.config.read_text())["train"]
    test = load_kws(Path(cfg["data"]), seed=cfg["seed"], silence_pct=cfg["silence_pct"],
                    unknown_pct=cfg["unknown_pct"]).splits["test"]
    model = load_model(run.int8_model)
    q = model.input_tensors[0].quant
    xq = quantize_input(eval_features(test), q.scale[0], q.zero_point[0])
    tflm = TflmRunner(model.data).run(xq)
    assert tflm.dtype == np.int8 and tflm.shape == (len(test.labels), 12)
    report = json.loads(run.report_json.read_text())
    assert np.mean(np.argmax(tflm, axis=1) == test.labels) == pytest.approx(report["int8_accuracy"])
    litert = LiteRtRunner(model.data).run(xq)
    assert np.max(np.abs(tflm.astype(int) - litert.astype(int))) <= 4  # FC rounding differs by design


def test_quantize_is_cached_until_the_model_changes(trained_run: Path) -> None:
    from tinyml.quantize.service import quantize_run

    before = RunDir(trained_run).int8_model.stat().st_mtime_ns
    quantize_run(trained_run)
    assert RunDir(trained_run).int8_model.stat().st_mtime_ns == before
