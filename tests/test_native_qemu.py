"""The native runtime as firmware for the emulated STM32F405: generated, built by PlatformIO
offline with Debian's arm-none-eabi-gcc (the Cortex-M4 DSP/SMLAD paths the host build does not
exercise), run under QEMU behind the QEMU Target, and compared bit for bit with the TFLM host
interpreter over the serial protocol."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tinyml.boards import get_board
from tinyml.device.session import Session
from tinyml.generate.project import generate
from tinyml.platform import build_project, platform_for
from tinyml.tflite.interpreters import TflmRunner
from tinyml.tflite.model import load_model
from tinyml.train.rundir import RunDir

from .test_native import _inputs, _model_bytes, _write, blocks_everywhere, fuse_everything

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
                                reason="needs gcc-arm-none-eabi and qemu-system-arm (scripts/bootstrap.sh)")


def _on_qemu(model_path: Path, out: Path, n: int, weights: str = "auto") -> tuple[np.ndarray, np.ndarray, list, int]:
    board = get_board("qemu")
    project = generate(model_path, board, out / "project", runtime="native", name="m", weights=weights)
    firmware = build_project(project.path)
    assert firmware.sizes.flash > 0 and firmware.sizes.ram >= project.arena_bytes
    model = load_model(model_path)
    x = _inputs(model.input_tensors[0].shape[1:], n, seed=7)
    with platform_for(board).open_target(firmware.elf, None) as target:
        session = Session(target)
        session.wait_ready()
        info = session.info()
        assert (info.runtime, info.arena, info.tick_unit) == ("native", project.arena_bytes, "instructions")
        ours = np.stack([session.run(row) for row in x])
        ticks = [session.infer(1).ticks for _ in range(2)]
        assert ticks[0] == ticks[1] and ticks[0]  # -icount shift=0: instruction counts repeat exactly
        layers = session.layers()
        session.exit()
        assert target.wait_exit() == 0  # type: ignore[attr-defined]
    ref = TflmRunner(model.data).run(x).reshape(n, -1)
    assert [layer.name for layer in layers] == [op.opcode for op in model.operators]
    return ours, ref, layers, int(ticks[0] or 0)


def test_dscnn_firmware_is_bit_exact_on_the_emulated_stm32(trained_run: Path, tmp_path: Path) -> None:
    ours, ref, layers, ticks = _on_qemu(RunDir(trained_run).int8_model, tmp_path, n=40)
    assert np.array_equal(ours, ref), f"{(ours != ref).any(axis=1).sum()} of {len(ours)} outputs differ"
    assert sum(layer.ticks for layer in layers) <= ticks


@pytest.mark.parametrize(("name", "weights"), [("conv_edges", "int16"), ("conv_edges", "int8"),
                                               ("depthwise_edges", "auto"), ("add_pad_softmax", "auto"),
                                               ("residual_edges", "auto"), ("residual_edges", "int8"),
                                               ("band_edges", "auto"),
                                               ("packed_depths", "auto"), ("packed_depths", "int8"),
                                               ("grouped_edges", "auto"), ("grouped_edges", "int8"),
                                               ("mcunet", "int8")])
def test_dsp_kernels_are_bit_exact_on_the_emulated_stm32(name: str, weights: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    fuse_everything(monkeypatch)
    ours, ref, _, _ = _on_qemu(_write(tmp_path, _model_bytes(name)), tmp_path, n=8, weights=weights)
    assert np.array_equal(ours, ref), f"{name}: {(ours != ref).any(axis=1).sum()} of {len(ours)} outputs differ"


def test_planar_depthwise_is_bit_exact_on_the_emulated_stm32(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Cortex-M pair kernel on every layer of planar_edges, in bands of one and two rows (DS-CNN
    and MobileNet reach it with the generator's own choice)."""
    import tinyml.native.plane as planes

    monkeypatch.setattr(planes, "PLANAR_MIN_PIXELS", 0)
    monkeypatch.setattr(planes, "PLANE_BYTES", 64)
    ours, ref, _, _ = _on_qemu(_write(tmp_path, _model_bytes("planar_edges")), tmp_path, n=8)
    assert np.array_equal(ours, ref), f"{(ours != ref).any(axis=1).sum()} of {len(ours)} outputs differ"
    assert len({row.tobytes() for row in ref}) == len(ref)


def test_winograd_is_bit_exact_on_the_emulated_stm32(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Cortex-M Winograd kernel (SADD16 input transform, the three unrolled SMLAD loops for 16, 32
    and 64 input channels, the portable loop for 48) on every 3x3 layer of winograd_edges."""
    from tinyml.native import winograd

    monkeypatch.setattr(winograd, "FAST_IN_C", (16, 32, 48, 64))
    ours, ref, _, _ = _on_qemu(_write(tmp_path, _model_bytes("winograd_edges")), tmp_path, n=8)
    assert np.array_equal(ours, ref), f"{(ours != ref).any(axis=1).sum()} of {len(ours)} outputs differ"
    assert len({row.tobytes() for row in ref}) == len(ref)
    assert (tmp_path / "project" / "src" / "model.c").read_text().count(".winograd = 1,") == 6


def test_residual_blocks_in_bands_are_bit_exact_on_the_emulated_stm32(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Every block of block_edges through tm_block_s8 with the Cortex-M kernels (Winograd among them)."""
    blocks_everywhere(monkeypatch)
    ours, ref, _, _ = _on_qemu(_write(tmp_path, _model_bytes("block_edges")), tmp_path, n=8)
    assert np.array_equal(ours, ref), f"{(ours != ref).any(axis=1).sum()} of {len(ours)} outputs differ"
    assert len({row.tobytes() for row in ref}) == len(ref)
    assert (tmp_path / "project" / "src" / "model.c").read_text().count("tm_block_s8(") == 6


@pytest.mark.parametrize(("name", "mlperf_id"), [("mobilenet_v1_025", "vww01"), ("resnet8", "ic01"),
                                                  ("toyadmos_autoencoder", "ad01")])
def test_mlperf_models_are_bit_exact_on_the_emulated_stm32(name: str, mlperf_id: str, tmp_path: Path) -> None:
    """With DS-CNN (kws01) above: all four MLPerf Tiny models, on inputs whose outputs differ."""
    ours, ref, _, _ = _on_qemu(_write(tmp_path, _model_bytes(name)), tmp_path, n=6)
    assert np.array_equal(ours, ref), f"{name}: {(ours != ref).any(axis=1).sum()} of {len(ours)} outputs differ"
    # a 2-class softmax (vww01) saturates: some inputs share an output, most must not
    assert len({row.tobytes() for row in ref}) >= len(ref) // 2 + 1
    config = (tmp_path / "project" / "src" / "tinyml_model_config.h").read_text()
    assert f'#define TM_MLPERF_MODEL "{mlperf_id}"' in config  # what `profile%` reports to the runner
