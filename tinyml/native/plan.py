"""The native runtime's static memory plan: which tensors share a buffer (views, in-place kernels),
how long each buffer lives over the schedule, and where it sits in one arena.

Planned over the schedule's kernel calls (``fuse.py``: a convolution fused with its residual ADD is
one call, and its output tensor gets no buffer). In place: a kernel that allows it writes its output
over its first input (for ADD, either input; a fused convolution + ADD, the residual) when nothing
later reads that input, no other input of the call shares its buffer, and it is not the model input
(``infer N`` runs the same input N times).

The model input (and any view of it) lives outside the arena, in a buffer of its own that the
firmware's protocol loads straight into (no copy of every input into the arena): ``external``.
A step that runs in place over a buffer larger than the tensors it reads and writes there (an
in-place chain keeps its largest member's size: a strided block's output is half its input) puts
its scratch in that buffer's unused end, which nothing else uses while it runs: only the step's own
tensors of a chain are alive during it (an input written over has no later reader).

Buffers are packed by a first-fit placement tried in several orders (TFLM's largest-first among
them), keeping the smallest arena.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinyml.mcunet.planner import Buffer, greedy_plan
from tinyml.native.fuse import Step, align
from tinyml.tflite.model import TfliteModel


@dataclass(frozen=True)
class MemoryPlan:
    arena_bytes: int
    tensor_offsets: dict[int, int]  # activation tensor -> arena offset (all but the external ones)
    scratch_offsets: dict[int, int]  # step index -> offset of its scratch (steps that need one)
    scratch_bytes: dict[int, int]
    in_place: dict[int, bool]  # layer index -> writes over its input (a fused call: its last layer)
    tensor_bytes: int  # sum of all activation buffers if nothing were shared (for the report)
    external: frozenset[int] = frozenset()  # the model input and its views: in the input buffer, not the arena


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


def _last_reads(steps: list[Step]) -> dict[int, int]:
    last: dict[int, int] = {}
    for pos, step in enumerate(steps):
        for t in step.inputs:
            last[t] = pos
    return last


def plan_memory(model: TfliteModel, steps: list[Step], allow_in_place: bool = True) -> MemoryPlan:
    used = {t for step in steps for t in (*step.inputs, step.output)} | set(model.inputs) | set(model.outputs)
    sizes = {t.index: t.nbytes for t in model.tensors if not t.is_constant and t.index in used}
    groups = _Groups()
    last_read = _last_reads(steps)
    pinned = set(model.inputs) | set(model.outputs)
    in_place: dict[int, bool] = {}
    for pos, step in enumerate(steps):
        for layer in step.layers:
            in_place[layer.index] = False
        if step.kind == "alias":
            groups.union(step.output, step.inputs[0])
            continue
        if not allow_in_place or step.output in model.outputs:
            continue
        for candidate in step.in_place_inputs:
            root = groups.find(candidate)
            members = [t for t in sizes if groups.find(t) == root]
            if any(t in pinned for t in members) or any(last_read.get(t, -1) > pos for t in members):
                continue
            if any(groups.find(t) == root for t in step.inputs if t != candidate) or step.inputs.count(candidate) > 1:
                continue  # another input of the call lives in that buffer (or the same input twice)
            groups.union(step.output, candidate)
            in_place[step.layers[-1].index] = True
            break

    first: dict[int, int] = {}
    last: dict[int, int] = {}
    size: dict[int, int] = {}
    end = len(steps) - 1
    for t, n in sizes.items():
        root = groups.find(t)
        size[root] = max(size.get(root, 0), n)
    for t in model.inputs:
        first[groups.find(t)] = 0
    for t in model.outputs:
        last[groups.find(t)] = end
    for pos, step in enumerate(steps):
        for t in step.inputs:
            r = groups.find(t)
            last[r] = max(last.get(r, pos), pos)
        r = groups.find(step.output)
        first[r] = min(first.get(r, pos), pos)
        last[r] = max(last.get(r, pos), pos)

    outside = {groups.find(t) for t in model.inputs}
    roots = sorted(r for r in size if r not in outside)
    buffers = [Buffer(align(size[r]), first.get(r, 0), max(last.get(r, 0), first.get(r, 0))) for r in roots]
    scratch_layers = []
    in_tail: dict[int, tuple[int, int, int]] = {}  # step index -> (group root, offset in it, bytes)
    for pos, step in enumerate(steps):
        need = step.scratch_in_place if in_place[step.layers[-1].index] else step.scratch
        if not need:
            continue
        if in_place[step.layers[-1].index]:
            root = groups.find(step.output)
            live = align(max(sizes[t] for t in (*step.inputs, step.output) if groups.find(t) == root))
            if root not in outside and align(size[root]) - live >= align(need):
                in_tail[step.index] = (root, live, align(need))
                continue
        scratch_layers.append(step.index)
        buffers.append(Buffer(align(need), pos, pos))
    arena, offsets = _best_plan(buffers)
    root_offset = dict(zip(roots, offsets[: len(roots)], strict=True))
    scratch_offsets = dict(zip(scratch_layers, offsets[len(roots) :], strict=True))
    scratch_bytes = {i: b.size for i, b in zip(scratch_layers, buffers[len(roots) :], strict=True)}
    for i, (root, at, n) in in_tail.items():
        scratch_offsets[i], scratch_bytes[i] = root_offset[root] + at, n
    external = frozenset(t for t in sizes if groups.find(t) in outside)
    return MemoryPlan(arena, {t: root_offset[groups.find(t)] for t in sizes if t not in external}, scratch_offsets,
                      scratch_bytes, in_place, sum(align(n) for n in sizes.values()), external)


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
