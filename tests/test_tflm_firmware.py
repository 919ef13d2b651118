"""TFLite Micro firmware for the emulated STM32F405, built by PlatformIO offline against the TFLM
tree tinyml exports, run under QEMU and compared bit for bit with the TFLM host interpreter.
Needs TINYML_TFLM_DIR (a tflite-micro checkout with its downloads); skipped without it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinyml.boards import get_board
from tinyml.build.pio import environment, seed_scons
from tinyml.build.tflm import export_tflm
from tinyml.device import protocol as p
from tinyml.generate.project import generate
from tinyml.tflite.interpreters import TflmRunner
from tinyml.tflite.model import load_model

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
    project = generate(TINY, board, tmp_path / "project", name="tiny_kws")
    build = subprocess.run([sys.executable, "-m", "platformio", "run", "-j", "2"], cwd=project.path, env=environment(),
                           capture_output=True, text=True, timeout=BUILD_DEADLINE_S)
    assert build.returncode == 0, build.stdout[-3000:]
    elf = project.path / ".pio" / "build" / board.id / "program.elf"
    assert board.emulator is not None
    dev = HostDevice(qemu_argv(board.emulator.machine, str(elf)))
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
