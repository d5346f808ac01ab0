"""The whole satellite against a loopback HA WebSocket API, on generated speech."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import json
import logging
import time

import numpy as np
import pytest

from athena_satellite.audio import (
    CHUNK_SAMPLES,
    RATE,
    MicrophoneError,
    chunks,
    resample,
)
from athena_satellite.backoff import Backoff
from athena_satellite.ha import AuthError, Connection
from athena_satellite.satellite import (
    SORRY_FAILED,
    SORRY_UNREACHABLE,
    Conversations,
    Mode,
)
from training import speech

from .conftest import join, words
from .fake_ha import conversation_result

COMMAND = "Turn on the kitchen lights."


def spoken(sink, transcriber) -> list[str]:
    """What the satellite said, as words (its WAV sink transcribed)."""
    return words(
        transcriber.transcribe(resample(np.concatenate(sink.parts), sink.rate, RATE))
    )


class Clock:
    """A clock that moves only when told (seconds)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def started(connection: Connection) -> asyncio.Task:
    task = asyncio.create_task(connection.run())
    await asyncio.wait_for(connection.connected.wait(), 5)
    return task


async def test_a_rejected_token_stops_with_auth_error(
    fake_ha, make_config, make_satellite
) -> None:
    config = make_config(fake_ha.url)
    connection = Connection(config.url, "wrong-token", backoff_s=(0.05,))
    with pytest.raises(AuthError, match="Invalid access token"):
        await asyncio.wait_for(connection.run(), 5)
    assert fake_ha.auth_attempts == 1  # retrying cannot fix a token: no hammering
    with pytest.raises(AuthError):  # at once, not after the request timeout
        await asyncio.wait_for(connection.process("hello", None, None, "en"), 1)


async def test_reconnects_after_home_assistant_drops_the_connection(
    fake_ha, make_config, make_satellite, caplog
) -> None:
    satellite, _sink = make_satellite(make_config(fake_ha.url))
    task = await started(satellite.connection)
    await fake_ha.drop()
    async with asyncio.timeout(5):
        while satellite.connection.connects < 2:
            await asyncio.sleep(0.02)
    turn = await satellite.process_audio(
        join(speech.silence(0.3), speech.piper(COMMAND))
    )
    assert turn is not None and turn.reply == "You said: Turn on the kitchen lights."
    assert "unreachable" in caplog.text
    await satellite.connection.close()
    await task


async def test_follow_ups_reuse_the_conversation_id_until_it_expires(
    fake_ha, make_config, make_satellite
) -> None:
    fake_ha.answer = lambda command: conversation_result(
        "Done.", command.get("conversation_id") or f"conv-{len(fake_ha.commands)}"
    )
    clock = Clock()
    satellite, _sink = make_satellite(
        make_config(fake_ha.url, home_assistant={"conversation_timeout_s": 60}),
        clock=clock,
    )
    task = await started(satellite.connection)
    for text in ("Turn on the kitchen lights.", "And the hallway too."):
        await satellite.process_audio(join(speech.silence(0.3), speech.piper(text)))
        clock.advance(59)  # within a minute of the last reply
    clock.advance(2)  # more than a minute after it
    await satellite.process_audio(
        join(speech.silence(0.3), speech.piper("Lock the front door."))
    )
    assert [c.get("conversation_id") for c in fake_ha.commands] == [
        None,
        "conv-1",
        None,
    ]
    assert all(c["text"] for c in fake_ha.commands)
    assert all(c["language"] == "en" for c in fake_ha.commands)
    assert {c["agent_id"] for c in fake_ha.commands} == {"conversation.athena"}
    await satellite.connection.close()
    await task


async def test_commands_carry_the_satellites_device_for_its_area(
    fake_ha, make_config, make_satellite
) -> None:
    """With `home_assistant.device_id`, HA ties each command to that device's area
    (tests/test_home_assistant_first.py shows Athena lighting that room only)."""
    fake_ha.answer = lambda command: conversation_result("Done.", "conv")
    config = make_config(fake_ha.url, home_assistant={"device_id": "4f2c0a9e"})
    satellite, _sink = make_satellite(config)
    task = await started(satellite.connection)
    await satellite.process_audio(join(speech.silence(0.3), speech.piper(COMMAND)))
    assert [c.get("device_id") for c in fake_ha.commands] == ["4f2c0a9e"]
    await satellite.connection.close()
    await task
    assert make_config(fake_ha.url).device_id is None  # no device: no key sent


