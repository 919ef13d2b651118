"""Quantization-aware training through tensorflow-model-optimization.

tfmot 0.8.1 only accepts Keras 2 models, so QAT runs in a child Python with
``TF_USE_LEGACY_KERAS=1`` set before TensorFlow is imported, rebuilds the same architecture
with ``tf_keras``, loads the float weights, fine-tunes with fake quantization and converts.
The parent passes everything through one .npz file.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from tinyml.errors import QuantizationError

QAT_DEADLINE_S = 3600.0
INSTALL_HINT = ("pip install --no-deps tf-keras==2.21.0 tensorflow-model-optimization==0.8.1 && "
                "pip install dm-tree (scripts/bootstrap.sh does this)")


def qat_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("tf_keras", "tensorflow_model_optimization"))


def qat_to_int8(model: Any, spec: dict[str, Any], x: np.ndarray, y: np.ndarray, representative: np.ndarray,
                epochs: int, learning_rate: float, batch_size: int) -> bytes:
    if not qat_available():
        raise QuantizationError(f"--qat needs tf-keras and tensorflow-model-optimization: {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="tinyml-qat-") as tmp:
        job, out = Path(tmp) / "job.npz", Path(tmp) / "model.tflite"
        weights = model.get_weights()
        np.savez(job, spec=json.dumps(spec), x=x, y=y, representative=representative,
                 epochs=epochs, learning_rate=learning_rate, batch_size=batch_size, n_weights=len(weights),
                 **{f"w{i}": w for i, w in enumerate(weights)})
        env = {**os.environ, "TF_USE_LEGACY_KERAS": "1"}
        try:
            proc = subprocess.run([sys.executable, "-m", "tinyml.quantize.qat_worker", str(job), str(out)],
                                  env=env, timeout=QAT_DEADLINE_S, capture_output=True, text=True, check=False)
        except subprocess.TimeoutExpired as err:
            raise QuantizationError(f"QAT did not finish within {QAT_DEADLINE_S:.0f} s; lower --qat-epochs") from err
        if proc.returncode != 0 or not out.is_file():
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise QuantizationError(f"QAT failed: {tail}")
        return out.read_bytes()
