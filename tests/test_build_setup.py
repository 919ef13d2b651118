"""Offline build prerequisites: the seeded tool-scons package, and clear errors when the TFLM
sources are missing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tinyml.build import tflm
from tinyml.build.pio import seed_scons
from tinyml.errors import ToolMissingError


def test_seeded_scons_runs(tmp_path: Path) -> None:
    target = seed_scons(tmp_path / "core")
    piopm = json.loads((target / ".piopm").read_text())
    assert piopm["spec"]["owner"] == "platformio" and piopm["version"] == json.loads(
        (target / "package.json").read_text())["version"]
    proc = subprocess.run([sys.executable, str(target / "scons.py"), "--version"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and "SCons" in proc.stdout
    assert seed_scons(tmp_path / "core") == target  # idempotent


def test_export_without_sources_says_what_to_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINYML_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("TINYML_TFLM_DIR", raising=False)
    with pytest.raises(ToolMissingError, match="set TINYML_TFLM_DIR to a tflite-micro checkout"):
        tflm.export_tflm()
    monkeypatch.setenv("TINYML_TFLM_DIR", str(tmp_path))
    with pytest.raises(ToolMissingError, match="is not a tflite-micro checkout"):
        tflm.export_tflm()
    script = tmp_path / "tensorflow/lite/micro/tools/project_generation/create_tflm_tree.py"
    script.parent.mkdir(parents=True)
    script.write_text("")
    (tmp_path / tflm.DOWNLOADS / "flatbuffers").mkdir(parents=True)
    with pytest.raises(ToolMissingError, match="lacks gemmlowp, ruy, cmsis_nn, cmsis, kissfft"):
        tflm.export_tflm()


def test_building_tflm_firmware_without_sources_says_how_to_get_them(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from tinyml.boards import get_board
    from tinyml.generate.project import generate
    from tinyml.platform import build_project as build

    monkeypatch.setenv("TINYML_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("TINYML_TFLM_DIR", raising=False)
    tiny = Path(__file__).parent / "data" / "tiny_kws_int8.tflite"
    project = generate(tiny, get_board("qemu"), tmp_path / "fw", runtime="tflm", name="tiny")
    with pytest.raises(ToolMissingError, match=r"TINYML_TFLM_DIR.*or use --runtime native, which needs no TFLM"):
        build(project.path)


def test_a_failing_build_is_one_line_with_the_log_path(tmp_path: Path) -> None:
    from tinyml.boards import get_board
    from tinyml.build.firmware import BuildError
    from tinyml.generate.project import generate
    from tinyml.platform import build_project as build

    tiny = Path(__file__).parent / "data" / "tiny_kws_int8.tflite"
    project = generate(tiny, get_board("qemu"), tmp_path / "fw", runtime="echo", name="tiny")
    (project.path / "src" / "broken.c").write_text("int broken(void) { return undeclared_symbol; }\n")
    with pytest.raises(BuildError, match=r"build failed: .*undeclared_symbol.*; full log: .*tinyml-build.log"):
        build(project.path)
    assert (project.path / ".pio" / "tinyml-build.log").stat().st_size > 0
