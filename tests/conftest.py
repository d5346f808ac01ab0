"""Fixtures: loopback fake servers, config entries, demo devices."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, timedelta
import json
from typing import Any
from unittest.mock import patch

import pytest

from homeassistant.components import conversation
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import Platform
from homeassistant.core import Context, HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.athena.const import (
    BACKEND_AUTO,
    BACKEND_OLLAMA,
    BACKEND_OPENAI,
    CONF_BACKEND,
    CONF_FALLBACK_MODEL,
    CONF_MODEL,
    CONF_OLLAMA_URL,
    CONF_OPENAI_URL,
    DOMAIN,
    SUBENTRY_CONVERSATION,
)
from custom_components.athena.sources import Sources, SourceURLs

from .fakes import FIXTURES, WEB_APIS, FakeOllama, FakeOpenAI, FakeWeb
from .offline import offline_guard  # noqa: F401  (autouse: fails a test leaving loopback)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/athena in every test."""


@pytest.fixture
async def fake_ollama(socket_enabled: None) -> AsyncIterator[FakeOllama]:
    """A fake Ollama server on loopback."""
    server = FakeOllama()
    await server.async_start()
    yield server
    await server.stop()


@pytest.fixture
async def fake_openai(socket_enabled: None) -> AsyncIterator[FakeOpenAI]:
    """A fake OpenAI-compatible (mlx_lm.server-shaped) server on loopback."""
    server = FakeOpenAI()
    await server.async_start()
    yield server
    await server.stop()


def make_entry(
    backend: str,
    *,
    ollama: FakeOllama | None = None,
    openai: FakeOpenAI | None = None,
    agent: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
) -> MockConfigEntry:
    """A config entry for `backend` with one agent subentry and entry `options`."""
    data: dict[str, Any] = {CONF_BACKEND: backend}
    agent_data: dict[str, Any] = {}
    if ollama:
        data[CONF_OLLAMA_URL] = ollama.url
        agent_data[CONF_MODEL] = ollama.models[0]
    if openai:
        data[CONF_OPENAI_URL] = openai.url
        if ollama:
            agent_data[CONF_FALLBACK_MODEL] = ollama.models[0]
        agent_data[CONF_MODEL] = openai.models[0]
    agent_data.update(agent or {})
    return MockConfigEntry(
        domain=DOMAIN,
        version=2,
        title="Athena test",
        data=data,
        options=options or {},
        subentries_data=[
            ConfigSubentryData(
                data=agent_data,
                subentry_type=SUBENTRY_CONVERSATION,
                title="Athena",
                unique_id=None,
            )
        ],
    )


async def setup_entry(
    hass: HomeAssistant, entry: MockConfigEntry, *, added: bool = False
) -> None:
    """Add (unless `added`) and set up `entry` (with HA's conversation component)."""
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})
    if not added:
        entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def agent_id(hass: HomeAssistant) -> str:
    """The entity id of the (only) Athena conversation entity."""
    return next(
        s.entity_id
        for s in hass.states.async_all(conversation.DOMAIN)
        if s.entity_id.startswith("conversation.athena")
    )


@pytest.fixture
async def ollama_agent(hass: HomeAssistant, fake_ollama: FakeOllama) -> str:
    """Athena on the fake Ollama server; returns the agent id."""
    await setup_entry(hass, make_entry(BACKEND_OLLAMA, ollama=fake_ollama))
    return agent_id(hass)


@pytest.fixture
async def openai_agent(hass: HomeAssistant, fake_openai: FakeOpenAI) -> str:
    """Athena on the fake OpenAI-compatible server; returns the agent id."""
    await setup_entry(hass, make_entry(BACKEND_OPENAI, openai=fake_openai))
    return agent_id(hass)


@pytest.fixture
async def auto_agent(
    hass: HomeAssistant, fake_openai: FakeOpenAI, fake_ollama: FakeOllama
) -> str:
    """Athena in Auto mode: fake MLX first, fake Ollama as fallback."""
    await setup_entry(
        hass, make_entry(BACKEND_AUTO, ollama=fake_ollama, openai=fake_openai)
    )
    return agent_id(hass)


DEMO_PLATFORMS = [Platform.CLIMATE, Platform.COVER, Platform.LIGHT, Platform.LOCK]


@pytest.fixture
async def demo(hass: HomeAssistant) -> None:
    """HA's demo devices (lights, locks, covers, climate), exposed to Assist.

    Only these platforms of HA's `demo` integration are loaded: its others poll and
    need codecs (camera, stream) that the tests do not use.
    """
    await async_setup_demo(hass, DEMO_PLATFORMS)


