"""Fast path: HA's own intents on the demo devices, no backend request."""

from __future__ import annotations

from typing import Any

import pytest

from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent

from custom_components.athena.const import (
    BACKEND_OLLAMA,
    BACKEND_OPENAI,
    CONF_CONTROL_TOOLS,
)

from .conftest import agent_id, ask, make_entry, setup_entry, speech
from .fakes import FakeOllama, FakeOpenAI

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


def _tool_then_text(body: dict[str, Any]) -> Any:
    if any(m["role"] == "tool" for m in body["messages"]):
        return "The kitchen lights are on."
    return ("tool", "intent__HassTurnOn", {"name": "Kitchen Lights"})


@pytest.mark.parametrize("backend", [BACKEND_OLLAMA, BACKEND_OPENAI])
async def test_llm_controls_devices_with_assist_tools_when_allowed(
    hass: HomeAssistant,
    demo: None,
    fake_ollama: FakeOllama,
    fake_openai: FakeOpenAI,
    backend: str,
) -> None:
    server = fake_ollama if backend == BACKEND_OLLAMA else fake_openai
    await setup_entry(
        hass,
        make_entry(
            backend,
            ollama=fake_ollama if backend == BACKEND_OLLAMA else None,
            openai=fake_openai if backend == BACKEND_OPENAI else None,
            agent={CONF_CONTROL_TOOLS: True},
        ),
    )
    agent = agent_id(hass)
    await hass.services.async_call(
        "light", "turn_off", {"entity_id": "light.kitchen_lights"}, blocking=True
    )
    server.reply = _tool_then_text
    result = await ask(hass, "make the kitchen lights glow", agent)
    assert speech(result) == "The kitchen lights are on."
    first, second = server.chat_requests()
    assert hass.states.get("light.kitchen_lights").state == "on"
    assert any(
        t["function"]["name"] == "intent__HassTurnOn" for t in first.body["tools"]
    )
    assert "Kitchen Lights (light" in first.body["messages"][-1]["content"]
    assert second.body["messages"][-1]["role"] == "tool"

    # A general question gets no tools even with the option on.
    server.reply = lambda body: "Shakespeare."
    await ask(hass, "who wrote hamlet", agent)
    assert not server.chat_requests()[-1].body.get("tools")


async def test_wording_the_strict_match_misses_goes_to_default_agent(
    hass: HomeAssistant, demo: None, ollama_agent: str, fake_ollama: FakeOllama
) -> None:
    result = await ask(hass, "turn the living room lights blue", ollama_agent)
    assert result.response.response_type is intent.IntentResponseType.ACTION_DONE
    state = hass.states.get("light.living_room_rgbww_lights")
    assert state.attributes["rgb_color"] == (0, 0, 255)

    # Without tools, an unknown device gets HA's own answer, not a model's guess.
    result = await ask(hass, "set the thermostat to 70 degrees", ollama_agent)
    assert "thermostat" in speech(result)
    assert fake_ollama.chat_requests() == []
