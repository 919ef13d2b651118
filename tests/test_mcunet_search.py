from __future__ import annotations

from pathlib import Path

import pytest

from tinyml.boards import get_board, load_board
from tinyml.cli.main import main
from tinyml.errors import DoesNotFitError
from tinyml.generate.project import generate
from tinyml.mcunet.memory import estimate
from tinyml.mcunet.search import search
from tinyml.platform import platform_for
from tinyml.tflite.model import parse_model

from .mcunet_validate import validate
from .test_boards import GOOD

FAST = {"samples": 20, "population": 12, "generations": 3}


def test_search_is_deterministic() -> None:
    a = search(get_board("qemu"), 2, seed=5, **FAST)
    b = search(get_board("qemu"), 2, seed=5, **FAST)
    assert a.best.arch == b.best.arch and a.spaces == b.spaces and a.history == b.history


def test_best_satisfies_the_budget_and_evolution_never_regresses() -> None:
    board = get_board("nrf52")
    result = search(board, 3, seed=0, **FAST)
    m = estimate(result.best.arch)
    need = result.budget.need(m)  # the native runtime's: activation plan, input buffer, reserve
    assert need.arena_bytes + need.input_bytes <= board.sram_bytes - board.reserve_sram_bytes
    assert need.flash_bytes <= board.flash_bytes - board.reserve_flash_bytes
    assert result.best.arch.resolution == result.space.resolution and result.space.fits
    assert result.history == sorted(result.history)
    assert all(s.feasible <= s.samples for s in result.spaces)


def test_smaller_board_gets_smaller_model() -> None:
    sizes = {b: search(get_board(b), 2, seed=0, **FAST).best.memory for b in ("qemu", "nrf52", "stm32")}
    assert sizes["qemu"].arena_bytes < sizes["nrf52"].arena_bytes < sizes["stm32"].arena_bytes
    assert sizes["qemu"].macs < sizes["nrf52"].macs < sizes["stm32"].macs


def test_too_small_board_states_the_smallest_candidates_needs(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(GOOD.format(id="tiny").replace("sram_kb: 64", "sram_kb: 24"))
    with pytest.raises(DoesNotFitError, match=r"no candidate network fits tiny: the smallest \(48px, width 0.25\) "
                                               r"needs [\d.]+ KB SRAM and [\d.]+ KB flash"):
        search(load_board(path), 2, seed=0, **FAST)


def test_search_command_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "--board", "qemu", "--samples", "5", "--resolution", "48", "--resolution", "96"]) == 0
    out = capsys.readouterr().out
    assert "chosen" in out and "best:" in out and "resolution" in out


@pytest.mark.slow
@pytest.mark.parametrize(("board_id", "runtime"), [("nucleo_f746zg", "tflm"), ("nrf52840_dk", "tflm"),
                                                   ("qemu-stm32f405", "tflm"), ("qemu-stm32f405", "native")])
def test_searched_model_converted_is_accepted_by_generate(board_id: str, runtime: str, tmp_path: Path) -> None:
    """Search admits by estimate; generate decides on the converted model with the same rule. The
    network search picks, converted to int8, must be one generate builds for that runtime."""
    board = get_board(board_id)
    result = search(board, 2, seed=0, runtime=runtime, **FAST)
    v = validate(result.best.arch)
    model = tmp_path / "searched.tflite"
    model.write_bytes(v.tflite)
    placement = platform_for(board).place(parse_model(v.tflite), runtime)
    assert placement.fit.fits, placement.fit.describe()
    assert generate(model, board, tmp_path / "fw", runtime=runtime, labels=["a", "b"]).arena_bytes == \
        placement.need.arena_bytes
