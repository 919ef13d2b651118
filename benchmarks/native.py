"""Benchmark (not a test): the code-generated native runtime against TFLite Micro on the MLPerf
Tiny reference models (random weights, converted to int8 for real) on the emulated STM32F405.

Per model: instructions per inference under QEMU `-icount shift=0`, arena (native static plan vs
TFLM's measured arena) and flash (native firmware vs TFLM firmware, or vs the model flatbuffer when
TFLM sources are unavailable), each as a ratio native/TFLM. TFLM firmware is built and run when
TINYML_TFLM_DIR points at a tflite-micro checkout (see README).

    python benchmarks/native.py [--models dscnn,mobilenet_v1_025,resnet8] [--work DIR]
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

from tinyml.boards import get_board
from tinyml.build.tflm import export_tflm
from tinyml.errors import DoesNotFitError
from tinyml.generate.project import generate
from tinyml.native.emit import build_native
from tinyml.platform import build_project, session_for
from tinyml.tflite.interpreters import tflm_arena_size
from tinyml.tflite.model import load_model, parse_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests/ has the reference models
TARGETS = {"dscnn": ((49, 10, 1),), "mobilenet_v1_025": ((96, 96, 3),), "resnet8": ((32, 32, 3),)}


def _model(name: str, work: Path) -> Path:
    from tests.mlperf_models import mobilenet_v1_025, random_int8, resnet8
    from tinyml.models.dscnn import build_dscnn

    path = work / f"{name}.tflite"
    if not path.is_file():
        builders = {"dscnn": lambda keras: build_dscnn("dscnn", TARGETS["dscnn"][0], 12, keras),
                    "mobilenet_v1_025": mobilenet_v1_025, "resnet8": resnet8}
        path.write_bytes(random_int8(builders[name], TARGETS[name][0]))
    return path


def _measure(model_path: Path, runtime: str, out: Path) -> dict[str, int]:
    board = get_board("qemu")
    project = generate(model_path, board, out, runtime=runtime, name=model_path.stem, force=True)
    firmware = build_project(project.path)
    with session_for(board, firmware.elf) as session:
        info = session.info()
        session.load(np.zeros(info.input_bytes, dtype=np.int8).tobytes())
        ticks = session.infer(1, 0, 600).ticks
    return {"instructions": int(ticks or 0), "arena": info.arena, "flash": firmware.sizes.flash,
            "ram": firmware.sizes.ram}


def _ratio(a: int, b: int | None) -> str:
    return f"{a / b:6.2f}" if b else "   n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(TARGETS))
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    work = args.work or Path(tempfile.mkdtemp(prefix="tinyml-bench-native-"))
    work.mkdir(parents=True, exist_ok=True)
    with_tflm = bool(os.environ.get("TINYML_TFLM_DIR"))
    if with_tflm:
        export_tflm()
    rows = []
    for name in args.models.split(","):
        path = _model(name, work)
        model = load_model(path)
        native = _measure(path, "native", work / f"{name}-native")
        plan = build_native(parse_model(model.data), "m", path.name).plan
        row = {"model": name, "native": native, "native_plan_arena": plan.arena_bytes,
               "tflm_host_arena": tflm_arena_size(model.data), "model_bytes": len(model.data)}
        if with_tflm:
            try:
                row["tflm"] = _measure(path, "tflm", work / f"{name}-tflm")
            except DoesNotFitError as err:  # a result too: TFLM's arena is what does not fit
                row["tflm_error"] = str(err)
                print(f"{name}: TFLM firmware does not fit the board: {err}")
        rows.append(row)
        (work / "native.json").write_text(json.dumps(rows, indent=2) + "\n")  # what is measured so far
    print(f"{'model':18} {'native instr':>13} {'TFLM instr':>12} {'ratio':>6} | {'arena':>7} {'TFLM':>7} {'ratio':>6}"
          f" | {'flash':>8} {'TFLM':>8} {'ratio':>6}")
    for row in rows:
        nat = row["native"]
        tflm = row.get("tflm")
        t_instr = tflm["instructions"] if tflm else None
        t_arena = tflm["arena"] if tflm else row["tflm_host_arena"]
        t_flash = tflm["flash"] if tflm else None
        print(f"{row['model']:18} {nat['instructions']:>13,} {t_instr or 0:>12,} "
              f"{_ratio(nat['instructions'], t_instr)} | {nat['arena']:>7,} {t_arena:>7,} "
              f"{_ratio(nat['arena'], t_arena)} | {nat['flash']:>8,} {t_flash or 0:>8,} "
              f"{_ratio(nat['flash'], t_flash)}")
    if not with_tflm:
        print("TFLM columns: arena measured by the TFLM host interpreter; instructions and flash need TINYML_TFLM_DIR "
              "(model flatbuffers alone: " + ", ".join(f"{r['model']} {r['model_bytes']:,} B" for r in rows) + ")")
    (work / "native.json").write_text(json.dumps(rows, indent=2) + "\n")
    print(f"details: {work / 'native.json'}")


if __name__ == "__main__":
    main()
