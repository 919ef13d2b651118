"""``tinyml listen``: stream a WAV of any length through the firmware's audio front end and
streaming detector (a real board or the emulated one), or let a board listen to its own
microphone, and report what it heard, as it hears it.

The audio is resampled to 16 kHz mono int16 here; the device computes features every 20 ms stride
and runs the model every few strides (tinyml/audio/detect.py). Over a UART the audio travels as hex
in `tinyml stream` commands, so a WAV plays slower than real time (about 0.2x on the emulated
board, less at 115200 baud); a board's microphone runs in real time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyml.audio.features import SAMPLE_RATE
from tinyml.audio.wav import read_wav, resample
from tinyml.device.protocol import Heard
from tinyml.device.session import Session
from tinyml.errors import TinymlError


@dataclass(frozen=True)
class Listening:
    wav: str  # the WAV streamed, or "microphone"
    seconds: float  # of audio
    heard: tuple[Heard, ...]
    dropped: int = 0  # microphone samples lost because the board fell behind (0 for a WAV)


def wav_pcm(path: Path) -> np.ndarray:
    """Any readable WAV -> 16 kHz mono int16."""
    wav = read_wav(path)
    x = resample(wav.samples, wav.rate, SAMPLE_RATE)
    return np.round(np.clip(x, -1.0, 32767 / 32768) * 32768).astype(np.int16)


def listen(session: Session, wav: Path, on_heard: Callable[[Heard], None] | None = None) -> Listening:
    _require_front_end(session)
    pcm = wav_pcm(wav)
    heard = session.stream(pcm, on_heard)
    return Listening(str(wav), pcm.size / SAMPLE_RATE, tuple(heard))


def _require_front_end(session: Session) -> None:
    if not session.info().audio_bytes:
        raise TinymlError(f"the firmware on {session.target.name} has no audio front end; generate it from a "
                          "`tinyml train kws` run (`tinyml generate RUN/model_int8.tflite`)")


def listen_microphone(session: Session, seconds: float, on_heard: Callable[[Heard], None] | None = None,
                      max_heard: int | None = None) -> Listening:
    """The board's own microphone for ``seconds`` (or until ``max_heard`` detections)."""
    _require_front_end(session)
    start = time.monotonic()
    heard, dropped, _ = session.listen(seconds, on_heard, max_heard)
    return Listening("microphone", time.monotonic() - start, tuple(heard), dropped)
