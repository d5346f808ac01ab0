"""The wake-word stage on generated speech: "hey jarvis" fires, other speech never."""

from __future__ import annotations

import numpy as np
import pytest

from athena_satellite.audio import CHUNK_SAMPLES, RATE, chunks
from athena_satellite.config import WakeWordConfig
from athena_satellite.wakeword import WakeWords, model_path
from training import speech
from training.corpus import HELD_OUT

from .conftest import join, said

JARVIS = WakeWordConfig("jarvis", "hey_jarvis", None, 0.5, 2.0)
ESPEAK_VOICES = (
    "en-us",
    "en-gb",
    "en-us+m3",
    "en-gb+f2",
    "en-gb-scotland",
    "en-us+klatt",
)


def detections(words: WakeWords, audio: np.ndarray) -> list[tuple[str, float]]:
    """(word, time in s) of every detection in `audio`."""
    found = []
    for i, chunk in enumerate(chunks(audio)):
        if (name := words.process(chunk)) is not None:
            found.append((name, (i + 1) * CHUNK_SAMPLES / RATE))
    return found


@pytest.mark.parametrize(
    "clip",
    [
        *(lambda v=v: speech.espeak("hey jarvis", v) for v in ESPEAK_VOICES),
        *(
            lambda s=s: speech.piper("hey jarvis", length_scale=s)
            for s in (0.8, 1.0, 1.3)
        ),
        lambda: speech.piper("Hey Jarvis, turn on the kitchen lights."),
    ],
    ids=[*ESPEAK_VOICES, "piper-fast", "piper", "piper-slow", "piper-command"],
)
def test_fires_once_on_hey_jarvis(clip) -> None:
    words = WakeWords([JARVIS])
    audio = join(speech.silence(1), clip(), speech.silence(1.5))
    found = detections(words, audio)
    assert [name for name, _ in found] == ["jarvis"]


def test_never_fires_on_ten_minutes_of_other_speech_and_noise() -> None:
    """Held-out sentences in 6 voices, noise, silence: >= 10 minutes, no detection."""
    clips = []
    for sentence in HELD_OUT:
        clips += [
            speech.piper(sentence),
            speech.piper(sentence, length_scale=1.2, noise_scale=0.9),
            speech.espeak(sentence, "en-us+m3"),
            speech.espeak(sentence, "en-gb+f2", speed=140),
            speech.espeak(sentence, "en-us", pitch=30),
            speech.piper(sentence, length_scale=0.9, noise_scale=0.4),
            speech.silence(0.5),
        ]
    for kind in ("whitenoise", "pinknoise", "brownnoise"):
        clips.append(speech.noise(kind, 60, volume=0.3))
    audio = join(*clips)
    assert len(audio) / RATE >= 600
    assert detections(WakeWords([JARVIS]), audio) == []


def test_refractory_time_is_per_word() -> None:
    """A word is not reported again within its refractory time; another word is."""
    again = WakeWordConfig("jarvis", "hey_jarvis", None, 0.5, 4.0)
    other = WakeWordConfig("butler", "hey_jarvis", None, 0.5, 4.0)
    audio = join(
        speech.silence(1),
        speech.espeak("hey jarvis"),
        speech.silence(0.3),
        speech.espeak("hey jarvis"),
        speech.silence(3),
        speech.espeak("hey jarvis"),
        speech.silence(1.5),
    )
    found = detections(WakeWords([again]), audio)
    assert [name for name, _ in found] == ["jarvis", "jarvis"]
    assert found[1][1] - found[0][1] > 4
    both = detections(WakeWords([again, other]), audio)
    assert [name for name, _ in both] == ["jarvis", "butler", "jarvis", "butler"]
    assert both[1][1] - both[0][1] == pytest.approx(CHUNK_SAMPLES / RATE)


def test_unknown_model_names_what_ships() -> None:
    with pytest.raises(FileNotFoundError, match="hey_jarvis"):
        model_path("hey_nobody")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        model_path("/nowhere/model.onnx")


def test_wrong_chunk_size_is_an_error() -> None:
    with pytest.raises(ValueError, match="1280"):
        WakeWords([JARVIS]).process(np.zeros(480, np.int16))


@pytest.mark.parametrize(
    ("word", "text"),
    [("athena", "Athena, turn on the lights."), ("jarvis", "Hey Jarvis, lights on.")],
)
def test_a_word_said_right_after_a_reset_is_heard(make_config, word, text) -> None:
    """Back to idle the buffers are reset; a wake word that follows at once, or up to
    1.3 s later, fires like one after a long silence (openWakeWord's reset fills the
    buffers with noise embeddings, and "athena" 0.3 to 0.6 s later scored 0.0)."""
    words = WakeWords(make_config().wake_words)
    clip = join(speech.silence(0.5), said(text), speech.silence(1.5))
    missed = []
    for quiet_chunks in range(17):
        words.reset()
        found = detections(words, join(speech.silence(quiet_chunks * 0.08), clip))
        if [name for name, _ in found] != [word]:
            missed.append((quiet_chunks, found))
    assert not missed
