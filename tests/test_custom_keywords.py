"""Custom keywords end to end: typed phrases -> synthetic set -> trained DS-CNN -> int8 -> firmware
sources and reports that carry the phrases as labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tinyml.boards import get_board
from tinyml.cli.main import main
from tinyml.evaluate.service import evaluate
from tinyml.generate.project import generate
from tinyml.train.rundir import RunDir

pytestmark = pytest.mark.slow

PHRASES = "lights on,lights off,hey tiny"
LABELS = ["lights_on", "lights_off", "hey_tiny", "_silence_", "_unknown_"]


def test_custom_phrases_flow_from_synthesis_to_firmware(tmp_path: Path) -> None:
    data, run = tmp_path / "custom", tmp_path / "run"
    assert main(["data", "synth-kws", str(data), "--words", PHRASES, "--per-word", "150", "--unknown-per-word", "2",
                 "--seed", "2"]) == 0
    assert main(["train", "kws", "--data", str(data), "--out", str(run), "--model", "dscnn-s", "--epochs", "12",
                 "--augmentation", "real-voices",
                 "--batch-size", "32"]) == 0
    config = json.loads(RunDir(run).config.read_text())
    assert config["labels"] == LABELS and config["model_spec"]["n_classes"] == 5
    assert main(["quantize", str(run), "--eval-data", str(data / "hey_tiny")]) == 1  # not a dataset root: no words
    assert main(["quantize", str(run)]) == 0
    report = json.loads(RunDir(run).report_json.read_text())
    assert report["labels"] == LABELS and len(report["confusion"]) == 5
    assert report["int8_accuracy"] > 0.4, report  # 5 classes: chance is 0.2

    held_out = evaluate(run, data, split="test")
    assert [c.label for c in held_out.per_class][:3] == LABELS[:3]
    assert held_out.keyword_accuracy is not None and held_out.keyword_accuracy > 0.4

    project = generate(RunDir(run).int8_model, get_board("qemu"), tmp_path / "fw", runtime="native", name="kws")
    header = (project.path / "src" / "tinyml_model_config.h").read_text()
    assert '{ "lights_on", "lights_off", "hey_tiny", "_silence_", "_unknown_" }' in header
    assert "#define TM_NUM_LABELS 5" in header
