"""The STT and TTS Wyoming services (wyoming-faster-whisper, wyoming-piper) started
from the packaged models, spoken to with a real `wyoming` client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import logging
import socket
import sys

import numpy as np
import pytest
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize

from athena_satellite import asr_service
from athena_satellite.audio import RATE, resample
from athena_satellite.services import Services, stt_command, tts_command

from .conftest import words


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def connect(port: int, timeout: float = 120) -> AsyncTcpClient:
    """Connect once the service listens (it loads its model first)."""
    async with asyncio.timeout(timeout):
        while True:
            client = AsyncTcpClient("127.0.0.1", port)
            try:
                await client.connect()
            except OSError:
                await asyncio.sleep(0.5)
                continue
            return client


async def test_services_speak_and_transcribe_from_packaged_models(
    make_config, tmp_path
) -> None:
    """wyoming-piper says a sentence, wyoming-faster-whisper hears it back; both
    describe themselves as HA's wyoming integration expects; nothing is downloaded."""
    stt_port, tts_port = free_port(), free_port()
    config = make_config(
        mode="wyoming",
        wyoming={
            "zeroconf": False,
            "stt_server": "faster-whisper",
            "stt_uri": f"tcp://127.0.0.1:{stt_port}",
            "tts_uri": f"tcp://127.0.0.1:{tts_port}",
        },
    )
    assert "--local-files-only" in stt_command(config)
    assert "--local-files-only" in tts_command(config)
    services = Services.from_config(config)
    await services.start()
    try:
        tts = await connect(tts_port)
        await tts.write_event(Describe().event())
        info = Info.from_event(await tts.read_event())
        assert info.tts[0].installed and info.tts[0].supports_synthesize_streaming
        await tts.write_event(Synthesize(text="Turn on the kitchen lights.").event())
        audio, rate = b"", 0
        while True:
            event = await tts.read_event()
            assert event is not None
            if AudioStart.is_type(event.type):
                rate = AudioStart.from_event(event).rate
            elif AudioChunk.is_type(event.type):
                audio += AudioChunk.from_event(event).audio
            elif AudioStop.is_type(event.type):
                break
        await tts.disconnect()
        speech = resample(np.frombuffer(audio, np.int16), rate, RATE)
        stt = await connect(stt_port)
        await stt.write_event(Describe().event())
        info = Info.from_event(await stt.read_event())
        assert info.asr[0].installed
        await stt.write_event(Transcribe(language="en").event())
        await stt.write_event(AudioStart(rate=RATE, width=2, channels=1).event())
        await stt.write_event(
            AudioChunk(rate=RATE, width=2, channels=1, audio=speech.tobytes()).event()
        )
        await stt.write_event(AudioStop().event())
        while True:
            event = await stt.read_event()
            assert event is not None
            if Transcript.is_type(event.type):
                break
        await stt.disconnect()
        assert words(Transcript.from_event(event).text) == words(
            "Turn on the kitchen lights."
        )
    finally:
        await services.stop()
    assert all(p.returncode is not None for p in services.processes.values())


async def test_a_failing_service_is_restarted_not_fatal(caplog) -> None:
    """A service that exits is logged with its status and started again."""
    caplog.set_level(logging.INFO)
    services = Services(
        {"stt": [sys.executable, "-c", "raise SystemExit(3)"]}, restart_s=(0.1,)
    )
    await services.start()
    async with asyncio.timeout(20):
        while caplog.text.count("stt service exited with status 3") < 2:
            await asyncio.sleep(0.1)
    await services.stop()
    assert "restarting the stt service" in caplog.text


@pytest.fixture
async def speculative_asr(make_config) -> AsyncIterator[int]:
    """Our ASR service (asr_service.py) on a free loopback port; yield the port."""
    port = free_port()
    config = make_config(
        mode="wyoming",
        wyoming={"zeroconf": False, "stt_uri": f"tcp://127.0.0.1:{port}"},
        stt={"device": "cpu"},
    )
    server = await asr_service.serve(config, config.wyoming.stt_uri)
    try:
        yield port
    finally:
        await server.stop()


async def test_speculative_asr_transcribes_during_the_silence(
    speculative_asr, synthesizer
) -> None:
    """Our ASR service: the command's audio, a silence, AudioStop → the transcript
    comes at once (it was made during the silence), with the words said."""
    client = await connect(speculative_asr)
    await client.write_event(Describe().event())
    info = Info.from_event(await client.read_event())
    assert info.asr[0].installed
    said = resample(
        np.concatenate(list(synthesizer.sentences("Turn on the kitchen lights."))),
        synthesizer.rate,
        RATE,
    )
    await client.write_event(Transcribe(language="en").event())
    await client.write_event(AudioStart(rate=RATE, width=2, channels=1).event())
    silence = np.zeros(int(0.7 * RATE), np.int16)
    for part in (said, silence):
        for start in range(0, len(part), 1024):
            await client.write_event(
                AudioChunk(
                    rate=RATE,
                    width=2,
                    channels=1,
                    audio=part[start : start + 1024].tobytes(),
                ).event()
            )
    await asyncio.sleep(3)  # the closing silence, as long as STT takes here
    stopped = asyncio.get_running_loop().time()
    await client.write_event(AudioStop().event())
    event = await client.read_event()
    waited = asyncio.get_running_loop().time() - stopped
    assert event is not None and Transcript.is_type(event.type)
    assert words(Transcript.from_event(event).text) == words(
        "Turn on the kitchen lights."
    )
    assert waited < 0.3, waited
    await client.write_event(AudioStart(rate=RATE, width=2, channels=1).event())
    await client.write_event(AudioStop().event())  # no speech: empty, no error
    event = await client.read_event()
    assert event is not None and Transcript.from_event(event).text == ""
    await client.disconnect()


async def test_speculative_asr_survives_malformed_events(speculative_asr) -> None:
    """A malformed event is logged; the connection still answers Describe."""
    client = await connect(speculative_asr)
    await client.write_event(AudioStart(rate=RATE, width=2, channels=1).event())
    await client.write_event(Event("audio-chunk", {"rate": RATE}))  # no width
    await client.write_event(Describe().event())
    event = await client.read_event()
    assert event is not None and Info.is_type(event.type)
    await client.disconnect()
