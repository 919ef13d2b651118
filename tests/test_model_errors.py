"""Wrong model types and sizes: each a clear one-line error (real conversions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinyml.boards import load_board
from tinyml.cli.main import main
from tinyml.errors import ModelError
from tinyml.tflite.analyze import analyze
from tinyml.tflite.model import load_model, parse_model

from .keras_models import convert
from .test_boards import GOOD

pytestmark = pytest.mark.slow


def test_float_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"FLOAT32, not int8 — a float model.*tinyml quantize"):
        analyze(parse_model(convert("float")))


def test_int8_model_with_float_io_is_named_as_such() -> None:
    with pytest.raises(ModelError, match=r"int8 model with float input/output \(QUANTIZE/DEQUANTIZE"):
        analyze(parse_model(convert("float-io")))


def test_hybrid_model_is_refused() -> None:
    with pytest.raises(ModelError, match=r"hybrid \(dynamic-range\) model"):
        analyze(parse_model(convert("hybrid")))


def test_not_a_flatbuffer(tmp_path: Path) -> None:
    bad = tmp_path / "model.tflite"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(ModelError, match="not a TFLite flatbuffer"):
        load_model(bad)
    with pytest.raises(ModelError, match="does not exist"):
        load_model(tmp_path / "missing.tflite")


def test_damaged_flatbuffer() -> None:
    data = convert("int8")
    with pytest.raises(ModelError, match=r"damaged|not a TFLite"):
        parse_model(data[:64])


def test_fit_check_against_a_board_file(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(GOOD.format(id="tiny").replace("sram_kb: 64", "sram_kb: 4").replace("reserve_sram_kb: 4",
                                                                                        "reserve_sram_kb: 1"))
    model, board = parse_model(convert("int8")), load_board(path)
    result = analyze(model, board, runtime="tflm")
    assert result.fit is not None and not result.fit.fits
    assert "SRAM" in result.fit.describe() and "over by" in result.fit.describe()
    native = analyze(model, board, runtime="native")  # the runtime decides: no interpreter structures, reused buffers
    assert native.fit is not None and native.fit.fits and native.runtime_arena_bytes is not None
    assert native.runtime_arena_bytes < native.arena_bytes


def test_cli_reports_a_model_too_big_for_the_board(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "big.tflite"
    big.write_bytes(convert("int8", units=2400))  # ~4.7 M int8 weights > 1 MB flash
    assert main(["analyze", str(big), "--board", "qemu"]) == 1
    err = capsys.readouterr().err
    assert "error:" in err and "does not fit" in err and "flash" in err and "over by" in err


def test_cli_float_model_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "float.tflite"
    path.write_bytes(convert("float"))
    assert main(["analyze", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "float model" in err and "Traceback" not in err
