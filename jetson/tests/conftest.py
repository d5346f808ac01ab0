"""Fixtures: the satellite's engines (loaded once), a loopback HA, configs, speech."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from athena_satellite.audio import WavSink
from athena_satellite.config import Config, parse
from athena_satellite.satellite import Satellite, build
from athena_satellite.stt import DEFAULT_MODEL_DIR, Transcriber
from athena_satellite.tts import Synthesizer
from training import speech

from .fake_ha import TOKEN, FakeHA, serve


@pytest.fixture(scope="session")
def transcriber() -> Transcriber:
    """Whisper base, int8 on CPU."""
    return Transcriber(Path(DEFAULT_MODEL_DIR).expanduser(), "cpu")


@pytest.fixture(scope="session")
def synthesizer() -> Synthesizer:
    """The bundled piper voice."""
    return Synthesizer()


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Config]:
    """Build a Config from the defaults plus `overrides` (a token file in tmp_path)."""
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")

    def make(url: str = "ws://127.0.0.1:9/api/websocket", **overrides: Any) -> Config:
        data: dict[str, Any] = {
            "name": "kitchen",
            "home_assistant": {
                "url": url,
                "token_file": str(token_file),
                "request_timeout_s": 5,
            },
            "audio": {"chime": False},
        }
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(data.get(key), dict):
                data[key] = {**data[key], **value}
            else:
                data[key] = value
        return parse(data)

    return make


@pytest.fixture
async def fake_ha() -> AsyncIterator[FakeHA]:
    """A loopback HA WebSocket API."""
    fake = FakeHA()
    runner = await serve(fake)
    yield fake
    await runner.cleanup()


@pytest.fixture
async def make_satellite(
    transcriber: Transcriber, synthesizer: Synthesizer
) -> AsyncIterator[Callable[[Config], tuple[Satellite, WavSink]]]:
    """A Satellite with real engines and a WAV sink; its connection is not started.

    `options` go to `build` (backoff_s, clock).
    """
    made: list[Satellite] = []

    def make(config: Config, **options: Any) -> tuple[Satellite, WavSink]:
        sink = WavSink()
        options.setdefault("backoff_s", (0.1,))
        satellite = build(
            config, sink, transcriber=transcriber, synthesizer=synthesizer, **options
        )
        made.append(satellite)
        return satellite, sink

    yield make
    for satellite in made:
        await satellite.connection.close()


def words(text: str) -> list[str]:
    """Lower-case words without punctuation, for comparing transcripts."""
    return "".join(
        c if c.isalnum() or c.isspace() else " " for c in text.lower()
    ).split()


def join(*parts: np.ndarray) -> np.ndarray:
    """Concatenate int16 clips."""
    return np.concatenate(parts).astype(np.int16)


def said(text: str) -> np.ndarray:
    """`text` in the piper voice without VITS sampling noise: the same audio every run.

    Tests that judge the endpoint by Whisper's words use it, so a rare mishearing of
    one random rendering ("Turn on that kitchen lights", about 1 in 30) cannot fail
    them.
    """
    return speech.piper(text, noise_scale=0.0, noise_w=0.0)
