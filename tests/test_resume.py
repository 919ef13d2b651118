"""Training killed mid-run resumes from its last checkpoint (a real SIGKILL)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tinyml.errors import RunDirError
from tinyml.train.kws import TrainConfig, train_kws
from tinyml.train.rundir import RunDir

pytestmark = pytest.mark.slow
FIRST_EPOCH_DEADLINE_S = 300.0


def test_killed_run_resumes(synth_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    run = RunDir(out)
    proc = subprocess.Popen([sys.executable, "-m", "tinyml", "train", "kws", "--data", str(synth_dataset),
                             "--out", str(out), "--epochs", "50", "--model", "dscnn-s"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + FIRST_EPOCH_DEADLINE_S
    try:
        while run.read_state()["epochs_done"] < 1 if run.path.exists() else True:
            assert proc.poll() is None, "training exited before its first checkpoint"
            assert time.monotonic() < deadline, "no checkpoint within the deadline"
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    done = run.read_state()["epochs_done"]
    assert 1 <= done < 50 and run.checkpoint.is_file() and not run.model.exists()

    result = train_kws(TrainConfig(data=str(synth_dataset), model="dscnn-s", epochs=done + 1), out)
    assert result.resumed_from == done
    history = run.read_state()["history"]
    assert [h["epoch"] for h in history] == list(range(1, done + 2))
    assert run.model.is_file() and json.loads(run.metrics.read_text())["epochs"] == done + 1

    again = train_kws(TrainConfig(data=str(synth_dataset), model="dscnn-s", epochs=done + 1), out)
    assert again.resumed_from == done + 1  # finished: nothing retrained

    with pytest.raises(RunDirError, match="other settings \\(model\\)"):
        train_kws(TrainConfig(data=str(synth_dataset), model="dscnn", epochs=done + 1), out)


def test_a_run_recorded_before_a_setting_existed_resumes_with_its_default(tmp_path: Path) -> None:
    """run.json written by an older tinyml lacks settings added since: they count as their defaults
    (what that tinyml did), and asking for anything else is still refused."""
    from dataclasses import asdict

    from tinyml.train.loop import prepare_run
    from tinyml.train.rundir import write_json

    cfg = TrainConfig(data=str(tmp_path / "data"), epochs=5)
    defaults = TrainConfig(data=cfg.data).identity()
    run = RunDir(tmp_path / "run")
    run.path.mkdir()
    old = {k: v for k, v in asdict(cfg).items() if k not in ("init_model", "widths", "teacher")}
    write_json(run.config, {"task": "kws", "train": old})
    write_json(run.state, {"epochs_done": 2, "history": []})
    run.checkpoint.write_bytes(b"checkpoint")
    assert prepare_run(run, cfg.identity(), {}, defaults) == 2
    with pytest.raises(RunDirError, match=r"other settings \(teacher\)"):
        prepare_run(run, TrainConfig(data=cfg.data, epochs=5, teacher="/runs/big").identity(), {}, defaults)
    with pytest.raises(RunDirError, match=r"other settings \(teacher, widths, init_model\)"):
        prepare_run(run, cfg.identity(), {})  # without the defaults, a missing setting is a difference


def test_a_run_from_before_the_recipe_was_recorded_is_not_resumed(tmp_path: Path) -> None:
    """A run whose run.json lacks what its augmentation name meant (an older tinyml: the default then
    masked frames too) or the fingerprint of its clips was made otherwise: refused, or trained anew
    where tinyml owns the folder."""
    from dataclasses import asdict

    from tinyml.train.kws import AUGMENTATIONS, RECIPE
    from tinyml.train.loop import prepare_run
    from tinyml.train.rundir import write_json

    cfg = TrainConfig(data=str(tmp_path / "data"), epochs=5)
    config = {"task": "kws", "train": asdict(cfg), "augmentation": asdict(AUGMENTATIONS["basic"]),
              "data_fingerprint": "0123456789abcdef"}
    run = RunDir(tmp_path / "run")
    run.path.mkdir()
    write_json(run.config, {"task": "kws", "train": asdict(cfg)})
    write_json(run.state, {"epochs_done": 2, "history": []})
    run.checkpoint.write_bytes(b"checkpoint")
    with pytest.raises(RunDirError, match=r"other settings \(augmentation, data_fingerprint\)"):
        prepare_run(run, cfg.identity(), config, None, RECIPE)
    assert run.checkpoint.is_file()  # refused: nothing touched

    assert prepare_run(run, cfg.identity(), config, None, RECIPE, retrain_if_changed=True) == 0
    assert not run.checkpoint.exists() and run.read_config() == json.loads(json.dumps(config))
    assert prepare_run(run, cfg.identity(), config, None, RECIPE) == 0  # now it is this run


def test_a_run_on_other_clips_is_refused_or_trained_anew(synth_dataset: Path, tmp_path: Path) -> None:
    """The same --data path holding other clips (a dataset rebuilt or edited in place) is another
    training: a finished run there is not reused as if it had been trained on them."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(synth_dataset, data)
    out = tmp_path / "run"
    cfg = TrainConfig(data=str(data), model="dscnn-s", epochs=1)
    train_kws(cfg, out)
    assert train_kws(cfg, out).resumed_from == 1  # unchanged: reused
    next((data / "yes").glob("*.wav")).unlink()
    with pytest.raises(RunDirError, match=r"other settings \(data_fingerprint\)"):
        train_kws(cfg, out)
    assert RunDir(out).model.is_file()  # refused: the finished run is kept
    assert train_kws(cfg, out, retrain_if_changed=True).resumed_from == 0
    assert train_kws(cfg, out).resumed_from == 1


def test_an_image_run_on_other_images_is_refused_or_searched_anew(tmp_path: Path) -> None:
    """The same for `tinyml train image`: a folder with an image replaced is another training, and a
    run from before the images' fingerprint was recorded was made otherwise."""
    from tinyml.datasets.synth_images import SynthImageConfig, synthesize_images
    from tinyml.train.image import ImageTrainConfig, train_image

    data = synthesize_images(tmp_path / "set", SynthImageConfig(2, 12, 32, seed=0))
    out = tmp_path / "run"
    cfg = ImageTrainConfig(data=str(data), board="qemu-stm32f405", epochs=1, samples=4, population=4,
                           generations=1, resolutions=(48,), widths=(0.25,))
    train_image(cfg, out)
    assert train_image(cfg, out).resumed_from == 1  # unchanged: reused
    image = sorted(p for p in data.rglob("*.png"))[0]
    image.write_bytes(sorted(data.rglob("*.png"))[-1].read_bytes())  # another picture under the same name
    with pytest.raises(RunDirError, match=r"other settings \(data_fingerprint\)"):
        train_image(cfg, out)
    assert RunDir(out).model.is_file()  # refused: the finished run is kept
    assert train_image(cfg, out, retrain_if_changed=True).resumed_from == 0
    config = json.loads(RunDir(out).config.read_text())
    del config["data_fingerprint"]  # as a run made before the fingerprint was recorded
    RunDir(out).config.write_text(json.dumps(config))
    with pytest.raises(RunDirError, match=r"other settings \(data_fingerprint\)"):
        train_image(cfg, out)
