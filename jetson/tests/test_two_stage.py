"""Both wake words through the satellite's two stages, on generated speech.

Stage 1 (openWakeWord at its recall threshold) and stage 2 (the verifier on Whisper's
encoder, verify.py) run as shipped in default.yaml; the engines are real, HA is the
loopback fake.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import numpy as np
import pytest

from athena_satellite.audio import chunks
from athena_satellite.config import ConfigError
from athena_satellite.satellite import Mode
from athena_satellite.verify import (
    RESCUE_FLOOR,
    SEGMENT_FRAMES,
    SPAN_FRAMES,
    Classifier,
    Verifier,
    span,
    spelled,
)
from training import speech

from .conftest import join, words

COMMAND = "Turn off the radio in the bedroom."


def piper(text: str):
    """The piper voice without sampling noise: every run hears the same clip."""
    return speech.piper(text, noise_scale=0.0, noise_w=0.0)


async def feed(satellite, audio) -> list:
    """Handle `audio` chunk by chunk; return the turns answered."""
    return [turn for chunk in chunks(audio) if (turn := await satellite.handle(chunk))]


@pytest.mark.parametrize(
    ("phrase", "name"), [("Hey Athena,", "athena"), ("Hey Jarvis,", "jarvis")]
)
async def test_each_word_wakes_athenas_agent_and_keeps_the_first_word(
    fake_ha, make_config, make_satellite, phrase, name
) -> None:
    """The word, then the command at once: Athena's agent gets all of it, "turn" too."""
    satellite, _sink = make_satellite(make_config(fake_ha.url))
    task = asyncio.create_task(satellite.connection.run())
    audio = join(
        speech.silence(1),
        piper(f"{phrase} {COMMAND.lower()}"),
        speech.silence(1.5),
    )
    turns = await feed(satellite, audio)
    assert [turn.wake_word for turn in turns] == [name]
    assert "verify" in turns[0].timings_ms  # stage 2 ran before the wake
    assert fake_ha.commands[0]["agent_id"] == "conversation.athena"
    heard = words(fake_ha.commands[0]["text"])
    assert heard[:3] == ["turn", "off", "the"], heard
    await satellite.connection.close()
    await task


@pytest.mark.parametrize("voice", ["piper", "en-us", "en-gb+f2"])
async def test_confusable_sentences_do_not_wake(
    fake_ha, make_config, make_satellite, voice
) -> None:
    """Sentences with words close to either wake word never wake the satellite.

    Not "a thena": espeak-ng (and piper, which speaks its phonemes) say it as
    "athena" (`espeak-ng -x`: a# T'i:n@ and aT'i:n@); the benchmark counts it.
    """
    satellite, _sink = make_satellite(make_config(fake_ha.url))
    sentences = [
        "The Athenian army marched home.",
        "We will talk about it at the end.",
        "Hey Jarred, the lasagna is ready.",
        "The athlete ran past the antenna.",
        "Hey Java, hey Travis, hey Marvin.",
        "Athens is lovely in the spring.",
    ]
    clips = []
    for sentence in sentences:
        spoken = piper(sentence) if voice == "piper" else speech.espeak(sentence, voice)
        clips += [spoken, speech.silence(1)]
    modes = set()
    for chunk in chunks(join(speech.silence(1), *clips)):
        await satellite.handle(chunk)
        modes.add(satellite.mode)
    assert Mode.LISTENING not in modes
    assert fake_ha.commands == []


async def test_a_rejected_candidate_does_not_block_the_word(
    fake_ha, make_config, make_satellite, caplog
) -> None:
    """Right after a confusable stage 2 rejects, the real word still wakes."""
    caplog.set_level(logging.INFO, logger="athena_satellite")
    satellite, _sink = make_satellite(make_config(fake_ha.url))
    task = asyncio.create_task(satellite.connection.run())
    audio = join(
        speech.silence(1),
        piper("Hey Jarred."),
        speech.silence(0.3),
        piper(f"Hey Jarvis, {COMMAND.lower()}"),
        speech.silence(1.5),
    )
    turns = await feed(satellite, audio)
    assert "wake word jarvis not verified" in caplog.text  # stage 1 fired on it
    assert [turn.wake_word for turn in turns] == ["jarvis"]
    assert words(fake_ha.commands[0]["text"])[:2] == ["turn", "off"]
    await satellite.connection.close()
    await task


def test_both_words_reach_athena_and_are_verified_by_default(make_config) -> None:
    config = make_config()
    assert {w.name: w.agent_id for w in config.wake_words} == {
        "athena": "conversation.athena",
        "jarvis": "conversation.athena",
    }
    assert all(w.verify and w.verifier for w in config.wake_words)


def doubting(make_config, transcriber, **changes):
    """The Verifier and athena's word as shipped, the word's threshold out of reach."""
    config = make_config()
    word = next(w for w in config.wake_words if w.name == "athena")
    word = dataclasses.replace(word, verify_threshold=1.0, **changes)
    return Verifier(transcriber.model, [word]), word


def test_the_decoder_wakes_a_word_the_classifier_doubts(
    make_config, transcriber
) -> None:
    """Under the word's threshold, the decoder writing a spelling of it wakes it."""
    verifier, word = doubting(make_config, transcriber)
    audio = join(speech.silence(0.5), piper("Athena."), speech.silence(0.3))
    verdict = verifier.verify(word, audio)
    assert RESCUE_FLOOR <= verdict.score < 1.0
    assert verdict.accepted
    assert spelled(verdict.heard or "", ["Athena"]), verdict.heard
    assert "heard 'Athena" in verdict.describe()


