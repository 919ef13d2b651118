"""Offline text-to-speech voices for SYNTHETIC keyword data: five Debian engines and two neural ones.

Seven engines, five kinds of synthesis, so a model trained on them learns the words rather than
one synthesizer's sound:

- ``espeak-ng``: formant synthesis, 8 English accents x its voice variants (hundreds of voices);
- ``flite``: ``kal``/``kal16`` (diphone) and ``awb``, ``rms``, ``slt`` — statistical parametric
  voices trained on recordings of real speakers (Scottish male, US male, US female);
- ``festival``: the diphone voices ``kal``, ``ked``, ``rab`` (British), ``don``, the MBROLA voices
  ``us1``-``us3``, ``en1`` and the HTS voice ``cmu_us_slt_arctic_hts`` (those installed);
- ``rhvoice``: RHVoice's six English HTS voices (CMU Arctic's alan, bdl, clb, slt and two
  Russian speakers' English), trained on recordings of real speakers;
- ``mbrola``: espeak-ng's prosody over MBROLA diphones cut from real speakers' recordings — four
  English voices and English spoken with sixteen other languages' diphones (accents);
- ``piper`` and ``kokoro``: neural voices (VITS; Kokoro-82M with 128 mixed styles) from PyPI
  wheels, run with onnxruntime on espeak-ng's phonemes of its English accents (``neural.py``).

``rhvoice``, ``mbrola`` and festival's MBROLA voices are in Debian's contrib/non-free sections
(``scripts/bootstrap.sh`` enables them), the neural engines are Python packages (``pip install
-e .`` installs them); a voice that is not installed is simply not used.

An :class:`Utterance` asks for a text in one voice at a speaking rate and a pitch factor; each
engine maps them to its own controls (espeak-ng ``-s``/``-p``; flite ``duration_stretch`` and
``int_f0_target_mean``; festival ``Duration_Stretch`` and its intonation target; RHVoice
relative rate and pitch). Festival runs one process per batch (its start-up costs ~1 s), RHVoice
runs in-process through its library (``rhvoice.py``); the others run one process per utterance.
Every result is float32 mono at 16 kHz.
"""

from __future__ import annotations

import hashlib
import math
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyml.audio.features import SAMPLE_RATE
from tinyml.audio.wav import decode_wav, read_wav, resample
from tinyml.datasets import neural, rhvoice
from tinyml.errors import DatasetError, ToolMissingError

ESPEAK, FLITE, FESTIVAL, RHVOICE, MBROLA = "espeak-ng", "flite", "festival", "rhvoice", "mbrola"
PIPER, KOKORO = neural.PIPER, neural.KOKORO
ENGINES = (ESPEAK, FLITE, FESTIVAL, RHVOICE, MBROLA, PIPER, KOKORO)
NONFREE = (RHVOICE, MBROLA)  # Debian contrib/non-free: used by default when installed
NEURAL = neural.ENGINES  # Python packages: used by default when installed
PITCHLESS = NEURAL  # engines that take no pitch target (their voices are not split into pitch bands)
_BINARY = {ESPEAK: "espeak-ng", FLITE: "flite", FESTIVAL: "festival", MBROLA: "mbrola"}  # RHVoice: a library
ESPEAK_ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd",
                  "en-029", "en-us-nyc")
# The neural voices read espeak-ng's phonemes of these accents, US three times in ten: Piper's and
# Kokoro's speakers then say "stɒp", "ɡəʊ", "dæʊn" as well (README, "Synthetic speech, real people").
NEURAL_ACCENTS = ("en-us", "en-us", "en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-gb-x-gbclan",
                  "en-gb-x-gbcwmd", "en-us-nyc")
# Flite voices and the mean F0 (Hz) each speaks at, which the pitch factor scales.
FLITE_VOICES = {"kal": 105.0, "kal16": 105.0, "awb": 115.0, "rms": 105.0, "slt": 170.0}
# Festival voices: (scheme call that selects it, mean F0 of its intonation model or 0 when the
# voice takes no intonation target).
FESTIVAL_VOICES = {"kal_diphone": ("(voice_kal_diphone)", 105.0), "ked_diphone": ("(voice_ked_diphone)", 105.0),
                   "cmu_us_slt_arctic_hts": ("(voice_cmu_us_slt_arctic_hts)", 0.0),
                   "rab_diphone": ("(voice_rab_diphone)", 111.0), "don_diphone": ("(voice_don_diphone)", 145.0),
                   "us1_mbrola": ("(voice_us1_mbrola)", 174.0), "us2_mbrola": ("(voice_us2_mbrola)", 96.0),
                   "us3_mbrola": ("(voice_us3_mbrola)", 110.0), "en1_mbrola": ("(voice_en1_mbrola)", 115.0)}
FESTIVAL_VOICE_DIR = Path("/usr/share/festival/voices")
RHVOICE_VOICES = ("alan", "bdl", "clb", "slt", "evgeniy-eng", "lyubov")
RHVOICE_VOICE_DIR = rhvoice.VOICE_DIR
# espeak-ng voices that speak English with MBROLA diphones: English ones, then accents.
MBROLA_VOICES = ("us1", "us2", "us3", "en1", "af1-en", "nl2-en", "fr1-en", "fr4-en", "de1-en", "de2-en", "de3-en",
                 "de4-en", "de5-en", "de6-en", "gr2-en", "hu1-en", "pl1-en", "ro1-en", "sw1-en", "sw2-en")
