"""Home Assistant's own agent first: in-home names win over the sources, the
speaker's area, weather entities, failed intents kept from the model, "never mind"."""

from __future__ import annotations

import json

from freezegun.api import FrozenDateTimeFactory
import pytest

from homeassistant.components import conversation
from homeassistant.components.homeassistant.exposed_entities import (
    async_expose_entity,
)
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import intent

from custom_components.athena.const import BACKEND_OLLAMA, CONF_CONTROL_TOOLS

from .conftest import (
    agent_id,
    ask,
    forecast_rows,
    make_entry,
    setup_athena_with_web,
    setup_entry,
    speech,
    use_web,
    weather_entity,
)
from .fakes import FakeOllama, FakeWeb
from .parity import async_build_home

# The demo's covers and HA's sun integration run timers of their own.
pytestmark = pytest.mark.parametrize("expected_lingering_timers", [True])

DAILY = "get_forecasts-response-open_meteo-daily.json"  # Nov 24-30, 2021


@pytest.fixture
async def home_agent(
    hass: HomeAssistant, fake_ollama: FakeOllama, fake_web: FakeWeb
) -> str:
    """Athena in the parity test home (demo devices of many domains, areas)."""
    await async_build_home(hass)
    entry = make_entry(BACKEND_OLLAMA, ollama=fake_ollama)
    await setup_entry(hass, entry)
    use_web(entry, fake_web)
    return agent_id(hass)


async def test_a_sensor_named_like_weather_is_the_sensor(
    hass: HomeAssistant, home_agent: str, fake_ollama: FakeOllama, fake_web: FakeWeb
) -> None:
    for text in ("what's the outside temperature", "what is the outside humidity"):
        result = await ask(hass, text, home_agent)
        assert result.response.response_type is intent.IntentResponseType.QUERY_ANSWER
        matched = [s.entity_id for s in result.response.matched_states]
        assert matched and matched[0].startswith("sensor.outside_"), text
    assert fake_web.requests == []
    assert fake_ollama.chat_requests() == []


async def test_in_here_is_the_speakers_area_not_a_city(
    hass: HomeAssistant, fake_ollama: FakeOllama, fake_web: FakeWeb
) -> None:
    home = await async_build_home(hass)
    entry = make_entry(BACKEND_OLLAMA, ollama=fake_ollama)
    await setup_entry(hass, entry)
    use_web(entry, fake_web)
    await hass.services.async_call(
        "light", "turn_off", {"entity_id": "all"}, blocking=True
    )
    result = await conversation.async_converse(
        hass,
        "turn on the lights in here",
        None,
        Context(),
        "en",
        agent_id=agent_id(hass),
        device_id=home.device_id,  # the kitchen's voice device
    )
    assert result.response.response_type is intent.IntentResponseType.ACTION_DONE
    on = {s.entity_id for s in hass.states.async_all("light") if s.state == "on"}
    assert on == {"light.ceiling_lights", "light.kitchen_lights"}  # the kitchen's
    await conversation.async_converse(
        hass,
        "how warm is it in here",
        None,
        Context(),
        "en",
        agent_id=agent_id(hass),
        device_id=home.device_id,
    )
    assert fake_web.requests == []  # "here" was never looked up as a place
    assert fake_ollama.chat_requests() == []


async def test_weather_entity_named_after_a_place(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    fake_web: FakeWeb,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to("2021-11-24T18:00:00+00:00")
    london = await weather_entity(hass, forecast_rows(DAILY), name="London")
    entry = make_entry(BACKEND_OLLAMA, ollama=fake_ollama)
    await setup_entry(hass, entry)
    use_web(entry, fake_web)
    async_expose_entity(hass, conversation.DOMAIN, london, True)
    agent = agent_id(hass)

    # Now: HA's own weather intent answers from the entity's state.
    now = await ask(hass, "what's the weather in london", agent)
    assert now.response.response_type is intent.IntentResponseType.QUERY_ANSWER
    assert [s.entity_id for s in now.response.matched_states] == [london]
    # Tomorrow: Athena's forecast, from that entity, not from a geocoded London.
    fake_ollama.reply = lambda body: "Tomorrow in London: rain, high of 9."
    await ask(hass, "will it rain in london tomorrow", agent)
    assert (
        "Tomorrow (Thursday"
        in fake_ollama.chat_requests()[-1].body["messages"][-1]["content"]
    )
    assert fake_web.requests == []


async def test_current_conditions_from_the_entity_and_from_open_meteo(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    fake_web: FakeWeb,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to("2026-10-03T12:30:00+00:00")
    await weather_entity(hass, forecast_rows(DAILY))
    agent = await setup_athena_with_web(hass, fake_ollama, fake_web)
    fake_ollama.reply = lambda body: "It's rainy."

    await ask(hass, "what's the temperature outside right now", agent)
    facts = fake_ollama.chat_requests()[-1].body["messages"][-1]["content"]
    assert "Now: rainy, temperature 8 degrees." in facts
    await ask(hass, "what's the weather like in enschede right now", agent)
    facts = fake_ollama.chat_requests()[-1].body["messages"][-1]["content"]
    assert (
        "Now: partly cloudy, temperature 18 degrees.\n"
        "Now also: humidity 66 percent, wind 4 kilometers per hour." in facts
    )
    forecast = [q for p, q in fake_web.requests if p.endswith("/v1/forecast")]
    assert "apparent_temperature" in forecast[-1]["current"]


async def test_failed_intent_is_kept_from_the_model(
    hass: HomeAssistant, demo: None, fake_ollama: FakeOllama
) -> None:
    """HA's timer intent fails (no device that rings): with device tools on, the
    model gets the request, but not HA's failed call and its error."""
    await setup_entry(
        hass,
        make_entry(
            BACKEND_OLLAMA, ollama=fake_ollama, agent={CONF_CONTROL_TOOLS: True}
        ),
    )
    fake_ollama.reply = lambda body: "I can't set timers here."
    await ask(hass, "set a timer for 5 minutes", agent_id(hass))
    request = fake_ollama.chat_requests()[-1].body
    assert request["tools"]
    sent = json.dumps(request["messages"])
    assert "HassStartTimer" not in sent
    assert all(m["role"] in ("system", "user") for m in request["messages"])


async def test_never_mind_is_home_assistants(
    hass: HomeAssistant, home_agent: str, fake_ollama: FakeOllama
) -> None:
    for text in ("never mind", "forget it", "cancel that"):
        result = await ask(hass, text, home_agent)
        assert result.response.response_type is intent.IntentResponseType.ACTION_DONE
        assert not result.response.speech  # HA says nothing
    assert fake_ollama.chat_requests() == []


async def test_a_general_question_is_not_an_empty_home_answer(
    hass: HomeAssistant, home_agent: str, fake_ollama: FakeOllama
) -> None:
    """HA's fuzzy matcher reads "who is the president" as a state question about
    nobody ("Not any"); Athena asks the model."""
    fake_ollama.reply = lambda body: "I don't follow politics."
    result = await ask(hass, "who is the president", home_agent)
    assert speech(result) == "I don't follow politics."
