"""Benchmark (not a test): per board, the MCUNet search's chosen space and network — MACs,
estimated peak SRAM (TFLM arena) and flash — and the memory model's error against the arena
and file size measured on the int8 model (random weights, batch norm recalibrated, converted,
TFLM host interpreter).

    python benchmarks/mcunet.py [--classes 2] [--samples 100] [--boards nucleo_f746zg nrf52840_dk qemu-stm32f405]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from tinyml.boards import get_board
from tinyml.mcunet.search import search
from tinyml.platform import platform_for
from tinyml.tflite.model import parse_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests/ has the validator
from tests.mcunet_validate import validate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=2)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--boards", nargs="+", default=["nucleo_f746zg", "nrf52840_dk", "qemu-stm32f405"])
    args = parser.parse_args()
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    rows = []
    for name in args.boards:
        board = get_board(name)
        started = time.perf_counter()
        result = search(board, args.classes, args.seed, args.samples, runtime="tflm")
        seconds = time.perf_counter() - started
        v = validate(result.best.arch, args.seed)
        fits = platform_for(board).place(parse_model(v.tflite), "tflm").fit.fits  # the rule generate applies
        rows.append((board.id, result.best.arch, v, fits, seconds))
    print(f"\nMCUNet search, {args.classes} classes, {args.samples} samples per space")
    print(f"{'board':16} {'config':>10} {'blocks':>6} {'MACs':>12} {'SRAM est':>9} {'SRAM meas':>9} {'err':>6} "
          f"{'flash est':>10} {'flash meas':>10} {'err':>6} {'fits':>5} {'search s':>8}")
    for board_id, arch, v, fits, seconds in rows:
        print(f"{board_id:16} {f'{arch.resolution}px w{arch.width:g}':>10} {len(arch.blocks):6} {v.estimate.macs:12,} "
              f"{v.estimate.arena_bytes / 1024:8.1f}K {v.measured.total / 1024:8.1f}K {v.arena_error:+6.1%} "
              f"{v.estimate.flash_bytes / 1024:9.1f}K {v.model_bytes / 1024:9.1f}K {v.flash_error:+6.1%} "
              f"{'yes' if fits else 'NO':>5} {seconds:8.1f}")


if __name__ == "__main__":
    main()
