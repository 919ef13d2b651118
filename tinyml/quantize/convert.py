"""Keras model -> full-integer int8 .tflite (int8 input and output)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

import numpy as np

from tinyml import tfimport
from tinyml.console import capture_c_stderr
from tinyml.errors import QuantizationError


def representative_sample(x: np.ndarray, y: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Up to ``n`` rows drawn evenly from every class (calibration data for the converter)."""
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    per = max(1, n // max(1, len(classes)))
    picks = [rng.permutation(np.flatnonzero(y == c))[:per] for c in classes]
    return x[np.sort(np.concatenate(picks))]


def int8_converter(converter: Any, representative: np.ndarray) -> bytes:
    """Configure a TFLiteConverter for full int8 and run it."""
    tf = tfimport.tensorflow()

    def dataset() -> Iterator[list[np.ndarray]]:
        for row in representative:
            yield [row[None, ...].astype(np.float32)]

    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    # Per-tensor FULLY_CONNECTED weights, as MLPerf Tiny's reference models have them: TFLM runs
    # per-channel FULLY_CONNECTED only up to 256 output channels (its host interpreter refuses the
    # anomaly-detection autoencoder's 640-wide output layer); convolutions stay per-channel.
    converter._experimental_disable_per_channel_quantization_for_dense_layers = True
    try:
        with capture_c_stderr():  # the MLIR quantizer chatters on C stderr
            return bytes(converter.convert())
    except Exception as err:  # the converter raises ConverterError, RuntimeError, ValueError...
        first = str(err).strip().splitlines()[0] if str(err).strip() else err.__class__.__name__
        raise QuantizationError(f"int8 conversion failed: {first}; the model has an op without an int8 "
                                "kernel — replace it or keep it out of the graph") from err


def keras_to_int8(model: Any, representative: np.ndarray) -> bytes:
    """Keras 3 model -> int8 flatbuffer via a SavedModel with a fixed batch of 1
    (a fixed batch removes SHAPE/STRIDED_SLICE/PACK ops from the graph)."""
    tf = tfimport.tensorflow()

    shape = (1, *representative.shape[1:])
    with tempfile.TemporaryDirectory(prefix="tinyml-export-") as tmp:
        model.export(tmp, format="tf_saved_model", verbose=False,
                     input_signature=[tf.TensorSpec(shape, tf.float32)])
        return int8_converter(tf.lite.TFLiteConverter.from_saved_model(tmp), representative)
