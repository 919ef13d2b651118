"""Speech Commands v2 layout loader with the MLPerf Tiny 12-class setup, or any keywords.

Layout: ``<word>/<speaker>_nohash_<n>.wav``, ``_background_noise_/*.wav``, and optional
``validation_list.txt`` / ``testing_list.txt`` (relative paths). Without the lists, clips are
split by hashing the speaker id exactly as the dataset's README prescribes, so a speaker is
never in two splits. Classes: the keywords, ``_silence_`` (background noise only) and
``_unknown_`` (every other word). The keywords are, first found: those asked for, those a
tinyml-generated dataset's manifest names, the 10 MLPerf Tiny keywords (in the label order of
the MLPerf Tiny reference) when the folder has any of them, or else every word folder.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyml.audio.features import CLIP_SAMPLES, SAMPLE_RATE
from tinyml.audio.wav import read_wav, resample, to_int16
from tinyml.errors import AudioError, DatasetError

KEYWORDS = ("down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes")
SILENCE = "_silence_"
UNKNOWN = "_unknown_"
LABELS = (*KEYWORDS, SILENCE, UNKNOWN)
BACKGROUND_DIR = "_background_noise_"
SYNTH_MANIFEST = "tinyml-synth.json"  # written by `tinyml data synth-kws`: the folder is SYNTHETIC speech
SPLITS = ("train", "validation", "test")
_MAX_NUM_WAVS_PER_CLASS = 2**27 - 1
_NOHASH = re.compile(r"_nohash_.*$")


@dataclass(frozen=True)
class Clip:
    path: str  # relative to the dataset root, with '/' separators
    word: str
    speaker: str
    split: str


@dataclass(frozen=True)
class DatasetIndex:
    root: Path
    clips: tuple[Clip, ...]
    noise_files: tuple[Path, ...]
    split_source: str  # "lists" or "hash"
    keywords: tuple[str, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        return labels_for(self.keywords)

    def fingerprint(self) -> str:
        """What the folder holds, cheaply: every clip's path, split and size and every noise file's
        name and size (no audio is read). A dataset rebuilt or edited in place gets another one."""
        h = hashlib.sha256()
        for c in self.clips:
            h.update(f"{c.path}\t{c.split}\t{(self.root / c.path).stat().st_size}\n".encode())
        for n in self.noise_files:
            h.update(f"{BACKGROUND_DIR}/{n.name}\t{n.stat().st_size}\n".encode())
        return h.hexdigest()[:16]


@dataclass
class Split:
    audio: np.ndarray  # (N, 16000) int16
    labels: np.ndarray  # (N,) int32 indices into LABELS
    is_silence: np.ndarray  # (N,) bool
    unknown_per_epoch: int = 0  # > 0: the split holds every unknown clip; an epoch uses this many

    def epoch_rows(self, unknown: int, rng: np.random.Generator) -> np.ndarray:
        """Rows for one epoch: every keyword and silence clip, and a fresh draw of unknown clips."""
        rows = np.arange(len(self.labels))
        if not self.unknown_per_epoch:
            return rows
        pool = rows[self.labels == unknown]
        return np.concatenate([rows[self.labels != unknown],
                               rng.choice(pool, size=min(self.unknown_per_epoch, pool.size), replace=False)])

    def epoch_counts(self, n_labels: int, unknown: int) -> np.ndarray:
        """Clips of each class in one epoch: the training prior, counted on an epoch :meth:`epoch_rows`
        draws (any draw holds as many of each class)."""
        return np.bincount(self.labels[self.epoch_rows(unknown, np.random.default_rng(0))], minlength=n_labels)


@dataclass
class LoadReport:
    loaded: int = 0
    resampled: int = 0
    downmixed: int = 0
    length_fixed: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    skipped_examples: list[str] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    split_source: str = ""

    def summary(self) -> str:
        sizes = ", ".join(f"{split} {sum(c.values())}" for split, c in self.counts.items())
        line = f"loaded {self.loaded} WAVs ({sizes} clips; split by {self.split_source})"
        fixed = [f"{n} {what}" for n, what in ((self.resampled, "resampled"), (self.downmixed, "mixed to mono"),
                                               (self.length_fixed, "padded/cropped to 1 s")) if n]
        if fixed:
            line += "; " + ", ".join(fixed)
        if self.skipped:
            line += "; skipped " + ", ".join(f"{n} ({why})" for why, n in self.skipped.items())
        return line

    def as_dict(self) -> dict[str, object]:
        return {
            "loaded": self.loaded, "resampled": self.resampled, "downmixed": self.downmixed,
            "length_fixed": self.length_fixed, "skipped": dict(self.skipped),
            "skipped_examples": self.skipped_examples, "counts": self.counts,
            "split_source": self.split_source,
        }


@dataclass
class KwsData:
    splits: dict[str, Split]
    noise: list[np.ndarray]  # float32 background clips at 16 kHz
    report: LoadReport
    labels: tuple[str, ...] = LABELS

def is_synthetic(root: Path) -> bool:
    return (Path(root) / SYNTH_MANIFEST).is_file()


def describe(root: Path, split: str) -> str:
    """What clips of ``root`` are, in words, for every accuracy line: held-out SYNTHETIC voices
    (a generated set's validation/test split) or recordings in a folder."""
    where = f"{root}" + ("" if split == "all" else f", {split} split")
    if is_synthetic(root):
        return f"{'held-out ' if split in ('test', 'validation') else ''}SYNTHETIC voices ({where})"
    return f"recordings in {where}"


def labels_for(keywords: tuple[str, ...]) -> tuple[str, ...]:
    return (*keywords, SILENCE, UNKNOWN)


def label_of(word: str, labels: tuple[str, ...]) -> int:
    """The class index of a word folder: its keyword (or ``_silence_``), else ``_unknown_``."""
    return labels.index(word) if word in labels else labels.index(UNKNOWN)


def resolve_keywords(root: Path, words: list[str], asked: tuple[str, ...] | None) -> tuple[str, ...]:
    if asked:
        return tuple(asked)
    manifest = root / SYNTH_MANIFEST
    if manifest.is_file():
        named = json.loads(manifest.read_text()).get("keywords")
        if named:
            return tuple(named)
    if any(w in KEYWORDS for w in words):
        return KEYWORDS
    return tuple(words)


def speaker_of(path: str) -> str:
    return _NOHASH.sub("", Path(path).name)


def hash_split(path: str, validation_pct: float = 10.0, test_pct: float = 10.0) -> str:
    """The Speech Commands README's ``which_set``: a stable split from the speaker id."""
    digest = hashlib.sha1(speaker_of(path).encode()).hexdigest()
    pct = (int(digest, 16) % (_MAX_NUM_WAVS_PER_CLASS + 1)) * (100.0 / _MAX_NUM_WAVS_PER_CLASS)
    if pct < validation_pct:
        return "validation"
    return "test" if pct < validation_pct + test_pct else "train"


def _read_list(path: Path) -> set[str]:
    return {line.strip() for line in path.read_text().splitlines() if line.strip()}


def _index(root: Path, keywords: tuple[str, ...] | None) -> DatasetIndex:
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"dataset folder {root} does not exist; create one with "
                           f"`tinyml data synth-kws {root}` or `tinyml data speech-commands {root}`")
    words = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    keywords = resolve_keywords(root, words, keywords)
    lists = root / "validation_list.txt", root / "testing_list.txt"
    use_lists = all(p.is_file() for p in lists)
    validation, test = (_read_list(lists[0]), _read_list(lists[1])) if use_lists else (set(), set())
    clips = []
    for word in words:
        for wav in sorted((root / word).glob("*.wav")):
            rel = f"{word}/{wav.name}"
            if use_lists:
                split = "validation" if rel in validation else "test" if rel in test else "train"
            else:
                split = hash_split(rel)
            clips.append(Clip(rel, word, speaker_of(rel), split))
    noise = tuple(sorted((root / BACKGROUND_DIR).glob("*.wav")))
    return DatasetIndex(root, tuple(clips), noise, "lists" if use_lists else "hash", keywords)


