"""The firmware's audio front end: its constants, computed from the one Python front end
(``tinyml.audio.features``) the model was trained with, so training and device cannot split.

A KWS run records the front end it trained with (``run.json`` ``front_end``). ``generate`` asks
:func:`front_end_for` whether a model gets the C front end (``firmware/frontend/``): only a model
whose run says which front end it expects, and only when that is the one tinyml computes today
(anything else is refused with the fix). The tables — Hann window, FFT twiddles, the sparse mel
filterbank, the DCT-II basis — are float32 values rendered into C by
``templates/frontend/tinyml_frontend_tables.c.j2``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyml.audio import features
from tinyml.errors import TinymlError
from tinyml.platform.fit import FrontEndNeed
from tinyml.tflite.model import Tensor

FRONT_END_CODE_BYTES = 4096  # tinyml_frontend.c on Cortex-M4 at -O2 with logf/sqrtf (measured ~2.5 KB)


@dataclass(frozen=True)
class MelBand:
    first_bin: int  # FFT bin of weights[0]
    weights: tuple[float, ...]


@dataclass(frozen=True)
class FrontEnd:
    """Everything the C front end computes with (the Python↔C contract of the front end)."""

    sample_rate: int
    clip_samples: int
    window_samples: int
    stride_samples: int
    fft_size: int
    n_mel: int
    n_mfcc: int
    n_frames: int
    log_offset: float
    input_scale: float
    input_zero_point: int
    window: tuple[float, ...]  # window_samples Hann coefficients
    twiddle_cos: tuple[float, ...]  # cos(2 pi k / fft_size), k < fft_size / 2
    twiddle_sin: tuple[float, ...]  # sin(2 pi k / fft_size)
    bands: tuple[MelBand, ...]
    dct: tuple[tuple[float, ...], ...]  # [n_mel][n_mfcc]

    @property
    def audio_bytes(self) -> int:
        return 2 * self.clip_samples  # int16 PCM

    @property
    def last_bin(self) -> int:
        """One past the highest FFT bin any mel band reads."""
        return max(b.first_bin + len(b.weights) for b in self.bands)

    @property
    def weight_count(self) -> int:
        return sum(len(b.weights) for b in self.bands)

    @property
    def need(self) -> FrontEndNeed:
        floats = (len(self.window) + len(self.twiddle_cos) + len(self.twiddle_sin) + self.weight_count
                  + self.n_mel * self.n_mfcc)
        work = 4 * (self.fft_size + self.last_bin + self.n_mel) + 2 * self.window_samples + self.n_frames * self.n_mfcc
        return FrontEndNeed(self.audio_bytes, work + 64, 4 * floats + 4 * self.n_mel + FRONT_END_CODE_BYTES)


def _f32(values: np.ndarray) -> tuple[float, ...]:
    return tuple(float(v) for v in np.asarray(values, dtype=np.float32).ravel())


def build_front_end(input_tensor: Tensor) -> FrontEnd:
    """The current front end's tables, quantizing to ``input_tensor``'s int8 parameters."""
    fb = features.mel_filterbank(1.0)  # (bins, mel)
    bands = []
    for j in range(features.N_MEL):
        nz = np.flatnonzero(fb[:, j])
        if nz.size == 0:
            raise TinymlError(f"mel band {j} of the front end is empty; the front-end constants are inconsistent")
        bands.append(MelBand(int(nz[0]), _f32(fb[nz[0] : nz[-1] + 1, j])))
    k = np.arange(features.FFT_SIZE // 2)
    angle = 2.0 * np.pi * k / features.FFT_SIZE
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(features.WINDOW) / features.WINDOW)
    dct = features.dct_matrix()
    return FrontEnd(
        sample_rate=features.SAMPLE_RATE, clip_samples=features.CLIP_SAMPLES, window_samples=features.WINDOW,
        stride_samples=features.STRIDE, fft_size=features.FFT_SIZE, n_mel=features.N_MEL, n_mfcc=features.N_MFCC,
        n_frames=features.N_FRAMES, log_offset=features.LOG_OFFSET,
        input_scale=float(input_tensor.quant.scale[0]), input_zero_point=int(input_tensor.quant.zero_point[0]),
        window=_f32(window), twiddle_cos=_f32(np.cos(angle)), twiddle_sin=_f32(np.sin(angle)),
        bands=tuple(bands), dct=tuple(_f32(row) for row in dct))


def front_end_for(model_path: Path, input_tensor: Tensor) -> FrontEnd | None:
    """The C front end for a model trained by a tinyml KWS run, or None for any other model."""
    run_config = Path(model_path).parent / "run.json"
    if not run_config.is_file():
        return None
    recorded = json.loads(run_config.read_text()).get("front_end")
    if recorded is None:
        return None
    current = features.config()
    if recorded != current:
        differing = ", ".join(k for k in features.CONFIG_KEYS if recorded.get(k) != current[k])
        raise TinymlError(f"{model_path} was trained with another audio front end ({differing} differ from this "
                          "tinyml's); retrain it with `tinyml train kws` so device and training compute the same "
                          "features")
    expected = (1, features.N_FRAMES, features.N_MFCC, 1)
    if tuple(input_tensor.shape) != expected:
        raise TinymlError(f"{model_path} takes input {tuple(input_tensor.shape)}, not the front end's {expected}; "
                          "retrain it with `tinyml train kws`")
    return build_front_end(input_tensor)
