"""Regenerate tests/data/tiny_kws_int8.tflite, the small int8 model the golden tests pin:
python tests/data/make_tiny_model.py"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def main() -> None:
    import keras

    from tinyml.quantize.convert import keras_to_int8

    keras.utils.set_random_seed(0)
    inputs = keras.Input((49, 10, 1))
    x = keras.layers.AveragePooling2D((7, 2))(inputs)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    x = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu")(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(12, activation="softmax")(x)
    rep = np.random.default_rng(0).standard_normal((32, 49, 10, 1)).astype(np.float32) * 4
    data = keras_to_int8(keras.Model(inputs, outputs), rep)
    (Path(__file__).parent / "tiny_kws_int8.tflite").write_bytes(data)
    print(len(data), "bytes")


if __name__ == "__main__":
    main()
