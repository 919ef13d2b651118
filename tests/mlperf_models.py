"""The MLPerf Tiny reference architectures besides DS-CNN (``tinyml.models.dscnn``):
MobileNetV1-0.25 for Visual Wake Words, ResNet-8 for CIFAR-10 and the ToyADMOS autoencoder for
anomaly detection. Used for benchmarks and the native runtime's differential tests (with random,
calibrated weights), and trainable like any Keras model."""

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


def toyadmos_autoencoder(keras: Any, inputs_dim: int = 640) -> Any:
    """MLPerf Tiny anomaly detection: a fully connected autoencoder over 5 x 128 log-mel frames
    (640 -> 4 x 128 -> 8 -> 4 x 128 -> 640, batch norm and ReLU after every hidden layer)."""
    L = keras.layers
    inputs = keras.Input((inputs_dim,))
    x = inputs
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        x = L.ReLU()(L.BatchNormalization()(L.Dense(units)(x)))
    return keras.Model(inputs, L.Dense(inputs_dim)(x))


def random_int8(build: Callable[[Any], Any], shape: tuple[int, ...], low: float = -1.0, high: float = 1.0,
                seed: int = 0) -> bytes:
    """The int8 flatbuffer of ``build(keras)`` with random weights, calibrated on uniform inputs in
    [low, high] so that its outputs depend on its input — for benchmarks and differential tests,
    never for accuracy. Batch norms get the statistics their inputs really have (data-dependent
    initialisation; random statistics saturate every ReLU deep in the network and the model answers
    the same for every input) and random scales/offsets, so folded per-channel scales differ."""
    keras = tfimport.keras()

    from tinyml.quantize.convert import keras_to_int8

    keras.utils.set_random_seed(seed)
    model = build(keras)
    rep = np.random.default_rng(seed + 1).uniform(low, high, (32, *shape)).astype(np.float32)
    for layer in model.layers:  # topological order: each layer sees calibrated layers before it
        if isinstance(layer, keras.layers.BatchNormalization):
            x = np.asarray(keras.Model(model.inputs, layer.input)(rep), dtype=np.float64)
            axes = tuple(range(x.ndim - 1))
            n = layer.gamma.shape[0]
            rng = np.random.default_rng(len(layer.name))
            layer.set_weights([rng.uniform(0.5, 1.5, n), rng.normal(0.2, 0.3, n), x.mean(axis=axes),
                               x.var(axis=axes) + 1e-3])
    _calibrate_last_layer(model, rep, keras)
    return keras_to_int8(model, rep)


def _calibrate_last_layer(model: Any, rep: np.ndarray, keras: Any) -> None:
    """Scale the last Dense layer so its pre-activation varies by ~2 across inputs, around 0: with
    random weights the logits are otherwise so large that softmax answers one class for every
    input, and a bit-exact comparison on such a model proves nothing. A nonzero bias keeps the
    bias tensor in the flatbuffer (TFLM's per-channel FULLY_CONNECTED needs it)."""
    last = model.layers[-1]
    if not isinstance(last, keras.layers.Dense):
        return
    features = np.asarray(keras.Model(model.inputs, last.input)(rep))
    kernel, bias = last.get_weights()
    logits = features @ kernel
    kernel = kernel * (2.0 / max(float(logits.std(axis=0).mean()), 1e-6))
    bias = -(features @ kernel).mean(axis=0) + np.random.default_rng(0).normal(0.0, 0.1, bias.shape)
    last.set_weights([kernel, bias.astype(np.float32)])