MBROLA_DIR = Path("/usr/share/mbrola")
_APT = {ESPEAK: "espeak-ng", FLITE: "flite", FESTIVAL: "festival festvox-kallpc16k festvox-kdlpc16k "
        "festvox-us-slt-hts", RHVOICE: "librhvoice5 rhvoice-english (Debian non-free)",
        MBROLA: "mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1 (Debian contrib/non-free)",
        PIPER: "espeak-ng", KOKORO: "espeak-ng"}  # the neural engines speak espeak-ng's phonemes
TTS_DEADLINE_S = 30.0  # one espeak-ng or flite call
FESTIVAL_DEADLINE_S = 600.0  # one festival batch
_TEXT = re.compile(r"^[a-z][a-z' -]*$")


@dataclass(frozen=True)
class Voice:
    engine: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.engine}:{self.name}"


@dataclass(frozen=True)
class Utterance:
    text: str
    voice: Voice
    rate: float = 1.0  # > 1 speaks faster
    pitch: float = 1.0  # factor on the voice's mean F0


def check_text(text: str) -> str:
    """A word or phrase every engine can speak: lower-case letters, spaces, hyphens, apostrophes."""
    clean = " ".join(text.strip().lower().split())
    if not _TEXT.match(clean):
        raise DatasetError(f"cannot synthesize '{text}': use letters, spaces, hyphens and apostrophes only "
                           "(spell numbers as words)")
    return clean


def speaker_id(voice: Voice, bucket: int = 0) -> str:
    """A stable 8-hex speaker id for a voice (and, for engines with few voices, a pitch bucket)."""
    return hashlib.sha1(f"{voice.engine}:{voice.name}:{bucket}".encode()).hexdigest()[:8]


def _run(cmd: list[str], deadline: float, engine: str) -> subprocess.CompletedProcess[bytes]:
    try:
        result = subprocess.run(cmd, capture_output=True, timeout=deadline, check=False)
    except FileNotFoundError as err:
        raise ToolMissingError(f"{engine} is not installed; install it with `apt-get install {_APT[engine]}` "
                               "(scripts/bootstrap.sh does)") from err
    except subprocess.TimeoutExpired as err:
        raise DatasetError(f"{engine} did not finish within {deadline:.0f} s; check that it runs: "
                           f"`{' '.join(cmd[:3])} ...`") from err
    if result.returncode != 0:
        raise DatasetError(f"{engine} failed ({' '.join(cmd[:4])} ...): "
                           f"{result.stderr.decode(errors='replace').strip()[:200]}")
    return result


def require_engines(engines: Iterable[str]) -> None:
    for engine in engines:
        if engine not in ENGINES:
            raise DatasetError(f"unknown speech engine '{engine}'; choose from: {', '.join(ENGINES)}")
        if engine in NEURAL:
            neural.require(engine)
        if not _runs(engine):
            raise ToolMissingError(f"{engine} is not installed; install it with `apt-get install {_APT[engine]}` "
                                   "(scripts/bootstrap.sh does) or leave it out of --engines")


def espeak_variants() -> tuple[str, ...]:
    """espeak-ng's voice variants (``+name`` suffixes), as the installed data lists them."""
    out = _run([ESPEAK, "--voices=variant"], TTS_DEADLINE_S, ESPEAK).stdout.decode()
    names = [line.split()[4].removeprefix("!v/") for line in out.splitlines()[1:] if len(line.split()) >= 5]
    return tuple(sorted(set(names)))


def _installed(engine: str) -> list[str]:
    if engine == ESPEAK:
        return [f"{a}+{v}" for a in ESPEAK_ACCENTS for v in espeak_variants()]
    if engine == FLITE:
        return list(FLITE_VOICES)
    if engine == FESTIVAL:
        return [n for n in FESTIVAL_VOICES if any(FESTIVAL_VOICE_DIR.glob(f"*/{n}"))]
    if engine == RHVOICE:
        return [n for n in RHVOICE_VOICES if (RHVOICE_VOICE_DIR / n).is_dir()]
    if engine in NEURAL:
        return neural.voice_names(engine)
    return [f"mb-{n}" for n in MBROLA_VOICES if (MBROLA_DIR / n.removesuffix("-en")).is_dir()]


def _runs(engine: str) -> bool:
    if engine == RHVOICE:
        return rhvoice.available()
    if engine in NEURAL:
        return neural.installed(engine) and bool(shutil.which(ESPEAK))
    return bool(shutil.which(_BINARY[engine])) and (engine != MBROLA or bool(shutil.which(ESPEAK)))


def installed(engine: str) -> bool:
    """The engine runs and has at least one English voice."""
    return _runs(engine) and bool(_installed(engine))


