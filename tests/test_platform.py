"""Board families as platform objects: chosen in one place, asked by every command, and ready
checks that refuse in seconds what would fail after minutes."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tinyml.boards import all_boards, get_board
from tinyml.cli.main import main
from tinyml.errors import ToolMissingError
from tinyml.platform import platform_for, preflight
from tinyml.platform.families import FAMILIES

PACKAGE = Path(__file__).resolve().parents[1] / "tinyml"
# Deciding by a board's port, target, emulator or PlatformIO platform belongs to tinyml/platform/
# (and the board-file loader, and the QEMU target that runs the emulator the board file names).
FAMILY_TEST = re.compile(r"\b\w*board\.(port|target|emulator)\b|platformio\.platform|\"(esp_idf|qemu_stm32|stm32cube|"
                         r"arduino|tinyml-qemu|espressif32|ststm32|nordicnrf52)\"")
ALLOWED = ("platform/", "boards/registry.py", "device/qemu.py", "device/serial_port.py")


def test_no_board_family_decision_outside_the_platform_layer() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(ALLOWED):
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if FAMILY_TEST.search(line):
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_every_board_has_a_platform_and_the_emulated_one_needs_no_flash(tmp_path: Path) -> None:
    for board in all_boards():
        platform = platform_for(board)
        assert platform.board is board and type(platform) in FAMILIES.values()
    qemu = platform_for("qemu")
    assert qemu.emulated and "QEMU" in qemu.flash(tmp_path, None)
    assert qemu.cpu_flags is not None and "-mcpu=cortex-m4" in qemu.cpu_flags
    assert platform_for("esp32").cpu_flags is None  # Xtensa: no local toolchain check


def test_doctor_lists_what_each_board_needs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--board", "qemu"]) == 0
    out = capsys.readouterr().out
    assert "arm-none-eabi-gcc" in out and "qemu-system-arm" in out and "missing" not in out
    assert main(["doctor", "--board", "esp32", "--json"]) == 1  # offline: no espressif32 platform here
    captured = capsys.readouterr()
    assert "espressif32" in captured.out and "not ready here" in captured.err


def test_deploy_for_a_board_without_its_platform_fails_in_seconds(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The headline command offline: one line naming what to install, before any data or training."""
    esp32 = platform_for("esp32")
    if all(r.present for r in esp32.requirements("native")):
        pytest.skip("the espressif32 platform and a board are present here")
    started = time.monotonic()
    assert main(["deploy", "kws", "--board", "esp32", "--work", str(tmp_path / "work")]) == 1
    assert time.monotonic() - started < 30
    err = capsys.readouterr().err
    assert "espressif32" in err and "pkg install" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "work" / "kws" / "synth-kws").exists()  # no stage ran


def test_registry_check_answers_within_its_deadline() -> None:
    from tinyml.platform.base import REGISTRY_DEADLINE_S, registry_reachable

    started = time.monotonic()
    registry_reachable()  # offline here: False; either way it must not hang
    assert time.monotonic() - started < REGISTRY_DEADLINE_S + 2


def test_deploy_refuses_an_unknown_runtime_before_any_stage(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    assert main(["deploy", "kws", "--runtime", "bogus", "--work", str(tmp_path / "work")]) == 1
    assert time.monotonic() - started < 30 and "unknown runtime 'bogus'" in capsys.readouterr().err
    assert not (tmp_path / "work" / "kws" / "synth-kws").exists()


def test_generate_defaults_to_the_runtime_deploy_uses(tmp_path: Path) -> None:
    tiny = Path(__file__).parent / "data" / "tiny_kws_int8.tflite"
    assert main(["generate", str(tiny), "--out", str(tmp_path / "p")]) == 0
    assert (tmp_path / "p" / "src" / "model.c").is_file() and not (tmp_path / "p" / "src" / "model_data.cc").exists()


def test_preflight_names_the_missing_tflm_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINYML_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("TINYML_TFLM_DIR", raising=False)
    qemu = platform_for(get_board("qemu"))
    preflight(qemu, "native", None, ("build", "run"))  # native needs no TFLM
    with pytest.raises(ToolMissingError, match=r"TensorFlow Lite Micro source.*TINYML_TFLM_DIR"):
        preflight(qemu, "tflm", None, ("build", "run"))


def test_offline_check_links_a_native_project_for_a_cortex_m_board(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """`tinyml build --offline-check`: NUCLEO-F746ZG firmware (Cortex-M7) linked with the local Arm
    toolchain although the ststm32 platform is not installed, sizes against the board's budget."""
    from tinyml.generate.project import generate

    tiny = Path(__file__).parent / "data" / "tiny_kws_int8.tflite"
    project = generate(tiny, get_board("stm32f746"), tmp_path / "f746", runtime="native", name="tiny")
    assert main(["build", str(project.path), "--offline-check"]) == 0
    captured = capsys.readouterr()
    out = " ".join((captured.out + captured.err).split())
    assert "nucleo_f746zg (native, linked offline" in out and "flash" in out
    elf = project.path / ".pio" / "offline-check" / "firmware.elf"
    header = elf.read_bytes()[:20]
    assert header[:4] == b"\x7fELF" and int.from_bytes(header[18:20], "little") == 40  # EM_ARM
    esp = generate(tiny, get_board("esp32"), tmp_path / "esp", runtime="native", name="tiny")
    assert main(["build", str(esp.path), "--offline-check"]) == 1
    assert "not a Cortex-M board" in capsys.readouterr().err


def test_port_on_the_emulated_board_is_refused_not_silently_used(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from tinyml.device.target import DeviceError

    with pytest.raises(DeviceError, match="is emulated: its firmware runs under QEMU"):
        platform_for("qemu").open_target(tmp_path / "fw.elf", "/dev/ttyUSB9")
    assert main(["deploy", "kws", "--port", "/dev/ttyUSB9", "--work", str(tmp_path / "w")]) == 1
    assert "drop --port" in capsys.readouterr().err and not (tmp_path / "w" / "kws" / "synth-kws").exists()


def test_devices_says_what_it_found(capsys: pytest.CaptureFixture[str]) -> None:
    from serial.tools import list_ports

    assert main(["devices"]) == 0
    captured = capsys.readouterr()
    out = " ".join((captured.out + captured.err).split())
    assert ("no serial ports found" in out) if not list_ports.comports() else ("VID:PID" in out)
