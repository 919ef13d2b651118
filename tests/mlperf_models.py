"""The MLPerf Tiny reference architectures besides DS-CNN (``tinyml.models.dscnn``): MobileNetV1-0.25
for Visual Wake Words and ResNet-8 for CIFAR-10. Used for benchmarks and the native runtime's
differential tests (with random weights), and trainable like any Keras model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinyml import tfimport


def mobilenet_v1_025(keras: Any, resolution: int = 96, classes: int = 2) -> Any:
    """MLPerf Tiny VWW: MobileNetV1 alpha 0.25 (8..256 channels), Keras-applications padding."""
    L = keras.layers

    def bn_relu(x: Any) -> Any:
        return L.ReLU(6.0)(L.BatchNormalization()(x))

    inputs = keras.Input((resolution, resolution, 3))
    x = bn_relu(L.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(inputs))
    plan = [(16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2), *[(128, 1)] * 5, (256, 2), (256, 1)]
    for filters, stride in plan:
        if stride == 2:
            x = L.ZeroPadding2D(((0, 1), (0, 1)))(x)
        x = bn_relu(L.DepthwiseConv2D(3, strides=stride, padding="same" if stride == 1 else "valid",
                                      use_bias=False)(x))
        x = bn_relu(L.Conv2D(filters, 1, use_bias=False)(x))
    x = L.AveragePooling2D(x.shape[1])(x)
    x = L.Flatten()(x)
    return keras.Model(inputs, L.Dense(classes, activation="softmax")(x))


def resnet8(keras: Any, classes: int = 10) -> Any:
    """MLPerf Tiny image classification: ResNet-8 on 32x32x3 (16/32/64 filters, 1x1 projections)."""
    L = keras.layers
    inputs = keras.Input((32, 32, 3))
    x = L.ReLU()(L.BatchNormalization()(L.Conv2D(16, 3, padding="same")(inputs)))
    for filters, stride in ((16, 1), (32, 2), (64, 2)):
        y = L.ReLU()(L.BatchNormalization()(L.Conv2D(filters, 3, strides=stride, padding="same")(x)))
        y = L.BatchNormalization()(L.Conv2D(filters, 3, padding="same")(y))
        if stride != 1:
            x = L.Conv2D(filters, 1, strides=stride, padding="same")(x)
        x = L.ReLU()(L.Add()([x, y]))
    x = L.AveragePooling2D(pool_size=8)(x)
    x = L.Flatten()(x)
    return keras.Model(inputs, L.Dense(classes, activation="softmax")(x))


def random_int8(build: Callable[[Any], Any], shape: tuple[int, ...], low: float = -1.0, high: float = 1.0,
                seed: int = 0) -> bytes:
    """The int8 flatbuffer of ``build(keras)`` with random weights and random batch-norm statistics
    (so folded per-channel scales differ and the logits are not degenerate), calibrated on uniform
    inputs in [low, high] — for benchmarks and differential tests, never for accuracy."""
    keras = tfimport.keras()

    from tinyml.quantize.convert import keras_to_int8

    keras.utils.set_random_seed(seed)
    model = build(keras)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.gamma.shape[0]
            rng = np.random.default_rng(len(layer.name))
            layer.set_weights([rng.uniform(0.5, 1.5, n), rng.normal(0, 0.1, n), rng.normal(0, 0.1, n),
                               rng.uniform(0.5, 1.5, n)])
    rep = np.random.default_rng(seed + 1).uniform(low, high, (32, *shape)).astype(np.float32)
    return keras_to_int8(model, rep)
