"""Fast path: HA's own intents on the demo devices, no backend request."""

from __future__ import annotations

import pytest

from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent

from .conftest import ask
from .fakes import FakeOllama

# `demo` loads HA's sun integration, whose entity polls on a timer.
pytestmark = pytest.mark.parametrize("expected_lingering_timers", [True])


async def test_fast_path_turns_on_demo_light_without_backend(
    hass: HomeAssistant, demo: None, ollama_agent: str, fake_ollama: FakeOllama
) -> None:
    assert hass.states.get("light.kitchen_lights").state == "on"
    await hass.services.async_call(
        "light", "turn_off", {"entity_id": "light.kitchen_lights"}, blocking=True
    )
    result = await ask(hass, "turn on the kitchen lights", ollama_agent)
    assert result.response.response_type is intent.IntentResponseType.ACTION_DONE
    assert hass.states.get("light.kitchen_lights").state == "on"
    assert fake_ollama.chat_requests() == []
