"""Shared fixtures. The expensive ones (a synthetic dataset, a trained and quantized DS-CNN)
are session-scoped and built for real: espeak-ng, TensorFlow, the TFLite converter."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tinyml.audio.wav import write_wav
from tinyml.datasets.speech_commands import KEYWORDS
from tinyml.datasets.synth import SynthConfig

from .tflm_source import use_shared_tflm

use_shared_tflm()  # TFLM tests build against ../shared/tflm when TINYML_TFLM_DIR is unset: none skip in CI


def tone(freq: float, seconds: float = 1.0, rate: int = 16000, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture
def tiny_layout(tmp_path: Path) -> Path:
    """A Speech Commands-layout folder of tones: 3 speakers x every keyword, 2 unknown words,
    background noise, and split lists putting speaker 'ccc' in test and 'bbb' in validation."""
    root = tmp_path / "sc"
    for k, word in enumerate((*KEYWORDS, "cat", "dog")):
        (root / word).mkdir(parents=True)
        for spk in ("aaa", "bbb", "ccc"):
            write_wav(root / word / f"{spk}_nohash_0.wav", tone(200 + 50 * k), 16000)
    (root / "_background_noise_").mkdir()
    rng = np.random.default_rng(0)
    write_wav(root / "_background_noise_" / "white.wav", 0.3 * rng.standard_normal(32000).clip(-3, 3) / 3, 16000)
    words = (*KEYWORDS, "cat", "dog")
    (root / "validation_list.txt").write_text("".join(f"{w}/bbb_nohash_0.wav\n" for w in words))
    (root / "testing_list.txt").write_text("".join(f"{w}/ccc_nohash_0.wav\n" for w in words))
    return root


# The session's trained model: ~1 s an epoch; 20 epochs give ~0.55 int8 accuracy on held-out voices
# (8 gave ~0.3, too weak for streaming detection to report anything).
FIXTURE_EPOCHS = 20

# The session's synthetic set: every keyword 80 times, each of the ~200 other words 3 times.
SYNTH_FIXTURE = SynthConfig(per_word=80, unknown_per_word=3, seed=1)


@pytest.fixture(scope="session")
def synth_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tinyml.datasets.synth import synthesize

    return synthesize(tmp_path_factory.mktemp("data") / "synth", SYNTH_FIXTURE)


@pytest.fixture(scope="session")
def trained_run(synth_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DS-CNN trained for FIXTURE_EPOCHS epochs on the synthetic set, then int8-quantized (PTQ)."""
    from tinyml.quantize.service import quantize_run
    from tinyml.train.kws import TrainConfig, train_kws

    out = tmp_path_factory.mktemp("runs") / "kws"
    train_kws(TrainConfig(data=str(synth_dataset), model="dscnn", epochs=FIXTURE_EPOCHS, batch_size=32, seed=0), out)
    quantize_run(out)
    return out
