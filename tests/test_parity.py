"""Parity: on HA's own intent sentences, Athena does what HA's default agent does.

Sentences sampled from the `home-assistant-intents` templates (see `parity.py`) run
through both agents from the same state, in two state variants. Wherever HA's
agent answers, Athena's outcome (response type, targets, service calls, timers,
list changes) is the same, and no sentence reaches a model without tools.
"""

from __future__ import annotations

import pytest

from homeassistant.core import HomeAssistant

from custom_components.athena.const import BACKEND_OLLAMA

from .conftest import agent_id, make_entry, setup_entry
from .fakes import FakeOllama
from .parity import (
    async_build_home,
    async_compare,
    async_prepare_variants,
    iter_differences,
    sentences,
)

# The demo's covers and HA's sun integration run timers of their own.
pytestmark = pytest.mark.parametrize("expected_lingering_timers", [True])

PER_INTENT = 25  # about 1,100 sentences over the intents registered here


async def test_same_outcome_as_home_assistants_agent(
    hass: HomeAssistant, fake_ollama: FakeOllama
) -> None:
    home = await async_build_home(hass)
    await setup_entry(hass, make_entry(BACKEND_OLLAMA, ollama=fake_ollama))
    athena = agent_id(hass)
    await async_prepare_variants(hass, home)
    texts = sentences(hass, PER_INTENT)
    assert len(texts) >= 1000

    comparison = await async_compare(hass, home, athena, texts)

    assert comparison.answered >= 1000  # sentences HA answers, over both variants
    assert comparison.different == [], "\n".join(iter_differences(comparison))
    without_tools = [r for r in fake_ollama.chat_requests() if not r.body.get("tools")]
    assert without_tools == []
