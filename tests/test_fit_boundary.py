"""One fit rule: analyze, search and generate agree on models at a board's budget boundary, byte
for byte, for both runtimes. The board is the emulated STM32F405 with its SRAM or flash set to
exactly what the model needs, then one byte less."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tinyml.boards import Board, get_board
from tinyml.errors import DoesNotFitError
from tinyml.generate.project import generate
from tinyml.mcunet.memory import estimate
from tinyml.mcunet.search import search
from tinyml.platform import platform_for
from tinyml.tflite.analyze import analyze
from tinyml.tflite.model import load_model

TINY = Path(__file__).parent / "data" / "tiny_kws_int8.tflite"


def _generates(board: Board, runtime: str, out: Path) -> bool:
    try:
        generate(TINY, board, out, runtime=runtime, name="tiny", force=True)
    except DoesNotFitError:
        return False
    return True


@pytest.mark.parametrize("runtime", ["native", "tflm"])
@pytest.mark.parametrize("memory", ["sram", "flash"])
def test_analyze_and_generate_agree_at_the_boundary(runtime: str, memory: str, tmp_path: Path) -> None:
    model = load_model(TINY)
    qemu = get_board("qemu")
    need = platform_for(qemu).place(model, runtime).fit
    verdicts = []
    for slack in (0, -1):
        if memory == "sram":
            board = dataclasses.replace(qemu, sram_bytes=need.sram_needed + slack)
        else:
            board = dataclasses.replace(qemu, flash_bytes=need.flash_needed + slack)
        analysis = analyze(model, board, runtime=runtime)
        assert analysis.fit is not None
        verdicts.append((analysis.fit.fits, _generates(board, runtime, tmp_path / f"fw{slack}")))
    if runtime == "native" and memory == "flash":
        # one byte short of int16 weights: both fall back to int8 weights, which fit
        assert verdicts == [(True, True), (True, True)]
    else:
        assert verdicts == [(True, True), (False, False)]


def test_native_auto_weights_fall_back_to_int8_at_the_flash_boundary(tmp_path: Path) -> None:
    qemu = get_board("qemu")
    wide = platform_for(qemu).place(load_model(TINY), "native")
    board = dataclasses.replace(qemu, flash_bytes=wide.fit.flash_needed - 1)
    narrow = platform_for(board).place(load_model(TINY), "native")
    assert wide.native is not None and wide.native.weight_layout == "int16"
    assert narrow.native is not None and narrow.native.weight_layout != "int16" and narrow.fit.fits


@pytest.mark.parametrize("runtime", ["native", "tflm"])
def test_search_admits_exactly_what_the_rule_admits(runtime: str) -> None:
    """Search's chosen network on a board shrunk to its estimated need: still admitted at the
    boundary, refused one byte below — by the board platform's rule, not a search-only budget."""
    qemu = get_board("qemu")
    result = search(qemu, 2, seed=0, samples=10, population=8, generations=2, runtime=runtime)
    need = result.budget.need(estimate(result.best.arch))
    sram = need.arena_bytes + need.input_bytes + qemu.reserve_sram_bytes
    exact = dataclasses.replace(qemu, sram_bytes=sram)
    short = dataclasses.replace(qemu, sram_bytes=sram - 1)
    assert platform_for(exact).fits(need) and not platform_for(short).fits(need)
    again = search(exact, 2, seed=0, samples=10, population=8, generations=2, runtime=runtime)
    assert again.budget.admits(again.best.memory)
    assert (result.budget.need(again.best.memory).arena_bytes + need.input_bytes + qemu.reserve_sram_bytes
            <= exact.sram_bytes)
