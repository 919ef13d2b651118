"""The device layer against scripted devices on a pty (the serial Target for real, via pyserial)
and against QEMU: clear errors within named deadlines for silent, garbage-spewing, hung and
resetting devices, a busy port, no port, and QEMU missing; and line splitting."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tinyml.boards import get_board
from tinyml.device.qemu import QemuTarget
from tinyml.device.serial_port import SerialTarget, find_port
from tinyml.device.session import Session
from tinyml.device.target import DeviceError, LineBuffer
from tinyml.errors import ToolMissingError
from tinyml.platform import platform_for

from .fake_device import FakeDevice


@pytest.fixture
def fake(request: pytest.FixtureRequest) -> Iterator[FakeDevice]:
    dev = FakeDevice(getattr(request, "param", "good"))
    yield dev
    dev.close()


def _session(dev: FakeDevice, deadline_s: float = 2.0) -> tuple[SerialTarget, Session]:
    target = SerialTarget(dev.port, 115200, reset=False)
    target.open()
    return target, Session(target, response_deadline_s=deadline_s)


def test_serial_target_talks_to_a_device(fake: FakeDevice) -> None:
    target, session = _session(fake)
    try:
        session.wait_ready(boot_deadline_s=3)  # no boot banner: woken with `name%`
        info = session.info()
        assert (info.runtime, info.input_bytes, info.tick_unit) == ("native", 4, "us")
        result = session.infer(1)
        assert (result.ticks, result.lap_us, result.raw) == (250, 250, (0, 0))
    finally:
        target.close()


def test_a_pty_port_without_modem_lines_works_with_the_reset_pulse(fake: FakeDevice) -> None:
    """socat links and virtual ports have no DTR/RTS: the reset pulse is skipped, not a crash."""
    with SerialTarget(fake.port, 115200) as target:  # reset=True, the default for real boards
        session = Session(target)
        session.wait_ready()
        assert session.info().runtime


@pytest.mark.parametrize("fake", ["flood"], indirect=True)
def test_device_talking_without_line_endings_is_not_called_silent(fake: FakeDevice) -> None:
    target, session = _session(fake)
    try:
        with pytest.raises(DeviceError, match=r"sent \d+ bytes but never ended a line.*baud rate"):
            session.wait_ready(boot_deadline_s=2)
    finally:
        target.close()


@pytest.mark.parametrize("fake", ["silent"], indirect=True)
def test_silent_device_is_a_clear_error_within_the_deadline(fake: FakeDevice) -> None:
    target, session = _session(fake)
    start = time.monotonic()
    with pytest.raises(DeviceError, match="stayed silent for 2 s"):
        session.wait_ready(boot_deadline_s=2)
    assert time.monotonic() - start < 4
    target.close()


@pytest.mark.parametrize("fake", ["garbage"], indirect=True)
def test_garbage_spewing_device_names_the_baud_rate(fake: FakeDevice) -> None:
    target, session = _session(fake)
    with pytest.raises(DeviceError, match="baud rate"):
        session.wait_ready(boot_deadline_s=5)
    target.close()


@pytest.mark.parametrize("fake", ["partial"], indirect=True)
def test_half_a_line_then_nothing_times_out(fake: FakeDevice) -> None:
    target, session = _session(fake, deadline_s=1.5)
    session.wait_ready(boot_deadline_s=3)
    start = time.monotonic()
    with pytest.raises(DeviceError, match="no complete answer to `tinyml info%` within 2 s"):
        session.info()
    assert time.monotonic() - start < 3
    target.close()


@pytest.mark.parametrize("fake", ["reset"], indirect=True)
def test_reset_mid_command_is_reported(fake: FakeDevice) -> None:
    target, session = _session(fake)
    session.wait_ready(boot_deadline_s=3)
    with pytest.raises(DeviceError, match="reset while running `infer 1 0%`"):
        session.infer(1)
    target.close()


def test_busy_port_is_a_clear_error(fake: FakeDevice) -> None:
    first = SerialTarget(fake.port, 115200, reset=False)
    first.open()
    try:
        with pytest.raises(DeviceError, match="is busy; close the program using it"):
            SerialTarget(fake.port, 115200, reset=False).open()
    finally:
        first.close()


def test_missing_port_and_no_matching_board() -> None:
    with pytest.raises(DeviceError, match="cannot open /dev/does-not-exist"):
        SerialTarget("/dev/does-not-exist", 115200).open()
    with pytest.raises(DeviceError, match="plug the board in or pass --port"):
        find_port(get_board("esp32dev"))


def test_qemu_missing_names_the_package(tmp_path: Path) -> None:
    board = get_board("qemu")
    assert board.emulator is not None
    broken = dataclasses.replace(board, emulator=dataclasses.replace(board.emulator, binary="qemu-system-nowhere"))
    elf = tmp_path / "fw.elf"
    elf.write_bytes(b"\x7fELF")
    with pytest.raises(ToolMissingError, match="apt-get install qemu-system-arm"):
        QemuTarget(broken, elf).open()
    with pytest.raises(DeviceError, match="build it first"):
        QemuTarget(board, tmp_path / "missing.elf").open()
    with pytest.raises(DeviceError, match="pass the firmware ELF"):
        platform_for(board).open_target(None, None)


def test_line_buffer_handles_split_endings_and_endless_lines() -> None:
    lines = LineBuffer()
    lines.feed(b"m-ready\r")
    assert lines.pop() == "m-ready"
    lines.feed(b"\nm-init-done\r\nm-rea")
    assert lines.pop() == "m-init-done"  # the \n of the split \r\n is not an empty line
    assert lines.pop() is None  # partial line kept
    lines.feed(b"dy\n")
    assert lines.pop() == "m-ready"
    lines.feed(b"x" * (LineBuffer.MAX_LINE + 10))
    assert lines.pop() == "x" * LineBuffer.MAX_LINE