async def async_setup_demo(hass: HomeAssistant, platforms: list[Platform]) -> None:
    """Set up HA's `demo` integration with only `platforms` (and HA's core)."""
    assert await async_setup_component(hass, "homeassistant", {})
    with (
        patch(
            "homeassistant.components.demo.COMPONENTS_WITH_CONFIG_ENTRY_DEMO_PLATFORM",
            platforms,
        ),
        patch("homeassistant.components.demo.COMPONENTS_WITH_DEMO_PLATFORM", []),
    ):
        assert await async_setup_component(hass, "demo", {"demo": {}})
        await hass.async_block_till_done()


async def ask(
    hass: HomeAssistant, text: str, agent: str, conversation_id: str | None = None
) -> conversation.ConversationResult:
    """One turn through HA's public conversation API."""
    return await conversation.async_converse(
        hass, text, conversation_id, Context(), language="en", agent_id=agent
    )


def speech(result: conversation.ConversationResult) -> str:
    """The plain speech of a result."""
    return result.response.speech["plain"]["speech"]


ESPN = "/espn/apis/site/v2/sports"
WEB_FIXTURES = {
    "/open_meteo/v1/forecast": (
        "open-meteo/forecast-current-hourly-daily-all-variables-enschede.json"
    ),
    "/geocoding/v1/search": "open-meteo/geocoding-search-enschede.json",
    f"{ESPN}/football/nfl/scoreboard": "espn/nfl-scoreboard-mixed-in-pre-post.json",
    f"{ESPN}/soccer/usa.1/scoreboard": (
        "espn/mls-soccer-scoreboard-mixed-in-pre-post.json"
    ),
    f"{ESPN}/soccer/usa.1/teams/183": "espn/mls-team-183-columbus-crew-team.json",
    f"{ESPN}/soccer/usa.1/teams/183/schedule": (
        "espn/mls-team-183-columbus-crew-schedule.json"
    ),
    f"{ESPN}/football/college-football/teams": "espn/ncaaf-teams-list.json",
    "/faa/api/airport-status-information": (
        "faa/nasstatus-2026-08-15-gdp-sfo-departure-delay-closures.xml"
    ),
    "/aviationweather/api/data/metar": (
        "aviationweather/metar-ksfo-mvfr-2026-07-05.json"
    ),
}


@pytest.fixture
async def fake_web(socket_enabled: None) -> AsyncIterator[FakeWeb]:
    """The public APIs on loopback, replaying the captures in tests/fixtures/."""
    server = FakeWeb()
    for path, fixture in WEB_FIXTURES.items():
        server.serve(path, fixture)
    await server.async_start()
    yield server
    await server.stop()


def forecast_rows(name: str) -> list[dict[str, Any]]:
    """The forecast rows of a captured `weather.get_forecasts` response
    (tests/fixtures/ha-weather/`name`).
    """
    body = json.loads((FIXTURES / "ha-weather" / name).read_text())
    return list(next(iter(body.values()))["forecast"])


def forecast_from(start: date) -> list[dict[str, Any]]:
    """The captured open_meteo daily forecast, re-dated to start on `start`."""
    rows = forecast_rows("get_forecasts-response-open_meteo-daily.json")
    return [
        {**row, "datetime": f"{start + timedelta(days=i)}T00:00:00+00:00"}
        for i, row in enumerate(rows)
    ]


async def setup_athena_with_web(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    fake_web: FakeWeb,
    options: dict[str, Any] | None = None,
    agent: dict[str, Any] | None = None,
) -> str:
    """Athena on the fake Ollama with its sources on `fake_web`; the agent id.

    `options` are the entry's, `agent` the agent subentry's settings.
    """
    entry = make_entry(BACKEND_OLLAMA, ollama=fake_ollama, options=options, agent=agent)
    await setup_entry(hass, entry)
    use_web(entry, fake_web)
    return agent_id(hass)


def use_web(entry: MockConfigEntry, web: FakeWeb) -> None:
    """Point a loaded entry's sources at `web` (0.5 s timeout instead of 5 s)."""
    urls = SourceURLs(**{name: f"{web.url}/{name}" for name in WEB_APIS})
    entry.runtime_data = replace(
        entry.runtime_data, sources=Sources(urls=urls, timeout=0.5)
    )


async def weather_entity(
    hass: HomeAssistant,
    forecast: list[dict[str, Any]],
    kind: str = "daily",
    name: str = "Home",
) -> str:
    """A template weather entity (HA's `template` integration) named `name` whose
    `kind` forecast is `forecast` (rows in HA's forecast shape, e.g. a captured
    `weather.get_forecasts` response); returns its entity id.
    """
    assert await async_setup_component(
        hass,
        "template",
        {
            "template": [
                {
                    "weather": [
                        {
                            "name": name,
                            "condition": "rainy",
                            "temperature": "7.6",
                            "humidity": "80",
                            f"forecast_{kind}": "{{ " + json.dumps(forecast) + " }}",
                            "temperature_unit": "°C",
                            "wind_speed_unit": "km/h",
                            "precipitation_unit": "mm",
                        }
                    ]
                }
            ]
        },
    )
    await hass.async_block_till_done()
    return f"weather.{name.lower().replace(' ', '_')}"
