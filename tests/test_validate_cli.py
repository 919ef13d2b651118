"""`tinyml validate` never reports success falsely: another model than the project's is refused
before anything runs, and any output that differs from the host reference makes it exit non-zero."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tinyml.boards import get_board
from tinyml.cli.main import main
from tinyml.generate.project import generate
from tinyml.platform import build_project

from .test_model_errors import convert

TINY = Path(__file__).parent / "data" / "tiny_kws_int8.tflite"

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
                                reason="needs the Arm toolchain and QEMU")


def test_validate_refuses_another_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = generate(TINY, get_board("qemu"), tmp_path / "fw", runtime="native", name="tiny")
    build_project(project.path)
    other = tmp_path / "other.tflite"
    other.write_bytes(convert("int8"))
    assert main(["validate", str(project.path), "--model", str(other), "--samples", "3"]) == 1
    err = capsys.readouterr().err
    assert "is not the model" in err and "tinyml generate" in err
    assert not (project.path / "report" / "validate.json").exists()  # refused before running
    assert main(["validate", str(project.path), "--model", str(TINY), "--samples", "3"]) == 0


def test_validate_exits_non_zero_when_outputs_differ(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The echo runtime answers every input with the same bytes, not the model's outputs."""
    project = generate(TINY, get_board("qemu"), tmp_path / "fw", runtime="echo", name="tiny")
    build_project(project.path)
    assert main(["validate", str(project.path), "--model", str(TINY), "--samples", "4"]) == 1
    assert "outputs differ from the TFLM host interpreter" in capsys.readouterr().err
    report = json.loads((project.path / "report" / "validate.json").read_text())
    assert report["samples"] == 4 and report["bit_exact"] < 4  # the report is still written


def test_bench_refuses_firmware_older_than_its_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = generate(TINY, get_board("qemu"), tmp_path / "fw", runtime="native", name="tiny")
    build_project(project.path)
    generate(TINY, get_board("qemu"), tmp_path / "fw", runtime="native", name="tiny")  # unchanged: still fresh
    assert main(["bench", str(project.path), "--runs", "1", "--out", str(tmp_path / "r1")]) == 0
    other = tmp_path / "other.tflite"
    other.write_bytes(convert("int8"))
    generate(other, get_board("qemu"), tmp_path / "fw", runtime="native", name="tiny")  # new sources, old ELF
    assert main(["bench", str(project.path), "--runs", "1", "--out", str(tmp_path / "r2")]) == 1
    assert "was built before the project's sources changed" in capsys.readouterr().err
    assert not (tmp_path / "r2").exists()


def test_validate_run_must_have_produced_the_model(tmp_path: Path, trained_run: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    project = generate(TINY, get_board("qemu"), tmp_path / "fw", runtime="native", name="tiny")
    build_project(project.path)
    assert main(["validate", str(project.path), "--model", str(TINY), "--run", str(trained_run)]) == 1
    assert "is not the int8 model of run" in capsys.readouterr().err


def test_bench_into_an_unwritable_folder_still_shows_the_result(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    project = generate(TINY, get_board("qemu"), tmp_path / "fw", runtime="native", name="tiny")
    build_project(project.path)
    assert main(["bench", str(project.path), "--runs", "2", "--out", "/sys/tinyml-report"]) == 1
    captured = capsys.readouterr()
    assert "latency median" in captured.out + captured.err and "error: cannot write" in captured.err
