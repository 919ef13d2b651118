"""What a model costs: per-op MACs and parameters, activation sizes, the TFLM arena, and
whether it fits a board (asked of the board's platform: the rule generate applies)."""

from __future__ import annotations

from dataclasses import dataclass

from tinyml.boards import Board
from tinyml.platform.fit import Fit, FrontEndNeed
from tinyml.tflite.interpreters import tflm_arena_size
from tinyml.tflite.model import Operator, TfliteModel, require_full_int8


@dataclass(frozen=True)
class OpCost:
    index: int
    opcode: str
    output_shape: tuple[int, ...]
    macs: int
    params: int


@dataclass(frozen=True)
class Analysis:
    ops: tuple[OpCost, ...]
    macs: int
    params: int
    model_bytes: int
    arena_bytes: int
    largest_activation: int
    activation_bytes: int
    fit: Fit | None  # on the board asked about, for the runtime asked about (the same rule generate applies)
    runtime_arena_bytes: int | None  # that runtime's arena as the firmware allocates it


def op_macs(model: TfliteModel, op: Operator) -> int:
    """Multiply-accumulates of one operator (convolutions and fully-connected layers)."""
    t = model.tensors
    out = t[op.outputs[0]].shape
    if op.opcode == "CONV_2D":
        oc, kh, kw, ic = t[op.inputs[1]].shape
        return out[0] * out[1] * out[2] * oc * kh * kw * ic
    if op.opcode == "DEPTHWISE_CONV_2D":
        _, kh, kw, oc = t[op.inputs[1]].shape
        return out[0] * out[1] * out[2] * oc * kh * kw
    if op.opcode == "FULLY_CONNECTED":
        units, depth = t[op.inputs[1]].shape
        return (t[op.outputs[0]].elements // units) * units * depth
    if op.opcode == "TRANSPOSE_CONV":
        oc, kh, kw, ic = t[op.inputs[1]].shape
        inp = t[op.inputs[2]].shape
        return inp[0] * inp[1] * inp[2] * ic * kh * kw * oc
    return 0


def analyze(model: TfliteModel, board: Board | None = None, where: str = "model", runtime: str = "native",
            front_end: FrontEndNeed | None = None) -> Analysis:
    """``front_end``: the audio front end the firmware will carry (generate adds it for KWS runs)."""
    require_full_int8(model, where)
    arena = tflm_arena_size(model.data)
    placement = None
    if board is not None:
        from tinyml.platform import platform_for

        placement = platform_for(board).place(model, runtime, where=where, tflm_arena=arena, front_end=front_end)
    ops = []
    for op in model.operators:
        params = sum(model.tensors[i].elements for i in op.inputs if i >= 0 and model.tensors[i].is_constant)
        ops.append(OpCost(op.index, op.opcode, model.tensors[op.outputs[0]].shape, op_macs(model, op), params))
    activations = [t for t in model.tensors if not t.is_constant]
    return Analysis(
        ops=tuple(ops),
        macs=sum(o.macs for o in ops),
        params=sum(t.elements for t in model.tensors if t.is_constant),
        model_bytes=len(model.data),
        arena_bytes=arena,
        largest_activation=max((t.nbytes for t in activations), default=0),
        activation_bytes=sum(t.nbytes for t in activations),
        fit=placement.fit if placement else None,
        runtime_arena_bytes=placement.need.arena_bytes if placement else None,
    )
