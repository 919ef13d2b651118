"""The firmware's protocol engine compiled for the host with gcc (emlearn-style) and driven over
real pipes: the same C the boards run, with the host port and the echo runtime. Its output is
parsed with the host-side parser, so both ends of the protocol are checked together. The same
firmware is also cross-compiled for the emulated STM32F405 and run under QEMU."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tinyml.boards import get_board
from tinyml.device import protocol as p
from tinyml.generate.project import generate
from tinyml.resources import data_dir

from .devices import RESPONSE_DEADLINE_S, HostDevice, qemu_argv

TINY = Path(__file__).parent / "data" / "tiny_kws_int8.tflite"

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs a host C compiler")


@pytest.fixture(scope="module")
def device(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostDevice]:
    out = tmp_path_factory.mktemp("fw")
    project = generate(TINY, get_board("qemu"), out / "project", runtime="echo", name="tiny_kws")
    src = project.path / "src"
    fw = data_dir("firmware")
    exe = out / "tinyml_host"
    sources = [src / "tinyml/core/tinyml_protocol.c", src / "tinyml/runtime/tinyml_runner_echo.c",
               fw / "ports/host/tinyml_port_host.c"]
    cmd = ["gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{src}", f"-I{src / 'tinyml/core'}",
           *map(str, sources), "-o", str(exe)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    dev = HostDevice([str(exe)])
    yield dev
    dev.close()


ARM_FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard", "-O2", "-std=c11", "-Wall",
             "-Werror", "-ffunction-sections", "-fdata-sections"]


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
                    reason="needs gcc-arm-none-eabi and qemu-system-arm (scripts/bootstrap.sh installs them)")
def test_echo_firmware_on_the_emulated_stm32(tmp_path: Path) -> None:
    board = get_board("qemu")
    project = generate(TINY, board, tmp_path / "project", runtime="echo", name="tiny_kws")
    src = project.path / "src"
    elf = tmp_path / "fw.elf"
    sources = [src / "tinyml/core/tinyml_protocol.c", src / "tinyml/port/tinyml_port_qemu_stm32.c",
               src / "tinyml/runtime/tinyml_runner_echo.c"]
    subprocess.run(["arm-none-eabi-gcc", *ARM_FLAGS, f"-I{src}", f"-I{src / 'tinyml/core'}", *map(str, sources),
                    "-Wl,--gc-sections", "--specs=nano.specs", "--specs=nosys.specs", "-nostartfiles",
                    f"-T{project.path / 'linker.ld'}", "-o", str(elf)], check=True, capture_output=True, timeout=120)
    dev = HostDevice(qemu_argv(board, elf))
    try:
        assert isinstance(dev.greeting[-1], p.Ready)  # send only after the UART is up
        assert isinstance(dev.greeting[0], p.TimestampMode)  # the MLPerf reference's boot lines
        assert any(isinstance(e, p.ModelId) and e.text == "kws01" for e in dev.send(p.command("profile")))
        info = p.info(dev.send(p.command("tinyml", "info")))
        assert info["tick-unit"] == "instructions" and info["input"] == "490"
        data = np.arange(490, dtype=np.int64).astype(np.int8) % 7
        for cmd in p.load_commands(data.tobytes()):
            assert not p.errors_in(dev.send(cmd))
        first = p.inference(dev.send(p.command("infer", 2, 0)))
        second = p.inference(dev.send(p.command("infer", 2, 0)))
        expected = np.clip([int(data[o::12].astype(int).sum()) for o in range(12)], -128, 127)
        assert first.raw == tuple(expected)
        assert first.ticks == second.ticks and first.ticks > 0  # -icount: instruction counts are exact
        assert dev.proc.stdin is not None
        dev.proc.stdin.write(p.command("tinyml", "exit"))  # answers m-tinyml-bye, then QEMU exits
    finally:
        assert dev.proc.wait(timeout=RESPONSE_DEADLINE_S) == 0  # semihosting exit code


def test_greeting(device: HostDevice) -> None:
    assert [type(e) for e in device.greeting] == [p.TimestampMode, p.Lap, p.InitDone, p.Ready]
    assert device.greeting[0] == p.TimestampMode("m-timestamp-mode-performance", "performance")


def test_name_profile_and_info(device: HostDevice) -> None:
    events = device.send(p.command("name"))
    assert any(isinstance(e, p.Name) and e.name == "tinyml tiny_kws" for e in events)
    events = device.send(p.command("profile"))
    assert any(isinstance(e, p.ModelId) and e.text == "kws01" for e in events)  # the MLPerf id of its input
    info = p.info(device.send(p.command("tinyml", "info")))
    assert info["runtime"] == "echo" and info["input"] == "490" and info["output"] == "12"
    assert info["tick-unit"] == "us" and info["ticks-hz"] == "1000000"


def test_load_infer_results_match_the_reference(device: HostDevice) -> None:
    data = np.random.default_rng(0).integers(-20, 20, 490).astype(np.int8)
    *loads, = p.load_commands(data.tobytes())
    assert any(isinstance(e, p.Expecting) and e.count == 490 for e in device.send(loads[0]))
    for chunk in loads[1:-1]:
        assert not p.errors_in(device.send(chunk))
    assert any(isinstance(e, p.LoadDone) for e in device.send(loads[-1]))
    result = p.inference(device.send(p.command("infer", 3, 1)))
    expected = np.clip([int(data[o::12].astype(int).sum()) for o in range(12)], -128, 127)
    assert result.runs == 3 and result.raw == tuple(expected)
    assert result.results == tuple(np.floor((expected + 128) / 256 * 1000) / 1000)  # truncated, as MLPerf's
    assert result.lap_us >= 0 and result.ticks is not None
    buffer = b"".join(e.data for e in device.send(p.command("db", "print")) if isinstance(e, p.BufferLine))
    assert buffer == data.tobytes()


def test_errors_are_reported_and_followed_by_ready(device: HostDevice) -> None:
    cases = {
        p.command("frobnicate"): "Unknown command: frobnicate",
        p.command("db", "load", 100000): "exceed the input tensor",
        p.command("db", "abc"): "Insufficent number of hex digits",
        p.command("db", "zz"): "Invalid hex digit",
        p.command("infer", 0): "Inference iterations must be >0",
        p.command("infer", 100001): "must be <=100000",
        p.command("infer", 1, 100001): "must be <=100000",
        ("x" * 300 + "%").encode(): "Command too long",
        p.command("tinyml", "what"): "expected 'tinyml info|in|out|layers|exit'",
    }
    for cmd, message in cases.items():
        events = device.send(cmd)
        assert any(message in m for m in p.errors_in(events)), (cmd, events)
        assert isinstance(events[-1], p.Ready)
    # the engine still works afterwards
    assert isinstance(device.send(p.command("name"))[-1], p.Ready)