def test_conversations_expire_by_their_clock() -> None:
    clock = Clock()
    conversations = Conversations(300, clock)
    conversations.remember("conversation.athena", "conv-1")
    conversations.remember(None, "conv-2")
    clock.advance(300)
    assert conversations.get("conversation.athena") == "conv-1"
    assert conversations.get(None) == "conv-2"
    assert conversations.get("conversation.other") is None
    conversations.remember(None, "conv-3")  # a newer reply restarts its time
    clock.advance(1)
    assert conversations.get("conversation.athena") is None
    assert conversations.get(None) == "conv-3"


def test_backoff_grows_then_stays_at_its_last_delay_until_reset() -> None:
    backoff = Backoff((1.0, 2.0, 5.0))
    assert [backoff.next_delay() for _ in range(5)] == [1.0, 2.0, 5.0, 5.0, 5.0]
    backoff.reset()
    assert backoff.next_delay() == 1.0
    with pytest.raises(ValueError):
        Backoff(())


async def test_a_question_is_followed_without_a_wake_word(
    fake_ha, make_config, make_satellite, transcriber
) -> None:
    """'Turn on the lights' → 'Which room?' → 'kitchen', heard without a wake word."""
    modes = []  # the satellite's state while HA answers

    def answer(command):
        modes.append(satellite.mode)
        if len(fake_ha.commands) == 1:
            return conversation_result(
                "Which room?", "conv-7", continue_conversation=True
            )
        return conversation_result("The kitchen lights are on.", "conv-7")

    fake_ha.answer = answer
    config = make_config(
        fake_ha.url,
        wake_words=[
            {"name": "jarvis", "model": "hey_jarvis", "agent_id": "conversation.athena"}
        ],
    )
    satellite, sink = make_satellite(config)
    task = await started(satellite.connection)
    turns = []
    audio = join(
        speech.silence(1),
        speech.piper("Hey Jarvis, turn on the lights."),
        speech.silence(1),
    )
    for chunk in chunks(audio):
        if turn := await satellite.handle(chunk):
            turns.append(turn)
    assert satellite.mode is Mode.LISTENING  # the question re-opened the microphone
    for chunk in chunks(
        join(speech.silence(0.3), speech.piper("In the kitchen."), speech.silence(1))
    ):
        if turn := await satellite.handle(chunk):
            turns.append(turn)
    assert [t.reply for t in turns] == ["Which room?", "The kitchen lights are on."]
    assert [c.get("conversation_id") for c in fake_ha.commands] == [None, "conv-7"]
    assert {c["agent_id"] for c in fake_ha.commands} == {"conversation.athena"}
    assert words(fake_ha.commands[1]["text"]) == ["in", "the", "kitchen"]
    assert satellite.mode is Mode.IDLE
    assert modes == [Mode.ANSWERING, Mode.ANSWERING]
    assert spoken(sink, transcriber) == words("Which room? The kitchen lights are on.")
    await satellite.connection.close()
    await task


def microphone(fail_first: bool) -> Iterator[np.ndarray]:
    """Real-time silence from a 'microphone' that fails once first if asked."""
    if fail_first:
        raise MicrophoneError("arecord -D hw:9 stopped: no such device")
    while True:
        time.sleep(CHUNK_SAMPLES / RATE)
        yield np.zeros(CHUNK_SAMPLES, np.int16)


