"""Conversations: follow-ups take the previous turn's source and slots, in a real HA.

Each follow-up is answered from its own facts (the fake model repeats the first fact
line, so every reply is grounded); a follow-up after a device command is not read
as weather.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest

from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent

from .conftest import (
    ask,
    forecast_from,
    setup_athena_with_web,
    speech,
    weather_entity,
)
from .fakes import FakeOllama, FakeWeb

# `demo` loads HA's sun integration, whose entity polls on a timer.
pytestmark = pytest.mark.parametrize("expected_lingering_timers", [True])

NOW = "2026-10-03T15:00:00+00:00"  # the captured Open-Meteo forecast's first day


def _facts(body: dict[str, Any]) -> list[str]:
    """The fact lines of the newest user message ([] when it carries none)."""
    content = body["messages"][-1]["content"]
    if "\n\n[" not in content:
        return []
    return content.split("\n\n[", 1)[1].rstrip("]").splitlines()


def _repeat_first_fact(body: dict[str, Any]) -> str:
    lines = _facts(body)
    return lines[1] if len(lines) > 1 else "I can't say."


@pytest.fixture
async def athena(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    fake_web: FakeWeb,
    freezer: FrozenDateTimeFactory,
) -> str:
    """Athena with a weather entity whose forecast starts today."""
    freezer.move_to(NOW)
    await weather_entity(hass, forecast_from(date(2026, 10, 3)))
    fake_ollama.reply = _repeat_first_fact
    return await setup_athena_with_web(hass, fake_ollama, fake_web)


async def test_weather_follow_ups(
    hass: HomeAssistant, athena: str, fake_ollama: FakeOllama
) -> None:
    first = await ask(hass, "what's the weather like", athena)
    assert speech(first).startswith("Now: rain")
    second = await ask(hass, "what about tomorrow?", athena, first.conversation_id)
    assert speech(second).startswith("Tomorrow (Sunday, October 4)")
    third = await ask(hass, "and in denver?", athena, first.conversation_id)
    facts = _facts(fake_ollama.chat_requests()[-1].body)
    assert facts[0] == (  # geocoded
        "Weather for Enschede, Overijssel, The Netherlands, in degrees Celsius:"
    )
    assert facts[1].startswith("Tomorrow (Sunday, October 4)")  # the day is kept
    assert speech(third) == facts[1]


async def test_sports_follow_up(
    hass: HomeAssistant, athena: str, fake_ollama: FakeOllama
) -> None:
    first = await ask(hass, "did the ravens win", athena)
    assert _facts(fake_ollama.chat_requests()[-1].body)[0] == "Baltimore Ravens (NFL):"
    await ask(hass, "how about the jets?", athena, first.conversation_id)
    assert _facts(fake_ollama.chat_requests()[-1].body)[0] == "New York Jets (NFL):"


async def test_answer_to_which_airport(
    hass: HomeAssistant, athena: str, fake_ollama: FakeOllama
) -> None:
    first = await ask(hass, "are flights delayed at the airport", athena)
    assert speech(first).startswith("Which airport?")
    second = await ask(hass, "san francisco", athena, first.conversation_id)
    facts = _facts(fake_ollama.chat_requests()[-1].body)
    assert facts[0] == "San Francisco International Airport (SFO):"
    assert speech(second) == facts[1]


async def test_no_follow_up_after_a_device_command(
    hass: HomeAssistant, demo: None, athena: str, fake_ollama: FakeOllama
) -> None:
    first = await ask(hass, "turn on the kitchen lights", athena)
    assert first.response.response_type is intent.IntentResponseType.ACTION_DONE
    fake_ollama.reply = lambda body: "Tomorrow is Sunday."
    await ask(hass, "what about tomorrow", athena, first.conversation_id)
    request = fake_ollama.chat_requests()[-1].body
    assert "Weather for" not in request["messages"][-1]["content"]
