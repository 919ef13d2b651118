"""``tinyml bench``: latency over N single-inference runs (median, p90, min, max — in ticks, and
in µs where ticks are time), per-layer ticks, and the firmware's flash/RAM from its ELF.

Ticks are cycles (a real Cortex-M's DWT counter: time at the core clock), µs (``micros()``), or,
on the emulated board, executed instructions. Instructions are not time: the emulated board's
latency is never printed as measured µs, only as a labelled estimate at the board's clock, from
the cycles a Cortex-M4 timing model gives one inference's executed instructions
(``tinyml.measure.cycles``; one cycle per instruction when no execution log is available)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from tinyml.audio import features
from tinyml.build.elf import ElfSizes
from tinyml.device.session import Session
from tinyml.generate.render import render
from tinyml.measure.cycles import CycleEstimate

INFER_DEADLINE_S = 60.0  # one inference of a large model on a slow board
FRONTEND_STRIDES = 50  # 1 s of audio through the streaming front end


@dataclass(frozen=True)
class BenchResult:
    board: str
    runtime: str
    model: str
    runs: int
    tick_unit: str  # cycles, instructions or us
    ticks_hz: int
    ticks: tuple[int, ...]  # per run
    arena_bytes: int
    flash_bytes: int | None
    ram_bytes: int | None
    layers: tuple[tuple[str, int], ...]  # (operator, ticks) of the last run
    clock_hz: int = 0  # the board's core clock (boards/*.yaml), for the estimate from instructions
    frontend_ticks_per_stride: int | None = None  # the audio front end, per 20 ms stride (None: no front end)
    stride_ms: float = 1000.0 * features.STRIDE / features.SAMPLE_RATE
    estimated_cycles: int | None = None  # one inference, from the timing model (emulated boards)
    cycle_classes: tuple[tuple[str, int], ...] = ()  # its cycles per instruction class
    cycle_functions: tuple[tuple[str, int], ...] = ()  # its cycles per firmware function, largest first
    traced_instructions: int | None = None  # the instructions the timing model costed

    @property
    def cycles_per_instruction(self) -> float | None:
        if self.estimated_cycles is None or not self.traced_instructions:
            return None
        return self.estimated_cycles / self.traced_instructions

    @property
    def realtime_fraction(self) -> float | None:
        """Share of real time that streaming takes — the front end and one inference every stride —
        at the measured clock (cycles, µs) or the board's clock (instructions: an estimate)."""
        if self.frontend_ticks_per_stride is None or not (self.measures_time or self.clock_hz):
            return None
        per_stride_us = self.us(self.frontend_ticks_per_stride + self.stat("median"))
        return per_stride_us / (1000.0 * self.stride_ms)

    @property
    def measures_time(self) -> bool:
        return self.tick_unit in ("cycles", "us")

    def stat(self, name: str) -> int:
        values = np.array(self.ticks)
        return int({"median": np.median(values), "p90": np.percentile(values, 90), "min": values.min(),
                    "max": values.max()}[name])

    def us(self, ticks: int) -> float:
        """Measured µs (cycles or µs ticks), or the estimate at the board's clock (instructions
        costed at the timing model's cycles per instruction, else one each)."""
        if self.measures_time or not self.clock_hz:
            return ticks * 1e6 / self.ticks_hz
        return ticks * (self.cycles_per_instruction or 1.0) * 1e6 / self.clock_hz

    def time_text(self, ticks: int) -> str:
        if self.measures_time:
            return f"{self.us(ticks):,.0f} µs"
        if not self.clock_hz:
            return "no time: instructions are not cycles"
        if (cpi := self.cycles_per_instruction) is not None:
            return (f"estimate ≈ {self.us(ticks):,.0f} µs at {self.clock_hz / 1e6:g} MHz: Cortex-M4 timing model, "
                    f"{cpi:.2f} cycles per instruction, flash wait states not modelled; not measured")
        return (f"estimate ≈ {self.us(ticks):,.0f} µs at {self.clock_hz / 1e6:g} MHz if every instruction took one "
                "cycle, not measured")

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["realtime_fraction"] = self.realtime_fraction
        data["summary"] = {k: self.stat(k) for k in ("median", "p90", "min", "max")}
        key = "summary_us" if self.measures_time else "estimate_us_at_board_clock"
        if self.measures_time or self.clock_hz:
            data[key] = {k: round(self.us(self.stat(k)), 1) for k in ("median", "p90", "min", "max")}
        return data

    def to_markdown(self) -> str:
        return render("report/bench.md.j2", r=self)

    def to_svg(self) -> str:
        top = max((t for _, t in self.layers), default=1) or 1
        bars = [(i, name, ticks, 400 * ticks / top) for i, (name, ticks) in enumerate(self.layers)]
        return render("report/layers.svg.j2", r=self, bars=bars)

    def write(self, out: Path) -> list[Path]:
        out.mkdir(parents=True, exist_ok=True)
        files = {"bench.json": json.dumps(self.to_json(), indent=2) + "\n", "bench.md": self.to_markdown(),
                 "layers.svg": self.to_svg()}
        for name, text in files.items():
            (out / name).write_text(text)
        return [out / name for name in files]


def bench(session: Session, runs: int, board: str, sizes: ElfSizes | None = None,
          x: np.ndarray | None = None, clock_hz: int = 0, cycles: CycleEstimate | None = None) -> BenchResult:
    """``runs`` timed inferences of ``x`` (default: all zeros). The input is loaded first: the runtime
    reuses the input tensor's memory during an inference, and the firmware restores it from the
    loaded bytes before every run, so every run computes the same thing."""
    info = session.info()
    data = np.zeros(info.input_bytes, dtype=np.int8) if x is None else np.ascontiguousarray(x, dtype=np.int8)
    session.load(data.tobytes())
    ticks = []
    for _ in range(runs):
        result = session.infer(1, 0, INFER_DEADLINE_S)
        ticks.append(int(result.ticks if result.ticks is not None else result.lap_us))
    layers = tuple((layer.name, layer.ticks) for layer in session.layers())
    frontend = None
    if info.audio_bytes:  # the firmware listens: its front end's cost per stride, measured on the device
        fe_ticks, strides = session.frontend_cost(FRONTEND_STRIDES)
        frontend = round(fe_ticks / strides)
    return BenchResult(board, info.runtime, info.model, runs, info.tick_unit, info.ticks_hz, tuple(ticks), info.arena,
                       sizes.flash if sizes else None, sizes.ram if sizes else None, layers, clock_hz, frontend,
                       estimated_cycles=cycles.cycles if cycles else None,
                       cycle_classes=tuple(cycles.by_class.most_common()) if cycles else (),
                       cycle_functions=tuple(cycles.by_function.most_common()) if cycles else (),
                       traced_instructions=cycles.instructions if cycles else None)
