"""Check the memory model against reality: build a candidate with random weights, recalibrate
its batch-norm statistics (so activations neither vanish nor explode, as in a trained model),
convert it to full int8 and measure it with the TFLM host interpreter."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinyml import tfimport
from tinyml.mcunet.memory import MemoryEstimate, estimate
from tinyml.models.mcunet import Arch, build_mcunet
from tinyml.quantize.convert import keras_to_int8
from tinyml.tflite.interpreters import ArenaUsage, tflm_arena_usage
from tinyml.tflite.model import parse_model

BN_WARMUP_STEPS = 15


@dataclass(frozen=True)
class Validation:
    arch: Arch
    estimate: MemoryEstimate
    measured: ArenaUsage
    model_bytes: int
    ops_match: bool  # the converter emitted exactly the ops the memory model assumed
    tflite: bytes  # the converted int8 model

    @property
    def arena_error(self) -> float:
        return (self.estimate.arena_bytes - self.measured.total) / self.measured.total

    @property
    def flash_error(self) -> float:
        return (self.estimate.flash_bytes - self.model_bytes) / self.model_bytes


def convert_random(arch: Arch, seed: int = 0) -> bytes:
    keras = tfimport.keras()

    keras.utils.set_random_seed(seed)
    model = build_mcunet(arch, keras)
    rng = np.random.default_rng(seed)
    batch = rng.uniform(-1, 1, (8, arch.resolution, arch.resolution, 3)).astype(np.float32)
    for _ in range(BN_WARMUP_STEPS):
        model(batch, training=True)
    return keras_to_int8(model, batch)


def validate(arch: Arch, seed: int = 0) -> Validation:
    tflite = convert_random(arch, seed)
    est = estimate(arch)
    ops = [op.opcode for op in parse_model(tflite).operators]
    return Validation(arch, est, tflm_arena_usage(tflite), len(tflite), ops == [ly.op for ly in est.layers], tflite)
