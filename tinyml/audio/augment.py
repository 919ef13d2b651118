"""Waveform augmentation for keyword spotting.

The model is trained on synthetic (espeak-ng) speech but must work on human voices and real
microphones, so augmentation attacks every axis along which the two differ:

- speaking rate and pitch: speed perturbation (resampling by 0.85-1.15, Ko et al. 2015);
- vocal tract / formants: VTLP, a per-clip warp of the mel filterbank (``features.py``);
- room: reverberation with a synthetic exponentially decaying impulse response (RT60 0.1-0.7 s);
- microphone and channel: a random spectral tilt, low-pass and high-pass;
- level and position: gain and +-100 ms time shift;
- environment: background noise mixed at random volume (the Speech Commands recipe; under a word,
  its volume log-uniform over :attr:`AugmentConfig.background_db`, every 10 dB as likely as the
  next, so that clean clips are common too), and a noise floor under every clip (a real microphone
  never records digital silence);
- robustness to missing bands: SpecAugment's frequency masks (``features.py``). Its time masks
  are off: measured on real recordings (five seeds) they cost `_unknown_` 6 points and gave keywords
  nothing (README, "Synthetic speech, real people", row 8).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import scipy.fft as sfft

from tinyml.audio.features import CLIP_SAMPLES, SAMPLE_RATE, SpecAugment, log_mel, mfcc_from_log_mel

FREQUENCY_MASKS = SpecAugment(time_masks=0)  # the default: bands masked, frames never (see the module doc)


@dataclass(frozen=True)
class AugmentConfig:
    time_shift_ms: float = 100.0
    speed_range: tuple[float, float] = (0.85, 1.15)
    speed_probability: float = 0.8
    vtlp_range: tuple[float, float] = (0.88, 1.12)
    vtlp_probability: float = 0.8
    reverb_probability: float = 0.3
    rt60_range: tuple[float, float] = (0.1, 0.7)
    channel_probability: float = 0.5
    gain_db_range: tuple[float, float] = (-12.0, 6.0)
    background_probability: float = 0.8
    background_volume: float = 0.1
    # A word clip's noise volume: log-uniform over this many dB below background_volume (0: uniform in
    # amplitude, as Speech Commands' recipe, the default until row 11 of the README's ablation). Uniform
    # in amplitude, half the clips had under 35 dB between their loudest and quietest 10 ms and few the
    # 50-65 dB of a clean real recording; log-uniform, the spread of real clips is matched better.
    background_db: float = 40.0
    floor_dbfs_range: tuple[float, float] | None = None  # RMS of a white noise floor under every clip
    highpass_hz_range: tuple[float, float] | None = None  # channel high-pass cut-off (with the channel response)
    spec_augment: SpecAugment = FREQUENCY_MASKS


# A harsher recipe (``tinyml train kws --augmentation real-voices``): wider level range, a noise
# floor, band limiting at both ends. Measured on real recordings it did not beat the default
# ``AugmentConfig()`` (benchmarks/kws_real.py; both with the noise volume uniform in amplitude, as here).
REAL_VOICES = AugmentConfig(gain_db_range=(-24.0, 6.0), floor_dbfs_range=(-85.0, -50.0),
                            highpass_hz_range=(40.0, 300.0), reverb_probability=0.4, background_db=0.0)
# The default before README row 11 (``--augmentation uniform-noise``): a word clip's noise volume uniform
# in amplitude, as Speech Commands' recipe draws it.
UNIFORM_NOISE = AugmentConfig(background_db=0.0)


_CHUNK = 64  # clips augmented together (their draws first, then one FFT call per group of equal length)


@dataclass
class _Draws:
    """One chunk's random draws, made clip by clip in the recipe's order (so an epoch's stream of
    draws does not depend on how its clips are batched); ``_apply`` then works on whole arrays."""

    speed: np.ndarray  # playback factor, 1.0 = none
    shift: np.ndarray  # samples
    rirs: list[np.ndarray | None]  # room impulse response (direct path first), None = no reverberation
    channel: np.ndarray  # (k, 3) tilt dB/octave, low-pass cut-off Hz, high-pass cut-off Hz (NaN = none); NaN row = none
    gain: np.ndarray  # linear factor
    noise: list[tuple[int, int, float] | None]  # (noise file, start sample, volume)
    floor: list[np.ndarray | None]  # white noise floor, already scaled


def _draw(is_silence: np.ndarray, n_noise: int, noise_sizes: list[int], cfg: AugmentConfig,
          rng: np.random.Generator) -> _Draws:
    k = is_silence.shape[0]
    d = _Draws(np.ones(k), np.zeros(k, np.int64), [None] * k, np.full((k, 3), np.nan), np.ones(k),
               [None] * k, [None] * k)
    max_shift = int(cfg.time_shift_ms * SAMPLE_RATE / 1000)
    for i in range(k):
        if not is_silence[i]:
            if rng.random() < cfg.speed_probability:
                d.speed[i] = rng.uniform(*cfg.speed_range)
            if max_shift:
                d.shift[i] = int(rng.integers(-max_shift, max_shift + 1))
            reverb, channel = rng.random() < cfg.reverb_probability, rng.random() < cfg.channel_probability
            if reverb:
                rt60 = rng.uniform(*cfg.rt60_range)
                t = np.arange(int(rt60 * SAMPLE_RATE), dtype=np.float32) / SAMPLE_RATE
                rir = rng.standard_normal(t.size).astype(np.float32) * np.exp(-6.9 * t / rt60)
                rir[0] = 0.0
                rir *= rng.uniform(0.2, 0.8) / max(float(np.sqrt(np.sum(rir**2))), 1e-9)
                rir[0] = 1.0
                d.rirs[i] = rir
            if channel:
                d.channel[i, :2] = rng.uniform(-3.0, 3.0), rng.uniform(3000.0, 8000.0)
                if cfg.highpass_hz_range is not None:
                    d.channel[i, 2] = rng.uniform(*cfg.highpass_hz_range)
            d.gain[i] = 10 ** (rng.uniform(*cfg.gain_db_range) / 20)
        if n_noise and (is_silence[i] or rng.random() < cfg.background_probability):
            clip = int(rng.integers(n_noise))
            start = int(rng.integers(0, noise_sizes[clip] - CLIP_SAMPLES + 1))
            d.noise[i] = clip, start, _noise_volume(float(rng.uniform(0, 1.0)), bool(is_silence[i]), cfg)
        if cfg.floor_dbfs_range is not None:
            level = 10 ** (rng.uniform(*cfg.floor_dbfs_range) / 20)
            d.floor[i] = level * rng.standard_normal(CLIP_SAMPLES, dtype=np.float32)
    return d


def _noise_volume(u: float, is_silence: bool, cfg: AugmentConfig) -> float:
    """The background noise's volume for a uniform draw ``u`` in [0, 1): a silence clip's is ``u``
    itself; a word clip's is log-uniform over ``background_db`` dB below ``background_volume`` (or
    uniform up to it when ``background_db`` is 0)."""
    if is_silence:
        return u
    if cfg.background_db:
        return cfg.background_volume * 10 ** (-cfg.background_db * (1.0 - u) / 20)
    return cfg.background_volume * u


def _speed(x: np.ndarray, factor: float) -> np.ndarray:
    """Play ``x`` ``factor`` times faster (tempo and pitch together), keeping its centre."""
    n = x.shape[-1]
    positions = (np.arange(n) - n / 2) * factor + n / 2
    return np.interp(positions, np.arange(n), x, left=0.0, right=0.0).astype(np.float32)


def _shift(x: np.ndarray, samples: int) -> np.ndarray:
    out = np.zeros_like(x)
    if samples >= 0:
        out[samples:] = x[: x.shape[0] - samples]
    else:
        out[:samples] = x[-samples:]
    return out


@cache
def _freqs(n_fft: int) -> np.ndarray:
    return np.fft.rfftfreq(n_fft, 1.0 / SAMPLE_RATE).astype(np.float32)


def _channel_gain(params: np.ndarray, n_fft: int) -> np.ndarray:
    """(k, 3) channel draws -> (k, n_fft // 2 + 1) magnitude responses (rows of NaN: flat)."""
    freqs = _freqs(n_fft)
    tilt, cutoff, low = (params[:, j : j + 1].astype(np.float32) for j in range(3))
    octaves = np.log2(np.maximum(freqs, 50.0) / 1000.0)
    gain = np.exp(tilt * np.float32(np.log(10) / 20) * octaves)  # 10 ** (dB / 20), as exp: far cheaper than pow
    gain /= np.sqrt(1 + np.square(np.square(freqs / cutoff)))
    if not np.isnan(low).all():
        gain = np.where(np.isnan(low), gain, gain / np.sqrt(1 + np.square(np.square(low / np.maximum(freqs, 1.0)))))
    return np.where(np.isnan(tilt), np.float32(1.0), gain)


@cache
def _fft_length(n: int, rir: int) -> int:
    step = SAMPLE_RATE // 10
    return sfft.next_fast_len(n + -(-rir // step) * step)


def _room_and_channel(x: np.ndarray, rirs: list[np.ndarray | None], channel: np.ndarray, n_fft: int) -> np.ndarray:
    """Reverberate (linear convolution with each row's RIR) and filter, ``n_fft`` >= the clip + the
    longest RIR; each row keeps its peak."""
    n = x.shape[-1]
    spectrum = sfft.rfft(x, n=n_fft, axis=-1)
    if any(r is not None for r in rirs):
        rir = np.zeros((len(rirs), n_fft), np.float32)
        for i, r in enumerate(rirs):
            if r is None:
                rir[i, 0] = 1.0
            else:
                rir[i, : r.size] = r
        spectrum *= sfft.rfft(rir, axis=-1)
    if not np.isnan(channel[:, 0]).all():
        spectrum *= _channel_gain(channel, n_fft)
    y = sfft.irfft(spectrum, n=n_fft, axis=-1)[:, :n]
    peak_in, peak_out = np.max(np.abs(x), axis=1, keepdims=True), np.max(np.abs(y), axis=1, keepdims=True)
    return y * np.where(peak_out > 0, peak_in / np.where(peak_out > 0, peak_out, 1), 1).astype(np.float32)


def _apply(audio: np.ndarray, d: _Draws, noise: list[np.ndarray]) -> np.ndarray:
    x = audio.astype(np.float32) / 32768.0
    for i in np.flatnonzero(d.speed != 1.0):
        x[i] = _speed(x[i], float(d.speed[i]))
    for i in np.flatnonzero(d.shift):
        x[i] = _shift(x[i], int(d.shift[i]))
    # rows grouped by FFT length: the clip plus its response rounded up to 0.1 s (the clip alone: no reverb)
    n_fft = np.array([_fft_length(x.shape[1], 0 if r is None else r.size) for r in d.rirs])
    n_fft[np.array([r is None for r in d.rirs]) & np.isnan(d.channel[:, 0])] = 0  # neither: untouched
    for length in np.unique(n_fft[n_fft > 0]):
        rows = np.flatnonzero(n_fft == length)
        x[rows] = _room_and_channel(x[rows], [d.rirs[i] for i in rows], d.channel[rows], int(length))
    x *= d.gain[:, None].astype(np.float32)
    for i, drawn in enumerate(d.noise):
        if drawn is not None:
            clip, start, volume = drawn
            x[i] += volume * noise[clip][start : start + CLIP_SAMPLES]
    for i, floor in enumerate(d.floor):
        if floor is not None:
            x[i] += floor
    return np.clip(x, -1.0, 1.0)


def augment_waveforms(audio: np.ndarray, is_silence: np.ndarray, noise: list[np.ndarray],
                      cfg: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """(N, 16000) int16 clips -> augmented float32 clips in [-1, 1]."""
    out = np.empty(audio.shape, dtype=np.float32)
    sizes = [clip.size for clip in noise]
    for start in range(0, audio.shape[0], _CHUNK):
        rows = slice(start, start + _CHUNK)
        out[rows] = _apply(audio[rows], _draw(is_silence[rows], len(noise), sizes, cfg, rng), noise)
    return out


def training_features(audio: np.ndarray, is_silence: np.ndarray, noise: list[np.ndarray],
                      cfg: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """Augmented (N, 49, 10, 1) MFCC features for one epoch."""
    waves = augment_waveforms(audio, is_silence, noise, cfg, rng)
    warp = np.where(rng.random(len(waves)) < cfg.vtlp_probability,
                    rng.uniform(*cfg.vtlp_range, size=len(waves)), 1.0)
    logmel = cfg.spec_augment.apply(log_mel(waves, warp=warp), rng)
    return mfcc_from_log_mel(logmel)[..., None]