def scan(root: Path, keywords: tuple[str, ...] | None = None) -> DatasetIndex:
    """Index a Speech Commands-layout folder for training, without reading any audio."""
    index = _index(root, keywords)
    words = {c.word for c in index.clips}
    if not any((index.root / k).is_dir() for k in index.keywords):
        raise DatasetError(f"{root} has no keyword folders ({', '.join(index.keywords[:3])}, ...); point --data at "
                           "a Speech Commands-layout folder or create one with `tinyml data synth-kws DIR`")
    if not words & set(index.keywords):
        raise DatasetError(f"{root} has keyword folders but no .wav files in them; the dataset is empty")
    empty = [k for k in index.keywords if k not in words]
    if empty:  # a class with no examples would be trained as if it existed
        present = ", ".join(k for k in index.keywords if k in words)
        raise DatasetError(f"{root} has no clips for keyword(s) {', '.join(empty)}; train on the keywords it has "
                           f"(--keywords {present.replace(', ', ',')}) or add clips for them")
    if len(index.keywords) == 1 and not words - set(index.keywords):
        raise DatasetError(f"{root} holds one keyword ({index.keywords[0]}) and no other words: a spotter needs "
                           "other words as _unknown_; add word folders (`tinyml data synth-kws` makes them)")
    return index


