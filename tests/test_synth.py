"""Real espeak-ng synthesis (about 10 ms per clip)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tinyml.audio.wav import read_wav
from tinyml.datasets.speech_commands import KEYWORDS, load_kws, scan
from tinyml.datasets.synth import MANIFEST, SynthConfig, synthesize
from tinyml.errors import DatasetError


def test_layout_manifest_and_labelling(synth_dataset: Path) -> None:
    manifest = json.loads((synth_dataset / MANIFEST).read_text())
    assert manifest["synthetic"] is True and manifest["speech"] == "espeak-ng"
    assert "SYNTHETIC" in (synth_dataset / "README.txt").read_text()
    for word in KEYWORDS:
        assert len(list((synth_dataset / word).glob("*.wav"))) == 80
    assert len(list((synth_dataset / "_background_noise_").glob("*.wav"))) == 6
    wav = read_wav(next((synth_dataset / "yes").glob("*.wav")))
    assert (wav.rate, wav.channels, wav.samples.size) == (16000, 1, 16000)
    assert 0.2 < abs(wav.samples).max() <= 1.0


def test_splits_never_share_a_voice(synth_dataset: Path) -> None:
    index = scan(synth_dataset)
    assert index.split_source == "lists"
    voices = {s: {c.speaker for c in index.clips if c.split == s} for s in ("train", "validation", "test")}
    assert voices["test"] and voices["validation"]
    assert not voices["train"] & voices["test"]
    assert not voices["train"] & voices["validation"]
    assert not voices["validation"] & voices["test"]


def test_loads_as_twelve_classes(synth_dataset: Path) -> None:
    data = load_kws(synth_dataset)
    assert sum(data.report.skipped.values()) == 0
    assert len(data.report.counts["train"]) == 12


def test_rebuild_is_skipped_and_foreign_folders_are_protected(synth_dataset: Path, tmp_path: Path) -> None:
    before = (synth_dataset / MANIFEST).stat().st_mtime_ns
    synthesize(synth_dataset, SynthConfig(per_word=80, seed=1))
    assert (synth_dataset / MANIFEST).stat().st_mtime_ns == before
    with pytest.raises(DatasetError, match="other settings; pass --force"):
        synthesize(synth_dataset, SynthConfig(per_word=81, seed=1))
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("precious")
    with pytest.raises(DatasetError, match="not empty"):
        synthesize(foreign, SynthConfig(per_word=2))
    assert (foreign / "notes.txt").read_text() == "precious"


def test_force_rebuilds_a_small_set(tmp_path: Path) -> None:
    out = synthesize(tmp_path / "s", SynthConfig(per_word=2, seed=3))
    assert len(list((out / "yes").glob("*.wav"))) == 2
    synthesize(out, SynthConfig(per_word=3, seed=3), force=True)
    assert len(list((out / "yes").glob("*.wav"))) == 3
