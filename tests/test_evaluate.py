"""`tinyml evaluate` and `--eval-data`: real TensorFlow, the TFLM host interpreter, real folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tinyml.audio import features
from tinyml.audio.wav import read_wav, write_wav
from tinyml.cli.main import main
from tinyml.datasets.speech_commands import LABELS, load_eval_set
from tinyml.errors import DatasetError, ModelError
from tinyml.evaluate.service import evaluate, resolve
from tinyml.tflite.interpreters import TflmRunner, quantize_input
from tinyml.tflite.model import load_model
from tinyml.train.rundir import RunDir

pytestmark = pytest.mark.slow


def _reference_int8(tflite: Path, audio: np.ndarray) -> np.ndarray:
    model = load_model(tflite)
    q = model.input_tensors[0].quant
    x = quantize_input(features.pcm_features(audio), q.scale[0], q.zero_point[0])
    return np.argmax(TflmRunner(model.data).run(x), axis=1)


def test_evaluate_a_run_on_its_held_out_voices(trained_run: Path, synth_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports" / "synth"  # created: it need not exist
    report = evaluate(trained_run, synth_dataset, split="test", out=out)
    data = load_eval_set(synth_dataset, LABELS, "test")
    pred = _reference_int8(RunDir(trained_run).int8_model, data.audio)
    assert report.clips == len(data.labels) > 100
    assert report.int8_accuracy == pytest.approx(float(np.mean(pred == data.labels)))
    assert report.float_accuracy is not None and abs(report.float_accuracy - report.int8_accuracy) < 0.1
    kw = data.labels < 10
    assert report.keyword_accuracy == pytest.approx(float(np.mean(pred[kw] == data.labels[kw])))
    assert report.unknown_accuracy == pytest.approx(float(np.mean(pred[~kw] == data.labels[~kw])))
    assert sum(map(sum, report.confusion)) == report.clips
    assert sum(c.clips for c in report.per_class) == report.clips
    assert "held-out SYNTHETIC voices" in report.measured_on
    saved = json.loads((out / "eval-synth-test.json").read_text())
    assert saved["int8_accuracy"] == report.int8_accuracy
    assert "| keywords |" in (out / "eval-synth-test.md").read_text()


def test_a_folder_with_missing_classes_and_a_bare_model(trained_run: Path, synth_dataset: Path,
                                                         tmp_path: Path) -> None:
    """Only 'yes', 'stop' and two other words, like a user's own recordings; a .tflite outside its
    run folder falls back to the MLPerf Tiny labels."""
    folder = tmp_path / "my recordings"
    copied = 0
    for word in ("yes", "stop", "dawn", "marvin"):
        (folder / word).mkdir(parents=True)
        for src in sorted((synth_dataset / word).glob("*.wav"))[:5]:
            wav = read_wav(src)
            write_wav(folder / word / src.name, wav.samples, wav.rate)
            copied += 1
    (folder / "yes" / "broken_nohash_0.wav").write_bytes(b"RIFF....WAVEjunk")
    model = tmp_path / "kws.tflite"
    shutil.copy(RunDir(trained_run).int8_model, model)
    report = evaluate(model, folder)
    assert report.clips == copied and report.float_accuracy is None
    assert [c.label for c in report.per_class] == ["stop", "yes", "_unknown_"]
    assert report.measured_on == f"recordings in {folder}"
    data = load_eval_set(folder, LABELS)
    assert data.report.skipped and data.words.count("yes") == 5
    pred = _reference_int8(model, data.audio)
    assert report.int8_accuracy == pytest.approx(float(np.mean(pred == data.labels)))
    assert (tmp_path / "eval-my recordings.json").is_file()


def test_bad_evaluation_inputs_are_one_line_errors(trained_run: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "kws.tflite"
    shutil.copy(RunDir(trained_run).int8_model, model)
    with pytest.raises(ModelError, match="12 outputs but 3 labels"):
        resolve(model, "a,b,c")
    empty = tmp_path / "empty"
    (empty / "cat").mkdir(parents=True)
    with pytest.raises(DatasetError, match="no clips"):
        evaluate(trained_run, empty)
    assert main(["evaluate", str(tmp_path / "nothing"), "--data", str(empty)]) == 1
    assert "neither a run folder nor a .tflite" in capsys.readouterr().err
    assert main(["evaluate", str(trained_run), "--data", str(empty), "--split", "dev"]) == 1
    assert "unknown split 'dev'" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert main(["evaluate", str(trained_run), "--data", str(empty), "--out", str(tmp_path / "file")]) == 1
    assert "is a file; give a folder" in capsys.readouterr().err


def test_quantize_eval_data_lands_in_the_report(trained_run: Path, synth_dataset: Path, tmp_path: Path) -> None:
    from tinyml.quantize.service import quantize_run

    folder = tmp_path / "extra"
    shutil.copytree(synth_dataset / "no", folder / "no")
    shutil.copytree(synth_dataset / "dawn", folder / "dawn")
    report = quantize_run(trained_run, eval_data=(folder,))
    (entry,) = [e for e in report.evaluations if e["data"] == str(folder)]
    assert entry["clips"] == 80 + len(list((folder / "dawn").glob("*.wav")))
    saved = json.loads(RunDir(trained_run).report_json.read_text())
    assert [e["data"] for e in saved["evaluations"]].count(str(folder)) == 1
    assert f"recordings in {folder}" in RunDir(trained_run).report_md.read_text()
    assert "held-out SYNTHETIC voices" in saved["measured_on"]
