"""Direct mode with an Assist pipeline: the reply is spoken as the agent streams it.

The loopback HA answers `assist_pipeline/run` with HA's pipeline events; the
satellite runs the real engines on generated speech (conftest.py).
"""

from __future__ import annotations

import asyncio

import pytest

from athena_satellite.satellite import SORRY_FAILED, SORRY_UNREACHABLE
from athena_satellite.tts import MAX_SPEECH_CHARS, StreamedReply
from training import speech

from .conftest import TimedSink, join, said, sounds_like, words
from .fake_ha import conversation_result, pipeline
from .test_satellite import COMMAND, spoken, started

MOON = [
    "The Moon is far from the Earth. ",
    "It has no air, so its sky is always black. ",
    "People last walked on it long ago.",
]


def in_pieces(text: str, size: int = 12) -> list[str]:
    """`text` cut every `size` characters, as a model's tokens arrive."""
    return [text[i : i + size] for i in range(0, len(text), size)]


def athena_pipeline(fake_ha, reply: str, pieces: list[str], delay_s: float) -> None:
    """Give the loopback HA a pipeline for Athena's agent that streams `pieces`."""
    fake_ha.pipelines = [pipeline("conversation.other", "01JOTHER")]
    fake_ha.pipelines.append(pipeline("conversation.athena"))
    fake_ha.stream = lambda command: pieces
    fake_ha.stream_delay_s = delay_s
    fake_ha.answer = lambda command: conversation_result(reply, "conv-7")


async def test_a_streamed_reply_is_spoken_before_the_agent_has_finished(
    fake_ha, make_config, make_satellite, transcriber
) -> None:
    """Three sentences arrive over about 3 s; the first plays before the last
    arrives, and all three are heard, in order, once."""
    reply = "".join(MOON)
    pieces = [p for sentence in MOON for p in in_pieces(sentence)]
    athena_pipeline(fake_ha, reply, pieces, 3.0 / len(pieces))
    config = make_config(fake_ha.url, home_assistant={"device_id": "4f2c0a9e"})
    satellite, _sink = make_satellite(config)
    satellite.sink = sink = TimedSink()
    task = await started(satellite.connection)
    turn = await satellite.process_audio(join(speech.silence(0.3), said(COMMAND)))
    assert turn is not None and turn.reply == reply
    assert sink.times[0] < fake_ha.run_ends[0]
    heard = spoken(sink, transcriber)
    # Each sentence once, in order (piper's sampling noise varies a word at times).
    assert sounds_like(heard, reply), heard
    assert abs(len(heard) - len(words(reply))) <= 2, heard
    [run] = fake_ha.commands
    assert run["type"] == "assist_pipeline/run"
    assert (run["start_stage"], run["end_stage"]) == ("intent", "intent")
    assert run["pipeline"] == "01JATHENA"  # the one for this word's agent
    assert run["device_id"] == "4f2c0a9e"
    assert words(run["input"]["text"]) == words(COMMAND)
    assert turn.conversation_id == "conv-7" and turn.pipeline == "01JATHENA"
    assert turn.timings_ms["end_of_speech_to_first_audio"] > 0
    await satellite.connection.close()
    await task


async def test_what_the_agent_says_last_is_what_is_heard(
    fake_ha, make_config, make_satellite, transcriber
) -> None:
    """The agent streamed a sentence and half of another, then answered with an
    error: the finished sentence was said, the half is not, the error is."""
    athena_pipeline(
        fake_ha,
        "Sorry, the model stopped answering.",
        ["Hello there. ", "The moon is"],
        0.2,
    )
    satellite, sink = make_satellite(make_config(fake_ha.url))
    task = await started(satellite.connection)
    await satellite.process_audio(join(speech.silence(0.3), said(COMMAND)))
    heard = spoken(sink, transcriber)
    assert heard[:2] == ["hello", "there"]
    assert "moon" not in heard
    assert heard[2:5] == ["sorry", "the", "model"]
    await satellite.connection.close()
    await task


async def test_a_failed_pipeline_run_is_apologised_for(
    fake_ha, make_config, make_satellite, transcriber
) -> None:
    athena_pipeline(fake_ha, "", [], 0.0)

    def fails(command):
        raise RuntimeError("agent crashed")

    fake_ha.answer = fails
    satellite, sink = make_satellite(make_config(fake_ha.url))
    task = await started(satellite.connection)
    turn = await satellite.process_audio(join(speech.silence(0.3), said(COMMAND)))
    assert turn is not None and turn.reply == SORRY_FAILED
    heard = spoken(sink, transcriber)
    assert sounds_like(heard, SORRY_FAILED), heard
    await satellite.connection.close()
    await task


