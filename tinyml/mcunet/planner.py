"""TFLite Micro's arena planning, reproduced: tensor lifetimes over the op schedule, packed by
TFLM's GreedyMemoryPlanner (buffers sorted by size, largest first, each placed at the lowest
offset that does not collide with a buffer alive at the same time), with sizes
rounded up to TFLM's 16-byte buffer alignment."""

from __future__ import annotations

from dataclasses import dataclass

from tinyml.tflite.model import TfliteModel

BUFFER_ALIGNMENT = 16


@dataclass(frozen=True)
class Buffer:
    size: int
    first_used: int
    last_used: int


def align(size: int) -> int:
    return (size + BUFFER_ALIGNMENT - 1) // BUFFER_ALIGNMENT * BUFFER_ALIGNMENT


def greedy_plan(buffers: list[Buffer]) -> tuple[int, list[int]]:
    """(arena bytes, offset per buffer) exactly as TFLM's GreedyMemoryPlanner lays them out."""
    if not buffers:
        return 0, []
    # TFLM copies the buffers into its sort array back to front, then bubble-sorts by size (stable),
    # so among equal sizes the buffer added last is placed first.
    order = sorted(range(len(buffers) - 1, -1, -1), key=lambda i: -buffers[i].size)
    offsets = [-1] * len(buffers)
    placed: list[int] = []  # buffer ids ordered by offset
    for bid in order:
        want = buffers[bid]
        candidate = 0
        for other in placed:
            o = buffers[other]
            if o.first_used > want.last_used or want.first_used > o.last_used:
                continue  # not alive at the same time
            if offsets[other] - candidate >= want.size:
                break  # the gap before this buffer is big enough
            candidate = max(candidate, offsets[other] + o.size)
        offsets[bid] = candidate
        position = next((k for k, other in enumerate(placed) if offsets[other] > candidate), len(placed))
        placed.insert(position, bid)
    return max(offsets[i] + buffers[i].size for i in range(len(buffers))), offsets


def lifetimes(n_tensors: int, ops: list[tuple[tuple[int, ...], tuple[int, ...]]], graph_inputs: tuple[int, ...],
              graph_outputs: tuple[int, ...], sizes: list[int], planned: set[int]) -> list[Buffer]:
    """TFLM's allocation info: inputs live from op 0, outputs until the last op; otherwise a tensor
    lives from the op that writes it to the last op that reads it."""
    first = [-1] * n_tensors
    last = [-1] * n_tensors
    for t in graph_inputs:
        first[t] = 0
    for t in graph_outputs:
        last[t] = len(ops) - 1
    for i, (inputs, outputs) in enumerate(ops):
        for t in inputs:
            if t >= 0:
                last[t] = max(last[t], i)
        for t in outputs:
            if first[t] < 0:
                first[t] = i
    return [Buffer(align(sizes[t]), first[t], max(last[t], first[t])) for t in sorted(planned)]


def plan_tflite(model: TfliteModel) -> int:
    """Planned activation bytes (TFLM's arena 'head', without kernel scratch) for a real model."""
    planned = {t.index for t in model.tensors if not t.is_constant}
    ops = [(op.inputs, op.outputs) for op in model.operators]
    sizes = [t.nbytes for t in model.tensors]
    arena, _ = greedy_plan(lifetimes(len(model.tensors), ops, model.inputs, model.outputs, sizes, planned))
    return arena
