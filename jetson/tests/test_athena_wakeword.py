"""The trained "athena" wake word in the satellite's normal pipeline."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from athena_satellite.audio import chunks
from training import data, speech

from .conftest import join

VOICES = [data.Voice("piper", "eval"), data.Voice("espeak", "en-gb-scotland+m3")]


@pytest.mark.parametrize("voice", VOICES, ids=lambda v: v.name)
async def test_athena_wakes_the_satellite_for_athenas_agent(
    fake_ha, make_config, make_satellite, voice
) -> None:
    """A held-out voice says "Athena", then the command: Athena's agent gets it."""
    satellite, _sink = make_satellite(make_config(fake_ha.url))
    assert [w.name for w in satellite.config.wake_words] == ["athena", "jarvis"]
    task = asyncio.create_task(satellite.connection.run())
    rng = np.random.default_rng(5)
    audio = join(
        speech.silence(1),
        voice.say("Athena", rng),
        speech.silence(0.4),
        speech.piper("Turn on the kitchen lights."),
        speech.silence(1),
    )
    turns = [turn for chunk in chunks(audio) if (turn := await satellite.handle(chunk))]
    assert [turn.wake_word for turn in turns] == ["athena"]
    assert fake_ha.commands[0]["agent_id"] == "conversation.athena"
    assert "kitchen" in fake_ha.commands[0]["text"].lower()
    await satellite.connection.close()
    await task


def test_athena_stays_quiet_on_its_confusables() -> None:
    """Held-out voices saying words close to "athena" do not wake it."""
    from athena_satellite.config import WakeWordConfig
    from athena_satellite.wakeword import WakeWords

    from .test_wakeword import detections

    rng = np.random.default_rng(6)
    words = WakeWords(
        [WakeWordConfig("athena", "athena", "conversation.athena", 0.5, 2.0)]
    )
    clips = []
    for text in (
        "athens",
        "ethan",
        "a thing",
        "arena",
        "at the end",
        "anthem",
        "hey siri",
    ):
        clips += [VOICES[1].say(text, rng), speech.silence(0.8)]
    assert detections(words, join(speech.silence(1), *clips)) == []
