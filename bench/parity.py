"""Parity with HA's default agent on HA's own intent sentences, and what it costs.

The parity run of tests/test_parity.py (sentences sampled from the
`home-assistant-intents` templates with hassil, a demo home, two state variants):
the share of sentences HA's default agent answers on which Athena's outcome is the
same, and how many of them reached a model without tools. Then the cost of asking
HA first on a general question: the time of its default agent's template matching
(hassil, the pass a general question makes before its request goes to the backend;
HA's fuzzy matcher runs only for device requests), p50 and p95 over ROUNDS rounds.

Run: .venv/bin/python -m bench.parity
Last line: parity=<share> llm_without_tools=<count> n=<sentences HA answered>
"""

from __future__ import annotations

import time

import pytest

from homeassistant.components import conversation
from homeassistant.components.conversation.agent_manager import get_agent_manager
from homeassistant.core import Context, HomeAssistant

from bench.fast_path import percentile
from bench.harness import record, run
from custom_components.athena.const import BACKEND_OLLAMA
from tests.conftest import *  # noqa: F403  (fixtures)
from tests.conftest import agent_id, make_entry, setup_entry
from tests.fakes import FakeOllama
from tests.parity import (
    async_build_home,
    async_compare,
    async_prepare_variants,
    sentences,
)
from tests.test_parity import PER_INTENT

# The demo's covers and HA's sun integration run timers of their own.
pytestmark = pytest.mark.parametrize("expected_lingering_timers", [True])

GENERAL = (
    "who wrote hamlet",
    "what is the capital of france",
    "tell me a joke",
    "how far away is the moon",
    "what day of the week is christmas this year",
    "explain photosynthesis in one sentence",
    "who painted the mona lisa",
    "what's a good name for a cat",
)
ROUNDS = 20


async def test_parity(hass: HomeAssistant, fake_ollama: FakeOllama) -> None:
    home = await async_build_home(hass)
    await setup_entry(hass, make_entry(BACKEND_OLLAMA, ollama=fake_ollama))
    athena = agent_id(hass)
    await async_prepare_variants(hass, home)
    texts = sentences(hass, PER_INTENT)
    comparison = await async_compare(hass, home, athena, texts)
    without_tools = [r for r in fake_ollama.chat_requests() if not r.body.get("tools")]

    pass_ms: list[float] = []
    agent = get_agent_manager(hass).default_agent
    assert agent is not None
    for _ in range(ROUNDS):
        for text in GENERAL:
            user_input = conversation.ConversationInput(
                text=text,
                context=Context(),
                conversation_id=None,
                device_id=home.device_id,
                satellite_id=None,
                language="en",
                agent_id=athena,
            )
            start = time.perf_counter()
            await agent.async_recognize_intent(user_input)
            pass_ms.append((time.perf_counter() - start) * 1000)
    record(
        sentences=len(texts),
        answered=comparison.answered,
        different=[f"[{v}] {t}" for t, v, _, _ in comparison.different],
        parity=comparison.parity,
        without_tools=len(without_tools),
        pass_ms=pass_ms,
    )


def main() -> None:
    """Run the parity bench and print its figures."""
    result = run(__file__)
    for line in result["different"]:
        print(f"different: {line}")
    pass_ms = result["pass_ms"]
    print(f"sentences sampled: {result['sentences']} (x2 state variants)")
    print(
        "HA's pass on a general question before the backend: "
        f"p50={percentile(pass_ms, 0.5):.2f} ms p95={percentile(pass_ms, 0.95):.2f} ms"
    )
    print(
        f"parity={result['parity']:.4f} llm_without_tools={result['without_tools']} "
        f"n={result['answered']}"
    )


if __name__ == "__main__":
    main()
