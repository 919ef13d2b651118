"""A SYNTHETIC Speech Commands-layout dataset spoken by espeak-ng, built offline.

Every clip is a keyword (or another word, for ``_unknown_``) spoken by one of espeak-ng's
English voices (8 accents x its voice variants), at a random speed, pitch and level, placed
at a random position in a 1 s, 16 kHz, 16-bit clip, half of them with background noise.
A speaker id is the voice (accent + variant); splits are by voice — the validation and test
lists never share a voice with training. ``_background_noise_`` holds generated noises
(white, pink, brown, mains hum, fan, and babble made of overlapping synthetic sentences).

This is not human speech: the dataset, its README and its manifest say SYNTHETIC.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from tinyml import console
from tinyml.audio.features import CLIP_SAMPLES, SAMPLE_RATE
from tinyml.audio.wav import decode_wav, resample, write_wav
from tinyml.datasets.output import publish, staging, up_to_date
from tinyml.datasets.speech_commands import BACKGROUND_DIR, KEYWORDS, hash_split
from tinyml.errors import DatasetError, ToolMissingError

ESPEAK = "espeak-ng"
ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd",
           "en-029", "en-us-nyc")
UNKNOWN_WORDS = ("bed", "bird", "cat", "dog", "eight", "five", "four", "happy", "house", "marvin", "nine",
                 "one", "seven", "sheila", "six", "three", "tree", "two", "wow", "zero", "backward",
                 "forward", "follow", "learn", "visual")
MANIFEST = "tinyml-synth.json"
FORMAT_VERSION = 1
NOISE_SECONDS = 10
SYNTH_DEADLINE_S = 30.0  # one espeak-ng call


@dataclass(frozen=True)
class SynthConfig:
    per_word: int = 100
    unknown_per_word: int = 0  # 0: a quarter of per_word (at least 4)
    seed: int = 0
    noisy_fraction: float = 0.5

    @property
    def per_unknown_word(self) -> int:
        return self.unknown_per_word or max(4, self.per_word // 4)


@dataclass(frozen=True)
class _Job:
    word: str
    accent: str
    variant: str
    speed: int
    pitch: int
    path: str
    index: int


def _espeak(text: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    try:
        result = subprocess.run([ESPEAK, "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
                                capture_output=True, timeout=SYNTH_DEADLINE_S, check=False)
    except FileNotFoundError as err:
        raise ToolMissingError(f"{ESPEAK} is not installed; install it with `apt-get install espeak-ng` "
                               "(scripts/bootstrap.sh does)") from err
    if result.returncode != 0 or not result.stdout:
        raise DatasetError(f"{ESPEAK} failed for voice {voice}: {result.stderr.decode(errors='replace').strip()}")
    wav = decode_wav(result.stdout, Path(f"<{ESPEAK} {voice}>"))
    return resample(wav.samples, wav.rate, SAMPLE_RATE)


def espeak_variants() -> tuple[str, ...]:
    """espeak-ng's voice variants (``+name`` suffixes), as the installed data lists them."""
    try:
        out = subprocess.run([ESPEAK, "--voices=variant"], capture_output=True, text=True,
                             timeout=SYNTH_DEADLINE_S, check=True).stdout
    except FileNotFoundError as err:
        raise ToolMissingError(f"{ESPEAK} is not installed; install it with `apt-get install espeak-ng`") from err
    names = [line.split()[4].removeprefix("!v/") for line in out.splitlines()[1:] if len(line.split()) >= 5]
    return tuple(sorted(set(names)))


def speaker_id(accent: str, variant: str) -> str:
    return hashlib.sha1(f"{accent}+{variant}".encode()).hexdigest()[:8]


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


def _babble(rng: np.random.Generator, voices: list[tuple[str, str]]) -> np.ndarray:
    sentences = ("turn the lights down in the living room", "what time is the meeting tomorrow",
                 "please follow the house rules", "seven birds sat on the tree", "happy birthday to you",
                 "the quick brown fox jumps over the lazy dog")
    out = np.zeros(NOISE_SECONDS * SAMPLE_RATE, np.float32)
    for k in range(18):
        accent, variant = voices[int(rng.integers(len(voices)))]
        speech = _espeak(sentences[k % len(sentences)], f"{accent}+{variant}", int(rng.integers(140, 200)), 50)
        start = int(rng.integers(0, max(1, out.size - speech.size)))
        seg = speech[: out.size - start]
        out[start : start + seg.size] += seg
    return out


