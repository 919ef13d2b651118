"""The MLPerf Tiny model id a firmware reports (`profile%` -> ``m-model-[kws01]``).

The official runner (mlcommons/tiny ``benchmark/runner``) keys its test scripts and dataset folders
by this id, as the reference API's ``EE_MODEL_VERSION_*`` defines do; a firmware that reports
anything else makes the runner fail. The id is the benchmark whose input the model takes — the
four benchmarks have four distinct input tensors — or the one the user names.
"""

from __future__ import annotations

from tinyml.errors import TinymlError
from tinyml.tflite.model import Tensor

# input shape (batch dimension dropped) -> benchmark id, per the MLPerf Tiny v1.x reference models
MLPERF_INPUTS: dict[tuple[int, ...], str] = {
    (49, 10, 1): "kws01",  # keyword spotting: DS-CNN on 49x10 MFCC
    (96, 96, 3): "vww01",  # visual wake words: MobileNetV1-0.25
    (32, 32, 3): "ic01",  # image classification: ResNet-8 on CIFAR-10
    (640,): "ad01",  # anomaly detection: the ToyADMOS autoencoder, 5 x 128 log-mel frames
}
MLPERF_IDS = tuple(MLPERF_INPUTS.values())


def mlperf_id(input_tensor: Tensor, asked: str | None = None) -> str | None:
    """The id for ``--mlperf-id`` or the model's input; None when the model is none of the four."""
    if asked is not None:
        if asked not in MLPERF_IDS:
            raise TinymlError(f"unknown MLPerf Tiny model id '{asked}'; choose one of {', '.join(MLPERF_IDS)}")
        return asked
    shape = tuple(input_tensor.shape)
    return MLPERF_INPUTS.get(shape[1:] if len(shape) > 1 and shape[0] == 1 else shape)
