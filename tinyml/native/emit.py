"""Render the native runtime's ``model.h``/``model.c`` for one model: constant arrays, one kernel
parameter struct per layer, and ``tm_model_invoke`` calling the kernels at planned arena offsets."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinyml.generate.render import render
from tinyml.native.fuse import CONV_ADD, FUSIONS, PW_DW, RES_BLOCK, Step, residual_orders, schedule
from tinyml.native.lower import Layer, lower
from tinyml.native.plan import MemoryPlan, plan_memory
from tinyml.tflite.model import TfliteModel

KERNELS = {"conv": "tm_conv_s8", "dwconv": "tm_dwconv_s8", "fc": "tm_fc_s8", "avgpool": "tm_avgpool_s8",
           "maxpool": "tm_maxpool_s8", "mean": "tm_mean_s8", "softmax": "tm_softmax_s8", "pad": "tm_pad_s8"}
VALUES_PER_LINE = {"int8_t": 16, "int16_t": 12, "int32_t": 6}
# The fusions tried (fuse.py), in order of preference at equal arenas: residual adds cost no cycles,
# pointwise-into-depthwise gives up the planar depthwise path.
# Residual blocks in bands (RES_BLOCK) cost a little (a call per band, the window's row moves), so
# they come after the plain residual ADD: kept where they lower the arena.
FUSION_CHOICES: tuple[tuple[str, ...], ...] = ((CONV_ADD,), (), (CONV_ADD, PW_DW), (PW_DW,), (RES_BLOCK, CONV_ADD),
                                               (RES_BLOCK, CONV_ADD, PW_DW))
# Undo each pointwise-into-depthwise fusion that does not lower the arena (tests turn it off to run
# every fusable pair of an edge model through the fused kernel).
UNDO_UNNEEDED_FUSIONS = True
RUNTIME_FLASH_BYTES = 6 * 1024  # kernels + invoke glue on Cortex-M4 at -O2 (measured: see benchmarks/native.py)


@dataclass(frozen=True)
class NativeModel:
    layers: tuple[Layer, ...]  # one per operator
    steps: tuple[Step, ...]  # the kernel calls (fuse.py)
    plan: MemoryPlan
    sources: dict[str, str]  # file name -> text
    const_bytes: int  # weights, biases and requantization tables
    macs: int

    @property
    def flash_estimate(self) -> int:
        return self.const_bytes + RUNTIME_FLASH_BYTES

    @property
    def int16_convs(self) -> frozenset[int]:
        """Operator indices of the convolutions stored with int16 weights (the others: int8)."""
        return frozenset(ly.index for ly in self.layers if ly.kind == "conv" and ly.conv.wide)

    @property
    def winograd_convs(self) -> frozenset[int]:
        """Operator indices of the convolutions run by Winograd F(2x2, 3x3) (winograd.py)."""
        return frozenset(ly.index for ly in self.layers if ly.kind == "conv" and ly.conv.winograd)

    @property
    def weight_layout(self) -> str:
        """'int16', 'int8' or 'mixed' (some convolutions each way); 'int16' without convolutions."""
        convs = sum(ly.kind == "conv" for ly in self.layers)
        wide = len(self.int16_convs)
        return "int16" if wide == convs else "int8" if wide == 0 else "mixed"


@dataclass(frozen=True)
class _Array:
    name: str
    ctype: str
    count: int
    lines: list[str]


def _lines(values: np.ndarray, ctype: str) -> list[str]:
    flat = [str(int(v)) for v in np.asarray(values).reshape(-1)]
    n = VALUES_PER_LINE[ctype]
    return [", ".join(flat[i : i + n]) + "," for i in range(0, len(flat), n)]


def _struct_fields(layer: Layer) -> list[tuple[str, Any]]:
    assert layer.params is not None
    fields: list[tuple[str, Any]] = list(layer.params.members())
    names = layer.arrays.keys()
    for name in ("weights", "bias", "pack", "in1_table", "in2_table"):
        if name in names:
            fields.append((name, f"L{layer.index}_{name}"))
    if "mult" in names:
        add = f"L{layer.index}_add" if "add" in names else "NULL"
        fields.append(("rq", f"{{L{layer.index}_mult, L{layer.index}_shift, {add}, {int(layer.rq_fast)}}}"))
    return fields


@dataclass(frozen=True)
class _Call:
    code: str
    slot: int  # layer_ticks index of its first layer
    fused_slots: tuple[int, ...]  # the other layers it runs (their ticks: 0)


def _where(t: int, plan: MemoryPlan) -> str:
    """A tensor's address: in the input buffer (TM_IN) or the arena."""
    return "TM_IN" if t in plan.external else f"TM_A({plan.tensor_offsets[t]})"