def _fit_length(x: np.ndarray) -> np.ndarray:
    if x.size >= CLIP_SAMPLES:
        start = (x.size - CLIP_SAMPLES) // 2
        return x[start : start + CLIP_SAMPLES]
    return np.pad(x, (0, CLIP_SAMPLES - x.size))


@dataclass(frozen=True)
class _Loaded:
    samples: np.ndarray | None
    error: AudioError | None = None
    resampled: bool = False
    downmixed: bool = False
    length_fixed: bool = False


def _load_one(path: Path) -> _Loaded:
    try:
        wav = read_wav(path)
    except AudioError as err:
        return _Loaded(None, err)
    x = resample(wav.samples, wav.rate, SAMPLE_RATE)
    return _Loaded(x, None, wav.rate != SAMPLE_RATE, wav.channels > 1, x.size != CLIP_SAMPLES)


def _tally(loaded: list[_Loaded], report: LoadReport) -> list[np.ndarray | None]:
    for item in loaded:
        if item.error is not None:
            report.skipped[str(item.error).split(": ", 1)[-1].split(";")[0]] += 1
            if len(report.skipped_examples) < 20:
                report.skipped_examples.append(str(item.error))
            continue
        report.loaded += 1
        report.resampled += item.resampled
        report.downmixed += item.downmixed
        report.length_fixed += item.length_fixed
    return [item.samples for item in loaded]


