"""Test helpers for streaming detection: the KWS firmware built for the host behind a Target (a
pipe to its stdin/stdout), test tracks of keyword clips, unknown words and noise, the Python
reference of the whole streaming pipeline, and scoring detections against the truth."""

from __future__ import annotations

import os
import select
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyml.audio import features
from tinyml.audio.detect import DetectConfig
from tinyml.audio.wav import read_wav
from tinyml.device.protocol import Heard
from tinyml.device.target import LineBuffer, Target, read_line
from tinyml.resources import data_dir
from tinyml.tflite.interpreters import TflmRunner, quantize_input
from tinyml.tflite.model import load_model

COMPILE_DEADLINE_S = 300.0


def build_host_firmware(project: Path, out: Path) -> Path:
    """The whole firmware (protocol, native runtime, front end, detector) for the host port; a
    project for a board with a microphone gets the host's file microphone (TINYML_MIC_PCM)."""
    src = project / "src"
    sources = [*sorted(src.glob("*.c")), *sorted((src / "tinyml/core").glob("*.c")),
               *sorted((src / "tinyml/runtime").glob("*.c")), *sorted((src / "tinyml/frontend").glob("*.c")),
               data_dir("firmware") / "ports/host/tinyml_port_host.c"]
    if "TM_HAS_MIC" in (src / "tinyml_board.h").read_text():
        sources.append(data_dir("firmware") / "ports/host/tinyml_mic_host.c")
    includes = [f"-I{d}" for d in (src, src / "tinyml/core", src / "tinyml/runtime", src / "tinyml/frontend")]
    subprocess.run(["gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter", *includes,
                    *map(str, sources), "-lm", "-o", str(out)], check=True, capture_output=True,
                   timeout=COMPILE_DEADLINE_S)
    return out


class PipeTarget(Target):
    """Host-built firmware as a Target: its stdin/stdout are the serial line (nothing is dropped)."""

    lossless_input = True

    def __init__(self, exe: Path, env: dict[str, str] | None = None) -> None:
        self.exe = exe
        self.env = env
        self.name = f"host firmware {exe.name}"
        self._lines = LineBuffer()
        self._proc: subprocess.Popen[bytes] | None = None

    def open(self) -> None:
        env = {**os.environ, **self.env} if self.env else None
        self._proc = subprocess.Popen([str(self.exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0,
                                      env=env)

    def _read_some(self, wait_s: float) -> bytes:
        assert self._proc is not None and self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout], [], [], wait_s)
        return self._proc.stdout.read(65536) or b"" if ready else b""  # unbuffered: what is there

    def readline(self, timeout: float = 5.0) -> str | None:
        assert self._proc is not None
        return read_line(self._lines, self._read_some, timeout, lambda: self._proc is not None
                         and self._proc.poll() is not None)

    def write(self, data: bytes) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(data)

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.stdin is not None:
                self._proc.stdin.close()
            self._proc.kill()
            self._proc.wait(timeout=10)
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._proc = None


@dataclass(frozen=True)
class Spoken:
    label: str  # a keyword, or "_unknown_" for another word
    start_ms: float
    end_ms: float


def held_out_clips(root: Path, split: str = "testing") -> dict[str, list[Path]]:
    """The clips of a Speech Commands-layout folder's test (or validation) split — speakers the
    model never trained on — by word."""
    listed = (root / f"{split}_list.txt").read_text().split()
    by_word: dict[str, list[Path]] = {}
    for rel in listed:
        by_word.setdefault(rel.split("/")[0], []).append(root / rel)
    return by_word