def _runner(conv: Layer) -> str:
    """The function that runs a convolution's rows in a block (tm_conv_fn)."""
    return "tm_conv_winograd" if conv.conv.winograd else "tm_conv_direct"


def _code(step: Step, plan: MemoryPlan, model: TfliteModel) -> str:
    src = [_where(t, plan) for t in step.inputs]
    dst = _where(step.output, plan)
    if step.kind == CONV_ADD:
        conv, add = step.layers
        if conv.conv.winograd:
            return (f"tm_conv_winograd(&L{conv.index}, {src[0]}, {dst}, TM_A({plan.scratch_offsets[step.index]}), "
                    f"&L{add.index}, {int(step.conv_is_in1)}, {src[1]})")
        return (f"tm_conv_add_s8(&L{conv.index}, &L{add.index}, {int(step.conv_is_in1)}, {src[0]}, {src[1]}, {dst}, "
                f"TM_A({plan.scratch_offsets[step.index]}))")
    if step.kind == RES_BLOCK:
        a, *shortcut, b, add = step.layers
        s = f"&L{shortcut[0].index}, {_runner(shortcut[0])}" if shortcut else "NULL, NULL"
        return (f"tm_block_s8(&L{a.index}, {_runner(a)}, {s}, &L{b.index}, {_runner(b)}, &L{add.index}, "
                f"{int(add.inputs[0] == b.output)}, {src[0]}, {dst}, TM_A({plan.scratch_offsets[step.index]}))")
    if step.kind == PW_DW:
        pw, dw = step.layers
        return f"tm_pw_dw_s8(&L{pw.index}, &L{dw.index}, {src[0]}, {dst}, TM_A({plan.scratch_offsets[step.index]}))"
    layer = step.layers[0]
    if layer.kind == "alias":
        return f"tm_copy_s8({src[0]}, {dst}, {model.tensors[layer.output].nbytes}u)"
    if layer.kind == "add":
        return f"tm_add_s8(&L{layer.index}, {src[0]}, {src[1]}, {dst})"
    args = [f"&L{layer.index}", src[0], dst]
    if layer.kind in ("conv", "dwconv"):
        args.append(f"TM_A({plan.scratch_offsets[layer.index]})")
    if layer.kind == "conv" and layer.conv.winograd:
        return f"tm_conv_winograd({', '.join(args)}, NULL, 0, NULL)"
    return f"{KERNELS[layer.kind]}({', '.join(args)})"


def _calls(steps: list[Step], layers: list[Layer], plan: MemoryPlan, model: TfliteModel) -> list[_Call]:
    slot = {layer.index: i for i, layer in enumerate(layers)}
    return [_Call(_code(step, plan, model), slot[step.index], tuple(slot[ly.index] for ly in step.layers[1:]))
            for step in steps]


def _smallest(model: TfliteModel, steps: list[Step], allow_in_place: bool) -> tuple[list[Step], MemoryPlan]:
    """The schedule's smaller plan: in place or not (in-place groups can pack worse than separate
    buffers: long-lived merged tensors); ties keep in place."""
    plans = [plan_memory(model, steps, in_place) for in_place in ((True, False) if allow_in_place else (False,))]
    return steps, min(plans, key=lambda plan: plan.arena_bytes)


