"""DS-CNN for keyword spotting, as in the MLPerf Tiny KWS reference (Zhang et al. 2017,
"Hello Edge"; mlcommons/tiny ``keras_model.py``), and a smaller variant.

The builder takes the Keras module as an argument so the same architecture can be built with
Keras 3 (training) and with Keras 2 / ``tf_keras`` (quantization-aware training).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from tinyml.errors import TinymlError

BN_MOMENTUM = 0.9  # Keras' 0.99 leaves inference-mode accuracy at chance after short runs
WEIGHT_DECAY = 1e-4


@dataclass(frozen=True)
class DsCnnSpec:
    name: str
    filters: int
    blocks: int
    description: str
    kernel: tuple[int, int] = (10, 4)  # the first convolution's kernel (time x cepstra) and stride
    stride: tuple[int, int] = (2, 2)

    @property
    def searched_name(self) -> str:
        """The name that rebuilds this shape (``tinyml search --task kws`` candidates)."""
        return (f"dscnn-w{self.filters}-d{self.blocks}-k{self.kernel[0]}x{self.kernel[1]}"
                f"-s{self.stride[0]}x{self.stride[1]}")


VARIANTS = {
    "dscnn": DsCnnSpec("dscnn", 64, 4, "MLPerf Tiny reference: conv 64 10x4/2, 4 DS blocks of 64 (~25k params)"),
    "dscnn-s": DsCnnSpec("dscnn-s", 32, 3, "small: conv 32 10x4/2, 3 DS blocks of 32 (~5k params)"),
    "dscnn-l": DsCnnSpec("dscnn-l", 128, 5, "large: conv 128 10x4/2, 5 DS blocks of 128 (~90k params)"),
}


# A searched DS-CNN: width, depth, first-convolution kernel and stride spelled in its name.
_SEARCHED = re.compile(r"^dscnn-w(?P<filters>\d{1,3})-d(?P<blocks>\d)-k(?P<kh>\d{1,2})x(?P<kw>\d{1,2})"
                       r"-s(?P<sh>[12])x(?P<sw>[12])$")


def spec(name: str) -> DsCnnSpec:
    if name in VARIANTS:
        return VARIANTS[name]
    if (m := _SEARCHED.match(name)) and int(m["filters"]) > 0 and int(m["blocks"]) > 0:
        return DsCnnSpec(name, int(m["filters"]), int(m["blocks"]), "a searched DS-CNN",
                         (int(m["kh"]), int(m["kw"])), (int(m["sh"]), int(m["sw"])))
    raise TinymlError(f"unknown KWS model '{name}'; choose one of: {', '.join(VARIANTS)} (or a searched "
                      "dscnn-wW-dD-kHxW-sHxW)")


def widths_of(name: str, widths: tuple[int, ...] | None = None) -> tuple[int, ...]:
    """Output channels of the first convolution and of each block's pointwise convolution: the
    variant's, or ``widths`` (a pruned model) after checking them against the variant's depth."""
    s = spec(name)
    if widths is None:
        return (s.filters,) * (s.blocks + 1)
    if len(widths) != s.blocks + 1 or min(widths) < 1:
        raise TinymlError(f"{name} takes {s.blocks + 1} positive widths (first conv + {s.blocks} blocks), got {widths}")
    return tuple(int(w) for w in widths)


def pool_size(s: DsCnnSpec, input_shape: tuple[int, ...]) -> tuple[int, int]:
    """The final average pool (as the MLPerf reference: input // stride, one output row and column)."""
    return input_shape[0] // s.stride[0], input_shape[1] // s.stride[1]


def build_dscnn(name: str, input_shape: tuple[int, int, int], n_classes: int, keras: ModuleType,
                widths: tuple[int, ...] | None = None) -> Any:
    """The DS-CNN ``name``; ``widths`` (first conv + one per block) makes a pruned one."""
    s = spec(name)
    w = widths_of(name, widths)
    layers, reg = keras.layers, keras.regularizers.l2(WEIGHT_DECAY)
    inputs = keras.Input(shape=input_shape, name="mfcc")
    x = layers.Conv2D(w[0], s.kernel, strides=s.stride, padding="same", kernel_regularizer=reg)(inputs)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
    x = layers.Activation("relu")(x)
    x = layers.Dropout(0.2)(x)
    for block in range(s.blocks):
        x = layers.DepthwiseConv2D((3, 3), padding="same", depthwise_regularizer=reg)(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
        x = layers.Activation("relu")(x)
        x = layers.Conv2D(w[block + 1], (1, 1), padding="same", kernel_regularizer=reg)(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
        x = layers.Activation("relu")(x)
    x = layers.Dropout(0.4)(x)
    x = layers.AveragePooling2D(pool_size=pool_size(s, input_shape))(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=s.name.replace("-", "_"))