def pcm16(x: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1) as int16 PCM (what the firmware is streamed)."""
    return np.round(np.clip(x, -1, 32767 / 32768) * 32768).astype(np.int16)


def clips_heard(clips: dict[str, list[Path]], model: Path, labels: tuple[str, ...],
                min_p: float = 0.4) -> dict[str, list[Path]]:
    """The clips the model classifies right on their own, with probability ``min_p`` at least (a
    keyword as itself, another word as ``_unknown_``; TFLM host interpreter): a test track made of
    them has detections that do not hang on how well the session's small model happened to train.
    Words left with none are left out."""
    m = load_model(model)
    iq, oq = m.input_tensors[0].quant, m.output_tensors[0].quant
    runner = TflmRunner(m.data)
    heard: dict[str, list[Path]] = {}
    for word, paths in sorted(clips.items()):
        if word.startswith("_"):
            continue
        pcm = np.stack([pcm16(read_wav(path).samples[: features.CLIP_SAMPLES]) for path in paths])
        x = quantize_input(features.pcm_features(pcm), iq.scale[0], iq.zero_point[0])
        out = runner.run(x).reshape(len(paths), -1)
        want = labels.index(word) if word in labels else labels.index("_unknown_")
        p_want = (out[:, want].astype(np.int32) - oq.zero_point[0]) * oq.scale[0]
        sure = (out.argmax(axis=1) == want) & (p_want >= min_p)
        if kept := [path for path, ok in zip(paths, sure, strict=True) if ok]:
            heard[word] = kept
    return heard


def make_track(clips: dict[str, list[Path]], keywords: tuple[str, ...], seconds: int, seed: int,
               unknown_words: tuple[str, ...] = ()) -> tuple[np.ndarray, list[Spoken]]:
    """``seconds`` of audio: a word every 1.5-2 s (keywords; every third an unknown word when
    given) over a low noise bed; int16 PCM and what was said where."""
    rng = np.random.default_rng(seed)
    track = rng.standard_normal(seconds * features.SAMPLE_RATE).astype(np.float32) * 0.003
    said: list[Spoken] = []
    at = int(0.5 * features.SAMPLE_RATE)
    k = 0
    while at + features.SAMPLE_RATE < track.size:
        unknown = bool(unknown_words) and k % 3 == 2
        word = str(rng.choice(unknown_words if unknown else keywords))
        x = read_wav(clips[word][int(rng.integers(len(clips[word])))]).samples
        voiced = np.flatnonzero(np.abs(x) > 0.02 * np.max(np.abs(x)))
        x = x[voiced[0] : voiced[-1] + 1]
        track[at : at + x.size] += x
        said.append(Spoken("_unknown_" if unknown else word, 1000 * at / features.SAMPLE_RATE,
                           1000 * (at + x.size) / features.SAMPLE_RATE))
        at += x.size + int(rng.uniform(1.0, 1.6) * features.SAMPLE_RATE)
        k += 1
    return pcm16(track), said


@dataclass(frozen=True)
class Score:
    keywords: int
    hits: int
    false_alarms: int
    minutes: float

    @property
    def hit_rate(self) -> float:
        return self.hits / max(1, self.keywords)

    @property
    def false_alarms_per_minute(self) -> float:
        return self.false_alarms / self.minutes


HIT_AFTER_MS = 1200.0  # a detection counts for a word until this long after it ends (the window trails it)


def score(heard: list[Heard], said: list[Spoken], seconds: float) -> Score:
    used: set[int] = set()
    hits = 0
    for word in (s for s in said if s.label != "_unknown_"):
        for i, h in enumerate(heard):
            if i not in used and h.label == word.label and word.start_ms <= h.ms <= word.end_ms + HIT_AFTER_MS:
                used.add(i)
                hits += 1
                break
    keywords = sum(s.label != "_unknown_" for s in said)
    return Score(keywords, hits, len(heard) - len(used), seconds / 60)


def stream_outputs(pcm: np.ndarray, model: Path, every_strides: int) -> tuple[np.ndarray, list[int], float]:
    """The model's raw outputs (minus the zero point) on each 1 s window the firmware would see —
    the Python front end and the TFLM host interpreter — with the frame each window ends at and
    the output scale."""
    m = load_model(model)
    iq, oq = m.input_tensors[0].quant, m.output_tensors[0].quant
    frames = 1 + (pcm.size - features.WINDOW) // features.STRIDE
    ends = [f for f in range(features.N_FRAMES, frames + 1) if (f - features.N_FRAMES) % every_strides == 0]
    windows = np.stack([pcm[features.STRIDE * (f - features.N_FRAMES):][: features.CLIP_SAMPLES] for f in ends])
    x = quantize_input(features.pcm_features(windows), iq.scale[0], iq.zero_point[0])
    outputs = TflmRunner(m.data).run(x).reshape(len(ends), -1).astype(np.int32) - int(oq.zero_point[0])
    return outputs, ends, float(oq.scale[0])


def detect(outputs: np.ndarray, ends: list[int], output_scale: float, labels: tuple[str, ...],
           cfg: DetectConfig) -> list[tuple[str, int]]:
    """The detector rule of tinyml/audio/detect.py in integers over per-window outputs."""
    is_keyword = cfg.is_keyword(labels)
    threshold = cfg.threshold_q(output_scale)
    found: list[tuple[str, int]] = []
    last = None
    for i, f in enumerate(ends):
        n = min(i + 1, cfg.window)
        if i + 1 < cfg.min_count:
            continue
        sums = outputs[i + 1 - n : i + 1].sum(axis=0)
        best = int(np.argmax(sums))
        ms = (features.WINDOW + (f - 1) * features.STRIDE) * 1000 // features.SAMPLE_RATE
        if is_keyword[best] and sums[best] >= threshold * n and (last is None or ms - last >= cfg.suppression_ms):
            found.append((labels[best], ms))
            last = ms
    return found


def reference_detections(pcm: np.ndarray, model: Path, labels: tuple[str, ...],
                         cfg: DetectConfig = DetectConfig()) -> list[tuple[str, int]]:
    """The streaming pipeline in Python: the Python front end over each 1 s window the firmware
    would see, the TFLM host interpreter, and the detector rule of tinyml/audio/detect.py in
    integers. Returns (label, ms) per detection."""
    outputs, ends, scale = stream_outputs(pcm, model, cfg.every_strides)
    return detect(outputs, ends, scale, labels, cfg)
