from __future__ import annotations

from pathlib import Path

import pytest

from tinyml.boards import all_boards, get_board, load_board
from tinyml.cli.main import main
from tinyml.errors import BoardError

REQUIRED = {"esp32dev", "esp32-s3-devkitc-1", "nucleo_f746zg", "nucleo_l4r5zi", "nrf52840_dk", "qemu-stm32f405"}


def test_every_required_board_is_registered() -> None:
    assert {b.id for b in all_boards()} >= REQUIRED


@pytest.mark.parametrize(("alias", "board_id"), [("esp32", "esp32dev"), ("stm32", "nucleo_f746zg"),
                                                 ("nrf52", "nrf52840_dk"), ("QEMU", "qemu-stm32f405")])
def test_aliases(alias: str, board_id: str) -> None:
    assert get_board(alias).id == board_id


def test_emulated_board_facts() -> None:
    b = get_board("qemu-stm32f405")
    assert b.target == "qemu" and b.emulator is not None and b.emulator.machine == "netduinoplus2"
    assert (b.flash_bytes, b.sram_bytes, b.core) == (1024 * 1024, 128 * 1024, "cortex-m4f")
    assert 0 < b.model_sram_budget < b.sram_bytes


def test_real_boards_have_usb_ids_for_port_discovery() -> None:
    for b in all_boards():
        assert b.target == "qemu" or b.usb_ids, b.id


def test_unknown_board_names_the_choices() -> None:
    with pytest.raises(BoardError, match=r"unknown board 'esp33'.*esp32dev"):
        get_board("esp33")


GOOD = """id: {id}
name: Test
family: stm32
mcu: X
core: cortex-m4f
clock_mhz: 80
memory: {{flash_kb: 256, sram_kb: 64, reserve_flash_kb: 16, reserve_sram_kb: 4}}
platformio: {{platform: ststm32, board: x}}
serial: {{baud: 115200, usb_ids: ["0483:374B"]}}
target: serial
firmware: {{port: stm32cube, defines: {{hal_header: "<x.h>"}}}}
"""


@pytest.mark.parametrize(("edit", "message"), [
    (lambda s: s.replace("clock_mhz: 80\n", ""), "missing key 'clock_mhz'"),
    (lambda s: s + "colour: red\n", "unknown key.*colour"),
    (lambda s: s.replace("0483:374B", "0483-374B"), "USB id"),
    (lambda s: s.replace("target: serial", "target: jtag"), "target must be one of"),
    (lambda s: s.replace("clock_mhz: 80", "clock_mhz: fast"), "'clock_mhz' must be an integer"),
    (lambda s: s.replace("reserve_sram_kb: 4", "reserve_sram_kb: 64"), "reserve must be smaller"),
    (lambda s: s.replace("target: serial", "target: qemu"), "needs an 'emulator' section"),
    (lambda s: s + "  bad: [indent\n", "not valid YAML"),
])
def test_invalid_board_files_name_the_file_and_problem(tmp_path: Path, edit, message: str) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(edit(GOOD.format(id="tiny")))
    with pytest.raises(BoardError, match=message) as info:
        load_board(path)
    assert str(path) in str(info.value)


def test_id_must_match_file_name(tmp_path: Path) -> None:
    path = tmp_path / "other.yaml"
    path.write_text(GOOD.format(id="tiny"))
    with pytest.raises(BoardError, match="match the file name"):
        load_board(path)


def test_valid_board_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(GOOD.format(id="tiny"))
    b = load_board(path)
    assert (b.flash_bytes, b.sram_bytes, b.model_sram_budget) == (256 * 1024, 64 * 1024, 60 * 1024)
    assert str(b.usb_ids[0]) == "0483:374B"


def test_boards_command_lists_every_board(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["boards", "--json"]) == 0
    out = capsys.readouterr().out
    for board_id in REQUIRED:
        assert f'"{board_id}"' in out
    listed = {b["id"]: b["microphone"] for b in __import__("json").loads(out)}
    assert listed["nano33ble_sense"] == "pdm_arduino" and listed["esp32-s3-eye"] == "i2s_esp_idf"
    assert listed["qemu-stm32f405"] is None
    pins = {b["id"]: b["energy_timestamp_pin"] for b in __import__("json").loads(out)}
    assert pins["nucleo_l4r5zi"] == "D7 (PF13)" and pins["esp32dev"] is None  # MLPerf energy mode (--energy)


def test_boards_table_shows_whole_ids_at_80_columns() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "tinyml", "boards"], capture_output=True, text=True, timeout=60,
                         env={**__import__("os").environ, "COLUMNS": "80"}).stdout
    assert max(len(line) for line in out.splitlines()) <= 80
    for board in all_boards():
        for name in (board.id, *board.aliases):  # what users type is never cut
            assert name in out, name
