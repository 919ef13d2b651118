"""Boards that listen: a KWS firmware for a board with a microphone starts listening at boot,
stops when the host speaks, and `tinyml listen` (no --wav) starts it again. The board's driver
(PDM on the Nano 33 BLE Sense, I2S on the ESP32-S3-EYE) builds on a user's machine; here the host
build's file microphone stands in for it, and what the firmware hears through it must equal the
Python reference of the whole streaming pipeline — the path from microphone to detection is the
same code as `tinyml stream`'s. Boards without a microphone say so."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tinyml.boards import get_board
from tinyml.cli.main import main
from tinyml.device import protocol as p
from tinyml.device.session import Session
from tinyml.generate.project import generate
from tinyml.measure.listen import listen_microphone
from tinyml.platform import build_project
from tinyml.train.rundir import RunDir

from .stream_support import PipeTarget, build_host_firmware, reference_detections
from .test_stream import DETECT, TINY, _labels, heard_track

MIC_BOARDS = {"nano33ble_sense": "tinyml_mic_pdm_arduino.cpp", "esp32-s3-eye": "tinyml_mic_i2s_esp_idf.c"}


@pytest.fixture(scope="module")
def mic_firmware(trained_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mic") / "project"
    generate(RunDir(trained_run).int8_model, get_board("nano33ble_sense"), out, runtime="native", name="kws",
             detect=DETECT)
    return build_host_firmware(out, out.parent / "firmware_mic")


@pytest.fixture(scope="module")
def recording(synth_dataset: Path, trained_run: Path, tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[Path, np.ndarray]:
    pcm, _ = heard_track(synth_dataset, trained_run, 30, seed=5)
    path = tmp_path_factory.mktemp("mic") / "room.pcm"
    path.write_bytes(pcm.astype("<i2").tobytes())
    return path, pcm


def _heard_until_the_end(target: PipeTarget) -> list[tuple[str, int]]:
    heard: list[tuple[str, int]] = []
    while (line := target.readline(60.0)) is not None:
        event = p.parse_line(line)
        if isinstance(event, p.MicEnd):
            return heard
        assert not isinstance(event, p.DeviceError | p.MicDropped), line
        if isinstance(event, p.Heard):
            heard.append((event.label, event.ms))
    raise AssertionError(f"the microphone never ended; heard {heard}")


def test_a_board_listens_from_boot_and_hears_what_the_reference_hears(
        mic_firmware: Path, recording: tuple[Path, np.ndarray], trained_run: Path) -> None:
    expected = [(label, ms) for label, ms in reference_detections(
        recording[1], RunDir(trained_run).int8_model, _labels(trained_run), DETECT)]
    assert len(expected) >= 3 and len({label for label, _ in expected}) >= 2  # a track that tells things apart
    with PipeTarget(mic_firmware, {"TINYML_MIC_PCM": str(recording[0])}) as target:
        session = Session(target)
        session.wait_ready()
        first = p.parse_line(target.readline(10.0) or "")
        assert isinstance(first, p.Listening) and first.rate == 16000  # at boot, no command needed
        assert _heard_until_the_end(target) == expected
        # the host speaks: listening stops, the protocol answers
        assert session.info().audio_bytes == 32000
        # `tinyml listen` starts the microphone again (the file from its start), detections as before
        result = listen_microphone(session, 120.0)
        assert [(h.label, h.ms) for h in result.heard] == expected and result.dropped == 0
        assert [(h.label, h.ms) for h in listen_microphone(session, 120.0, max_heard=2).heard] == expected[:2]
        assert session.info().runtime == "native"


def test_without_a_microphone_file_the_start_failure_is_reported(mic_firmware: Path) -> None:
    with PipeTarget(mic_firmware, {}) as target:
        session = Session(target)
        session.wait_ready()
        with pytest.raises(Exception, match="the microphone did not start"):
            listen_microphone(session, 5.0)


def test_boards_with_a_microphone_get_its_driver_only_for_a_model_that_hears(trained_run: Path,
                                                                              tmp_path: Path) -> None:
    for board_id, driver in MIC_BOARDS.items():
        project = generate(RunDir(trained_run).int8_model, get_board(board_id), tmp_path / board_id,
                           runtime="native", name="kws").path
        assert (project / "src/tinyml/mic" / driver).is_file()
        assert "#define TM_HAS_MIC 1" in (project / "src/tinyml_board.h").read_text()
        image = generate(TINY, get_board(board_id), tmp_path / f"{board_id}-tiny", runtime="native").path
        assert not (image / "src/tinyml/mic").exists()
    qemu = generate(RunDir(trained_run).int8_model, get_board("qemu"), tmp_path / "qemu", runtime="native").path
    assert "TM_HAS_MIC" not in (qemu / "src/tinyml_board.h").read_text()


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="needs gcc-arm-none-eabi")
def test_listening_without_a_microphone_is_refused(trained_run: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    project = generate(RunDir(trained_run).int8_model, get_board("qemu"), tmp_path / "qemu", runtime="native",
                       name="kws").path
    build_project(project)
    capsys.readouterr()
    assert main(["listen", str(project)]) == 1
    err = capsys.readouterr().err
    assert "qemu-stm32f405 has no microphone" in err and "--wav" in err and len(err.strip().splitlines()) == 1
    exe = build_host_firmware(project, tmp_path / "firmware")
    with PipeTarget(exe) as target:
        session = Session(target)
        session.wait_ready()
        errors = p.errors_in(session.send(p.command("tinyml", "listen")))
        assert errors and "this board has no microphone" in errors[0]