def _place(speech: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Trim silence, then put the word at a random position inside 1 s."""
    loud = np.flatnonzero(np.abs(speech) > 0.02 * max(float(np.max(np.abs(speech))), 1e-6))
    word = speech[loud[0] : loud[-1] + 1] if loud.size else speech
    word = word[:CLIP_SAMPLES]
    clip = np.zeros(CLIP_SAMPLES, np.float32)
    start = int(rng.integers(0, CLIP_SAMPLES - word.size + 1))
    clip[start : start + word.size] = word
    return clip * (rng.uniform(0.3, 0.9) / max(float(np.max(np.abs(clip))), 1e-6))


def _render(job: _Job, out: Path, cfg: SynthConfig, noise: list[np.ndarray]) -> None:
    rng = np.random.default_rng([cfg.seed, job.index])
    clip = _place(_espeak(job.word, f"{job.accent}+{job.variant}", job.speed, job.pitch), rng)
    if rng.random() < cfg.noisy_fraction:
        bg = noise[int(rng.integers(len(noise)))]
        start = int(rng.integers(0, bg.size - CLIP_SAMPLES + 1))
        seg = bg[start : start + CLIP_SAMPLES]
        snr_db = rng.uniform(10.0, 40.0)
        gain = np.sqrt(np.mean(clip**2) / max(float(np.mean(seg**2)), 1e-12) / 10 ** (snr_db / 10))
        clip = np.clip(clip + gain * seg, -1.0, 1.0)
    write_wav(out / job.path, clip, SAMPLE_RATE)


def _plan(cfg: SynthConfig, voices: list[tuple[str, str]]) -> list[_Job]:
    rng = np.random.default_rng(cfg.seed)
    jobs: list[_Job] = []
    for word in (*KEYWORDS, *UNKNOWN_WORDS):
        count = cfg.per_word if word in KEYWORDS else cfg.per_unknown_word
        seen: dict[str, int] = {}
        for _ in range(count):
            accent, variant = voices[int(rng.integers(len(voices)))]
            spk = speaker_id(accent, variant)
            n = seen.get(spk, 0)
            seen[spk] = n + 1
            jobs.append(_Job(word, accent, variant, int(rng.integers(110, 231)), int(rng.integers(15, 86)),
                             f"{word}/{spk}_nohash_{n}.wav", len(jobs)))
    return jobs


def _manifest(cfg: SynthConfig) -> dict[str, object]:
    return {"generator": "tinyml data synth-kws", "synthetic": True, "speech": ESPEAK,
            "format_version": FORMAT_VERSION, "config": asdict(cfg)}


def synthesize(out: Path, cfg: SynthConfig, force: bool = False) -> Path:
    """Build the dataset in ``out``; a complete one with the same settings is reused."""
    out = Path(out)
    if cfg.per_word < 1:
        raise DatasetError("--per-word must be at least 1")
    if up_to_date(out, MANIFEST, _manifest(cfg), force):
        return out
    voices = [(a, v) for a in ACCENTS for v in espeak_variants()]
    tmp = staging(out)
    jobs = _plan(cfg, voices)
    for word in {j.word for j in jobs} | {BACKGROUND_DIR}:
        (tmp / word).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([cfg.seed, 1 << 20])
    bank = _noise_bank(rng, _babble(rng, voices))
    for name, x in bank.items():
        write_wav(tmp / BACKGROUND_DIR / f"{name}.wav", x, SAMPLE_RATE)
    noise = list(bank.values())
    with console.progress() as bar, ThreadPoolExecutor(max_workers=2 * (os.cpu_count() or 1)) as pool:
        task = bar.add_task("synthesizing speech (espeak-ng)", total=len(jobs), status="")
        for _ in pool.map(lambda j: _render(j, tmp, cfg, noise), jobs):
            bar.advance(task)
    splits: dict[str, list[str]] = {"validation": [], "test": []}
    for job in jobs:
        split = hash_split(job.path)
        if split in splits:
            splits[split].append(job.path)
    (tmp / "validation_list.txt").write_text("".join(f"{p}\n" for p in splits["validation"]))
    (tmp / "testing_list.txt").write_text("".join(f"{p}\n" for p in splits["test"]))
    (tmp / "README.txt").write_text(
        "SYNTHETIC keyword-spotting dataset generated by `tinyml data synth-kws` with espeak-ng.\n"
        "Speech Commands v2 layout. Not human speech: do not report accuracy on it as real-world accuracy.\n"
        "Speaker ids are espeak-ng voices; the validation and test lists never share a voice with training.\n")
    voices_used = len({(j.accent, j.variant) for j in jobs})
    publish(tmp, out, MANIFEST, {**_manifest(cfg), "items": len(jobs), "clips": len(jobs), "voices": voices_used,
                                 "split_clips": {k: len(v) for k, v in splits.items()}})
    console.info(f"wrote {len(jobs)} synthetic clips from {voices_used} voices to {out}")
    return out
