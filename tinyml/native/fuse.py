"""The native runtime's schedule: the kernel calls of ``tm_model_invoke``, one per layer, except
where fusing two saves a buffer.

Residual adds in place: a CONV_2D whose output only the next operator, an ADD, reads (a residual
block's last convolution) runs as one call, ``tm_conv_add_s8``: each pixel pair's outputs go to a
small pair buffer and are added at once to the ADD's other input, the sums written over that input
when nothing later reads it (``plan.py`` decides). The convolution's output tensor never exists, so
the block needs two full-size buffers (its input and the residual), not three. Outputs stay
bit-exact: the convolution's int8 outputs are the same, and the ADD reads them as it would from the
tensor.

Pointwise into depthwise (``tm_pw_dw_s8``): a 1x1 stride-1 convolution whose output only the next
depthwise convolution reads runs in bands of rows, just ahead of the depthwise layer, which
computes one output row at a time from a window of the rows it needs (its per-pixel path: the
planar one wants whole channels). The pointwise output — an expanding layer's, the largest tensor
of a MobileNet block before a stride-2 depthwise layer — never exists.

Residual blocks with a convolution on both branches (a strided block's second convolution and its
1x1 shortcut) can run either branch last, right before the ADD: ``residual_orders`` gives the
orders that move one of them there (always legal: only the ADD reads it). Computing the shortcut
first lets the block input die before the second convolution runs, which ``emit.py`` keeps where
that lowers the arena.

Residual blocks in bands of rows (``tm_block_s8``, ``block.py``): a block's two convolutions, its
shortcut convolution if any, and its ADD as one call that never holds the first convolution's
output, and may write the block's output over its input as the bands consume it.

Which fusions a model gets is chosen by arena (``emit.py``): each can cost more scratch than it
saves, and a pointwise-into-depthwise fusion that does not lower the arena is undone (it costs
cycles: the planar depthwise path).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from tinyml.native import block as blocks
from tinyml.native.lower import Layer
from tinyml.tflite.model import TfliteModel

ALIGNMENT = 4  # every buffer and scratch part starts 4-aligned (the kernels load words)


def align(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


CONV_ADD = "conv_add"
PW_DW = "pw_dw"
RES_BLOCK = "res_block"
FUSIONS = (CONV_ADD, PW_DW, RES_BLOCK)


@dataclass(frozen=True)
class Step:
    """One kernel call: one layer, a convolution and the ADD after it (``conv_add``), a pointwise
    convolution and the depthwise one after it (``pw_dw``), or a residual block (``res_block``:
    its layers A, (S,) B, ADD as ``block.Block.layers``)."""

    layers: tuple[Layer, ...]  # the operators it runs, in schedule order
    kind: str  # the layer's kind, or one of FUSIONS
    inputs: tuple[int, ...]  # activation tensors read (conv_add: the convolution's input, the residual)
    output: int
    in_place_inputs: tuple[int, ...]  # the inputs its output may overwrite (when nothing later reads them)
    scratch: int  # bytes of scratch when not in place
    scratch_in_place: int  # bytes of scratch when in place

    @property
    def index(self) -> int:
        """The operator index that names the step (its first layer's)."""
        return self.layers[0].index

    @property
    def conv_is_in1(self) -> bool:
        """conv_add: the convolution's output is the ADD's first input."""
        return self.layers[1].inputs[0] == self.layers[0].output


def single(layer: Layer) -> Step:
    in_place = (layer.inputs if layer.kind == "add" else layer.inputs[:1]) if layer.in_place_ok else ()
    return Step((layer,), layer.kind, layer.inputs, layer.output, in_place, layer.scratch, layer.scratch_in_place)


def _only_reader(first: Layer, second: Layer, readers: Counter[int], model: TfliteModel) -> bool:
    return first.output in second.inputs and readers[first.output] == 1 and first.output not in model.outputs


def _conv_add(conv: Layer, add: Layer) -> Step | None:
    if not (conv.kind == "conv" and add.kind == "add" and len(set(add.inputs)) == 2):
        return None
    residual = add.inputs[1] if add.inputs[0] == conv.output else add.inputs[0]
    scratch = align(conv.scratch) + align(2 * conv.conv.out_c)  # + the pair buffer
    return Step((conv, add), CONV_ADD, (conv.inputs[0], residual), add.output, (residual,), scratch, scratch)


def _pw_dw(pw: Layer, dw: Layer) -> Step | None:
    if not (pw.kind == "conv" and dw.kind == "dwconv"):
        return None
    f = pw.conv
    if (f.k_h, f.k_w, f.stride_h, f.stride_w, f.pad_top, f.pad_left) != (1, 1, 1, 1, 0, 0):
        return None
    d = dw.dwconv
    window = ((d.k_h - 1) * d.dil_h + 1) * d.in_w * d.in_c
    zp_row = d.in_c  # tm_dwconv_scratch on the per-pixel path, not in place
    scratch = align(window) + align(pw.scratch) + align(zp_row)
    return Step((pw, dw), PW_DW, pw.inputs, dw.output, (), scratch, scratch)


def _res_block(layers: list[Layer], i: int, readers: Counter[int], model: TfliteModel) -> Step | None:
    block = blocks.match(layers, i, readers, set(model.outputs))
    if block is None:
        return None
    in_place = (block.x,) if blocks.writes_over_input_safely(block) else ()
    need = blocks.scratch(block)
    return Step(block.layers, RES_BLOCK, (block.x,), block.add.output, in_place, need, need)


def schedule(model: TfliteModel, layers: list[Layer], fusions: tuple[str, ...] = FUSIONS,
             separate: frozenset[int] = frozenset()) -> list[Step]:
    """The kernel calls in order, with the ``fusions`` named (none: one call per layer), except for
    the layers in ``separate`` (operator indices), which always run alone."""
    readers = Counter(t for layer in layers for t in layer.inputs)
    makers = {CONV_ADD: _conv_add, PW_DW: _pw_dw}
    steps: list[Step] = []
    i = 0
    while i < len(layers):
        fused = None
        if layers[i].index not in separate:
            if RES_BLOCK in fusions:
                fused = _res_block(layers, i, readers, model)
            if fused is None and i + 1 < len(layers) and _only_reader(layers[i], layers[i + 1], readers, model):
                fused = next((step for kind in fusions
                              if kind in makers and (step := makers[kind](layers[i], layers[i + 1])) is not None),
                             None)
        steps.append(fused or single(layers[i]))
        i += len(steps[-1].layers)
    return steps


def residual_orders(model: TfliteModel, layers: list[Layer], k: int) -> list[list[Layer]]:
    """The orders of ``layers`` in which one convolution input of the ADD at position k — a
    convolution that only that ADD reads, not already right before it — runs just before the ADD."""
    add = layers[k]
    readers = Counter(t for layer in layers for t in layer.inputs)
    orders = []
    for t in dict.fromkeys(add.inputs):
        i = next((j for j in range(k) if layers[j].output == t), None)
        if i is None or i == k - 1 or layers[i].kind != "conv" or readers[t] != 1 or t in model.outputs:
            continue
        orders.append([*layers[:i], *layers[i + 1 : k], layers[i], *layers[k:]])
    return orders
