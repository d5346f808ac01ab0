"""Wyoming mode against a real `wyoming` client playing Home Assistant's part.

The client speaks the protocol as HA's wyoming integration does
(homeassistant/components/wyoming/assist_satellite.py): RunSatellite, Describe, Ping,
then the pipeline's events; the speech is piper's, the STT on the "HA" side Whisper.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
import logging
from typing import Any

import numpy as np
import pytest
from wyoming.asr import Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.ping import Ping, Pong
from wyoming.pipeline import PipelineStage, RunPipeline
from wyoming.satellite import RunSatellite
from wyoming.snd import Played
from wyoming.timer import TimerFinished, TimerStarted
from wyoming.tts import Synthesize
from wyoming.wake import Detection

from athena_satellite.audio import RATE, WavSink, chunks, resample, spool, write_wav
from athena_satellite.config import Config, ConfigError, parse
from athena_satellite.wyoming_server import Mode, WyomingSatellite, build
from training import speech

from .conftest import join, sounds_like, words

COMMAND = "Hey Jarvis, turn on the lights."
JARVIS = [{"name": "jarvis", "model": "hey_jarvis", "agent_id": None}]


def spoken(sink: WavSink, transcriber) -> list[str]:
    """What the satellite played, as words."""
    assert sink.parts, "nothing was played"
    assert sink.rate is not None
    audio = resample(np.concatenate(sink.parts), sink.rate, RATE)
    return words(transcriber.transcribe(audio))


@contextlib.asynccontextmanager
async def served(
    config: Config, **engines: Any
) -> AsyncIterator[tuple[WyomingSatellite, WavSink, int]]:
    """A Wyoming satellite with real `engines` (build's keywords) on a free loopback
    port: (satellite, its WAV sink, the port)."""
    sink = WavSink()
    sat = build(config, sink, reply_timeout_s=5, **engines)
    server = await sat.serve("tcp://127.0.0.1:0")
    port = server._server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    try:
        yield sat, sink, port
    finally:
        await server.stop()


@pytest.fixture
async def satellite(
    make_config, synthesizer
) -> AsyncIterator[tuple[WyomingSatellite, WavSink, int]]:
    """A Wyoming satellite that wakes on "hey jarvis" alone, served (`served`)."""
    config = make_config(mode="wyoming", wake_words=JARVIS)
    async with served(config, synthesizer=synthesizer) as served_satellite:
        yield served_satellite


async def ha_client(port: int) -> AsyncTcpClient:
    """Connect as HA does: connect, RunSatellite, Describe (the Info is read)."""
    client = AsyncTcpClient("127.0.0.1", port)
    await client.connect()
    await client.write_event(RunSatellite().event())
    await client.write_event(Describe().event())
    info = await read_until(client, Info.is_type)
    assert Info.from_event(info).satellite is not None
    return client


async def read_until(
    client: AsyncTcpClient, want: Callable[[str], bool], timeout: float = 20
) -> Event:
    """Read events until one whose type `want` accepts; return it."""
    async with asyncio.timeout(timeout):
        while True:
            event = await client.read_event()
            assert event is not None, "the satellite closed the connection"
            if want(event.type):
                return event


async def feed(satellite: WyomingSatellite, audio: np.ndarray) -> None:
    """Hand `audio` to the satellite chunk by chunk (faster than real time)."""
    for chunk in chunks(audio):
        await satellite.handle_chunk(chunk)
        await asyncio.sleep(0)


async def command_audio(client: AsyncTcpClient) -> tuple[list[Event], np.ndarray]:
    """Read a pipeline request: the events up to AudioStop and the audio streamed."""
    events: list[Event] = []
    audio: list[bytes] = []
    async with asyncio.timeout(30):
        while True:
            event = await client.read_event()
            assert event is not None
            if AudioChunk.is_type(event.type):
                audio.append(AudioChunk.from_event(event).audio)
                continue
            if Ping.is_type(event.type) or Info.is_type(event.type):
                continue
            events.append(event)
            if AudioStop.is_type(event.type):
                return events, np.frombuffer(b"".join(audio), np.int16)


async def send_audio(client: AsyncTcpClient, audio: np.ndarray, rate: int) -> None:
    """Send `audio` as HA sends TTS: AudioStart, 1024-sample chunks, AudioStop."""
    await client.write_event(AudioStart(rate=rate, width=2, channels=1).event())
    data = audio.astype(np.int16).tobytes()
    for start in range(0, len(data), 2048):
        await client.write_event(
            AudioChunk(
                rate=rate, width=2, channels=1, audio=data[start : start + 2048]
            ).event()
        )
    await client.write_event(AudioStop().event())


def tts(synthesizer, text: str) -> np.ndarray:
    """The reply as HA's Wyoming TTS would make it (the same piper voice)."""
    return np.concatenate(list(synthesizer.sentences(text)))


async def wait_mode(
    satellite: WyomingSatellite, mode: Mode, timeout: float = 20
) -> None:
    async with asyncio.timeout(timeout):
        while satellite.mode is not mode:
            await asyncio.sleep(0.02)


async def test_describe_and_ping(satellite) -> None:
    """Info names the satellite, its area and both wake words; a Ping gets its Pong."""
    _sat, _sink, port = satellite
    client = AsyncTcpClient("127.0.0.1", port)
    await client.connect()
    await client.write_event(Describe().event())
    info = Info.from_event(await read_until(client, Info.is_type))
    assert info.satellite is not None and info.satellite.name == "kitchen"
    assert info.satellite.installed and info.satellite.has_vad
    assert info.satellite.active_wake_words == ["jarvis"]
    assert [m.name for m in info.wake[0].models] == ["jarvis"]
    assert info.asr == [] and info.tts == []  # HA adds no STT/TTS for a satellite
    await client.write_event(Ping(text="x").event())
    pong = Pong.from_event(await read_until(client, Pong.is_type))
    assert pong.text == "x"
    await client.disconnect()


async def test_a_command_runs_through_ha_pipeline(
    satellite, synthesizer, transcriber
) -> None:
    """Wake → Detection, RunPipeline(asr→tts), the command's audio, AudioStop (local
    VAD); HA's transcript and reply audio → played on the sink → Played; states."""
    sat, sink, port = satellite
    client = await ha_client(port)
    audio = join(speech.silence(1), speech.piper(COMMAND), speech.silence(1.5))
    feeding = asyncio.create_task(feed(sat, audio))
    events, streamed = await command_audio(client)
    await feeding
    types = [e.type for e in events]
    assert types[:3] == ["detection", "run-pipeline", "audio-start"]
    assert Detection.from_event(events[0]).name == "jarvis"
    run = RunPipeline.from_event(events[1])
    assert (run.start_stage, run.end_stage) == (PipelineStage.ASR, PipelineStage.TTS)
    assert sat.mode is Mode.PROCESSING  # the microphone is muted while HA works
    heard = transcriber.transcribe(streamed)
    assert words(heard)[-4:] == ["turn", "on", "the", "lights"]
    await client.write_event(Transcript(text=heard).event())
    reply = "Turned on the kitchen lights."
    await client.write_event(Synthesize(text=reply).event())
    await send_audio(client, tts(synthesizer, reply), synthesizer.rate)
    await read_until(client, Played.is_type)
    await wait_mode(sat, Mode.IDLE)
    played = spoken(sink, transcriber)
    assert sounds_like(played, reply), played
    assert sat.modes == [
        Mode.IDLE,
        Mode.LISTENING,
        Mode.PROCESSING,
        Mode.RESPONDING,
        Mode.IDLE,
    ]
    turn = sat.turns[-1]
    assert (turn.transcript, turn.reply, turn.error) == (heard, reply, "")
    assert 0 < turn.timings_ms["end_of_speech_to_first_audio"] < 10_000
    await client.disconnect()


@pytest.mark.parametrize(
    ("phrase", "name"), [("Hey Athena,", "athena"), ("Hey Jarvis,", "jarvis")]
)
async def test_the_shipped_words_are_verified_and_keep_the_first_word(
    make_config, synthesizer, transcriber, phrase, name
) -> None:
    """With default.yaml's two stages, each word reaches HA only once stage 2 agreed,
    and the command said right after it is streamed whole ("turn" included)."""
    config = make_config(mode="wyoming")
    engines = {"synthesizer": synthesizer, "transcriber": transcriber}
    async with served(config, **engines) as (sat, _sink, port):
        assert sat.detector.verifier is not None
        client = await ha_client(port)
        command = "turn off the radio in the bedroom."
        spoken = speech.piper(f"{phrase} {command}", noise_scale=0.0, noise_w=0.0)
        feeding = asyncio.create_task(
            feed(sat, join(speech.silence(1), spoken, speech.silence(1.5)))
        )
        events, streamed = await command_audio(client)
        await feeding
        assert Detection.from_event(events[0]).name == name
        # HA's STT gets the stream from where stage 1 fired: the word's end may be
        # in it.
        heard = words(transcriber.transcribe(streamed))
        assert "turn" in heard, heard
        assert sounds_like(" ".join(heard[heard.index("turn") :]), command), heard
        await client.disconnect()


async def test_ha_vad_ends_the_command_first(satellite, synthesizer) -> None:
    """A Transcript while streaming (HA's VAD ended it) stops the microphone's audio."""
    sat, _sink, port = satellite
    client = await ha_client(port)
    await feed(sat, join(speech.silence(1), speech.piper("Hey Jarvis, turn on")))
    await read_until(client, AudioStart.is_type)
    assert sat.mode is Mode.LISTENING
    await client.write_event(Transcript(text="Turn on").event())
    await read_until(client, AudioStop.is_type)
    assert sat.mode is Mode.PROCESSING
    await send_audio(client, tts(synthesizer, "Which light?"), synthesizer.rate)
    await read_until(client, Played.is_type)
    await wait_mode(sat, Mode.IDLE)
    await client.disconnect()


async def test_announcement_is_played(satellite, synthesizer, transcriber) -> None:
    """Audio from HA with no pipeline (assist_satellite.announce) plays, then Played."""
    sat, sink, port = satellite
    client = await ha_client(port)
    message = "Dinner is ready."
    await send_audio(client, tts(synthesizer, message), synthesizer.rate)
    await read_until(client, Played.is_type)
    await wait_mode(sat, Mode.IDLE)
    heard = spoken(sink, transcriber)
    assert sounds_like(heard, message), heard
    assert Mode.RESPONDING in sat.modes
    await client.disconnect()


async def test_a_finished_timer_is_chimed_and_spoken(satellite, transcriber) -> None:
    """TimerStarted then TimerFinished: a chime and 'Your pasta timer is done.'"""
    sat, sink, port = satellite
    client = await ha_client(port)
    await client.write_event(
        TimerStarted(id="t1", total_seconds=3, name="pasta").event()
    )
    await client.write_event(TimerFinished(id="t1").event())
    async with asyncio.timeout(20):
        while len(sink.parts) < 2 or sat.mode is not Mode.IDLE:
            await asyncio.sleep(0.05)
    heard = spoken(sink, transcriber)
    assert sounds_like(heard, "Your pasta timer is done."), heard
    assert sat.timers == {}
    await client.disconnect()


async def test_pipeline_error_is_spoken(satellite, transcriber) -> None:
    """An Error from HA's pipeline mid-turn: back to idle, the error is spoken."""
    sat, sink, port = satellite
    client = await ha_client(port)
    await feed(sat, join(speech.silence(1), speech.piper(COMMAND), speech.silence(1.5)))
    await read_until(client, AudioStop.is_type)
    await client.write_event(
        Error(text="Speech to text failed", code="stt-stream-failed").event()
    )
    async with asyncio.timeout(20):
        while not sink.parts or sat.mode is not Mode.IDLE:
            await asyncio.sleep(0.05)
    assert "failed" in spoken(sink, transcriber)
    assert sat.turns[-1].error == "stt-stream-failed"
    await client.disconnect()


async def test_dropped_connection_mid_turn_then_next_wake(
    satellite, synthesizer, caplog
) -> None:
    """HA drops the connection while the satellite streams: idle, a wake without HA is
    answered locally, and after HA reconnects the next wake runs a pipeline."""
    caplog.set_level(logging.WARNING)
    sat, sink, port = satellite
    client = await ha_client(port)
    await feed(sat, join(speech.silence(1), speech.piper("Hey Jarvis, turn")))
    await read_until(client, AudioStart.is_type)
    await client.disconnect()
    await wait_mode(sat, Mode.IDLE, 5)
    assert sat.handler is None
    assert "Home Assistant disconnected" in caplog.text
    await feed(sat, join(speech.silence(1), speech.piper(COMMAND), speech.silence(1)))
    await wait_mode(sat, Mode.RESPONDING, 10)
    await wait_mode(sat, Mode.IDLE, 20)
    assert sink.parts  # 'Sorry, I can't reach Home Assistant' was spoken
    assert "no Home Assistant is connected" in caplog.text
    client = await ha_client(port)
    await feed(sat, join(speech.silence(1), speech.piper(COMMAND), speech.silence(1.5)))
    events, _audio = await command_audio(client)
    assert [e.type for e in events][:2] == ["detection", "run-pipeline"]
    await client.disconnect()


async def test_no_reply_from_ha_times_out(satellite) -> None:
    """HA never answers after the command: idle again after the reply timeout."""
    sat, _sink, port = satellite
    sat.reply_timeout_s = 0.5
    client = await ha_client(port)
    await feed(sat, join(speech.silence(1), speech.piper(COMMAND), speech.silence(1.5)))
    await read_until(client, AudioStop.is_type)
    await wait_mode(sat, Mode.IDLE, 5)
    assert sat.turns[-1].error == "no reply"
    await client.disconnect()


@pytest.mark.parametrize(
    "event",
    [
        Event("audio-start", {"rate": 22050}),  # width and channels missing
        Event("audio-chunk", {"rate": 16000, "width": 2, "channels": 1}),  # no payload
        Event("timer-finished", {}),
        Event("transcript", {}),
        Event("something-new", {"x": 1}),
    ],
    ids=["start", "chunk", "timer", "transcript", "unknown"],
)
async def test_malformed_events_do_not_break_the_connection(
    satellite, event: Event, caplog: Any
) -> None:
    """A malformed or unknown event is logged; the next Ping still gets its Pong."""
    sat, _sink, port = satellite
    client = await ha_client(port)
    await client.write_event(event)
    await client.write_event(Ping(text="after").event())
    pong = Pong.from_event(await read_until(client, Pong.is_type))
    assert pong.text == "after"
    assert sat.handler is not None
    await client.disconnect()


def test_wyoming_mode_needs_no_home_assistant_url_or_token() -> None:
    """Wyoming mode: HA connects to the satellite, so no URL and no token are read;
    direct mode without a URL is a clear error."""
    config = parse({"mode": "wyoming", "wyoming": {"area": "Kitchen"}})
    assert (config.mode, config.url, config.token) == ("wyoming", "", "")
    assert config.wyoming.uri == "tcp://0.0.0.0:10700"
    assert config.wyoming.area == "Kitchen"
    assert parse({}, mode="wyoming").mode == "wyoming"
    with pytest.raises(ConfigError, match=r"home_assistant\.url is required"):
        parse({})
    with pytest.raises(ConfigError, match="uri"):
        parse({"mode": "wyoming", "wyoming": {"uri": "http://x"}})


def test_spool_plays_wav_files_and_rejects_bad_ones(tmp_path, caplog) -> None:
    """The test microphone: silence until a WAV appears; a bad file is set aside."""
    (tmp_path / "1-bad.wav").write_bytes(b"not a wav")
    clip = np.full(RATE // 10, 1000, np.int16)
    write_wav(tmp_path / "2-good.wav", clip, RATE)
    mic = spool(tmp_path, lambda: True)
    first = next(mic)
    assert not first.any()  # the bad file gave silence
    assert (tmp_path / "1-bad.wav.rejected").exists()
    assert "cannot play" in caplog.text
    second = next(mic)
    assert (second[: len(clip)] == 1000).all()
    assert (tmp_path / "2-good.wav.played").exists()


async def test_new_audio_before_the_last_ended_replaces_it(
    satellite, synthesizer, transcriber, caplog
) -> None:
    """AudioStart twice: the first audio is dropped (logged), the second plays."""
    sat, sink, port = satellite
    client = await ha_client(port)
    rate = synthesizer.rate
    await client.write_event(AudioStart(rate=rate, width=2, channels=1).event())
    await client.write_event(
        AudioChunk(rate=rate, width=2, channels=1, audio=bytes(2 * rate // 10)).event()
    )
    await send_audio(client, tts(synthesizer, "Dinner is ready."), rate)
    await read_until(client, Played.is_type)
    await wait_mode(sat, Mode.IDLE)
    assert "dropping the last" in caplog.text
    heard = spoken(sink, transcriber)
    assert sounds_like(heard, "Dinner is ready."), heard
    await client.disconnect()