def load_kws(root: Path, seed: int = 0, silence_pct: float = 10.0, unknown_pct: float = 10.0,
             keywords: tuple[str, ...] | None = None, unknown_pool: bool = False) -> KwsData:
    """Read every clip into memory and build the 12-class splits.

    Per split, ``_unknown_`` gets ``unknown_pct`` % as many clips as the keywords (drawn from
    the non-keyword words) and ``_silence_`` ``silence_pct`` % (background-noise crops at random
    volume, zeros without noise files). Unreadable WAVs are skipped and counted in the report.
    """
    index = scan(root, keywords)
    labels = index.labels
    unknown, silence = labels.index(UNKNOWN), labels.index(SILENCE)
    report = LoadReport(split_source=index.split_source)
    rng = np.random.default_rng(seed)
    paths = [index.root / c.path for c in index.clips]
    with ThreadPoolExecutor(max_workers=4) as pool:
        audio = _tally(list(pool.map(_load_one, paths)), report)
        noise_raw = _tally(list(pool.map(_load_one, index.noise_files)), report)
    noise = [x for x in noise_raw if x is not None and x.size >= CLIP_SAMPLES]
    splits: dict[str, Split] = {}
    for split in SPLITS:
        rows = [(i, c) for i, c in enumerate(index.clips) if c.split == split and audio[i] is not None]
        keyword_rows = [(i, labels.index(c.word)) for i, c in rows if c.word in index.keywords]
        unknown_rows = [i for i, c in rows if c.word not in index.keywords]
        n_unknown = min(len(unknown_rows), round(len(keyword_rows) * unknown_pct / 100))
        per_epoch = 0
        if unknown_pool and split == "train":  # keep them all; each epoch draws n_unknown
            per_epoch, n_unknown = n_unknown, len(unknown_rows)
        chosen_unknown = rng.choice(unknown_rows, size=n_unknown, replace=False) if n_unknown else []
        n_silence = round(len(keyword_rows) * silence_pct / 100)
        clips = [_fit_length(audio[i]) for i, _ in keyword_rows] + [_fit_length(audio[i]) for i in chosen_unknown]
        ys = [lab for _, lab in keyword_rows] + [unknown] * n_unknown
        for _ in range(n_silence):
            if noise:
                clip = noise[int(rng.integers(len(noise)))]
                start = int(rng.integers(0, clip.size - CLIP_SAMPLES + 1))
                clips.append(clip[start : start + CLIP_SAMPLES] * rng.uniform(0.0, 1.0))
            else:
                clips.append(np.zeros(CLIP_SAMPLES, np.float32))
            ys.append(silence)
        data = np.stack(clips) if clips else np.zeros((0, CLIP_SAMPLES), np.float32)
        label_arr = np.asarray(ys, dtype=np.int32)
        splits[split] = Split(to_int16(data), label_arr, label_arr == silence, per_epoch)
        report.counts[split] = {labels[k]: int(v) for k, v in sorted(Counter(ys).items())}
    if len(splits["train"].labels) == 0:
        raise DatasetError(f"{root}: the training split is empty (all clips unreadable or in the "
                           "validation/test lists); check the dataset")
    return KwsData(splits, noise, report, labels)


@dataclass
class EvalSet:
    """Every readable clip of a folder (or of one split), labelled for a model's classes."""

    audio: np.ndarray  # (N, 16000) int16
    labels: np.ndarray  # (N,) int32 indices into the model's labels
    words: list[str]  # the folder each clip came from
    report: LoadReport
    synthetic: bool  # a tinyml-generated dataset


def eval_clips(root: Path, labels: tuple[str, ...], split: str = "all") -> list[Clip]:
    """The clips ``load_eval_set`` would read (no audio is read): fails at once on a bad folder."""
    if split != "all" and split not in SPLITS:
        raise DatasetError(f"unknown split '{split}'; choose all, {', '.join(SPLITS)}")
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"evaluation folder {root} does not exist; pass a Speech Commands-layout folder")
    clips = [c for c in _index(root, labels[:-2]).clips if split in ("all", c.split)]
    clips += [Clip(f"{SILENCE}/{p.name}", SILENCE, p.stem, "all") for p in sorted((root / SILENCE).glob("*.wav"))]
    if not clips:
        raise DatasetError(f"{root} has no clips in <word>/*.wav folders (split '{split}'); point --data at a "
                           "Speech Commands-layout folder")
    return clips


def load_eval_set(root: Path, labels: tuple[str, ...], split: str = "all") -> EvalSet:
    """Clips of ``root`` for evaluation: keyword folders of the model are their class, every other
    word folder is ``_unknown_``, a ``_silence_`` folder (if any) is ``_silence_``. Classes may be
    missing. ``split``: "all" or one of :data:`SPLITS` (by the folder's lists or speaker hash)."""
    clips = eval_clips(root, labels, split)
    root = Path(root)
    report = LoadReport(split_source="lists" if (root / "validation_list.txt").is_file() else "hash")
    with ThreadPoolExecutor(max_workers=4) as pool:
        audio = _tally(list(pool.map(_load_one, [root / c.path for c in clips])), report)
    kept = [(c, a) for c, a in zip(clips, audio, strict=True) if a is not None]
    if not kept:
        raise DatasetError(f"{root}: no clip could be read ({report.summary()})")
    ys = np.asarray([label_of(c.word, labels) for c, _ in kept], dtype=np.int32)
    report.counts[split] = {labels[k]: int(v) for k, v in sorted(Counter(ys.tolist()).items())}
    data = np.stack([_fit_length(a) for _, a in kept])
    return EvalSet(to_int16(data), ys, [c.word for c, _ in kept], report, is_synthetic(root))
