"""STT and TTS with the real models: commands transcribe, replies transcribe back."""

from __future__ import annotations

import pytest

from athena_satellite.audio import resample
from training import speech

from .conftest import join, sounds_like, words


@pytest.mark.parametrize(
    ("text", "clip"),
    [
        ("turn on the kitchen lights", speech.piper),
        ("open the garage door", lambda t: speech.espeak(t, "en-us", speed=150)),
    ],
)
def test_stt_returns_the_command(transcriber, text, clip) -> None:
    heard = transcriber.transcribe(
        join(speech.silence(0.3), clip(text), speech.silence(0.3))
    )
    assert sounds_like(heard, text), heard


def test_tts_speaks_sentence_by_sentence_and_transcribes_back(
    synthesizer, transcriber
) -> None:
    reply = "The kitchen lights are on. It will rain tomorrow afternoon."
    sentences = list(synthesizer.sentences(reply))
    assert len(sentences) == 2
    audio = resample(join(*sentences), synthesizer.rate, 16000)
    heard = transcriber.transcribe(audio)
    assert sounds_like(heard, reply), heard


def test_stt_of_silence_is_empty_or_short(transcriber) -> None:
    assert len(words(transcriber.transcribe(speech.silence(2)))) <= 2
