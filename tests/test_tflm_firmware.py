"""TFLite Micro firmware for the emulated STM32F405, built by PlatformIO offline against the TFLM
tree tinyml exports, run under QEMU and compared bit for bit with the TFLM host interpreter.
Needs TINYML_TFLM_DIR (a tflite-micro checkout with its downloads); the test suite points it at
../shared/tflm when unset (tests/tflm_source.py), so these skip only where neither exists."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinyml.boards import all_boards, get_board
from tinyml.build.pio import environment, seed_scons
from tinyml.build.tflm import export_tflm
from tinyml.device import protocol as p
from tinyml.generate.project import generate
from tinyml.platform import offline_check, platform_for
from tinyml.tflite.interpreters import TflmRunner
from tinyml.tflite.model import load_model
from tinyml.train.rundir import RunDir

from .devices import HostDevice, qemu_argv

TINY = Path(__file__).parent / "data" / "tiny_kws_int8.tflite"
BUILD_DEADLINE_S = 1800

pytestmark = [pytest.mark.tflm, pytest.mark.slow, pytest.mark.skipif(
    not os.environ.get("TINYML_TFLM_DIR") or shutil.which("qemu-system-arm") is None,
    reason="needs TINYML_TFLM_DIR (tflite-micro checkout) and qemu-system-arm")]


def test_tflm_firmware_matches_the_host_interpreter(tmp_path: Path) -> None:
    export_tflm()
    seed_scons()
    board = get_board("qemu")
    project = generate(TINY, board, tmp_path / "project", name="tiny_kws", runtime="tflm")
    build = subprocess.run([sys.executable, "-m", "platformio", "run", "-j", "2"], cwd=project.path, env=environment(),
                           capture_output=True, text=True, timeout=BUILD_DEADLINE_S)
    assert build.returncode == 0, build.stdout[-3000:]
    elf = project.path / ".pio" / "build" / board.id / "program.elf"
    dev = HostDevice(qemu_argv(board, elf))
    model = load_model(TINY)
    host = TflmRunner(model.data)
    rng = np.random.default_rng(0)
    try:
        info = p.info(dev.send(p.command("tinyml", "info")))
        assert info["runtime"] == "tflm" and 0 < int(info["arena"]) < project.arena_bytes
        for _ in range(8):
            x = rng.integers(-128, 128, model.input_tensors[0].shape, dtype=np.int64).astype(np.int8)
            for cmd in p.load_commands(x.tobytes()):
                assert not p.errors_in(dev.send(cmd))
            result = p.inference(dev.send(p.command("infer", 1, 0)))
            assert result.raw == tuple(int(v) for v in host.run(x)[0])
        layers = p.layers(dev.send(p.command("tinyml", "layers")))
        assert [layer.name for layer in layers] == [op.opcode for op in model.operators]
        assert dev.proc.stdin is not None
        dev.proc.stdin.write(p.command("tinyml", "exit"))
    finally:
        assert dev.proc.wait(timeout=30) == 0


CORTEX_M_BOARDS = [b.id for b in all_boards() if platform_for(b).cpu_flags is not None]


@pytest.mark.parametrize("board_id", CORTEX_M_BOARDS)
def test_tflm_kws_firmware_links_for_every_cortex_m_board(board_id: str, trained_run: Path, tmp_path: Path) -> None:
    """The KWS DS-CNN as TFLM firmware for each Cortex-M board's CPU, compiled and linked by
    `tinyml build --offline-check` with Debian's arm-none-eabi-g++ against TFLM + CMSIS-NN: generated
    model, op resolver, TFLM runtime and protocol engine as generated for that board, the host port
    standing in for the vendor console driver — and the image fits the board's flash and SRAM."""
    board = get_board(board_id)
    project = generate(RunDir(trained_run).int8_model, board, tmp_path / "project", name="kws", runtime="tflm")
    check = offline_check(project.path)
    print(check.describe())
    assert check.fits and check.board.id == board_id and check.runtime == "tflm"
    assert project.arena_bytes < check.sizes.ram <= board.sram_bytes
    assert len(RunDir(trained_run).int8_model.read_bytes()) < check.sizes.flash <= board.flash_bytes