def _undo_unneeded_fusions(model: TfliteModel, layers: list[Layer], steps: list[Step], plan: MemoryPlan,
                         allow_in_place: bool) -> tuple[list[Step], MemoryPlan]:
    """Run each pointwise-into-depthwise pair as two calls again where the arena stays as small: the
    fused call gives up the planar depthwise path, so it is kept only where it lowers the peak."""
    kinds = tuple(sorted({step.kind for step in steps if step.kind in FUSIONS}))
    separate: frozenset[int] = frozenset()
    for step in [s for s in steps if s.kind == PW_DW]:
        option = _smallest(model, schedule(model, layers, kinds, separate | {step.index}), allow_in_place)
        if option[1].arena_bytes <= plan.arena_bytes:
            separate |= {step.index}
            steps, plan = option
    return steps, plan


def _best(model: TfliteModel, order: list[Layer], fusions: tuple[tuple[str, ...], ...],
          allow_in_place: bool) -> tuple[list[Step], MemoryPlan]:
    """The smallest arena of each choice of fusions (a fused call's scratch can cost more than it
    saves); ties keep the first."""
    return min((_smallest(model, schedule(model, order, kinds), allow_in_place) for kinds in fusions),
               key=lambda option: option[1].arena_bytes)


def _residual_order(model: TfliteModel, layers: list[Layer], fusions: tuple[tuple[str, ...], ...],
                    allow_in_place: bool) -> tuple[list[Layer], list[Step], MemoryPlan]:
    """Operator order, except where running the other branch of a residual block first lowers the
    arena (fuse.residual_orders), decided one ADD at a time; with the chosen order's best schedule."""
    order, best = layers, _best(model, layers, fusions, allow_in_place)
    for add in [layer for layer in layers if layer.kind == "add"]:
        for option in residual_orders(model, order, order.index(add)):
            candidate = _best(model, option, fusions, allow_in_place)
            if candidate[1].arena_bytes < best[1].arena_bytes:
                order, best = option, candidate
    return order, *best


def build_native(model: TfliteModel, name: str, source_name: str, where: str = "model",
                 allow_in_place: bool = True, wide_weights: bool | frozenset[int] = True,
                 fusions: tuple[tuple[str, ...], ...] | None = None) -> NativeModel:
    """The native runtime's sources for ``model``; ``fusions``: the choices tried (FUSION_CHOICES)."""
    fusions = FUSION_CHOICES if fusions is None else fusions
    layers = lower(model, where, wide_weights)
    order, steps, plan = _residual_order(model, layers, fusions, allow_in_place)
    if UNDO_UNNEEDED_FUSIONS:
        steps, plan = _undo_unneeded_fusions(model, order, steps, plan, allow_in_place)
    arrays = {layer.index: [_Array(n, ctype, int(v.size), _lines(v, ctype)) for n, (ctype, v) in layer.arrays.items()]
              for layer in layers}
    structs = {layer.index: ({"ctype": layer.params.C_STRUCT, "fields": _struct_fields(layer)}
                             if layer.params is not None else None) for layer in layers}
    macs = sum(layer.macs for layer in layers)
    ctx = dict(name=name, source_name=source_name, sha256=hashlib.sha256(model.data).hexdigest(), layers=layers,
               plan=plan, arrays=arrays, structs=structs, calls=_calls(steps, layers, plan, model),
               input=model.input_tensors[0], output=model.output_tensors[0], macs=macs,
               output_at=_where(model.outputs[0], plan))
    sources = {"model.h": render("native/model.h.j2", **ctx), "model.c": render("native/model.c.j2", **ctx)}
    const_bytes = sum(v.nbytes for layer in layers for _, v in layer.arrays.values())
    return NativeModel(tuple(layers), tuple(steps), plan, sources, const_bytes, macs)
