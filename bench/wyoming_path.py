"""The satellite's Wyoming path through a real HA: end of speech → first reply audio.

The satellite runs as in tests/test_e2e_wyoming.py (a real process in Wyoming mode
with its Wyoming STT and TTS services, added to HA's core wyoming integration, the
pipeline "Athena on the Jetson"); the commands are bench/satellite.py's, spoken by the
same noise-free piper voice after "Hey Jarvis", fed at the microphone's pace. The
satellite logs each turn's end of speech → first audio on its sink; HA's whole
pipeline (Wyoming STT after the satellite's endpoint, Athena, Wyoming TTS, ffmpeg's
conversion to the satellite's format) lies in between; once with
wyoming-faster-whisper as the STT, once with our speculative one (asr_service.py).
Then a question for the model whose three-sentence reply the backend streams at a
model's pace (`STORY_REPLY`, a word every 0.15 s), once the TTS service has loaded its
voice (services.warm_up): when the satellite's sink got the first audio and when the
backend finished, both from the end of speech. Run by
bench/satellite.py with HA's venv; alone:

    .venv/bin/python -m bench.wyoming_path      (prints the recorded JSON)
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
import time

import pytest

from homeassistant.core import HomeAssistant

from bench.commands import COMMANDS, STORY, STORY_REPLY
from bench.harness import record, run
from tests import test_e2e_wyoming as e2e
from tests.conftest import *  # noqa: F403  (fixtures)
from tests.fakes import FakeOllama, FakeWeb
from tests.test_e2e_wyoming import Satellite, athena_on_the_jetson, make_clips, wait_for

pytestmark = pytest.mark.parametrize("expected_lingering_timers", [True])
# The e2e test's fixtures: the satellite process, HA's HTTP server left to start.
satellite = e2e.satellite
disable_http_server = e2e.disable_http_server


def turns(log: Path) -> list[dict[str, object]]:
    """The satellite's per-turn JSON records so far."""
    found = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if '"event": "wyoming_turn"' in line:
            found.append(json.loads(line[line.index("{") :]))
    return found


@pytest.mark.parametrize("stt_server", ["faster-whisper", "speculative"])
async def test_wyoming_path(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    fake_web: FakeWeb,
    satellite: Satellite,
    tmp_path: Path,
    stt_server: str,
) -> None:
    """Each command once, in turn; record the satellite's turns under `stt_server`."""
    make_clips(
        tmp_path, {f"command{i}": f"Hey Jarvis, {c}" for i, c in enumerate(COMMANDS)}
    )
    entity_id, _entries = await athena_on_the_jetson(
        hass, fake_ollama, satellite, fake_web
    )
    await asyncio.sleep(2)  # HA connects to the satellite
    for i in range(len(COMMANDS)):
        satellite.say(f"command{i}")
        await wait_for(lambda i=i: len(turns(satellite.log)) > i, 90, f"turn {i + 1}")
        await wait_for(
            lambda: hass.states.get(entity_id).state == "idle", 60, "the satellite idle"
        )
        await asyncio.sleep(1)
    record(**{stt_server: turns(satellite.log)})


@pytest.mark.parametrize("stt_server", ["speculative"])
async def test_streamed_reply(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    fake_web: FakeWeb,
    satellite: Satellite,
    tmp_path: Path,
) -> None:
    """STORY through the model: record when its first audio and the backend's end
    came, in seconds after the end of speech."""
    make_clips(tmp_path, {"story": f"Hey Jarvis, {STORY}"})
    fake_ollama.reply = lambda body: STORY_REPLY
    fake_ollama.piece_delay = 0.15
    entity_id, entries = await athena_on_the_jetson(
        hass, fake_ollama, satellite, fake_web
    )
    await asyncio.sleep(2)  # HA connects to the satellite
    await wait_for(
        lambda: "tts service warmed up" in satellite.log.read_text(),
        60,
        "the TTS service's voice loaded (services.warm_up)",
    )
    satellite.say("story")
    async with asyncio.timeout(90):
        while not satellite.played()[0]:  # noqa: ASYNC110 (a file, polled)
            await asyncio.sleep(0.02)
    first_audio = time.monotonic()
    await wait_for(lambda: bool(turns(satellite.log)), 90, "the whole reply")
    [turn] = turns(satellite.log)
    timings = turn["timings_ms"]
    assert isinstance(timings, dict)
    end_of_speech = first_audio - timings["end_of_speech_to_first_audio"] / 1000
    [finished] = fake_ollama.finished
    await wait_for(
        lambda: hass.states.get(entity_id).state == "idle", 60, "the satellite idle"
    )
    for entry_id in entries:  # before the satellite stops (as the e2e test)
        assert await hass.config_entries.async_unload(entry_id)
    await hass.async_block_till_done()
    record(
        streamed={
            "transcript": turn["transcript"],
            "reply": turn["reply"],
            "first_audio_s": round(first_audio - end_of_speech, 2),
            "backend_finished_s": round(finished - end_of_speech, 2),
        }
    )


if __name__ == "__main__":
    print(json.dumps(run(__file__)))
