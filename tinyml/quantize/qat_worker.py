"""Child process for QAT (see qat.py). Must be started with TF_USE_LEGACY_KERAS=1."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main(job_path: str, out_path: str) -> None:
    if os.environ.get("TF_USE_LEGACY_KERAS") != "1":
        raise SystemExit("qat_worker needs TF_USE_LEGACY_KERAS=1 in its environment")
    import numpy as np
    import tensorflow as tf
    import tensorflow_model_optimization as tfmot
    import tf_keras

    from tinyml.models.registry import build_from_spec
    from tinyml.quantize.convert import int8_converter

    job = np.load(job_path)
    model = build_from_spec(json.loads(str(job["spec"])), tf_keras)
    model.set_weights([job[f"w{i}"] for i in range(int(job["n_weights"]))])
    qmodel = tfmot.quantization.keras.quantize_model(model)
    qmodel.compile(optimizer=tf_keras.optimizers.Adam(float(job["learning_rate"])),
                   loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    qmodel.fit(job["x"], job["y"], batch_size=int(job["batch_size"]), epochs=int(job["epochs"]), verbose=0)
    tflite = int8_converter(tf.lite.TFLiteConverter.from_keras_model(qmodel), job["representative"])
    Path(out_path).write_bytes(tflite)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
