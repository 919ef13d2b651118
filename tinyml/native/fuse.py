"""The native runtime's schedule: the kernel calls of ``tm_model_invoke``, one per layer, except
where fusing two saves a buffer.

Residual adds in place: a CONV_2D whose output only the next operator, an ADD, reads (a residual
block's last convolution) runs as one call, ``tm_conv_add_s8``: each pixel pair's outputs go to a
small pair buffer and are added at once to the ADD's other input, the sums written over that input
when nothing later reads it (``plan.py`` decides). The convolution's output tensor never exists, so
the block needs two full-size buffers (its input and the residual), not three. Outputs stay
bit-exact: the convolution's int8 outputs are the same, and the ADD reads them as it would from the
tensor.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from tinyml.native.lower import Layer
from tinyml.tflite.model import TfliteModel

ALIGNMENT = 4


def _align(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


@dataclass(frozen=True)
class Step:
    """One kernel call: one layer, or a convolution and the ADD after it (kind ``conv_add``)."""

    layers: tuple[Layer, ...]  # the operators it runs, in schedule order
    kind: str  # the layer's kind, or "conv_add"
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


def _fusable(conv: Layer, add: Layer, readers: Counter[int], model: TfliteModel) -> bool:
    return (conv.kind == "conv" and add.kind == "add" and conv.output in add.inputs and len(set(add.inputs)) == 2
            and readers[conv.output] == 1 and conv.output not in model.outputs)


def schedule(model: TfliteModel, layers: list[Layer], fuse: bool = True) -> list[Step]:
    """The kernel calls in order; ``fuse`` False: one per layer."""
    readers = Counter(t for layer in layers for t in layer.inputs)
    steps: list[Step] = []
    i = 0
    while i < len(layers):
        layer = layers[i]
        if fuse and i + 1 < len(layers) and _fusable(layer, layers[i + 1], readers, model):
            add = layers[i + 1]
            residual = add.inputs[1] if add.inputs[0] == layer.output else add.inputs[0]
            scratch = _align(layer.scratch) + _align(2 * int(layer.fields["out_c"]))  # + the pair buffer
            steps.append(Step((layer, add), "conv_add", (layer.inputs[0], residual), add.output, (residual,),
                              scratch, scratch))
            i += 2
        else:
            steps.append(single(layer))
            i += 1
    return steps