def voices(engines: Iterable[str]) -> dict[str, list[Voice]]:
    """Every installed voice of each engine asked for."""
    found: dict[str, list[Voice]] = {}
    for engine in engines:
        found[engine] = [Voice(engine, name) for name in _installed(engine)]
        if not found[engine]:
            raise ToolMissingError(f"{engine} has no English voice installed; install one with "
                                   f"`apt-get install {_APT[engine]}` or leave it out of --engines")
    return found


def _to_16k(data: bytes, what: str) -> np.ndarray:
    wav = decode_wav(data, Path(f"<{what}>"))
    return resample(wav.samples, wav.rate, SAMPLE_RATE)


def _espeak(u: Utterance) -> np.ndarray:
    speed = round(175 * u.rate)
    pitch = min(99, max(0, round(50 + 70 * math.log2(u.pitch))))
    out = _run([ESPEAK, "-v", u.voice.name, "-s", str(speed), "-p", str(pitch), "--stdout", u.text],
               TTS_DEADLINE_S, ESPEAK).stdout
    return _to_16k(out, f"espeak-ng {u.voice.name}")


def _ipa(text: str, accent: str = "en-us") -> str:
    """espeak-ng's IPA for ``text`` (words separated by spaces) in one of its English accents."""
    out = _run([ESPEAK, "-q", "--ipa", "-v", accent, text], TTS_DEADLINE_S, ESPEAK).stdout.decode()
    return " ".join(out.split())


def neural_accent(u: Utterance) -> str:
    """The accent whose pronunciation a neural voice reads for this utterance (always the same one)."""
    return NEURAL_ACCENTS[neural.utterance_key(u.text, u.voice.name, u.rate) % len(NEURAL_ACCENTS)]


def _neural(u: Utterance) -> np.ndarray:
    return neural.speak(u.voice.engine, u.voice.name, u.text, _ipa(u.text, neural_accent(u)), u.rate)


def _rhvoice(u: Utterance) -> np.ndarray:
    samples, rate = rhvoice.speak(u.text, u.voice.name, u.rate, u.pitch)
    return resample(samples.astype(np.float32) / 32768.0, rate, SAMPLE_RATE)


def _flite(u: Utterance, tmp: Path) -> np.ndarray:
    path = tmp / "flite.wav"
    f0 = FLITE_VOICES[u.voice.name] * u.pitch
    _run([FLITE, "-voice", u.voice.name, "--setf", f"duration_stretch={1 / u.rate:.3f}",
          "--setf", f"int_f0_target_mean={f0:.1f}", "-t", u.text, "-o", str(path)], TTS_DEADLINE_S, FLITE)
    return _to_16k(path.read_bytes(), f"flite {u.voice.name}")


def _festival_script(batch: list[Utterance], tmp: Path) -> str:
    lines = []
    for k, u in enumerate(batch):
        select, f0 = FESTIVAL_VOICES[u.voice.name]
        lines.append(select)
        lines.append(f"(Parameter.set 'Duration_Stretch {1 / u.rate:.3f})")
        if f0:
            lines.append(f"(set! int_lr_params '((target_f0_mean {f0 * u.pitch:.1f}) (target_f0_std "
                         f"{0.15 * f0 * u.pitch:.1f}) (model_f0_mean 170) (model_f0_std 34)))")
        lines.append(f'(utt.save.wave (utt.synth (Utterance Text "{u.text}")) "{tmp / f"{k}.wav"}" \'riff)')
    return "\n".join(lines) + "\n"


def _festival(batch: list[Utterance], tmp: Path) -> list[np.ndarray]:
    script = tmp / "batch.scm"
    script.write_text(_festival_script(batch, tmp))
    _run([FESTIVAL, "-b", str(script)], FESTIVAL_DEADLINE_S, FESTIVAL)
    out = []
    for k, u in enumerate(batch):
        path = tmp / f"{k}.wav"
        if not path.is_file():
            raise DatasetError(f"festival wrote no audio for '{u.text}' ({u.voice.name}); check the voice is "
                               f"installed: `apt-get install {_APT[FESTIVAL]}`")
        wav = read_wav(path)
        out.append(resample(wav.samples, wav.rate, SAMPLE_RATE))
    return out


def synthesize(batch: list[Utterance]) -> list[np.ndarray]:
    """Speak every utterance of ``batch`` (any mix of engines), in order."""
    results: list[np.ndarray | None] = [None] * len(batch)
    with tempfile.TemporaryDirectory(prefix="tinyml-tts-") as name:
        tmp = Path(name)
        festival = [k for k, u in enumerate(batch) if u.voice.engine == FESTIVAL]
        if festival:
            for k, audio in zip(festival, _festival([batch[k] for k in festival], tmp), strict=True):
                results[k] = audio
        for k, u in enumerate(batch):
            if u.voice.engine in (ESPEAK, MBROLA):
                results[k] = _espeak(u)
            elif u.voice.engine == RHVOICE:
                results[k] = _rhvoice(u)
            elif u.voice.engine == FLITE:
                results[k] = _flite(u, tmp)
            elif u.voice.engine in NEURAL:
                results[k] = _neural(u)
    return [r if r is not None else np.zeros(0, np.float32) for r in results]