@pytest.mark.parametrize(
    "events",
    [
        [{"type": 5, "data": {}}],  # not a pipeline event
        [{"type": "intent-end", "data": {"intent_output": {"response": "x"}}}],
        [{"type": "run-end", "data": None}],  # a run without an answer
    ],
    ids=["bad-event", "bad-result", "no-answer"],
)
async def test_a_malformed_pipeline_run_is_apologised_for(
    fake_ha, make_config, make_satellite, events
) -> None:
    athena_pipeline(fake_ha, "Fine.", [], 0.0)
    fake_ha.raw_run = lambda run_id: [
        {"id": run_id, "type": "event", "event": event} for event in events
    ]
    satellite, _sink = make_satellite(make_config(fake_ha.url))
    task = await started(satellite.connection)
    turn = await satellite.process_audio(join(speech.silence(0.3), said(COMMAND)))
    assert turn is not None and turn.reply == SORRY_FAILED
    fake_ha.raw_run = None  # the connection goes on
    turn = await satellite.process_audio(join(speech.silence(0.3), said(COMMAND)))
    assert turn is not None and turn.reply == "Fine."
    await satellite.connection.close()
    await task


async def test_a_connection_dropped_mid_reply_is_survived(
    fake_ha, make_config, make_satellite, transcriber
) -> None:
    """HA goes away while the agent streams: the satellite says it cannot reach HA,
    and answers the next command once HA is back."""
    reply = "".join(MOON)
    athena_pipeline(fake_ha, reply, in_pieces(reply), 0.3)
    satellite, sink = make_satellite(make_config(fake_ha.url))
    task = await started(satellite.connection)

    async def drop_mid_run() -> None:
        while not fake_ha.commands:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.5)
        await fake_ha.drop()

    dropping = asyncio.create_task(drop_mid_run())
    turn = await satellite.process_audio(join(speech.silence(0.3), said(COMMAND)))
    await dropping
    assert turn is not None and turn.reply == SORRY_UNREACHABLE
    heard = spoken(sink, transcriber)  # piper's rendering varies: one word may differ
    assert sounds_like(heard[-6:], " ".join(words(SORRY_UNREACHABLE)[-6:])), heard
    async with asyncio.timeout(5):
        while satellite.connection.connects < 2:
            await asyncio.sleep(0.02)
    fake_ha.stream_delay_s = 0.0
    turn = await satellite.process_audio(join(speech.silence(0.3), said(COMMAND)))
    assert turn is not None and turn.reply == reply
    await satellite.connection.close()
    await task


async def test_without_a_pipeline_for_the_agent_the_reply_comes_whole(
    fake_ha, make_config, make_satellite
) -> None:
    fake_ha.pipelines = [pipeline("conversation.other", "01JOTHER")]
    satellite, _sink = make_satellite(make_config(fake_ha.url))
    task = await started(satellite.connection)
    turn = await satellite.process_audio(join(speech.silence(0.3), said(COMMAND)))
    assert turn is not None and turn.reply == "You said: Turn on the kitchen lights."
    assert [c["type"] for c in fake_ha.commands] == ["conversation/process"]
    assert turn.pipeline is None
    await satellite.connection.close()
    await task


def feed_all(pieces: list[str]) -> list[str]:
    stream = StreamedReply()
    return [sentence for piece in pieces for sentence in stream.feed(piece)]


@pytest.mark.parametrize(
    ("pieces", "sentences"),
    [
        (["It is 3.5 degrees. ", "Wear a coat."], ["It is 3.5 degrees."]),
        (['He said "go." Then', " left."], ['He said "go."']),
        (["Really?! ", "Yes… ", "fine"], ["Really?!", "Yes…"]),
        (["One\n", "two\n\nthree"], ["One", "two"]),
        (["e.g.x costs 2", ".5 euros"], []),
        (["No end yet"], []),
    ],
)
def test_sentences_are_cut_where_they_end(pieces, sentences) -> None:
    assert feed_all(pieces) == sentences


def test_the_rest_of_a_reply_is_what_was_not_said() -> None:
    stream = StreamedReply()
    assert stream.feed("Hello  there. How are") == ["Hello there."]
    assert stream.finish("Hello there. How are you?") == "How are you?"
    replaced = StreamedReply()
    replaced.feed("Hello there. How are")
    assert replaced.finish("Sorry, no.") == "Sorry, no."


def test_a_hostile_stream_is_cleaned_and_capped() -> None:
    stream = StreamedReply()
    said_out = stream.feed("Hi\x00 \u202ethere. " + "Blah blah. " * 10_000)
    said_out.append(stream.finish("x" * 100_000))
    assert said_out[0] == "Hi there."
    assert sum(len(s) for s in said_out) <= MAX_SPEECH_CHARS
    assert len(stream.text) <= 8 * MAX_SPEECH_CHARS
