"""Benchmark (not a test): the four MLPerf Tiny models — KWS DS-CNN, VWW MobileNetV1-0.25, IC
ResNet-8, AD ToyADMOS autoencoder (random calibrated weights, converted to int8 for real) — with the
code-generated native runtime and with TFLite Micro + CMSIS-NN (release defines: NDEBUG and
TF_LITE_STRIP_ERROR_STRINGS), on the emulated STM32F405.

Per model and runtime: executed instructions (QEMU ``-icount shift=0``), estimated Cortex-M4 cycles
(``tinyml.measure.cycles``: the executed instructions costed with Cortex-M4 timings, no flash wait
states) and that estimate in ms at 120 MHz (NUCLEO-L4R5ZI, the MLPerf Tiny reference board, a
Cortex-M4) and 216 MHz (NUCLEO-F746ZG, a Cortex-M7: M4 timings, an upper bound there), arena,
firmware flash and static RAM; then native/TFLM ratios. The native runtime is measured twice: with
its default weight layout (int16 convolution weights where they fit: fastest) and with int8 weights
everywhere (``--weights int8``: half the convolutions' flash, SXTB16 in the inner loop). TFLM comes
from ``TINYML_TFLM_DIR`` or, unset, the pinned tree in ``../shared/tflm/``. When TFLM does not fit
the board's 128 KB it is measured on the same emulated chip with all the SRAM QEMU maps (192 KB; a
board file written for the run, labelled in the table) — never shown as 0.

    python benchmarks/mlperf.py [--models dscnn,mobilenet_v1_025,resnet8,toyadmos] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests/ has the reference models

from tinyml.boards import Board, get_board, write_variant
from tinyml.build.tflm import STRIP_ERROR_STRINGS, export_tflm
from tinyml.errors import DoesNotFitError
from tinyml.generate.project import generate
from tinyml.measure.estimate import estimate_inference
from tinyml.platform import platform_for, session_for
from tinyml.tflite.model import load_model

SHAPES = {"dscnn": (49, 10, 1), "mobilenet_v1_025": (96, 96, 3), "resnet8": (32, 32, 3), "toyadmos": (640,)}
CLOCKS_MHZ = (120, 216)
# Published latency of the same CMSIS-NN kernels on a real NUCLEO-L4R5ZI at 120 MHz (flash wait states,
# ART accelerator): MLPerf Tiny v1.1, Krai's closed microTVM + CMSIS-NN results, 1 / (inferences per s).
PUBLISHED_L4R5ZI_MS = {"dscnn": 1000 / 10.019, "mobilenet_v1_025": 1000 / 3.324, "resnet8": 1000 / 2.567,
                       "toyadmos": 1000 / 116.212}


def _model(name: str, work: Path) -> Path:
    from tests.mlperf_models import mobilenet_v1_025, random_int8, resnet8, toyadmos_autoencoder
    from tinyml.models.dscnn import build_dscnn

    path = work / f"{name}.tflite"
    if not path.is_file():
        builders = {"dscnn": lambda keras: build_dscnn("dscnn", SHAPES["dscnn"], 12, keras),
                    "mobilenet_v1_025": mobilenet_v1_025, "resnet8": resnet8, "toyadmos": toyadmos_autoencoder}
        low_high = (-3.0, 3.0) if name == "toyadmos" else (-1.0, 1.0)
        path.write_bytes(random_int8(builders[name], SHAPES[name], *low_high))
    return path


def _full_sram_board(work: Path) -> Board:
    """The emulated STM32F405 with the 192 KB of SRAM QEMU maps (the silicon has 128 KB contiguous):
    where a runtime that does not fit the real budget can still be measured."""
    return write_variant(get_board("qemu"), "qemu-stm32f405-192k", work / "boards-192k", sram_kb=192)


def _measure(model_path: Path, runtime: str, out: Path, board: Board | None = None,
             weights: str = "auto") -> dict[str, object]:
    board = board or get_board("qemu")
    project = generate(model_path, board, out, runtime=runtime, name=model_path.stem, force=True, weights=weights)
    # TFLM as its release build: the projects define NDEBUG; the error strings go too (PlatformIO
    # adds PLATFORMIO_BUILD_FLAGS to every source, the library's included)
    os.environ["PLATFORMIO_BUILD_FLAGS"] = STRIP_ERROR_STRINGS if runtime == "tflm" else ""
    firmware = platform_for(board).build(project.path, runtime)  # board may be the run's own 192 KB file
    x = np.random.default_rng(0).integers(-128, 128, load_model(model_path).input_tensors[0].elements).astype(np.int8)
    cycles = estimate_inference(platform_for(board), firmware.elf, x)
    assert cycles is not None
    with session_for(board, firmware.elf) as session:
        info = session.info()
        session.load(x.tobytes())
        ticks = session.infer(1, 0, 600).ticks
    return {"instructions": int(ticks or 0), "cycles": cycles.cycles, "cycle_classes": dict(cycles.by_class),
            "cycle_functions": dict(cycles.by_function.most_common(10)),
            "arena": info.arena, "flash": firmware.sizes.flash, "ram": firmware.sizes.ram, "board": board.id}


def _cells(m: dict[str, object] | None, why: str) -> str:
    if m is None:
        return f"{why:>80}"
    ms = "".join(f" {int(m['cycles']) / (mhz * 1000):>9.2f}" for mhz in CLOCKS_MHZ)  # type: ignore[call-overload]
    return (f"{m['instructions']:>12,} {m['cycles']:>12,}{ms} {m['arena']:>8,} {m['flash']:>9,} {m['ram']:>8,}")


def _ratio(key: str, nat: dict[str, object], tflm: dict[str, object] | None) -> str:
    return f"{int(nat[key]) / int(tflm[key]):.2f}x" if tflm else "n/a"  # type: ignore[call-overload]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(SHAPES))
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    work = args.work or Path(tempfile.mkdtemp(prefix="tinyml-bench-mlperf-"))
    work.mkdir(parents=True, exist_ok=True)
    if not os.environ.get("TINYML_TFLM_DIR"):
        from tests.tflm_source import use_shared_tflm

        use_shared_tflm()
    with_tflm = bool(os.environ.get("TINYML_TFLM_DIR"))
    if with_tflm:
        export_tflm()
    rows = []
    for name in args.models.split(","):
        path = _model(name, work)
        row: dict[str, object] = {"model": name, "native": _measure(path, "native", work / f"{name}-native"),
                                  "native_int8": _measure(path, "native", work / f"{name}-native-int8",
                                                          weights="int8")}
        if with_tflm:
            try:
                row["tflm"] = _measure(path, "tflm", work / f"{name}-tflm")
            except DoesNotFitError as err:  # a result too: TFLM's arena is what does not fit
                row["tflm_error"] = str(err)
                row["tflm"] = _measure(path, "tflm", work / f"{name}-tflm-192k", _full_sram_board(work))
        rows.append(row)
        (work / "mlperf.json").write_text(json.dumps(rows, indent=2) + "\n")  # what is measured so far
    clocks = "".join(f" {f'ms@{mhz}MHz':>9}" for mhz in CLOCKS_MHZ)
    print(f"{'model':18} {'runtime':7} {'instructions':>12} {'est.cycles':>12}{clocks} {'arena':>8} {'flash':>9} "
          f"{'RAM':>8}")
    for row in rows:
        nat, nat8, tflm = row["native"], row["native_int8"], row.get("tflm")
        print(f"{row['model']:18} {'native':7} {_cells(nat, '')}")  # type: ignore[arg-type]
        print(f"{'':18} {'int8 w.':7} {_cells(nat8, '')}")  # type: ignore[arg-type]
        why = "does not fit the board" if "tflm_error" in row else "no TFLM source (TINYML_TFLM_DIR)"
        print(f"{'':18} {'tflm':7} {_cells(tflm, why)}")  # type: ignore[arg-type]
        if "tflm_error" in row:
            print(f"{'':18} {'':7} TFLM does not fit 128 KB: measured on QEMU's full 192 KB of SRAM")
        if tflm and row["model"] in PUBLISHED_L4R5ZI_MS:
            published, estimate = PUBLISHED_L4R5ZI_MS[str(row["model"])], int(tflm["cycles"]) / 120_000  # type: ignore[call-overload]
            print(f"{'':18} {'calib.':7} a real NUCLEO-L4R5ZI runs these CMSIS-NN kernels in {published:.1f} ms "
                  f"(MLPerf Tiny v1.1, microTVM): {published / estimate:.2f}x the TFLM estimate at 120 MHz")
        print(f"{'':18} {'ratio':7} cycles {_ratio('cycles', nat, tflm)}, instructions "  # type: ignore[arg-type]
              f"{_ratio('instructions', nat, tflm)}, arena {_ratio('arena', nat, tflm)}, "  # type: ignore[arg-type]
              f"flash {_ratio('flash', nat, tflm)}")  # type: ignore[arg-type]
        print(f"{'':18} {'ratio':7} int8 weights: cycles {_ratio('cycles', nat8, tflm)}, "  # type: ignore[arg-type]
              f"arena {_ratio('arena', nat8, tflm)}, flash {_ratio('flash', nat8, tflm)}")  # type: ignore[arg-type]
    print("est.cycles: executed instructions costed with Cortex-M4 timings (LDM/STM 1+N, loads 2 or 1 pipelined, "
          "taken branch 3, MAC 1), no flash wait states — an estimate, not a measurement")
    print(f"details: {work / 'mlperf.json'}")


if __name__ == "__main__":
    main()
