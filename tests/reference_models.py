"""Keras models with random weights, converted to int8 for real: the MLPerf Tiny reference
architectures (MobileNetV1-0.25 for VWW, ResNet-8 for CIFAR-10, the ToyADMOS autoencoder) and
small single-feature models that push the native kernels into their edge cases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .mlperf_models import mobilenet_v1_025, random_int8, resnet8, toyadmos_autoencoder


def _convert(build: Callable[[Any], Any], shape: tuple[int, ...], low: float = -1.0, high: float = 1.0) -> bytes:
    return random_int8(build, shape, low, high)


def conv_edges(keras: Any) -> Any:
    """Odd channel counts, non-square kernels, stride 2 with SAME padding, dilation, VALID."""
    L = keras.layers
    inputs = keras.Input((11, 9, 3))
    x = L.Conv2D(5, (3, 2), strides=2, padding="same", activation="relu")(inputs)
    x = L.Conv2D(7, 3, dilation_rate=2, padding="same")(x)
    x = L.Conv2D(3, (2, 3), padding="valid", activation="relu6")(x)
    x = L.Conv2D(9, 1)(x)
    x = L.Flatten()(x)
    return keras.Model(inputs, L.Dense(5)(x))


def depthwise_edges(keras: Any) -> Any:
    """Depth multipliers 2 and 3, stride 2, 5x3 VALID, dilation, a 5x5 SAME in-place candidate."""
    L = keras.layers
    inputs = keras.Input((12, 10, 3))
    x = L.DepthwiseConv2D(3, strides=2, depth_multiplier=2, padding="same", activation="relu")(inputs)
    x = L.DepthwiseConv2D((5, 3), padding="valid")(x)
    x = L.DepthwiseConv2D(3, dilation_rate=2, padding="same", depth_multiplier=3)(x)
    x = L.Conv2D(8, 1, activation="relu")(x)
    x = L.DepthwiseConv2D(5, padding="same")(x)
    x = L.Flatten()(x)
    return keras.Model(inputs, L.Dense(4)(x))


def pool_edges(keras: Any) -> Any:
    """Max and average pooling with SAME/VALID windows that overhang, then MEAN over H, W."""
    L = keras.layers
    inputs = keras.Input((10, 9, 4))
    x = L.MaxPooling2D(3, strides=2, padding="same")(inputs)
    x = L.AveragePooling2D(2, strides=1, padding="valid")(x)
    x = L.Conv2D(6, 1, activation="relu")(x)
    x = L.AveragePooling2D(3, strides=2, padding="same")(x)
    x = L.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, L.Dense(3, activation="softmax")(x))


def add_pad_softmax(keras: Any) -> Any:
    """Explicit PAD before a VALID conv, residual ADDs (in place), softmax over a 4-D tensor."""
    L = keras.layers
    inputs = keras.Input((8, 8, 4))
    y = L.Conv2D(4, 3, padding="valid")(L.ZeroPadding2D(((1, 1), (2, 0)))(inputs))
    x = L.Add()([inputs, y])
    z = L.Conv2D(4, 1, activation="relu")(x)
    x = L.ReLU()(L.Add()([x, z]))
    return keras.Model(inputs, L.Softmax()(L.Conv2D(6, 1)(x)))


def packed_depths(keras: Any) -> Any:
    """ReLU convolutions on the packed fast path with K of 1, 3, 16, 17, 33 and 36 groups of four (the
    Cortex-M kernel enters its 16-group unrolled loop part-way and repeats it), even and odd pixel counts."""
    L = keras.layers
    inputs = keras.Input((6, 5, 4))
    x = inputs
    for channels in (12, 64, 68, 132, 16):
        x = L.Conv2D(channels, 1, activation="relu")(x)
    x = L.Conv2D(6, 3, strides=2, padding="same", activation="relu")(x)
    x = L.Flatten()(x)
    return keras.Model(inputs, L.Dense(4)(x))


def planar_edges(keras: Any) -> Any:
    """3x3 depthwise layers on the planar path: stride 2 (13x21 -> 7x11, SAME: one row of padding
    at each end) and stride 1, plane rows along x (7x11, 5x9) and along y (5x3, and the stride-2
    VALID 5x3 -> 2x1), odd row lengths (one output alone at the end), SAME (in-place candidates) and VALID."""
    L = keras.layers
    inputs = keras.Input((13, 21, 4))
    x = L.DepthwiseConv2D(3, strides=2, padding="same", activation="relu")(inputs)
    x = L.DepthwiseConv2D(3, padding="same", activation="relu")(x)
    x = L.DepthwiseConv2D(3, padding="valid", activation="relu")(x)
    x = L.Conv2D(8, 1, activation="relu")(x)
    x = L.MaxPooling2D((1, 3))(x)
    x = L.DepthwiseConv2D(3, padding="same")(x)
    x = L.Conv2D(8, 1, activation="relu")(x)
    x = L.DepthwiseConv2D(3, padding="same", activation="relu")(x)
    x = L.DepthwiseConv2D(3, strides=2, padding="valid", activation="relu")(x)
    x = L.Flatten()(x)
    return keras.Model(inputs, L.Dense(4)(x))


def residual_edges(keras: Any) -> Any:
    """Residual ADDs fused into their convolution (tm_conv_add_s8): the convolution's output as the
    ADD's second and first input, the residual the model input (not in place), the convolution's own
    input (not in place), or neither (in place); packed (even channels) and per-pair (odd) paths; an
    odd pixel count (7x9)."""
    L = keras.layers
    inputs = keras.Input((7, 9, 6))
    a = L.Add()([inputs, L.Conv2D(6, 3, padding="same")(inputs)])
    b = L.Add()([L.Conv2D(6, 1)(a), a])
    d = L.Add()([b, L.Conv2D(6, 3, padding="same")(L.Conv2D(6, 3, padding="same", activation="relu")(b))])
    e = L.Conv2D(5, 1)(d)
    g = L.ReLU()(L.Add()([L.Conv2D(5, 3, padding="same")(e), e]))
    j = L.Add()([L.Conv2D(5, 3, padding="same")(L.Conv2D(5, 3, padding="same", activation="relu")(g)), g])
    return keras.Model(inputs, L.Conv2D(3, 1)(j))


def band_edges(keras: Any) -> Any:
    """Pointwise convolutions fused into the depthwise layer after them (tm_pw_dw_s8): an expanding
    one before stride 2 SAME on an odd size (one row of padding on top), a depth multiplier of 2,
    dilation 2, 5x3 kernels, stride 2 VALID (rows the window skips); odd channel counts."""
    L = keras.layers
    inputs = keras.Input((13, 11, 4))
    x = L.DepthwiseConv2D(3, strides=2, padding="same", activation="relu")(L.Conv2D(12, 1, activation="relu")(inputs))
    x = L.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(L.Conv2D(7, 1)(x))
    x = L.DepthwiseConv2D(3, dilation_rate=2, padding="same", activation="relu")(L.Conv2D(8, 1)(x))
    x = L.DepthwiseConv2D((5, 3), padding="same")(L.Conv2D(9, 1, activation="relu")(x))
    x = L.DepthwiseConv2D(3, strides=2, padding="valid")(L.Conv2D(12, 1)(x))
    return keras.Model(inputs, L.Conv2D(6, 1)(x))


def winograd_edges(keras: Any) -> Any:
    """3x3 stride-1 convolutions on the Winograd path (tm_conv_winograd): 16, 32 and 64 input channels
    (the Cortex-M kernel's three unrolled loops) and 48 (its portable loop, when a test admits it); odd
    output sizes (tiles past the bottom and right edges, rows with an odd number of tiles), SAME and
    VALID, ReLU, a fused residual ADD; the input zero point at an extreme (the padding's value)."""
    L = keras.layers
    inputs = keras.Input((9, 7, 16))
    x = L.Conv2D(32, 3, padding="same", activation="relu")(inputs)
    x = L.Conv2D(32, 3, padding="valid")(x)
    x = L.Add()([x, L.Conv2D(32, 3, padding="same")(x)])
    x = L.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = L.Conv2D(48, 3, padding="valid", activation="relu")(x)
    x = L.Conv2D(6, 3, padding="same")(x)
    x = L.Flatten()(x)
    return keras.Model(inputs, L.Dense(6)(x))


def block_edges(keras: Any) -> Any:
    """Residual blocks in bands of rows (tm_block_s8): over the model input (not in place: it is
    pinned); an identity block on Winograd with an odd row count (a last band of one row) and the ReLU
    after its ADD; a strided block with a 1x1 stride-2 shortcut on odd sizes (its output written over
    its input); a shortcut that doubles the channels at stride 1 (writing over the input would clobber
    rows still to be read: refused); a 5x3 first convolution and VALID convolutions on both branches
    (the shortcut on Winograd); an identity block whose input is read again after it (not in place)."""
    L = keras.layers
    inputs = keras.Input((9, 7, 16))
    x = L.Add()([inputs, L.Conv2D(16, 3, padding="same")(L.Conv2D(16, 3, padding="same", activation="relu")(inputs))])
    x = L.Conv2D(16, 1, activation="relu")(x)
    x = L.ReLU()(L.Add()([L.Conv2D(16, 3, padding="same")(L.Conv2D(16, 3, padding="same", activation="relu")(x)), x]))
    a = L.Conv2D(32, 3, strides=2, padding="same", activation="relu")(x)
    x = L.Add()([L.Conv2D(32, 1, strides=2)(x), L.Conv2D(32, 3, padding="same")(a)])
    a = L.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = L.Add()([L.Conv2D(64, 3, padding="same")(L.Conv2D(64, 3, padding="same", activation="relu")(a)),
                 L.Conv2D(64, 1)(a)])
    a = L.Conv2D(12, (5, 3), padding="same", activation="relu")(x)
    x = L.Add()([L.Conv2D(12, 3, padding="valid")(a), L.Conv2D(12, 3, padding="valid")(x)])
    y = L.Add()([L.Conv2D(12, 3, padding="same")(L.Conv2D(12, 3, padding="same", activation="relu")(x)), x])
    return keras.Model(inputs, L.Dense(6)(L.Flatten()(L.Add()([y, x]))))


GROUPED = {"g2_pruned": 2, "g2": 2, "dense_one_stray_weight": 1, "g4": 4, "g3": 3}


def _block_diagonal(layer: Any, groups: int) -> None:
    """Zero a 1x1 convolution's weights outside its diagonal blocks (what merging an ensemble makes)."""
    kernel, bias = layer.get_weights()
    in_c, out_c = kernel.shape[2:]
    mask = np.kron(np.eye(groups), np.ones((in_c // groups, out_c // groups)))
    layer.set_weights([kernel * mask[None, None], bias])


def grouped_edges(keras: Any) -> Any:
    """Pointwise convolutions with block-diagonal weights (ensembles merged into one model): 2, 4 and
    3 groups, one with zeros inside a block too (a pruned member), and a dense one that is block-diagonal but for
    one weight; ReLU outputs, so they take the packed path, over an odd pixel count (the last pair
    repeats its pixel), one of them fused with the depthwise layer after it. The generator finds the
    groups from the weights alone."""
    L = keras.layers
    inputs = keras.Input((5, 3, 8))
    x = L.Conv2D(16, 1, activation="relu")(inputs)
    convs = {name: L.Conv2D(channels, 1, activation="relu", name=name)  # in the order of GROUPED
             for name, channels in (("g2_pruned", 16), ("g2", 16), ("dense_one_stray_weight", 16),
                                    ("g4", 24), ("g3", 12))}  # g4: K 4 a group; g3: in 24, K 8
    for name, conv in convs.items():
        x = conv(x)
        if name == "g2":  # a grouped pointwise layer into a depthwise one: the fused pw_dw kernel
            x = L.DepthwiseConv2D(3, padding="same", activation="relu")(x)
    model = keras.Model(inputs, L.Dense(5)(L.Flatten()(x)))
    for name, conv in convs.items():
        _block_diagonal(conv, GROUPED[name] if GROUPED[name] > 1 else 2)
    kernel, bias = convs["g2_pruned"].get_weights()
    kernel[..., 8:12, 8:] = 0.0  # a pruned member: zeros inside a block too
    convs["g2_pruned"].set_weights([kernel, bias])
    kernel, bias = convs["dense_one_stray_weight"].get_weights()
    kernel[0, 0, 15, 0] = 0.5  # one weight outside the blocks: it must stay dense
    convs["dense_one_stray_weight"].set_weights([kernel, bias])
    return model


EDGE_MODELS: dict[str, tuple[Callable[[Any], Any], tuple[int, ...], float, float]] = {
    # name: (builder, input shape, representative range) — ranges put the input zero point at an extreme
    "conv_edges": (conv_edges, (11, 9, 3), -2.0, -0.01),  # all negative: zero point 127
    "depthwise_edges": (depthwise_edges, (12, 10, 3), 0.01, 3.0),  # all positive: zero point -128
    "pool_edges": (pool_edges, (10, 9, 4), -1.0, 1.0),
    "add_pad_softmax": (add_pad_softmax, (8, 8, 4), -0.5, 2.0),
    "packed_depths": (packed_depths, (6, 5, 4), -1.0, 1.0),
    "planar_edges": (planar_edges, (13, 21, 4), -1.0, 1.0),
    "residual_edges": (residual_edges, (7, 9, 6), -1.0, 1.0),
    "band_edges": (band_edges, (13, 11, 4), -1.0, 1.0),
    "winograd_edges": (winograd_edges, (9, 7, 16), -2.0, -0.01),  # zero point 127
    "block_edges": (block_edges, (9, 7, 16), -1.0, 1.0),
    "grouped_edges": (grouped_edges, (5, 3, 8), -1.0, 1.0),
}


def edge_model(name: str) -> bytes:
    build, shape, low, high = EDGE_MODELS[name]
    return _convert(build, shape, low, high)


def reference_model(name: str) -> bytes:
    if name == "mobilenet_v1_025":
        return _convert(mobilenet_v1_025, (96, 96, 3))
    if name == "resnet8":
        return _convert(resnet8, (32, 32, 3))
    if name == "toyadmos_autoencoder":
        return _convert(toyadmos_autoencoder, (640,), -3.0, 3.0)
    raise KeyError(name)


def searched_mcunet() -> bytes:
    """An MCUNet-style network searched for the emulated board (inverted residuals, ADD, MEAN)."""
    from tinyml.boards import get_board
    from tinyml.mcunet.search import search
    from tinyml.models.mcunet import build_mcunet

    result = search(get_board("qemu"), n_classes=4, samples=20, resolutions=(48,), widths=(0.35,), population=8,
                    generations=2)
    arch = result.best.arch
    return _convert(lambda keras: build_mcunet(arch, keras), (arch.resolution, arch.resolution, 3))
