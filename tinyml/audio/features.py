"""The MFCC front end: 1 s of 16 kHz audio -> 49 x 10 MFCC (the MLPerf Tiny KWS input).

Every constant is stated so the firmware can reproduce the computation exactly:

1. Input: 16000 samples, int16 scaled to float by 1/32768 (no pre-emphasis, no dither).
2. Framing: 49 frames of ``WINDOW`` = 480 samples (30 ms) every ``STRIDE`` = 320 samples
   (20 ms), no padding at either end: frame t covers samples [320 t, 320 t + 480).
3. Window: periodic Hann, w[n] = 0.5 - 0.5 cos(2 pi n / 480), then zero-padded to
   ``FFT_SIZE`` = 512 samples.
4. Spectrum: magnitude (not power) of the real FFT, 257 bins, bin k at k * 16000 / 512 Hz.
5. Mel filterbank: ``N_MEL`` = 40 triangles, linear on the mel scale mel(f) = 1127 ln(1 + f / 700),
   whose 42 edges e_0..e_41 are equally spaced in mel between ``LOW_HZ`` = 20 and ``HIGH_HZ`` =
   4000 Hz; with m_k = mel(f_k), filter j weighs bin k by
   max(0, min((m_k - e_j)/(e_{j+1} - e_j), (e_{j+2} - m_k)/(e_{j+2} - e_{j+1}))); bin 0 (DC) is 0.
6. Log: ln(mel energy + ``LOG_OFFSET``) with ``LOG_OFFSET`` = 1e-6.
7. DCT: DCT-II over the 40 log-mel values scaled by sqrt(2/40), keeping the first ``N_MFCC`` = 10:
   c_j = sqrt(2/40) sum_m x_m cos(pi j (m + 0.5) / 40).

This is exactly the MLPerf Tiny KWS reference front end (``tf.signal.stft`` with a periodic Hann
window, ``linear_to_mel_weight_matrix(40, 257, 16000, 20, 4000)``,
``mfccs_from_log_mel_spectrograms(...)[..., :10]``); a test checks it against ``tf.signal``.

Two training-time augmentations live here because they act on the spectrum: vocal-tract
length perturbation (``warp``: the filterbank is evaluated at f * warp, moving formants) and
SpecAugment masks on the log-mel bands and frames (applied before the DCT).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import scipy.fft as sfft

SAMPLE_RATE = 16000
CLIP_SAMPLES = 16000
WINDOW = 480
STRIDE = 320
FFT_SIZE = 512
N_MEL = 40
LOW_HZ = 20.0
HIGH_HZ = 4000.0
LOG_OFFSET = 1e-6
N_MFCC = 10
N_FRAMES = 1 + (CLIP_SAMPLES - WINDOW) // STRIDE  # 49
INPUT_SHAPE = (N_FRAMES, N_MFCC, 1)

_CHUNK = 16  # clips per FFT batch: 1.6 MB of frames stay in cache (3x faster than 1024 clips)

CONFIG_KEYS = ("SAMPLE_RATE", "CLIP_SAMPLES", "WINDOW", "STRIDE", "FFT_SIZE", "N_MEL", "LOW_HZ", "HIGH_HZ",
               "LOG_OFFSET", "N_MFCC", "N_FRAMES")


def config() -> dict[str, float | int]:
    """The front end's constants, as a training run records them (``run.json`` ``front_end``)."""
    return {k: globals()[k] for k in CONFIG_KEYS}


def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    return 1127.0 * np.log1p(np.asarray(f, dtype=np.float64) / 700.0)


