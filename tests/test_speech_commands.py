from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinyml.audio.wav import write_wav
from tinyml.datasets.speech_commands import KEYWORDS, LABELS, hash_split, load_kws, scan, speaker_of
from tinyml.errors import DatasetError

from .conftest import tone


def test_label_order_is_mlperf_tiny() -> None:
    assert LABELS == ("down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes", "_silence_", "_unknown_")


def test_split_lists_are_honoured(tiny_layout: Path) -> None:
    index = scan(tiny_layout)
    assert index.split_source == "lists"
    by_speaker = {c.speaker: {x.split for x in index.clips if x.speaker == c.speaker} for c in index.clips}
    assert by_speaker == {"aaa": {"train"}, "bbb": {"validation"}, "ccc": {"test"}}


def test_hash_split_keeps_a_speaker_together() -> None:
    assert speaker_of("yes/0a7c2a8d_nohash_3.wav") == "0a7c2a8d"
    for spk in ("0a7c2a8d", "ffd2ba2f", "1234abcd", "c0ffee00"):
        assert len({hash_split(f"{w}/{spk}_nohash_{n}.wav") for w in KEYWORDS for n in range(3)}) == 1
    splits = [hash_split(f"yes/{i:08x}_nohash_0.wav") for i in range(2000)]
    assert 0.05 < splits.count("test") / 2000 < 0.15
    assert 0.05 < splits.count("validation") / 2000 < 0.15


def test_hash_split_without_lists(tiny_layout: Path) -> None:
    (tiny_layout / "validation_list.txt").unlink()
    index = scan(tiny_layout)
    assert index.split_source == "hash"
    assert all(c.split == hash_split(c.path) for c in index.clips)


def test_load_builds_twelve_classes(tiny_layout: Path) -> None:
    data = load_kws(tiny_layout, silence_pct=20, unknown_pct=20)
    train = data.splits["train"]
    assert train.audio.dtype == np.int16 and train.audio.shape[1] == 16000
    assert data.report.counts["train"]["yes"] == 1
    assert data.report.counts["train"]["_unknown_"] == 2  # 20% of 10 keywords
    assert data.report.counts["train"]["_silence_"] == 2
    assert train.is_silence.sum() == 2
    assert set(np.unique(train.labels)) == set(range(12))
    assert len(data.noise) == 1


def test_bad_wavs_are_skipped_or_fixed_with_counts(tiny_layout: Path) -> None:
    (tiny_layout / "yes" / "ddd_nohash_0.wav").write_bytes(b"RIFF\x00\x00garbage")
    (tiny_layout / "yes" / "eee_nohash_0.wav").write_bytes(b"")
    write_wav(tiny_layout / "no" / "fff_nohash_0.wav", tone(300, rate=8000), 8000)
    write_wav(tiny_layout / "up" / "ggg_nohash_0.wav", tone(300, seconds=0.5), 16000)
    data = load_kws(tiny_layout)
    assert sum(data.report.skipped.values()) == 2
    assert data.report.resampled == 1
    assert data.report.length_fixed >= 2
    assert any("ddd_nohash_0.wav" in e for e in data.report.skipped_examples)
    summary = data.report.summary()
    assert "skipped 2 (not a RIFF/WAVE file)" in summary and "1 resampled" in summary


def test_missing_and_empty_datasets_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"does not exist.*synth-kws"):
        scan(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no keyword folders"):
        scan(tmp_path / "empty")
    (tmp_path / "empty" / "yes").mkdir()
    with pytest.raises(DatasetError, match=r"no .wav files"):
        scan(tmp_path / "empty")


def test_all_training_clips_unreadable_is_an_error(tiny_layout: Path) -> None:
    for wav in tiny_layout.glob("*/aaa_nohash_0.wav"):
        wav.write_bytes(b"not audio")
    with pytest.raises(DatasetError, match="training split is empty"):
        load_kws(tiny_layout)
