"""Small Keras models converted for real, for tests of model-type and size errors."""

from __future__ import annotations

import numpy as np


def convert(kind: str, units: int = 16) -> bytes:
    """A tiny MLP-ish conv model as 'float', 'hybrid' (dynamic range), 'int8' or 'float-io' (int8 inside,
    float input and output) .tflite.
    ``units`` sizes a dense layer to make big models (about units * 490 weights)."""
    import keras
    import tensorflow as tf

    from tinyml.quantize.convert import keras_to_int8

    keras.utils.set_random_seed(0)
    inputs = keras.Input((49, 10, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(units, activation="relu")(x)
    outputs = keras.layers.Dense(12, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    rep = np.random.default_rng(0).standard_normal((16, 49, 10, 1)).astype(np.float32)
    if kind == "int8":
        return keras_to_int8(model, rep)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if kind in ("hybrid", "float-io"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if kind == "float-io":
        def representative() -> object:
            for row in rep:
                yield [row[None]]

        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return bytes(converter.convert())
