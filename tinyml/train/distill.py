"""Knowledge distillation (Hinton et al. 2015): a student learns from a trained teacher's soft
predictions, softened by a temperature, mixed with the hard labels.

Targets travel as one array per batch, ``[label, teacher probabilities...]``, so the ordinary
training loop, checkpoints and resume work unchanged. Both models end in a softmax; the
tempered distributions are softmax(log p / T).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinyml import tfimport

TEMPERATURE = 4.0
ALPHA = 0.7  # weight of the teacher's soft targets (1 - ALPHA: the hard labels)


def targets(labels: np.ndarray, teacher_probs: np.ndarray) -> np.ndarray:
    """(N,) labels + (N, C) teacher probabilities -> (N, 1 + C) float32 targets."""
    return np.concatenate([labels[:, None].astype(np.float32), teacher_probs.astype(np.float32)], axis=1)


def objects(temperature: float = TEMPERATURE, alpha: float = ALPHA) -> tuple[Any, Any]:
    """The distillation loss and its accuracy metric (named ``accuracy`` like Keras' own)."""
    keras = tfimport.keras()
    ops = keras.ops

    @keras.saving.register_keras_serializable(package="tinyml")
    def distillation_loss(y_true: Any, y_pred: Any) -> Any:
        labels = ops.cast(y_true[:, 0], "int32")
        teacher = y_true[:, 1:]
        hard = keras.losses.sparse_categorical_crossentropy(labels, y_pred)
        log_t = ops.log_softmax(ops.log(ops.clip(teacher, 1e-7, 1.0)) / temperature, axis=-1)
        log_s = ops.log_softmax(ops.log(ops.clip(y_pred, 1e-7, 1.0)) / temperature, axis=-1)
        soft = ops.sum(ops.exp(log_t) * (log_t - log_s), axis=-1) * temperature**2
        return (1.0 - alpha) * hard + alpha * soft

    @keras.saving.register_keras_serializable(package="tinyml")
    def accuracy(y_true: Any, y_pred: Any) -> Any:
        labels = ops.cast(y_true[:, 0], "int32")
        return ops.cast(ops.equal(ops.cast(ops.argmax(y_pred, axis=-1), "int32"), labels), "float32")

    return distillation_loss, accuracy
