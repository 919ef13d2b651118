from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from tinyml.audio.wav import decode_wav, read_wav, resample, write_wav
from tinyml.errors import AudioError


def _wav_bytes(pcm: bytes, channels: int, rate: int, width: int, tag: int = 1) -> bytes:
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * channels * width, channels * width, width * 8)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(pcm)) + pcm
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_round_trip_16bit(tmp_path: Path) -> None:
    x = np.linspace(-0.9, 0.9, 1000, dtype=np.float32)
    write_wav(tmp_path / "a.wav", x, 16000)
    wav = read_wav(tmp_path / "a.wav")
    assert wav.rate == 16000 and wav.channels == 1
    np.testing.assert_allclose(wav.samples, x, atol=1 / 32767)


def test_stereo_is_mixed_down() -> None:
    left, right = np.full(100, 1000, "<i2"), np.full(100, 3000, "<i2")
    pcm = np.stack([left, right], axis=1).tobytes()
    wav = decode_wav(_wav_bytes(pcm, 2, 16000, 2))
    assert wav.channels == 2
    np.testing.assert_allclose(wav.samples, 2000 / 32768, rtol=1e-6)


def test_24bit_and_float_and_8bit() -> None:
    v = np.array([-(1 << 23), 0, (1 << 23) - 1], dtype=np.int64)
    pcm24 = b"".join(int(s & 0xFFFFFF).to_bytes(3, "little") for s in v)
    np.testing.assert_allclose(decode_wav(_wav_bytes(pcm24, 1, 16000, 3)).samples, [-1, 0, 1], atol=1e-6)
    f32 = np.array([0.25, -0.5], "<f4").tobytes()
    np.testing.assert_allclose(decode_wav(_wav_bytes(f32, 1, 16000, 4, tag=3)).samples, [0.25, -0.5])
    u8 = bytes([0, 128, 255])
    np.testing.assert_allclose(decode_wav(_wav_bytes(u8, 1, 8000, 1)).samples, [-1, 0, 127 / 128])


def test_resample_preserves_a_tone() -> None:
    t = np.arange(8000) / 8000
    x = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    y = resample(x, 8000, 16000)
    assert y.shape == (16000,)
    expected = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)
    np.testing.assert_allclose(y, expected, atol=1e-3)


@pytest.mark.parametrize(("data", "message"), [
    (b"", "not a RIFF/WAVE"),
    (b"garbage that is not audio at all", "not a RIFF/WAVE"),
    (_wav_bytes(b"", 1, 16000, 2), "no samples"),
    (_wav_bytes(b"\x00\x00" * 10, 1, 16000, 2)[:30], "truncated"),
    (_wav_bytes(b"\x00" * 12, 1, 16000, 6), "unsupported WAV encoding"),
    (_wav_bytes(b"\x00\x00" * 10, 0, 16000, 2), "invalid WAV header"),
])
def test_bad_wavs_raise_audio_error(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(data)
    with pytest.raises(AudioError, match=message) as info:
        read_wav(path)
    assert str(path) in str(info.value)