async def test_announcements_are_spoken_and_a_failing_microphone_is_retried(
    fake_ha, make_config, make_satellite, transcriber, caplog
) -> None:
    satellite, sink = make_satellite(make_config(fake_ha.url))
    modes = []  # the satellite's state while it speaks
    play = sink.play
    sink.play = lambda audio, rate: (modes.append(satellite.mode), play(audio, rate))
    opened = []

    def source() -> Iterator[np.ndarray]:
        opened.append(True)
        return microphone(fail_first=len(opened) == 1)

    caplog.set_level(logging.INFO)
    run = asyncio.create_task(satellite.run(source))
    await asyncio.wait_for(satellite.connection.connected.wait(), 5)
    await asyncio.sleep(0.1)
    await fake_ha.fire(
        "athena_announce",
        {"message": "Someone is at the back door.", "satellite": "garage"},
    )
    await fake_ha.fire(
        "athena_announce",
        {"message": "Someone is at the front door.", "satellite": None},
    )
    async with asyncio.timeout(20):
        while not sink.parts:
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    assert spoken(sink, transcriber) == words("Someone is at the front door.")
    assert set(modes) == {Mode.ANNOUNCING} and satellite.mode is Mode.IDLE
    assert "microphone failed: arecord -D hw:9 stopped" in caplog.text
    async with asyncio.timeout(5):
        while len(opened) < 2:
            await asyncio.sleep(0.05)
    assert not run.done()
    await satellite.connection.close()
    run.cancel()


async def test_an_announcement_waits_until_the_satellite_is_idle(
    make_config, make_satellite
) -> None:
    satellite, sink = make_satellite(make_config())
    satellite.listen(satellite.config.wake_words[0])
    satellite.on_announce({"message": "The washing is done.", "satellite": None})
    satellite.on_announce({"message": "Not for you.", "satellite": "garage"})
    assert not await satellite.announce()  # listening to a command
    satellite.mode = Mode.IDLE
    assert await satellite.announce()
    assert sink.parts and satellite.mode is Mode.IDLE
    assert not await satellite.announce()  # the garage's was never queued


async def test_unreachable_home_assistant_is_said_not_raised(
    make_config, make_satellite, transcriber
) -> None:
    config = make_config(
        "ws://127.0.0.1:9/api/websocket", home_assistant={"request_timeout_s": 1}
    )
    satellite, sink = make_satellite(config)
    task = asyncio.create_task(satellite.connection.run())
    turn = await satellite.process_audio(
        join(speech.silence(0.3), speech.piper(COMMAND))
    )
    assert turn is not None and turn.reply == SORRY_UNREACHABLE
    assert spoken(sink, transcriber) == words(SORRY_UNREACHABLE)
    await satellite.connection.close()
    task.cancel()


async def test_a_refused_command_is_said_not_raised(
    fake_ha, make_config, make_satellite
) -> None:
    config = make_config(
        fake_ha.url,
        wake_words=[
            {
                "name": "jarvis",
                "model": "hey_jarvis",
                "agent_id": "conversation.missing",
            }
        ],
    )
    fake_ha.answer = lambda command: (_ for _ in ()).throw(
        KeyError(command["agent_id"])
    )
    satellite, _sink = make_satellite(config)
    task = await started(satellite.connection)
    turn = await satellite.process_audio(
        join(speech.silence(0.3), speech.piper(COMMAND))
    )
    assert turn is not None and turn.reply == SORRY_FAILED
    await satellite.connection.close()
    await task


async def test_a_turn_logs_one_json_line_with_every_stage(
    fake_ha, make_config, make_satellite, caplog
) -> None:
    satellite, _sink = make_satellite(make_config(fake_ha.url))
    task = await started(satellite.connection)
    caplog.set_level(logging.INFO, logger="athena_satellite.turn")
    await satellite.process_audio(join(speech.silence(0.5), speech.piper(COMMAND)))
    (line,) = [
        r.getMessage() for r in caplog.records if r.name == "athena_satellite.turn"
    ]
    record = json.loads(line)
    assert record["event"] == "turn" and record["endpoint"] == "done"
    # STT started in the closing silence and its transcript was the command's.
    assert (record["speculative_stt"], record["discarded_stt"]) == (1, 0)
    assert set(record["timings_ms"]) >= {
        "speech",
        "endpoint_silence",
        "stt",
        "ha",
        "tts_first_audio",
        "tts_total",
        "end_of_speech_to_first_audio",
    }
    await satellite.connection.close()
    await task
