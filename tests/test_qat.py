"""Quantization-aware training through tensorflow-model-optimization (Keras 2 in a child process)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tinyml.quantize.qat import qat_available
from tinyml.quantize.service import quantize_run
from tinyml.tflite.model import load_model, require_full_int8
from tinyml.train.rundir import RunDir

pytestmark = pytest.mark.slow


@pytest.mark.skipif(not qat_available(), reason="tf-keras / tensorflow-model-optimization not installed")
def test_qat_produces_a_full_int8_model(trained_run: Path, tmp_path: Path) -> None:
    run = RunDir(tmp_path / "qat")
    shutil.copytree(trained_run, run.path)
    ptq = json.loads(run.report_json.read_text())
    report = quantize_run(run.path, qat=True, qat_epochs=1)
    assert report.mode == "qat"
    model = load_model(run.int8_model)
    require_full_int8(model)
    assert json.loads(run.report_json.read_text())["mode"] == "qat"
    assert report.int8_accuracy > ptq["int8_accuracy"] - 0.1
    assert report.agreement.top1_agreement > 0.95
