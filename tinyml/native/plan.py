"""The native runtime's static memory plan: which tensors share a buffer (views, in-place kernels),
how long each buffer lives over the schedule, and where it sits in one arena.

In place: a kernel that allows it writes its output over its first input (for ADD, either
input) when nothing later reads that input and it is not the model input (``infer N`` runs the
same input N times). Buffers are packed by a first-fit placement tried in several orders (TFLM's
largest-first among them), keeping the smallest arena.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinyml.mcunet.planner import Buffer, greedy_plan
from tinyml.native.lower import Layer
from tinyml.tflite.model import TfliteModel

ALIGNMENT = 4


def _align(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


@dataclass(frozen=True)
class MemoryPlan:
    arena_bytes: int
    tensor_offsets: dict[int, int]  # activation tensor -> arena offset
    scratch_offsets: dict[int, int]  # layer index -> offset of its scratch (layers that need one)
    scratch_bytes: dict[int, int]
    in_place: dict[int, bool]  # layer index -> writes over its input
    tensor_bytes: int  # sum of all activation buffers if nothing were shared (for the report)


class _Groups:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, t: int) -> int:
        self.parent.setdefault(t, t)
        while self.parent[t] != t:
            self.parent[t] = self.parent[self.parent[t]]
            t = self.parent[t]
        return t

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def _last_reads(layers: list[Layer]) -> dict[int, int]:
    last: dict[int, int] = {}
    for pos, layer in enumerate(layers):
        for t in layer.inputs:
            last[t] = pos
    return last


def plan_memory(model: TfliteModel, layers: list[Layer], allow_in_place: bool = True) -> MemoryPlan:
    sizes = {t.index: t.nbytes for t in model.tensors if not t.is_constant}
    groups = _Groups()
    last_read = _last_reads(layers)
    pinned = set(model.inputs) | set(model.outputs)
    in_place: dict[int, bool] = {}
    for pos, layer in enumerate(layers):
        in_place[layer.index] = False
        if layer.kind == "alias":
            groups.union(layer.output, layer.inputs[0])
            continue
        if not (allow_in_place and layer.in_place_ok) or layer.output in model.outputs:
            continue
        for candidate in layer.inputs if layer.kind == "add" else layer.inputs[:1]:
            root = groups.find(candidate)
            members = [t for t in sizes if groups.find(t) == root]
            if any(t in pinned for t in members) or any(last_read.get(t, -1) > pos for t in members):
                continue
            if layer.kind == "add" and len(set(layer.inputs)) == 1:
                continue
            groups.union(layer.output, candidate)
            in_place[layer.index] = True
            break

    first: dict[int, int] = {}
    last: dict[int, int] = {}
    size: dict[int, int] = {}
    end = len(layers) - 1
    for t, n in sizes.items():
        root = groups.find(t)
        size[root] = max(size.get(root, 0), n)
    for t in model.inputs:
        first[groups.find(t)] = 0
    for t in model.outputs:
        last[groups.find(t)] = end
    for pos, layer in enumerate(layers):
        for t in layer.inputs:
            r = groups.find(t)
            last[r] = max(last.get(r, pos), pos)
        r = groups.find(layer.output)
        first[r] = min(first.get(r, pos), pos)
        last[r] = max(last.get(r, pos), pos)

    roots = sorted(size)
    buffers = [Buffer(_align(size[r]), first.get(r, 0), max(last.get(r, 0), first.get(r, 0))) for r in roots]
    scratch_layers = []
    for pos, layer in enumerate(layers):
        need = layer.scratch_in_place if in_place[layer.index] else layer.scratch
        if need:
            scratch_layers.append(layer.index)
            buffers.append(Buffer(_align(need), pos, pos))
    arena, offsets = _best_plan(buffers)
    root_offset = dict(zip(roots, offsets[: len(roots)], strict=True))
    scratch_offsets = dict(zip(scratch_layers, offsets[len(roots) :], strict=True))
    scratch_bytes = {i: b.size for i, b in zip(scratch_layers, buffers[len(roots) :], strict=True)}
    return MemoryPlan(arena, {t: root_offset[groups.find(t)] for t in sizes}, scratch_offsets, scratch_bytes,
                      in_place, sum(_align(n) for n in sizes.values()))


def _best_plan(buffers: list[Buffer]) -> tuple[int, list[int]]:
    """First-fit placement in several orders; the smallest arena wins (ties: largest-first)."""
    best = greedy_plan(buffers)
    orders = [sorted(range(len(buffers)), key=lambda i: (buffers[i].first_used, -buffers[i].size)),
              sorted(range(len(buffers)), key=lambda i: (-(buffers[i].last_used - buffers[i].first_used),
                                                         -buffers[i].size))]
    for order in orders:
        arena, offsets = _first_fit(buffers, order)
        if arena < best[0]:
            best = (arena, offsets)
    return best


def _first_fit(buffers: list[Buffer], order: list[int]) -> tuple[int, list[int]]:
    offsets = [0] * len(buffers)
    placed: list[int] = []
    for i in order:
        b = buffers[i]
        live = sorted((offsets[j], offsets[j] + buffers[j].size) for j in placed
                      if not (buffers[j].first_used > b.last_used or b.first_used > buffers[j].last_used))
        at = 0
        for lo, hi in live:
            if lo - at >= b.size:
                break
            at = max(at, hi)
        offsets[i] = at
        placed.append(i)
    return (max((offsets[i] + buffers[i].size for i in range(len(buffers))), default=0), offsets)
