"""MLPerf Tiny energy mode: firmware generated with ``--energy`` boots in ``m-timestamp-mode-energy``,
prints no ``m-lap-us`` and marks every timestamp as a falling edge on the board's timestamp pin.

On the emulated STM32F405 the GPIO ports are QEMU "unimplemented devices": ``-d unimp`` logs each
register write, so the test reads the pulses back from that log (BSRR: reset bit = fall, set bit =
rise) and counts them against the timestamps the reference API takes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tinyml.boards import get_board
from tinyml.device import protocol as p
from tinyml.device.session import Session
from tinyml.device.target import DeviceError
from tinyml.errors import TinymlError
from tinyml.generate.project import generate
from tinyml.platform import build_project, offline_check, platform_for
from tinyml.tflite.model import load_model

from .devices import HostDevice, qemu_argv

TINY = Path(__file__).parent / "data" / "tiny_kws_int8.tflite"
BSRR_OFFSET = 0x18
# "GPIOF: unimplemented device write (size 4, offset 0x0018, value 0x20000000)"
_WRITE = re.compile(r"(?P<dev>GPIO[A-I]): unimplemented device write \(size \d+, offset 0x(?P<off>[0-9a-f]+), "
                    r"value 0x(?P<value>[0-9a-f]+)\)")


def _pin_edges(log: str, device: str, pin: int) -> list[str]:
    """The timestamp pin's edges in order, from BSRR writes: 'fall' (reset bit), 'rise' (set bit)."""
    edges = []
    for m in _WRITE.finditer(log):
        if m["dev"] == device and int(m["off"], 16) == BSRR_OFFSET:
            value = int(m["value"], 16)
            if value & (1 << (pin + 16)):
                edges.append("fall")
            if value & (1 << pin):
                edges.append("rise")
    return edges


def test_energy_build_renders_the_board_pin_and_baud(tmp_path: Path) -> None:
    board = get_board("nucleo_l4r5zi")
    assert board.energy is not None
    project = generate(TINY, board, tmp_path / "l4", runtime="native", energy=True)
    header = (project.path / "src/tinyml_board.h").read_text()
    assert "#define TM_ENERGY_MODE 1" in header and "#define TM_BOARD_BAUD 9600u" in header
    assert "#define TM_TIMESTAMP_PIN GPIO_PIN_13" in header and "#define TM_CONSOLE_UART LPUART1" in header
    assert "monitor_speed = 9600" in (project.path / "platformio.ini").read_text()
    if shutil.which("arm-none-eabi-gcc"):  # the protocol engine and the timestamp calls link for the board
        assert offline_check(project.path).sizes.flash > 0
    plain = generate(TINY, board, tmp_path / "l4-perf", runtime="native")
    header = (plain.path / "src/tinyml_board.h").read_text()
    assert "TM_ENERGY_MODE" not in header and "TM_TIMESTAMP_PIN" not in header and "115200u" in header


def test_a_board_without_a_timestamp_pin_refuses_energy_mode(tmp_path: Path) -> None:
    with pytest.raises(TinymlError, match=r"esp32dev has no MLPerf energy mode.*add an `energy:` section"):
        generate(TINY, get_board("esp32dev"), tmp_path / "esp", runtime="native", energy=True)
    assert not (tmp_path / "esp").exists()


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
                    reason="needs gcc-arm-none-eabi and qemu-system-arm (scripts/bootstrap.sh)")
def test_energy_firmware_marks_timestamps_on_the_pin_not_the_uart(tmp_path: Path) -> None:
    board = get_board("qemu")
    assert board.energy is not None and board.energy.pin == "PF13"
    project = generate(TINY, board, tmp_path / "project", runtime="native", energy=True)
    firmware = build_project(project.path)
    log = tmp_path / "unimp.log"
    device = HostDevice([*qemu_argv(board, firmware.elf), "-d", "unimp", "-D", str(log)])
    try:
        assert device.greeting[0] == p.TimestampMode("m-timestamp-mode-energy", "energy")
        size = load_model(TINY).input_tensors[0].elements
        events = device.send(f"db load {size}%".encode())
        events += device.send(f"db {'01' * size}%".encode())
        events += device.send(b"timestamp%")
        events += device.send(b"infer 3 1%")
        assert any(isinstance(e, p.Results) for e in events), events
        assert not any(isinstance(e, p.Lap) for e in [*device.greeting, *events]), "a timestamp went to the UART"
        assert device.proc.stdin is not None
        device.proc.stdin.write(b"tinyml exit%")  # semihosting exit: QEMU ends, the log is complete
        assert device.proc.wait(timeout=30) == 0
    finally:
        if device.proc.poll() is None:
            device.proc.kill()
            device.proc.wait()
    # boot (th_timestamp_initialize), the `timestamp` command, infer's start and end: four pulses
    edges = _pin_edges(log.read_text(), "GPIOF", 13)
    assert edges == ["rise"] + ["fall", "rise"] * 4, edges  # released high first, then 4 fall/rise pulses

    # tinyml itself measures performance-mode firmware only, and says so in one line
    with platform_for(board).open_target(firmware.elf, None) as target, \
            pytest.raises(DeviceError, match=r"energy-mode firmware.*without --energy"):
        Session(target).wait_ready()
