"""WAV files in and out.

Reads RIFF/WAVE with PCM (8/16/24/32-bit), IEEE float (32/64-bit) or WAVE_FORMAT_EXTENSIBLE
data, mixes any channel count down to mono and resamples to the requested rate. Anything
unreadable raises :class:`AudioError` with the file name and the reason.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyml.errors import AudioError

_PCM, _FLOAT, _EXTENSIBLE = 0x0001, 0x0003, 0xFFFE


@dataclass(frozen=True)
class Wav:
    samples: np.ndarray  # float32 in [-1, 1], mono
    rate: int
    channels: int  # as stored in the file (before the mono mix-down)


def _chunks(data: bytes, path: Path) -> dict[bytes, bytes]:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioError(f"{path}: not a RIFF/WAVE file; re-export it as WAV")
    chunks: dict[bytes, bytes] = {}
    pos = 12
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = data[pos + 8 : pos + 8 + size]
        chunks.setdefault(cid, body)
        pos += 8 + size + (size & 1)
    return chunks


def decode_wav(data: bytes, path: Path = Path("<bytes>")) -> Wav:
    chunks = _chunks(data, path)
    fmt, raw = chunks.get(b"fmt "), chunks.get(b"data")
    if fmt is None or len(fmt) < 16 or raw is None:
        raise AudioError(f"{path}: truncated WAV (no 'fmt ' or 'data' chunk); re-record or delete it")
    tag, channels, rate, _, block, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == _EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack_from("<H", fmt, 24)[0]
    if channels < 1 or rate < 1000 or block < 1:
        raise AudioError(f"{path}: invalid WAV header ({channels} channels, {rate} Hz)")
    frames = len(raw) // block
    if frames == 0:
        raise AudioError(f"{path}: the WAV holds no samples; delete it or re-record")
    raw = raw[: frames * block]
    width = block // channels
    if tag == _PCM and width == 1:
        x = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif tag == _PCM and width == 2:
        x = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    elif tag == _PCM and width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        x = (np.where(v >= 1 << 23, v - (1 << 24), v)).astype(np.float32) / float(1 << 23)
    elif tag == _PCM and width == 4:
        x = np.frombuffer(raw, "<i4").astype(np.float32) / float(1 << 31)
    elif tag == _FLOAT and width in (4, 8):
        x = np.frombuffer(raw, "<f4" if width == 4 else "<f8").astype(np.float32)
        if not np.all(np.isfinite(x)):
            raise AudioError(f"{path}: float WAV contains NaN/inf samples; re-export it")
    else:
        raise AudioError(f"{path}: unsupported WAV encoding (format {tag:#x}, {bits} bits); convert to 16-bit PCM")
    x = x.reshape(frames, channels).mean(axis=1) if channels > 1 else x
    return Wav(np.clip(x, -1.0, 1.0).astype(np.float32), rate, channels)


def read_wav(path: Path) -> Wav:
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise AudioError(f"{path}: cannot read ({err.strerror}); check the file's permissions") from err
    return decode_wav(data, Path(path))


def resample(x: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Band-limited resampling along the last axis (FFT method; exact for 1 s clips)."""
    if src_rate == dst_rate:
        return x
    n = x.shape[-1]
    m = max(1, round(n * dst_rate / src_rate))
    spectrum = np.fft.rfft(x, axis=-1)
    keep = min(spectrum.shape[-1], m // 2 + 1)
    out = np.zeros((*x.shape[:-1], m // 2 + 1), dtype=spectrum.dtype)
    out[..., :keep] = spectrum[..., :keep]
    return (np.fft.irfft(out, n=m, axis=-1) * (m / n)).astype(np.float32)


def to_int16(x: np.ndarray) -> np.ndarray:
    """Float in [-1, 1] -> int16 with the same 1/32768 scale ``decode_wav`` uses."""
    return np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16)


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    """Write mono 16-bit PCM. ``samples`` is int16, or float in [-1, 1]."""
    pcm = samples if samples.dtype == np.int16 else to_int16(samples)
    data = pcm.astype("<i2").tobytes()
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, _PCM, 1, rate, rate * 2, 2, 16)
    Path(path).write_bytes(header + fmt + b"data" + struct.pack("<I", len(data)) + data)
