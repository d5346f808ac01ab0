""" "Will it rain tomorrow" end to end through Athena: prompt size and time to reply.

A real Home Assistant test instance; the forecast comes from Open-Meteo replayed by
the loopback `FakeWeb` (tests/fixtures/open-meteo/, no weather entity, so Athena asks
Open-Meteo for the home coordinates), the reply from the fake Ollama server. Chars
sent to the model = all message contents of the chat request (system prompt,
question and facts block). Time to reply = `conversation.async_converse` wall time,
first (source fetched) and median of the cached repeats.

Run: .venv/bin/python -m bench.answer_weather
Last line: weather_prompt_chars=<n>
"""

from __future__ import annotations

import statistics
import time

from freezegun.api import FrozenDateTimeFactory

from homeassistant.core import HomeAssistant

from bench.harness import record, run
from custom_components.athena.const import BACKEND_OLLAMA
from tests.conftest import *  # noqa: F403  (fixtures)
from tests.conftest import agent_id, ask, make_entry, setup_entry, speech, use_web
from tests.fakes import FakeOllama, FakeWeb

REPEATS = 20


async def test_answer_weather(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    fake_web: FakeWeb,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to("2026-10-03T15:00:00+00:00")
    entry = make_entry(BACKEND_OLLAMA, ollama=fake_ollama)
    await setup_entry(hass, entry)
    use_web(entry, fake_web)
    agent = agent_id(hass)
    fake_ollama.reply = lambda body: "No rain tomorrow, just fog and a high of 20 °C."
    times = []
    for _ in range(REPEATS):
        # freezegun stops perf_counter and monotonic; clock_gettime still runs.
        start = time.clock_gettime(time.CLOCK_MONOTONIC)
        result = await ask(hass, "will it rain tomorrow", agent)
        times.append((time.clock_gettime(time.CLOCK_MONOTONIC) - start) * 1000)
    request = fake_ollama.chat_requests()[0].body
    record(
        chars=sum(len(m.get("content") or "") for m in request["messages"]),
        messages=request["messages"],
        reply=speech(result),
        first_ms=times[0],
        cached_ms=statistics.median(times[1:]),
    )


if __name__ == "__main__":
    results = run(__file__)
    for message in results["messages"]:
        print(f"--- {message['role']} ({len(message['content'])} chars)")
        print(message["content"])
    print(f"--- reply: {results['reply']}")
    print(
        f"time to reply: first {results['first_ms']:.1f} ms (forecast fetched), "
        f"median of cached repeats {results['cached_ms']:.1f} ms"
    )
    print(f"weather_prompt_chars={results['chars']}")