def test_without_spellings_the_classifier_alone_decides(
    make_config, transcriber
) -> None:
    verifier, word = doubting(make_config, transcriber, spellings=())
    audio = join(speech.silence(0.5), piper("Athena."), speech.silence(0.3))
    verdict = verifier.verify(word, audio)
    assert not verdict.accepted
    assert verdict.heard is None


def test_the_decoder_hearing_another_word_does_not_wake(
    make_config, transcriber
) -> None:
    verifier, word = doubting(make_config, transcriber)
    audio = join(speech.silence(0.3), piper("Athens in the spring."))
    verdict = verifier.verify(word, audio)
    assert not verdict.accepted
    assert verdict.heard is None or not spelled(verdict.heard, word.spellings)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hey, Athena!", True),
        ("ATHENA turn on the light", True),
        ("Athina.", True),
        ("The Athenian army", False),
        ("Athens", False),
        ("at the end", False),
        ("", False),
    ],
)
def test_a_spelling_counts_as_a_word_of_its_own(text, expected) -> None:
    assert spelled(text, ["Athena", "Athina", "Athene"]) is expected


def test_spellings_are_single_words_of_letters(make_config) -> None:
    assert {w.name: w.spellings for w in make_config().wake_words} == {
        "athena": ("Athena", "Athina", "Athene"),
        "jarvis": ("Jarvis",),
    }
    word = {"name": "x", "model": "hey_jarvis", "spellings": ["Hey Jarvis"]}
    with pytest.raises(ConfigError, match="one word of letters"):
        make_config(wake_words=[word])


def test_a_verified_word_needs_a_verifier(make_config) -> None:
    word = {"name": "x", "model": "hey_jarvis", "verify": True}
    with pytest.raises(ConfigError, match="verifier"):
        make_config(wake_words=[word])


def test_a_span_is_read_in_the_parts_asked_for() -> None:
    """A span is the means of its consecutive parts, in time order."""
    encoded = np.repeat(np.arange(100, dtype=np.float32)[:, np.newaxis], 2, axis=1)
    assert span(encoded, 60, 5)[::2].tolist() == list(range(12, 58, 5))
    assert span(encoded, 60)[::2].tolist() == [14.5, 24.5, 34.5, 44.5, 54.5]
    assert len(span(encoded, SPAN_FRAMES)) == SPAN_FRAMES // SEGMENT_FRAMES * 2


def test_a_centred_verifier_ignores_what_every_frame_shares() -> None:
    """A classifier with `window_mean` reads the window less its mean frame, so an
    offset that every frame of the window shares (a voice's, a room's) does not move
    its score, while one without it is moved; a sound that changes over the window
    still does."""
    rng = np.random.default_rng(4)
    width = 3
    arrays = {
        "mean": np.zeros(SPAN_FRAMES // SEGMENT_FRAMES * width, np.float32),
        "scale": np.ones(SPAN_FRAMES // SEGMENT_FRAMES * width, np.float32),
        "hidden": rng.normal(0, 1, (SPAN_FRAMES // SEGMENT_FRAMES * width, 4)),
        "hidden_bias": np.zeros(4, np.float32),
        "out": rng.normal(0, 1, 4).astype(np.float32),
        "out_bias": np.float32(0),
    }
    centred = Classifier(**arrays, window_mean=True)
    plain = Classifier(**arrays)
    window = rng.normal(0, 1, (100, width)).astype(np.float32)
    offset = window + np.array([2.0, -1.0, 0.5], np.float32)
    assert centred.best(offset) == pytest.approx(centred.best(window), abs=1e-6)
    assert plain.best(offset) != pytest.approx(plain.best(window), abs=1e-3)
    changed = window.copy()
    changed[60:80] += 3.0
    assert centred.best(changed) != pytest.approx(centred.best(window), abs=1e-3)


def test_a_verifier_file_keeps_the_parts_it_reads(tmp_path) -> None:
    """`Classifier.save` writes `segment_frames` and `window_mean`; a file from before
    them reads SEGMENT_FRAMES (jarvis's shipped verifier, 200 ms parts) and no
    centring; parts that do not divide a span are refused when the file is loaded, at
    the satellite's start, as are arrays that do not fit together and a file that is
    no verifier at all."""
    arrays = {
        "mean": np.zeros(20),
        "scale": np.ones(20),
        "hidden": np.ones((20, 2)),
        "hidden_bias": np.zeros(2),
        "out": np.ones(2),
        "out_bias": np.float32(0),
    }
    Classifier(**arrays, segment_frames=5).save(tmp_path / "new.npz")
    assert Classifier.load(tmp_path / "new.npz").segment_frames == 5
    np.savez(tmp_path / "old.npz", **arrays)
    assert Classifier.load(tmp_path / "old.npz").segment_frames == SEGMENT_FRAMES
    np.savez(tmp_path / "bad.npz", **arrays, segment_frames=np.int16(7))
    with pytest.raises(ValueError, match="segment_frames must divide"):
        Classifier.load(tmp_path / "bad.npz")
    np.savez(tmp_path / "odd.npz", **{**arrays, "out": np.ones(3)})
    with pytest.raises(ValueError, match=r"do not fit together: hidden \(20, 2\), out"):
        Classifier.load(tmp_path / "odd.npz")
    Classifier(**arrays, segment_frames=5, window_mean=True).save(tmp_path / "c.npz")
    assert Classifier.load(tmp_path / "c.npz").window_mean
    assert not Classifier.load(tmp_path / "new.npz").window_mean
    assert not Classifier.load(tmp_path / "old.npz").window_mean
    (tmp_path / "cut.npz").write_bytes((tmp_path / "new.npz").read_bytes()[:100])
    with pytest.raises(ValueError, match=r"cut\.npz is not a wake word verifier"):
        Classifier.load(tmp_path / "cut.npz")
