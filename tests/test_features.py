from __future__ import annotations

import numpy as np
import pytest

from tinyml.audio import features as F


def test_constants_give_49x10() -> None:
    assert (F.N_FRAMES, F.N_MFCC) == (49, 10)
    assert F.INPUT_SHAPE == (49, 10, 1)


def test_mfcc_shape_and_dtype() -> None:
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (3, 16000)).astype(np.float32)
    out = F.mfcc(x)
    assert out.shape == (3, 49, 10, 1) and out.dtype == np.float32


def test_filterbank_triangles_peak_at_one_inside_the_band() -> None:
    fb = F.mel_filterbank(1.0)
    assert fb.shape == (257, 40)
    hz = np.arange(257) * 16000 / 512
    assert np.all(fb[(hz < F.LOW_HZ) | (hz > F.HIGH_HZ)] == 0)
    assert np.all(fb.max(axis=0) > 0.5)  # every band sees at least one bin
    assert np.all(fb.max(axis=0) <= 1.0)


def test_dct_basis_is_orthogonal_with_tf_scaling() -> None:
    d = F.dct_matrix()
    np.testing.assert_allclose(d.T @ d, np.diag([2.0] + [1.0] * 9), atol=1e-6)


def test_vtlp_warp_moves_energy_between_bands() -> None:
    assert not np.allclose(F.mel_filterbank(0.9), F.mel_filterbank(1.1))


def test_matches_tf_signal_reference() -> None:
    """The documented front end equals the MLPerf Tiny reference's tf.signal MFCC pipeline."""
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(1)
    t = np.arange(16000) / 16000
    x = (0.3 * np.sin(2 * np.pi * 700 * t) + 0.05 * rng.standard_normal(16000)).astype(np.float32)[None]
    stft = tf.signal.stft(x, frame_length=480, frame_step=320, fft_length=512,
                          window_fn=lambda n, dtype: tf.signal.hann_window(n, periodic=True, dtype=dtype))
    mel = tf.tensordot(tf.abs(stft), tf.signal.linear_to_mel_weight_matrix(40, 257, 16000, 20.0, 4000.0), 1)
    ref = tf.signal.mfccs_from_log_mel_spectrograms(tf.math.log(mel + 1e-6))[..., :10].numpy()
    ours = F.mfcc(x)[..., 0]
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-4)


def test_spec_augment_masks_with_the_clip_mean() -> None:
    rng = np.random.default_rng(0)
    logmel = rng.standard_normal((8, 49, 40)).astype(np.float32)
    out = F.SpecAugment(probability=1.0, max_freq_width=6, max_time_width=6).apply(logmel, rng)
    assert out.shape == logmel.shape
    changed = out != logmel
    assert changed.any()
    for i in range(8):
        np.testing.assert_allclose(out[i][changed[i]], logmel[i].mean(), rtol=1e-6)
