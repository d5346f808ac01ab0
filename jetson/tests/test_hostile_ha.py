"""A hostile Home Assistant: every malformed message is dropped, never fatal.

The satellite runs as it does on the device (`Satellite.run` with a microphone) and is
spoken to between the hostile messages; it must stay up on the same connection and
answer the next real command.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
import json
import logging
import queue
import time
from typing import Any

import numpy as np
import pytest

from athena_satellite.audio import CHUNK_SAMPLES, RATE, chunks
from athena_satellite.ha import Connection
from athena_satellite.satellite import SORRY_FAILED
from athena_satellite.tts import speakable
from training import speech

from .conftest import join, sounds_like
from .fake_ha import HA_VERSION, TOKEN, conversation_result, result
from .test_satellite import COMMAND, spoken

JARVIS = {"name": "jarvis", "model": "hey_jarvis", "agent_id": "conversation.athena"}
# How much faster than real time the test microphone delivers its audio.
SPEED = 4


class Microphone:
    """A microphone that hears silence, or what was queued with `say`."""

    def __init__(self) -> None:
        self.heard: queue.Queue[np.ndarray] = queue.Queue()

    def say(self, audio: np.ndarray) -> None:
        self.heard.put(audio)

    def __call__(self) -> Iterator[np.ndarray]:
        silence = np.zeros(CHUNK_SAMPLES, np.int16)
        while True:
            try:
                audio = self.heard.get_nowait()
            except queue.Empty:
                audio = silence
            for chunk in chunks(audio):
                time.sleep(CHUNK_SAMPLES / RATE / SPEED)
                yield chunk


@pytest.fixture(scope="module")
def command() -> np.ndarray:
    """'Hey Jarvis, turn on the kitchen lights.' then silence (made once)."""
    return join(speech.piper(f"Hey Jarvis, {COMMAND.lower()}"), speech.silence(1))


def turns(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [
        json.loads(r.getMessage())
        for r in caplog.records
        if r.name == "athena_satellite.turn"
    ]


async def turn(caplog: pytest.LogCaptureFixture, number: int) -> dict[str, Any]:
    """Wait for the `number`th turn (from 1) to be logged; return its record."""
    async with asyncio.timeout(60):
        while len(turns(caplog)) < number:
            await asyncio.sleep(0.05)
    return turns(caplog)[number - 1]


def ok(command: dict[str, Any]) -> dict[str, Any]:
    """The real answer to `command`."""
    reply = conversation_result(f"You said: {command['text']}", "conv-1")
    return result(command["id"], reply)


def failed(command: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"id": command["id"], "type": "result", "success": False, **fields}


def answered(command: dict[str, Any], value: Any) -> dict[str, Any]:
    return result(command["id"], value)


def speech_is(value: Any, **fields: Any) -> dict[str, Any]:
    reply = conversation_result("Done.", "conv-1")
    reply["response"]["speech"]["plain"]["speech"] = value
    return {**reply, **fields}


def megabyte(command: dict[str, Any]) -> dict[str, Any]:
    """A 1 MB result for no waiting request."""
    return {**ok(command), "id": command["id"] + 1000, "padding": "x" * 1_000_000}


def event(sub_id: int, event_body: Any) -> dict[str, Any]:
    return {"id": sub_id, "type": "event", "event": event_body}


def announce(data: Any) -> dict[str, Any]:
    return {"event_type": "athena_announce", "data": data}


Frames = Callable[[dict[str, Any], int], list[Any]]
# (frames sent instead of the answer to a command: (command, subscription id) → frames,
# whether the command still gets its real answer)
HOSTILE: list[Any] = [
    pytest.param(lambda c, s: [42, ok(c)], True, id="top-level number"),
    pytest.param(lambda c, s: ['"surprise"', ok(c)], True, id="top-level string"),
    pytest.param(lambda c, s: [None, ok(c)], True, id="top-level null"),
    pytest.param(lambda c, s: [[1, "two", None, [3]], ok(c)], True, id="list"),
    pytest.param(lambda c, s: [["junk", 7, ok(c)]], True, id="list around answer"),
    pytest.param(lambda c, s: [True, ok(c)], True, id="top-level true"),
    pytest.param(lambda c, s: ["{not json", ok(c)], True, id="not JSON"),
    pytest.param(lambda c, s: [b"\x00\x01binary", ok(c)], True, id="binary frame"),
    pytest.param(
        lambda c, s: ["[" * 100_000 + "]" * 100_000, ok(c)], True, id="deep nesting"
    ),
    pytest.param(
        lambda c, s: [{k: v for k, v in ok(c).items() if k != "type"}, ok(c)],
        True,
        id="missing type",
    ),
    pytest.param(
        lambda c, s: [{**ok(c), "type": ["result"]}, ok(c)], True, id="type not str"
    ),
    pytest.param(
        lambda c, s: [{"id": c["id"], "type": "surprise"}, ok(c)],
        True,
        id="unknown type",
    ),
    pytest.param(
        lambda c, s: [{**ok(c), "id": c["id"] + 1000}, ok(c)], True, id="wrong id"
    ),
    pytest.param(
        lambda c, s: [event(c["id"], announce({"message": "Injected."})), ok(c)],
        True,
        id="pending id as event",
    ),
    pytest.param(lambda c, s: [failed(c, error="boom")], False, id="error as string"),
    pytest.param(lambda c, s: [failed(c, error=None)], False, id="error null"),
    pytest.param(lambda c, s: [failed(c)], False, id="error missing"),
    pytest.param(lambda c, s: [answered(c, 42)], False, id="result number"),
    pytest.param(lambda c, s: [answered(c, "Done.")], False, id="result string"),
    pytest.param(lambda c, s: [answered(c, ["Done."])], False, id="result list"),
    pytest.param(lambda c, s: [answered(c, None)], False, id="result null"),
    pytest.param(
        lambda c, s: [answered(c, {"response": {}, "conversation_id": "c"})],
        False,
        id="speech missing",
    ),
    pytest.param(lambda c, s: [answered(c, speech_is(42))], False, id="speech not str"),
    pytest.param(
        lambda c, s: [answered(c, speech_is("Done.", conversation_id=42))],
        False,
        id="conversation_id not str",
    ),
    pytest.param(
        lambda c, s: [event(s, "surprise"), ok(c)], True, id="event not object"
    ),
    pytest.param(
        lambda c, s: [event(s, announce("surprise")), ok(c)],
        True,
        id="event data not object",
    ),
    pytest.param(
        lambda c, s: [event(s, announce({"message": 42})), ok(c)],
        True,
        id="announce message not str",
    ),
    pytest.param(lambda c, s: [megabyte(c), ok(c)], True, id="1 MB message"),
    pytest.param(
        lambda c, s: [{"type": "auth_ok", "ha_version": HA_VERSION}, ok(c)],
        True,
        id="auth_ok out of order",
    ),
    pytest.param(
        lambda c, s: [{"type": "auth", "access_token": TOKEN}, ok(c)],
        True,
        id="token echoed",
    ),
]


@pytest.mark.parametrize(("frames", "gets_answer"), HOSTILE)
async def test_a_hostile_message_is_dropped_and_the_satellite_goes_on(
    fake_ha, make_config, make_satellite, command, caplog, frames, gets_answer
) -> None:
    satellite, _sink = make_satellite(make_config(fake_ha.url, wake_words=[JARVIS]))
    microphone = Microphone()
    caplog.set_level(logging.INFO)
    run = asyncio.create_task(satellite.run(microphone))
    async with asyncio.timeout(5):
        while not fake_ha.subscriptions:
            await asyncio.sleep(0.02)
    (sub_id,) = fake_ha.subscriptions
    fake_ha.raw_answer = lambda c: frames(c, sub_id)

    microphone.say(command)
    first = await turn(caplog, 1)
    fake_ha.raw_answer = None
    microphone.say(command)
    second = await turn(caplog, 2)

    assert first["reply"] == (
        f"You said: {first['text']}" if gets_answer else SORRY_FAILED
    )
    assert sounds_like(second["text"], COMMAND), second["text"]
    assert second["reply"] == f"You said: {second['text']}"
    assert not run.done()
    assert satellite.connection.connects == 1  # the same connection all along
    assert satellite.announcements.empty()
    # Logged: dropped, or (a result of the wrong shape) the request failed.
    assert ("dropped a message" if gets_answer else "malformed") in caplog.text
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert max(len(w) for w in warnings) < 1000
    assert TOKEN not in caplog.text
    await satellite.connection.close()
    run.cancel()


@pytest.mark.parametrize(
    "greeting",
    [42, b"\x00", "{not json", [{"type": "auth_required"}], {"type": "auth_ok"}],
    ids=["number", "binary", "not JSON", "list", "auth_ok first"],
)
async def test_a_hostile_greeting_is_retried(fake_ha, greeting, caplog) -> None:
    fake_ha.handshake = [greeting]
    connection = Connection(fake_ha.url, TOKEN, backoff_s=(0.05,))
    task = asyncio.create_task(connection.run())
    reply = await asyncio.wait_for(connection.process("hello", None, None, "en"), 5)
    assert reply.speech == "You said: hello"
    assert connection.connects == 1 and fake_ha.auth_attempts == 1
    assert "unreachable (expected auth_required" in caplog.text
    await connection.close()
    await task


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("The kitchen lights are on.", "The kitchen lights are on."),
        ("The \u202ekitchen\u202c lights\u200f are on.", "The kitchen lights are on."),
        ("\u2066Done\u2069.\x00\x07", "Done."),
        ("One.\nTwo.\r\n\tThree.", "One. Two. Three."),
        ("\x1b[31mRed\x1b[0m", "[31mRed [0m"),
        ("Lone \ud800surrogate.", "Lone surrogate."),
        ("word " * 300, ("word " * 200).strip()),
        ("x" * 5000, "x" * 1000),
        ("", ""),
    ],
    ids=[
        "plain",
        "bidi",
        "isolates and controls",
        "line breaks",
        "terminal escapes",
        "surrogate",
        "long",
        "long without spaces",
        "empty",
    ],
)
def test_speakable_removes_controls_and_caps_the_length(text, clean) -> None:
    assert speakable(text) == clean
    assert len(speakable(text)) <= 1000


async def test_a_reply_with_control_and_bidi_characters_is_spoken_clean(
    fake_ha, make_config, make_satellite, transcriber
) -> None:
    fake_ha.answer = lambda command: conversation_result(
        "The kitchen\u202e lights\x00 are\u2066 on.\x07", "conv-1"
    )
    satellite, sink = make_satellite(make_config(fake_ha.url))
    task = asyncio.create_task(satellite.connection.run())
    turn = await satellite.process_audio(
        join(speech.silence(0.3), speech.piper(COMMAND))
    )
    assert turn is not None and turn.reply == "The kitchen lights are on."
    assert sounds_like(spoken(sink, transcriber), "The kitchen lights are on.")
    satellite.on_announce(
        {"message": "\u202eSomeone\x1b is at the door.", "satellite": None}
    )
    assert satellite.announcements.get_nowait() == "Someone is at the door."
    await satellite.connection.close()
    await task
