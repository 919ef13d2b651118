from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tinyml.audio.augment import AugmentConfig, augment_waveforms, training_features

from .conftest import tone


def _batch() -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    audio = np.stack([tone(300), tone(500), np.zeros(16000, np.float32)])
    noise = [np.random.default_rng(3).uniform(-0.5, 0.5, 48000).astype(np.float32)]
    return (audio * 32767).astype(np.int16), np.array([False, False, True]), noise


def test_shapes_dtype_range_and_determinism() -> None:
    audio, silence, noise = _batch()
    a = augment_waveforms(audio, silence, noise, AugmentConfig(), np.random.default_rng(7))
    b = augment_waveforms(audio, silence, noise, AugmentConfig(), np.random.default_rng(7))
    c = augment_waveforms(audio, silence, noise, AugmentConfig(), np.random.default_rng(8))
    assert a.shape == audio.shape and a.dtype == np.float32
    assert np.abs(a).max() <= 1.0
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_silence_clips_receive_background_noise() -> None:
    audio, silence, noise = _batch()
    out = augment_waveforms(audio, silence, noise, AugmentConfig(), np.random.default_rng(1))
    assert np.abs(out[2]).max() > 0


def test_speed_perturbation_changes_pitch() -> None:
    audio, silence, noise = _batch()
    cfg = AugmentConfig(speed_range=(1.2, 1.2), speed_probability=1.0, time_shift_ms=0, reverb_probability=0,
                        channel_probability=0, gain_db_range=(0, 0), background_probability=0)
    out = augment_waveforms(audio[:1], silence[:1], noise, cfg, np.random.default_rng(0))
    peak_hz = np.argmax(np.abs(np.fft.rfft(out[0][4000:12000]))) * 16000 / 8000
    assert abs(peak_hz - 360) < 5  # 300 Hz played 1.2x faster


def test_training_features_shape() -> None:
    audio, silence, noise = _batch()
    x = training_features(audio, silence, noise, AugmentConfig(), np.random.default_rng(0))
    assert x.shape == (3, 49, 10, 1) and np.isfinite(x).all()


def test_real_voices_recipe_never_leaves_digital_silence() -> None:
    from tinyml.audio.augment import REAL_VOICES

    silent = np.zeros((4, 16000), np.int16)
    only_floor = replace(REAL_VOICES, background_probability=0.0)
    out = augment_waveforms(silent, np.zeros(4, bool), [], only_floor, np.random.default_rng(0))
    rms_dbfs = 20 * np.log10(np.sqrt(np.mean(out**2, axis=1)))
    assert np.all((rms_dbfs > -86) & (rms_dbfs < -49)), rms_dbfs  # never digital silence


def test_the_default_masks_mel_bands_and_never_frames() -> None:
    rng = np.random.default_rng(0)
    logmel = rng.standard_normal((64, 49, 40)).astype(np.float32)
    masked = AugmentConfig().spec_augment.apply(logmel, rng) != logmel
    assert masked.all(axis=1).any()  # some band masked over the whole clip
    assert not masked.all(axis=2).any()  # no frame masked across all bands (time masks cost real `_unknown_`)


def test_reverberation_is_a_linear_convolution_with_the_room_response() -> None:
    from tinyml.audio.augment import _fft_length, _room_and_channel

    rng = np.random.default_rng(4)
    x = rng.uniform(-0.5, 0.5, (3, 16000)).astype(np.float32)
    rirs = [rng.standard_normal(size).astype(np.float32) * 0.05 for size in (1600, 4000, 11200)]
    for rir in rirs:
        rir[0] = 1.0
    n_fft = _fft_length(16000, 11200)
    y = _room_and_channel(x, list(rirs), np.full((3, 3), np.nan), n_fft)
    for i, rir in enumerate(rirs):
        want = np.convolve(x[i].astype(np.float64), rir)[:16000]
        want *= np.abs(x[i]).max() / np.abs(want).max()  # the clip keeps its peak
        np.testing.assert_allclose(y[i], want, atol=1e-5)


def test_a_clip_is_augmented_alike_in_any_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    import tinyml.audio.augment as augment

    rng = np.random.default_rng(5)
    audio = (rng.uniform(-0.3, 0.3, (40, 16000)) * 32767).astype(np.int16)
    silence = rng.random(40) < 0.1
    noise = [rng.uniform(-0.5, 0.5, 48000).astype(np.float32)]
    cfg = AugmentConfig(reverb_probability=0.6, channel_probability=0.6, highpass_hz_range=(40.0, 300.0))
    whole = augment_waveforms(audio, silence, noise, cfg, np.random.default_rng(9))
    monkeypatch.setattr(augment, "_CHUNK", 7)
    batched = augment_waveforms(audio, silence, noise, cfg, np.random.default_rng(9))
    np.testing.assert_array_equal(whole, batched)


def _noise_volumes(cfg: AugmentConfig, silence: bool, n: int = 400) -> np.ndarray:
    """The volume each of ``n`` empty clips got its background noise at (the clip is the noise alone)."""
    noise = np.random.default_rng(5).uniform(-0.5, 0.5, 64000).astype(np.float32)
    out = augment_waveforms(np.zeros((n, 16000), np.int16), np.full(n, silence), [noise],
                            replace(cfg, background_probability=1.0), np.random.default_rng(2))
    return np.sqrt(np.mean(out**2, axis=1)) / np.sqrt(np.mean(noise**2))


def test_word_clips_noise_volume_is_log_uniform_over_background_db() -> None:
    db = 20 * np.log10(_noise_volumes(AugmentConfig(), silence=False) / 0.1)
    assert db.max() <= 0.1 and db.min() >= -40.1
    np.testing.assert_allclose(np.percentile(db, [25, 50, 75]), [-30, -20, -10], atol=3)  # uniform in dB
    uniform = _noise_volumes(AugmentConfig(background_db=0.0), silence=False)  # Speech Commands' recipe
    np.testing.assert_allclose(np.percentile(uniform, [25, 50, 75]), [0.025, 0.05, 0.075], atol=0.008)
    silence = _noise_volumes(AugmentConfig(), silence=True)  # silence clips: uniform up to full volume
    np.testing.assert_allclose(np.percentile(silence, [25, 50, 75]), [0.25, 0.5, 0.75], atol=0.08)
