"""A hardware-in-the-loop suite: drives a board (or the emulated one) through tinyml's Python API.

Environment: TINYML_PROJECT (a generated, built project), TINYML_MODEL (its int8 .tflite),
optional TINYML_PORT (a real board's serial port) and TINYML_BUDGET (latency budget in ticks).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tinyml.device.session import Session
from tinyml.platform import project_elf, session_for
from tinyml.tflite.interpreters import TflmRunner
from tinyml.tflite.model import load_model

PROJECT = os.environ.get("TINYML_PROJECT")
MODEL = os.environ.get("TINYML_MODEL")
pytestmark = pytest.mark.skipif(not PROJECT or not MODEL, reason="set TINYML_PROJECT and TINYML_MODEL")


@pytest.fixture(scope="module")
def device() -> Iterator[Session]:
    assert PROJECT is not None
    board, elf = project_elf(Path(PROJECT))
    with session_for(board, elf, os.environ.get("TINYML_PORT")) as session:
        yield session


def test_firmware_identifies_itself(device: Session) -> None:
    info = device.info()
    assert info.runtime in ("native", "tflm") and info.input_bytes > 0 and info.output_bytes > 0


def test_latency_is_within_budget(device: Session) -> None:
    info = device.info()
    device.load(bytes(info.input_bytes))
    ticks = device.infer(5).ticks
    assert ticks is not None
    budget = int(os.environ.get("TINYML_BUDGET", "50000000"))
    assert ticks / 5 <= budget, f"{ticks / 5:.0f} {info.tick_unit} per inference > budget {budget}"


def test_outputs_match_the_host_reference(device: Session) -> None:
    assert MODEL is not None
    model = load_model(Path(MODEL))
    reference = TflmRunner(model.data)
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = rng.integers(-128, 128, model.input_tensors[0].shape[1:]).astype(np.int8)
        assert np.array_equal(device.run(x), reference.run(x[None])[0].reshape(-1))
