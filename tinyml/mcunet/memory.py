"""The memory model of a candidate network, computed from its :class:`Arch` without TensorFlow.

- **graph**: the int8 ops the TFLite converter emits for the Keras model (BN and ReLU6 fold into
  the convolutions; global pooling becomes MEAN; dropout disappears);
- **flash**: int8 weights + int32 biases + per-channel quantization parameters + flatbuffer
  metadata per tensor and op (constants fitted on converted models);
- **arena**: TFLM's planned activations — the same lifetimes and greedy planner TFLM uses
  (``planner.py``) — plus kernel scratch, plus TFLM's persistent allocations (tensor structs,
  per-op data, per-channel multipliers and shifts);
- **MACs**.

``tests/test_mcunet_memory.py`` checks it against converted models measured with the TFLM host
interpreter; the benchmark prints the error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tinyml.mcunet.planner import Buffer, align, greedy_plan, lifetimes
from tinyml.models.dscnn import DsCnnSpec, pool_size
from tinyml.models.mcunet import Arch

# Persistent (tail) bytes TFLM allocates, fitted on converted models (tflite-micro host build).
TAIL_BASE = 970
TAIL_PER_TENSOR = 24  # TfLiteEvalTensor, for every tensor including constants
TAIL_PER_OP = 77  # NodeAndRegistration (64) and the per-op share of allocator bookkeeping
TAIL_OP_DATA = {"CONV_2D": 80, "DEPTHWISE_CONV_2D": 80, "FULLY_CONNECTED": 48, "ADD": 96, "MEAN": 48,
                "SOFTMAX": 48}
TAIL_PER_CHANNEL = 8  # int32 output multiplier + shift per output channel (conv, depthwise)
TAIL_IO_TENSORS = 2 * 64 + 64  # persistent TfLiteTensor + quantization data for graph input/output
# Flatbuffer bytes beyond raw weights and biases, fitted on converted models.
FLASH_BASE = 3870
FLASH_PER_TENSOR = 194  # shape, quantization table, and the converter's long tensor names
FLASH_PER_OP = 48
FLASH_PER_CHANNEL = 24  # per-channel scale (float32) + zero point (int64), weights and bias


@dataclass(frozen=True)
class Layer:
    op: str
    inputs: tuple[int, ...]  # activation tensor ids
    output: int
    shape: tuple[int, ...]
    weights: int  # int8 weight elements
    bias: int  # int32 bias elements
    macs: int

    @property
    def channels(self) -> int:
        return self.shape[-1]


@dataclass(frozen=True)
class MemoryEstimate:
    flash_bytes: int
    arena_bytes: int
    head_bytes: int
    tail_bytes: int
    macs: int
    params: int
    layers: tuple[Layer, ...]
    input_bytes: int  # the int8 input image
    native_arena_bytes: int  # the native runtime's arena, an upper bound: no in-place reuse, largest scratch


class _Graph:
    def __init__(self, input_shape: tuple[int, ...]) -> None:
        self.shapes: list[tuple[int, ...]] = [(1, *input_shape)]
        self.layers: list[Layer] = []

    def add(self, op: str, inputs: tuple[int, ...], shape: tuple[int, ...], weights: int = 0, bias: int = 0,
            macs: int = 0) -> int:
        self.shapes.append(shape)
        self.layers.append(Layer(op, inputs, len(self.shapes) - 1, shape, weights, bias, macs))
        return len(self.shapes) - 1

    def conv(self, x: int, out_c: int, kernel: int | tuple[int, int], stride: int | tuple[int, int],
             depthwise: bool = False) -> int:
        _, h, w, in_c = self.shapes[x]
        (kh, kw), (sh, sw) = _pair(kernel), _pair(stride)
        oh, ow = math.ceil(h / sh), math.ceil(w / sw)
        if depthwise:
            return self.add("DEPTHWISE_CONV_2D", (x,), (1, oh, ow, in_c), kh * kw * in_c, in_c,
                            oh * ow * in_c * kh * kw)
        return self.add("CONV_2D", (x,), (1, oh, ow, out_c), kh * kw * in_c * out_c, out_c,
                        oh * ow * out_c * kh * kw * in_c)

    def classifier(self, x: int, n_classes: int) -> None:
        channels = self.shapes[x][-1]
        x = self.add("FULLY_CONNECTED", (x,), (1, n_classes), channels * n_classes, n_classes, channels * n_classes)
        self.add("SOFTMAX", (x,), (1, n_classes))


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else v


def graph(arch: Arch) -> list[Layer]:
    g = _Graph((arch.resolution, arch.resolution, 3))
    x = g.conv(0, arch.stem_channels, 3, 2)
    channels = arch.stem_channels
    for block in arch.blocks:
        shortcut = x
        if block.expand != 1:
            x = g.conv(x, channels * block.expand, 1, 1)
        x = g.conv(x, 0, block.kernel, block.stride, depthwise=True)
        x = g.conv(x, block.out_channels, 1, 1)
        if block.stride == 1 and channels == block.out_channels:
            x = g.add("ADD", (shortcut, x), g.shapes[x])
        channels = block.out_channels
    g.classifier(g.add("MEAN", (x,), (1, channels)), arch.n_classes)
    return g.layers


def dscnn_graph(s: DsCnnSpec, input_shape: tuple[int, int, int], n_classes: int) -> list[Layer]:
    """The int8 graph of a DS-CNN (``tinyml.models.dscnn``): BN and ReLU fold into the convolutions."""
    g = _Graph(input_shape)
    x = g.conv(0, s.filters, s.kernel, s.stride)
    for _ in range(s.blocks):
        x = g.conv(g.conv(x, 0, 3, 1, depthwise=True), s.filters, 1, 1)
    _, h, w, c = g.shapes[x]
    ph, pw = pool_size(s, input_shape)
    x = g.add("AVERAGE_POOL_2D", (x,), (1, (h - ph) // ph + 1, (w - pw) // pw + 1, c))
    g.classifier(x, n_classes)
    return g.layers


def _scratch(layer: Layer) -> int:
    """Kernel scratch TFLM's reference kernels request from the arena (live during the op)."""
    return 4 * layer.channels if layer.op == "MEAN" else 0


