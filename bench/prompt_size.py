"""Characters sent to the model per turn: Athena vs HA core's `ollama` agent.

Both agents run in the same Home Assistant test instance with the `demo` devices
exposed, against the same fake Ollama server; the 4-turn script is "hello" / "what's
the weather like tomorrow" / "turn on the kitchen lights" / "who wrote hamlet".
Athena's forecast comes from Open-Meteo replayed by the loopback `FakeWeb`
(tests/fixtures/open-meteo/, the clock set within the captured forecast), as in
bench.answer_weather. Characters = message contents + tool schemas (JSON) of every
chat request of a turn.

Run: .venv/bin/python -m bench.prompt_size
Last line: prompt_chars_ratio_core_over_athena=<total core / total Athena>
"""

from __future__ import annotations

import json
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest

from homeassistant.core import HomeAssistant

from bench.core_ollama import setup_core_ollama
from bench.harness import record, run
from custom_components.athena.const import BACKEND_OLLAMA, CONF_LLM_GREETINGS
from tests.conftest import *  # noqa: F403  (fixtures)
from tests.conftest import agent_id, ask, make_entry, setup_entry, use_web
from tests.fakes import FakeOllama, FakeWeb

# `demo` loads HA's sun integration, whose entity polls on a timer.
pytestmark = pytest.mark.parametrize("expected_lingering_timers", [True])

TURNS = [
    "hello",
    "what's the weather like tomorrow",
    "turn on the kitchen lights",
    "who wrote hamlet",
]


def request_chars(body: dict[str, Any]) -> int:
    """Characters of one chat request: message contents plus tool schemas."""
    chars = sum(len(m.get("content") or "") for m in body.get("messages", []))
    return chars + (len(json.dumps(body["tools"])) if body.get("tools") else 0)


async def _per_turn(hass: HomeAssistant, server: FakeOllama, agent: str) -> list[int]:
    sizes = []
    conversation_id = None
    for text in TURNS:
        before = len(server.chat_requests())
        result = await ask(hass, text, agent, conversation_id)
        conversation_id = result.conversation_id
        sizes.append(
            sum(request_chars(r.body) for r in server.chat_requests()[before:])
        )
    return sizes


async def test_prompt_size(
    hass: HomeAssistant,
    demo: None,
    fake_ollama: FakeOllama,
    fake_web: FakeWeb,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to("2026-10-03T15:00:00+00:00")  # within the captured forecast
    entry = make_entry(BACKEND_OLLAMA, ollama=fake_ollama)
    await setup_entry(hass, entry)
    use_web(entry, fake_web)
    athena = agent_id(hass)
    core_agent = await setup_core_ollama(hass, fake_ollama.url)
    athena_sizes = await _per_turn(hass, fake_ollama, athena)
    core_sizes = await _per_turn(hass, fake_ollama, core_agent)
    # With the option that lets the model answer greetings: the tiny prompt.
    subentry = next(iter(entry.subentries.values()))
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, CONF_LLM_GREETINGS: True}
    )
    await hass.async_block_till_done()
    use_web(entry, fake_web)  # the update reloaded the entry
    before = len(fake_ollama.chat_requests())
    await ask(hass, "hello", agent_id(hass))
    llm_greeting = sum(
        request_chars(r.body) for r in fake_ollama.chat_requests()[before:]
    )
    record(athena=athena_sizes, core=core_sizes, llm_greeting=llm_greeting)


if __name__ == "__main__":
    results = run(__file__)
    print(f"{'turn':40} {'Athena':>8} {'core ollama':>12}")
    for text, a, c in zip(TURNS, results["athena"], results["core"], strict=True):
        print(f"{text:40} {a:8d} {c:12d}")
    total_a, total_c = sum(results["athena"]), sum(results["core"])
    print(f"{'total':40} {total_a:8d} {total_c:12d}")
    print(f"greeting_chars_athena={results['athena'][0]}")
    print(f"greeting_chars_athena_llm_greetings_on={results['llm_greeting']}")
    print(f"control_chars_athena={results['athena'][2]}")
    print(f"prompt_chars_ratio_core_over_athena={total_c / max(total_a, 1):.1f}")
