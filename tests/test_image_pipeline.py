"""Real TensorFlow: search a network for the emulated board, train it on synthetic images,
quantize it, and measure it against the board's budgets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tinyml.boards import get_board
from tinyml.cli.main import main
from tinyml.datasets.synth_images import SynthImageConfig, synthesize_images
from tinyml.mcunet.memory import estimate
from tinyml.models.mcunet import Arch
from tinyml.quantize.service import quantize_run
from tinyml.tflite.analyze import analyze
from tinyml.tflite.model import load_model
from tinyml.train.image import ImageTrainConfig, train_image
from tinyml.train.rundir import RunDir

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def image_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = synthesize_images(tmp_path_factory.mktemp("img") / "set", SynthImageConfig(4, 200, 48, seed=0))
    out = tmp_path_factory.mktemp("runs") / "image"
    cfg = ImageTrainConfig(data=str(data), board="qemu-stm32f405", epochs=20, batch_size=16, learning_rate=5e-3,
                           samples=20, population=12, generations=3, resolutions=(48,), widths=(0.25,))
    train_image(cfg, out)
    quantize_run(out)
    return out


def test_trained_image_model_beats_chance(image_run: Path) -> None:
    metrics = json.loads(RunDir(image_run).metrics.read_text())
    assert metrics["test_accuracy"] > 0.4  # chance is 0.25


def test_arch_json_rebuilds_the_model(image_run: Path) -> None:
    import keras

    from tinyml.models.mcunet import build_mcunet

    arch = Arch.from_json(json.loads((image_run / "arch.json").read_text()))
    trained = keras.models.load_model(RunDir(image_run).model)
    assert build_mcunet(arch, keras).count_params() == trained.count_params()
    search = json.loads((image_run / "search.json").read_text())
    assert search["best"]["arch"] == arch.to_json()


def test_int8_model_measured_fits_the_emulated_board(image_run: Path) -> None:
    board = get_board("qemu-stm32f405")
    run = RunDir(image_run)
    result = analyze(load_model(run.int8_model), board)
    assert result.fit is not None and result.fit.fits, result.fit.describe()
    arch = Arch.from_json(json.loads((image_run / "arch.json").read_text()))
    est = estimate(arch)
    assert abs(est.arena_bytes - result.arena_bytes) / result.arena_bytes < 0.10
    report = json.loads(run.report_json.read_text())
    assert report["int8_accuracy"] > 0.4 and report["agreement"]["top1_agreement"] > 0.95


def test_vww_alias_trains_on_a_two_class_folder(tmp_path: Path) -> None:
    data = synthesize_images(tmp_path / "vww", SynthImageConfig(2, 10, 32, seed=1))
    code = main(["train", "vww", "--data", str(data), "--out", str(tmp_path / "run"), "--epochs", "1",
                 "--samples", "5", "--generations", "1", "--resolution", "48", "--width", "0.25"])
    assert code == 0
    config = json.loads(RunDir(tmp_path / "run").config.read_text())
    assert config["task"] == "vww" and len(config["labels"]) == 2 and config["model_spec"]["kind"] == "mcunet"


def test_model_spec_builds_with_keras_2_for_qat(image_run: Path) -> None:
    tf_keras = pytest.importorskip("tf_keras")
    import keras

    from tinyml.models.registry import build_from_spec

    spec = json.loads(RunDir(image_run).config.read_text())["model_spec"]
    assert build_from_spec(spec, tf_keras).count_params() == build_from_spec(spec, keras).count_params()