def _native_scratch(layer: Layer) -> int:
    """Scratch the native runtime's kernels take (``native/lower.py``), the larger of in place or not."""
    if layer.op == "CONV_2D":  # int16 pair buffer + two int8 im2col rows of the padded patch
        return 6 * align(layer.weights // layer.channels)
    if layer.op == "DEPTHWISE_CONV_2D":  # a zero-point row + the rows an in-place pass keeps
        kernel = math.isqrt(layer.weights // layer.channels)
        return align(layer.channels) + (kernel // 2 + 1) * layer.shape[2] * layer.channels
    return 0


def estimate(arch: Arch) -> MemoryEstimate:
    return estimate_layers(graph(arch), (arch.resolution, arch.resolution, 3))


def estimate_dscnn(s: DsCnnSpec, input_shape: tuple[int, int, int], n_classes: int) -> MemoryEstimate:
    return estimate_layers(dscnn_graph(s, input_shape, n_classes), input_shape)


def estimate_layers(layers: list[Layer], input_shape: tuple[int, ...]) -> MemoryEstimate:
    n_act = 1 + len(layers)
    sizes = [math.prod(s) for s in [(1, *input_shape)] + [ly.shape for ly in layers]]
    ops = [(ly.inputs, (ly.output,)) for ly in layers]
    buffers = lifetimes(n_act, ops, (0,), (layers[-1].output,), sizes, set(range(n_act)))
    buffers += [Buffer(align(_scratch(ly)), i, i) for i, ly in enumerate(layers) if _scratch(ly)]
    head, _ = greedy_plan(buffers)
    native = lifetimes(n_act, ops, (0,), (layers[-1].output,), sizes, set(range(n_act)))
    native += [Buffer(align(_native_scratch(ly)), i, i) for i, ly in enumerate(layers) if _native_scratch(ly)]
    native_arena, _ = greedy_plan(native)

    constant_tensors = sum((ly.weights > 0) + (ly.bias > 0) for ly in layers)
    per_channel = sum(ly.channels for ly in layers if ly.op in ("CONV_2D", "DEPTHWISE_CONV_2D"))
    tail = (TAIL_BASE + TAIL_IO_TENSORS + TAIL_PER_TENSOR * (n_act + constant_tensors) + TAIL_PER_OP * len(layers)
            + sum(TAIL_OP_DATA.get(ly.op, 0) for ly in layers) + TAIL_PER_CHANNEL * per_channel)
    weights = sum(ly.weights for ly in layers)
    biases = sum(ly.bias for ly in layers)
    quant_channels = sum(ly.channels for ly in layers if ly.weights)
    flash = (FLASH_BASE + weights + 4 * biases + FLASH_PER_CHANNEL * quant_channels
             + FLASH_PER_TENSOR * (n_act + constant_tensors) + FLASH_PER_OP * len(layers))
    return MemoryEstimate(flash, head + tail, head, tail, sum(ly.macs for ly in layers), weights + biases,
                          tuple(layers), sizes[0], native_arena)
