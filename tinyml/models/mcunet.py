"""MCUNet-style image classifiers: MobileNetV2 inverted-residual blocks whose kernel size,
expand ratio and stage depths are chosen per board (Lin et al., "MCUNet", NeurIPS 2020).

An :class:`Arch` is plain data (JSON round-trip) so a searched model can be rebuilt exactly.
The same arch yields the Keras model (for training) and the layer list the memory model
(``tinyml.mcunet.memory``) costs without TensorFlow.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from types import ModuleType
from typing import Any

BN_MOMENTUM = 0.9

# MobileNetV2-like backbone: (base channels, stride of the first block, depth choices) per stage.
STAGES: tuple[tuple[int, int, tuple[int, ...]], ...] = (
    (24, 2, (1, 2, 3)),
    (40, 2, (1, 2, 3)),
    (80, 2, (2, 3, 4)),
    (96, 1, (2, 3, 4)),
    (192, 2, (2, 3, 4)),
    (320, 1, (1,)),
)
STEM_CHANNELS = 32
FIRST_BLOCK_CHANNELS = 16
KERNELS = (3, 5, 7)
EXPANDS = (3, 4, 6)


def make_divisible(value: float, divisor: int = 8) -> int:
    """MobileNet channel rounding: nearest multiple of ``divisor``, never below 90% of ``value``."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


@dataclass(frozen=True)
class Block:
    """One inverted-residual block: 1x1 expand (skipped when expand == 1), kxk depthwise, 1x1 project."""

    kernel: int
    expand: int
    out_channels: int
    stride: int


@dataclass(frozen=True)
class Arch:
    resolution: int
    width: float
    stem_channels: int
    blocks: tuple[Block, ...]
    n_classes: int

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "blocks": [asdict(b) for b in self.blocks]}

    @staticmethod
    def from_json(data: dict[str, Any]) -> Arch:
        blocks = tuple(Block(**b) for b in data["blocks"])
        return Arch(int(data["resolution"]), float(data["width"]), int(data["stem_channels"]), blocks,
                    int(data["n_classes"]))

    def describe(self) -> str:
        return (f"{self.resolution}px w{self.width:g}: {len(self.blocks)} blocks, "
                f"k{''.join(str(b.kernel) for b in self.blocks)} e{''.join(str(b.expand) for b in self.blocks)}")


@dataclass(frozen=True)
class Genes:
    """The searchable choices inside one (resolution, width) space."""

    depths: tuple[int, ...]  # one per stage
    kernels: tuple[int, ...]  # one per block slot (max depth of every stage)
    expands: tuple[int, ...]


def slots() -> int:
    return 1 + sum(max(d) for _, _, d in STAGES)


def arch_from_genes(resolution: int, width: float, genes: Genes, n_classes: int) -> Arch:
    blocks = [Block(genes.kernels[0], 1, make_divisible(FIRST_BLOCK_CHANNELS * width), 1)]
    slot = 1
    for (channels, stride, depth_choices), depth in zip(STAGES, genes.depths, strict=True):
        for i in range(max(depth_choices)):
            if i < depth:
                blocks.append(Block(genes.kernels[slot], genes.expands[slot], make_divisible(channels * width),
                                    stride if i == 0 else 1))
            slot += 1
    return Arch(resolution, width, make_divisible(STEM_CHANNELS * width), tuple(blocks), n_classes)


def build_mcunet(arch: Arch, keras: ModuleType) -> Any:
    """Keras (3 or tf_keras) model for ``arch``; input is (resolution, resolution, 3) in [-1, 1]."""
    layers = keras.layers

    def bn_relu6(x: Any) -> Any:
        return layers.ReLU(6.0)(layers.BatchNormalization(momentum=BN_MOMENTUM)(x))

    inputs = keras.Input(shape=(arch.resolution, arch.resolution, 3), name="image")
    x = bn_relu6(layers.Conv2D(arch.stem_channels, 3, strides=2, padding="same", use_bias=False)(inputs))
    channels = arch.stem_channels
    for block in arch.blocks:
        shortcut = x
        if block.expand != 1:
            x = bn_relu6(layers.Conv2D(channels * block.expand, 1, use_bias=False)(x))
        x = bn_relu6(layers.DepthwiseConv2D(block.kernel, strides=block.stride, padding="same", use_bias=False)(x))
        x = layers.BatchNormalization(momentum=BN_MOMENTUM)(layers.Conv2D(block.out_channels, 1, use_bias=False)(x))
        if block.stride == 1 and channels == block.out_channels:
            x = layers.Add()([shortcut, x])
        channels = block.out_channels
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(arch.n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="mcunet")
