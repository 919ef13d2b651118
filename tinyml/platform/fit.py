"""The one rule for "does this model fit this board": what the firmware will really allocate.

- **flash**: the model as the runtime keeps it (TFLM: the flatbuffer; native: its constant arrays
  plus kernels) + the board's firmware reserve;
- **SRAM**: the runtime's arena as the firmware allocates it (TFLM: the host interpreter's
  measurement plus margins for the CMSIS-NN/ESP-NN scratch the reference kernels do not request;
  native: its static plan) + the protocol's copy of one input (``db load`` restores it before
  every run) + the board's firmware reserve.

``tinyml analyze``, ``search``, ``generate`` and ``deploy`` all ask :func:`place` (or, for search's
estimated candidates, :func:`fit` with an estimated :class:`MemoryNeed`), so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinyml.boards import Board
from tinyml.errors import TinymlError
from tinyml.native.emit import NativeModel, build_native
from tinyml.tflite.interpreters import tflm_arena_size
from tinyml.tflite.model import TfliteModel

RUNTIMES = ("native", "tflm", "echo")  # echo: the protocol engine alone (no model), for link tests
WEIGHT_LAYOUTS = ("auto", "int16", "int8")  # native runtime: int16 is fastest, int8 halves the weights' flash
ARENA_MARGIN_BYTES = 1024  # CMSIS-NN / ESP-NN scratch buffers the host reference kernels do not request
ARENA_MARGIN_FRACTION = 0.05


def arena_with_margin(host_arena: int) -> int:
    """TFLM's arena as the firmware allocates it, from the host interpreter's measurement."""
    size = int(host_arena * (1 + ARENA_MARGIN_FRACTION)) + ARENA_MARGIN_BYTES
    return (size + 15) // 16 * 16


def check_runtime(runtime: str) -> None:
    if runtime not in RUNTIMES:
        raise TinymlError(f"unknown runtime '{runtime}'; choose one of: {', '.join(RUNTIMES)}")


@dataclass(frozen=True)
class MemoryNeed:
    """What one model costs on a runtime, before the board's reserve."""

    runtime: str
    flash_bytes: int  # the model as the runtime stores it
    arena_bytes: int  # the arena as the firmware allocates it
    input_bytes: int  # the protocol's copy of one input (+ the audio front end's memory and, native, the input)


@dataclass(frozen=True)
class FrontEndNeed:
    """What the firmware's audio front end adds: a raw-audio input buffer, its working memory
    (FFT buffers, the streaming window and feature ring) and its tables and code in flash."""

    audio_bytes: int
    sram_bytes: int
    flash_bytes: int


@dataclass(frozen=True)
class Fit:
    board: str
    runtime: str
    flash_needed: int
    flash_budget: int
    sram_needed: int
    sram_budget: int
    input_bytes: int

    @property
    def fits(self) -> bool:
        return self.flash_needed <= self.flash_budget and self.sram_needed <= self.sram_budget

    def describe(self) -> str:
        def part(what: str, need: int, budget: int) -> str:
            verdict = "ok" if need <= budget else f"over by {(need - budget) / 1024:.1f} KB"
            return f"{what} {need / 1024:.1f} KB of {budget / 1024:.1f} KB ({verdict})"
        return (f"{self.board} ({self.runtime} runtime): " + part("flash", self.flash_needed, self.flash_budget)
                + ", " + part("SRAM", self.sram_needed, self.sram_budget))


def fit(board: Board, need: MemoryNeed) -> Fit:
    return Fit(board.id, need.runtime, need.flash_bytes + board.reserve_flash_bytes, board.flash_bytes,
               need.arena_bytes + need.input_bytes + board.reserve_sram_bytes, board.sram_bytes, need.input_bytes)


@dataclass(frozen=True)
class Placement:
    """A model placed on a board: its need, the verdict, and the native build that was sized."""

    need: MemoryNeed
    fit: Fit
    native: NativeModel | None = None
    tflm_arena: int = 0  # the TFLM host interpreter's measurement (0 when not measured)


def place(board: Board, model: TfliteModel, runtime: str, *, weights: str = "auto", name: str = "model",
          source_name: str = "model.tflite", where: str = "model", tflm_arena: int | None = None,
          front_end: FrontEndNeed | None = None) -> Placement:
    """Size ``model`` for ``runtime`` on ``board``. The native runtime takes int16 convolution weights
    (fastest) when they fit the flash; otherwise (``weights="auto"``) the fewest convolutions go to
    int8 weights that make them fit (:func:`narrowest_first`), all of them if need be. ``tflm_arena``:
    the TFLM host measurement when the caller has it already (it costs an interpreter run).
    ``front_end``: the audio front end the firmware carries (its input buffer holds raw audio then)."""
    check_runtime(runtime)
    input_bytes = model.input_tensors[0].elements
    if front_end is not None:  # the input buffer holds a raw clip; the front end's memory counts with it
        input_bytes = max(input_bytes, front_end.audio_bytes) + front_end.sram_bytes
    front_flash = front_end.flash_bytes if front_end is not None else 0
    if runtime != "native":
        host_arena = tflm_arena if tflm_arena is not None else tflm_arena_size(model.data)
        need = MemoryNeed(runtime, len(model.data) + front_flash, arena_with_margin(host_arena), input_bytes)
        return Placement(need, fit(board, need), None, host_arena)
    if weights not in WEIGHT_LAYOUTS:
        raise TinymlError(f"unknown weight layout '{weights}'; choose one of: {', '.join(WEIGHT_LAYOUTS)}")
    native = build_native(model, name, source_name, where, wide_weights=weights != "int8")
    # The native input has a buffer of its own beside the arena: the protocol's load buffer (input_bytes)
    # itself, or one more beside a front end's raw-clip buffer.
    if front_end is not None:
        input_bytes += model.input_tensors[0].elements
    need = MemoryNeed(runtime, native.flash_estimate + front_flash, native.plan.arena_bytes, input_bytes)
    verdict = fit(board, need)
    if weights == "auto" and verdict.flash_needed > verdict.flash_budget:
        wide = set(native.int16_convs)
        over = verdict.flash_needed - verdict.flash_budget
        for index, saved in narrowest_first(native):
            if over <= 0:
                break
            wide.discard(index)
            over -= saved
        native = build_native(model, name, source_name, where, wide_weights=frozenset(wide))
        need = MemoryNeed(runtime, native.flash_estimate + front_flash, native.plan.arena_bytes, input_bytes)
        verdict = fit(board, need)
    return Placement(need, verdict, native)


def narrowest_first(native: NativeModel) -> list[tuple[int, int]]:
    """The int16-weight convolutions as (operator index, flash bytes int8 weights save), cheapest
    first: int8 weights add about the same cycles per MAC to any convolution (two SXTB16 per weight
    word and pixel pair), so the cycles a saved byte costs grow with the MACs per weight — the output
    pixels — and the convolutions with the fewest go first."""
    convs = [ly for ly in native.layers if ly.kind == "conv" and ly.conv.wide]
    saved = {ly.index: ly.arrays["weights"][1].nbytes // 2 for ly in convs}
    order = sorted(convs, key=lambda ly: (ly.macs / max(saved[ly.index], 1), ly.index))
    return [(ly.index, saved[ly.index]) for ly in order]
