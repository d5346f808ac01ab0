"""The whole agent with every part real but the far ends: HA's demo devices, a
template weather entity, the public APIs replayed by `FakeWeb`, the fake Ollama.

Compound requests are answered part by part; the router's dev set goes through
`conversation.async_converse` and each utterance must take its category's path.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
import yaml

from homeassistant.core import HomeAssistant

from .conftest import (
    ESPN,
    ask,
    forecast_from,
    setup_athena_with_web,
    speech,
    weather_entity,
)
from .fakes import FakeOllama, FakeWeb

# `demo` loads HA's sun integration, whose entity polls on a timer.
pytestmark = pytest.mark.parametrize("expected_lingering_timers", [True])

DEV_SET = Path(__file__).parents[2] / "shared" / "eval" / "dev_utterances.yaml"
NOW = "2026-10-03T15:00:00+00:00"  # Saturday 08:00 in HA's test zone


@pytest.fixture
async def athena(
    hass: HomeAssistant,
    demo: None,
    fake_ollama: FakeOllama,
    fake_web: FakeWeb,
    freezer: FrozenDateTimeFactory,
) -> str:
    """Athena with the demo devices and a weather entity; returns the agent id."""
    freezer.move_to(NOW)
    await weather_entity(hass, forecast_from(date(2026, 10, 3)))
    fake_web.serve(
        f"{ESPN}/baseball/mlb/scoreboard", "espn/mlb-scoreboard-mixed-in-pre-post.json"
    )
    return await setup_athena_with_web(hass, fake_ollama, fake_web)


async def test_compound_request_is_one_reply_worded_by_the_model(
    hass: HomeAssistant, athena: str, fake_ollama: FakeOllama
) -> None:
    """The light part is done by HA first; the model words the whole answer from
    what HA did and the forecast, and its reply is checked against both."""
    assert hass.states.get("light.kitchen_lights").state == "on"
    fake_ollama.reply = lambda body: (
        "I turned off the light. Tomorrow brings rain with a high of 5 °C."
    )
    result = await ask(
        hass, "turn off the kitchen lights and tell me tomorrow's weather", athena
    )
    assert hass.states.get("light.kitchen_lights").state == "off"
    assert speech(result) == (
        "I turned off the light. Tomorrow brings rain with a high of 5 °C."
    )
    (request,) = fake_ollama.chat_requests()
    facts = request.body["messages"][-1]["content"]
    assert "Home Assistant did this: Turned off the light" in facts
    assert "Tomorrow (Sunday, October 4): rainy, high 5 degrees" in facts


async def test_weather_sports_and_a_light_in_one_reply(
    hass: HomeAssistant, athena: str, fake_ollama: FakeOllama
) -> None:
    await hass.services.async_call(
        "light", "turn_off", {"entity_id": "light.kitchen_lights"}, blocking=True
    )
    text = (
        "turn on the kitchen lights and what's the weather tomorrow "
        "and did the ravens win"
    )
    fake_ollama.reply = lambda body: (
        "The kitchen light is on, tomorrow brings rain with a high of 5 °C, "
        "and the Ravens lead the Jets 24 to 3."
    )
    result = await ask(hass, text, athena)
    assert hass.states.get("light.kitchen_lights").state == "on"
    assert speech(result).startswith("The kitchen light is on")
    (request,) = fake_ollama.chat_requests()
    facts = request.body["messages"][-1]["content"]
    assert "Home Assistant did this: Turned on the light" in facts
    assert "Tomorrow (Sunday, October 4): rainy, high 5 degrees" in facts
    assert "Baltimore Ravens 24, New York Jets 3" in facts

    fake_ollama.fault = "http_500"  # backend down: the parts' own sentences
    await hass.services.async_call(
        "light", "turn_off", {"entity_id": "light.kitchen_lights"}, blocking=True
    )
    result = await ask(hass, text, athena)
    assert hass.states.get("light.kitchen_lights").state == "on"
    reply = speech(result)
    assert reply.startswith("Turned on the light In Home: Tomorrow")
    assert "Baltimore Ravens 24, New York Jets 3" in reply


async def test_compound_request_template_when_the_model_cannot(
    hass: HomeAssistant, athena: str, fake_ollama: FakeOllama
) -> None:
    fake_ollama.reply = lambda body: "It will be 31 degrees."  # not in the facts
    result = await ask(
        hass, "turn off the kitchen lights and tell me tomorrow's weather", athena
    )
    assert hass.states.get("light.kitchen_lights").state == "off"
    reply = speech(result)
    assert reply.startswith("Turned off the light")
    assert "In Home: Tomorrow (Sunday, October 4): rain" in reply
    fake_ollama.fault = "http_500"  # the backend fails: the same template answer
    await hass.services.async_call(
        "light", "turn_on", {"entity_id": "light.kitchen_lights"}, blocking=True
    )
    result = await ask(
        hass, "turn off the kitchen lights and tell me tomorrow's weather", athena
    )
    assert hass.states.get("light.kitchen_lights").state == "off"
    assert speech(result) == reply


async def test_compound_request_with_a_failing_source(
    hass: HomeAssistant, athena: str, fake_ollama: FakeOllama, fake_web: FakeWeb
) -> None:
    fake_web.serve(f"{ESPN}/football/nfl/scoreboard", status=502, body="bad gateway")
    fake_ollama.fault = "http_500"
    result = await ask(hass, "what's the weather and did the ravens win", athena)
    reply = speech(result)
    # "What's the weather" is now: the current conditions, then the rest of today.
    assert reply.startswith("In Home: Now: rainy, temperature 8 degrees")
    assert "Today (Saturday, October 3): rain" in reply
    assert reply.endswith("Sorry, I couldn't reach the sports scores service.")


def _dev_set() -> list[dict[str, Any]]:
    return yaml.safe_load(DEV_SET.read_text())


@pytest.mark.parametrize(
    "case", _dev_set(), ids=lambda case: case["text"].replace(" ", "_")
)
async def test_dev_set_through_the_agent(
    hass: HomeAssistant,
    athena: str,
    fake_ollama: FakeOllama,
    fake_web: FakeWeb,
    case: dict[str, Any],
) -> None:
    result = await ask(hass, case["text"], athena)
    assert speech(result).strip()
    asked = fake_ollama.chat_requests()
    category = case["category"]
    if category in ("greeting", "time", "control", "state"):
        assert asked == []  # local answers, HA's intents
    if category in ("greeting", "time", "control", "state"):
        assert fake_web.requests == []
    if category == "general":
        (request,) = asked
        assert request.body["messages"][-1]["content"].startswith(case["text"])
    if category == "weather":
        (request,) = asked
        assert "[Weather for " in request.body["messages"][-1]["content"]
    if category == "sports":
        assert fake_web.hits("/espn")
    if category == "airport":
        assert fake_web.hits("/faa")
    if category == "multi":
        assert result.response.response_type.value == "action_done"
        facts = any(p in ("weather", "sports", "airport") for p in case["parts"])
        assert len(asked) == (1 if facts else 0)  # one reply for all the parts
