"""The satellite's Wyoming path through a real HA: end of speech → first reply audio.

The satellite runs as in tests/test_e2e_wyoming.py (a real process in Wyoming mode
with its Wyoming STT and TTS services, added to HA's core wyoming integration, the
pipeline "Athena on the Jetson"); the commands are bench/satellite.py's, spoken by the
same noise-free piper voice after "Hey Jarvis", fed at the microphone's pace. The
satellite logs each turn's end of speech → first audio on its sink; HA's whole
pipeline (Wyoming STT after the satellite's endpoint, Athena, Wyoming TTS, ffmpeg's
conversion to the satellite's format) lies in between; once with
wyoming-faster-whisper as the STT, once with our speculative one (asr_service.py). Run
by bench/satellite.py with HA's venv; alone:

    .venv/bin/python -m bench.wyoming_path      (prints the recorded JSON)
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from homeassistant.core import HomeAssistant

from bench.commands import COMMANDS
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


if __name__ == "__main__":
    print(json.dumps(run(__file__)))