@cache
def mel_filterbank(warp: float = 1.0) -> np.ndarray:
    """(257, 40) weights; ``warp`` != 1 stretches the frequency axis (VTLP)."""
    bins = hz_to_mel(np.arange(FFT_SIZE // 2 + 1) * (SAMPLE_RATE / FFT_SIZE) * warp)
    edges = np.linspace(hz_to_mel(LOW_HZ), hz_to_mel(HIGH_HZ), N_MEL + 2)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (bins[None, :] - lo) / (mid - lo)
    down = (hi - bins[None, :]) / (hi - mid)
    weights = np.maximum(0.0, np.minimum(up, down)).T
    weights[0] = 0.0
    return weights.astype(np.float32)


@cache
def dct_matrix() -> np.ndarray:
    """(40, 10) DCT-II basis scaled by sqrt(2/40) (tf.signal's MFCC scaling)."""
    m = np.arange(N_MEL)[:, None]
    j = np.arange(N_MFCC)[None, :]
    return (np.cos(np.pi * j * (m + 0.5) / N_MEL) * np.sqrt(2.0 / N_MEL)).astype(np.float32)


@cache
def _window() -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(WINDOW) / WINDOW)).astype(np.float32)


@cache
def _frame_index() -> np.ndarray:
    return np.arange(N_FRAMES)[:, None] * STRIDE + np.arange(WINDOW)[None, :]


def log_mel(audio: np.ndarray, warp: np.ndarray | None = None) -> np.ndarray:
    """(N, 16000) float audio -> (N, 49, 40) log-mel energies.

    ``warp``: optional per-clip VTLP factors, rounded to steps of 0.01 to reuse filterbanks.
    """
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 2 or audio.shape[1] != CLIP_SAMPLES:
        raise ValueError(f"expected (N, {CLIP_SAMPLES}) audio, got {audio.shape}")
    out = np.empty((audio.shape[0], N_FRAMES, N_MEL), dtype=np.float32)
    for start in range(0, audio.shape[0], _CHUNK):
        frames = audio[start : start + _CHUNK][:, _frame_index()] * _window()
        mag = np.abs(sfft.rfft(frames, n=FFT_SIZE, axis=-1)).astype(np.float32)
        if warp is None:
            mel = mag @ mel_filterbank(1.0)
        else:
            factors = np.round(np.asarray(warp[start : start + _CHUNK], dtype=np.float64), 2)
            mel = np.empty((*mag.shape[:2], N_MEL), dtype=np.float32)
            for factor in np.unique(factors):
                rows = factors == factor
                mel[rows] = mag[rows] @ mel_filterbank(float(factor))
        out[start : start + _CHUNK] = np.log(mel + LOG_OFFSET)
    return out


def mfcc_from_log_mel(logmel: np.ndarray) -> np.ndarray:
    return (logmel @ dct_matrix()).astype(np.float32)


def mfcc(audio: np.ndarray) -> np.ndarray:
    """(N, 16000) float audio in [-1, 1] -> (N, 49, 10, 1) MFCC features."""
    return mfcc_from_log_mel(log_mel(audio))[..., None]


def pcm_features(pcm: np.ndarray) -> np.ndarray:
    """(N, 16000) int16 PCM -> (N, 49, 10, 1) MFCC features (the model's float input)."""
    return mfcc(pcm.astype(np.float32) / 32768.0)


@dataclass(frozen=True)
class SpecAugment:
    """SpecAugment (Park et al. 2019) masks on log-mel bands and frames."""

    freq_masks: int = 2
    max_freq_width: int = 6
    time_masks: int = 2
    max_time_width: int = 6
    probability: float = 0.8

    def apply(self, logmel: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        out = logmel.copy()
        fill = out.mean(axis=(1, 2))
        for i in np.flatnonzero(rng.random(out.shape[0]) < self.probability):
            for _ in range(self.freq_masks):
                w = int(rng.integers(0, self.max_freq_width + 1))
                f0 = int(rng.integers(0, N_MEL - w + 1))
                out[i, :, f0 : f0 + w] = fill[i]
            for _ in range(self.time_masks):
                w = int(rng.integers(0, self.max_time_width + 1))
                t0 = int(rng.integers(0, N_FRAMES - w + 1))
                out[i, t0 : t0 + w, :] = fill[i]
        return out
