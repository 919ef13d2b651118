from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tinyml import __version__
from tinyml.cli.main import main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_user_error_is_one_red_line_and_nonzero(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "tinyml", "train", "kws", "--data", str(tmp_path / "none"),
                           "--out", str(tmp_path / "run")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "synth-kws" in lines[0]



def test_importing_tensorflow_prints_nothing() -> None:
    """TensorFlow's start-up info lines (oneDNN on AVX-512 CPUs, logged before absl is initialized and
    deaf to TF_CPP_MIN_LOG_LEVEL) must not reach the user: an error after a TF stage is still one line."""
    code = "from tinyml import tfimport; tfimport.keras(); import sys; sys.stderr.write('done')"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert proc.returncode == 0 and proc.stderr == "done"

def test_unknown_board_and_bad_usage(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    model = tmp_path / "m.tflite"
    model.write_bytes(b"x" * 16)
    assert main(["analyze", str(model), "--board", "esp33"]) == 1
    assert "unknown board 'esp33'" in capsys.readouterr().err
    assert main(["train", "kws", "--epochs", "0"]) == 2


def test_quantize_needs_a_training_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["quantize", str(tmp_path)]) == 1
    assert "not a tinyml training run" in capsys.readouterr().err


def test_train_refuses_a_foreign_output_folder(tiny_layout: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "busy"
    out.mkdir()
    (out / "thesis.tex").write_text("do not lose me")
    assert main(["train", "kws", "--data", str(tiny_layout), "--out", str(out), "--epochs", "1"]) == 1
    assert "not empty and is not a tinyml run" in capsys.readouterr().err
    assert (out / "thesis.tex").read_text() == "do not lose me"


def test_bad_hyperparameters_are_refused_before_anything(tiny_layout: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["train", "kws", "--data", str(tiny_layout), "--out", str(tmp_path / "r"), "--learning-rate", "-1"]
    assert main(argv) == 1
    assert "learning rate -1.0 must be a positive number" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_run_records_an_absolute_dataset_path(tiny_layout: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative --data works from another folder later (quantize RUN, validate --run)."""
    import json

    monkeypatch.chdir(tiny_layout.parent)
    assert main(["train", "kws", "--data", tiny_layout.name, "--out", str(tmp_path / "r"), "--epochs", "1"]) == 0
    data = json.loads((tmp_path / "r" / "run.json").read_text())["train"]["data"]
    assert Path(data).is_absolute() and Path(data) == tiny_layout.resolve()


def test_unwritable_output_folders_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """/sys refuses new folders even to root: a stand-in for read-only and not-permitted folders."""
    tiny = Path(__file__).parent / "data" / "tiny_kws_int8.tflite"
    for argv in (["generate", str(tiny), "--out", "/sys/tinyml-test/p"],
                 ["data", "synth-kws", "/sys/tinyml-test/ds", "--per-word", "1"]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert "error: cannot write" in err and "/sys/tinyml-test" in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1


def test_training_refuses_keyword_classes_without_clips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tinyml.audio.wav import write_wav

    from .conftest import tone

    root = tmp_path / "sc"
    for word in ("yes", "cat"):
        (root / word).mkdir(parents=True)
        write_wav(root / word / "aaa_nohash_0.wav", tone(300), 16000)
    assert main(["train", "kws", "--data", str(root), "--out", str(tmp_path / "r1")]) == 1
    err = capsys.readouterr().err
    assert "no clips for keyword(s) down, go, left" in err and "--keywords yes" in err
    assert not (tmp_path / "r1").exists()
    (root / "cat" / "aaa_nohash_0.wav").unlink()
    (root / "cat").rmdir()
    assert main(["train", "kws", "--data", str(root), "--keywords", "yes", "--out", str(tmp_path / "r2")]) == 1
    assert "one keyword (yes) and no other words" in capsys.readouterr().err


@pytest.mark.parametrize("option", [["--epochs", "0"], ["--epochs", "-1"], ["--runs", "0"], ["--per-word", "0"],
                                    ["--samples", "0"]])
def test_deploy_options_are_range_checked(option: list[str], tmp_path: Path) -> None:
    assert main(["deploy", "kws", "--work", str(tmp_path / "w"), *option]) == 2  # usage error, nothing ran
    assert not (tmp_path / "w").exists()


def test_accurate_is_refused_for_images(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy", "image", "--accurate", "--work", str(tmp_path / "w")]) == 1
    assert "--accurate is the keyword-spotting recipe (deploy kws)" in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "w" / "image" / "synth-images").exists()
