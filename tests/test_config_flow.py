"""Config flow, options flow and agent subentry flow: every path and error."""

from __future__ import annotations

from typing import Any

import pytest

from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component

from custom_components.athena.const import (
    BACKEND_AUTO,
    BACKEND_OLLAMA,
    BACKEND_OPENAI,
    CONF_BACKEND,
    CONF_FALLBACK_MODEL,
    CONF_FAVOURITE_TEAMS,
    CONF_HOME_AIRPORT,
    CONF_LANES,
    CONF_MODEL,
    CONF_OLLAMA_URL,
    CONF_OPENAI_URL,
    CONF_TEMPERATURE,
    CONF_WEATHER_ENTITY,
    DOMAIN,
    SUBENTRY_CONVERSATION,
)

from .conftest import make_entry, setup_entry
from .fakes import FakeOllama, FakeOpenAI

CLOSED_PORT_URL = "http://127.0.0.1:9"


async def _start(hass: HomeAssistant, backend: str) -> dict[str, Any]:
    assert await async_setup_component(hass, "homeassistant", {})
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BACKEND: backend}
    )
    assert result["step_id"] == "server"
    return result


async def test_ollama_flow_creates_entry_with_agent(
    hass: HomeAssistant, fake_ollama: FakeOllama
) -> None:
    result = await _start(hass, BACKEND_OLLAMA)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_OLLAMA_URL: fake_ollama.url + "/"}
    )
    assert result["step_id"] == "model"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MODEL: "llama3.2:latest"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.data == {
        CONF_BACKEND: BACKEND_OLLAMA,
        CONF_OLLAMA_URL: fake_ollama.url,
    }
    (subentry,) = entry.subentries.values()
    assert subentry.subentry_type == SUBENTRY_CONVERSATION
    assert subentry.data == {CONF_MODEL: "llama3.2:latest"}
    assert entry.state is ConfigEntryState.LOADED


async def test_mlx_flow(hass: HomeAssistant, fake_openai: FakeOpenAI) -> None:
    result = await _start(hass, BACKEND_OPENAI)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_OPENAI_URL: fake_openai.url + "/v1"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MODEL: fake_openai.models[0]}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].state is ConfigEntryState.LOADED


async def test_auto_flow_asks_both_urls_and_both_models(
    hass: HomeAssistant, fake_openai: FakeOpenAI, fake_ollama: FakeOllama
) -> None:
    result = await _start(hass, BACKEND_AUTO)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_OPENAI_URL: fake_openai.url, CONF_OLLAMA_URL: fake_ollama.url},
    )
    assert result["step_id"] == "model"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_MODEL: fake_openai.models[0], CONF_FALLBACK_MODEL: "llama3.2:latest"},
    )
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.data[CONF_BACKEND] == BACKEND_AUTO
    assert len(entry.runtime_data.backends) == 2
    assert [b.kind for b in entry.runtime_data.backends] == ["openai", "ollama"]


@pytest.mark.parametrize(
    ("url", "error"),
    [("not a url", "invalid_url"), (CLOSED_PORT_URL, "cannot_connect")],
)
async def test_server_errors_shown_on_form(
    hass: HomeAssistant, socket_enabled: None, url: str, error: str
) -> None:
    result = await _start(hass, BACKEND_OLLAMA)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_OLLAMA_URL: url}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_OLLAMA_URL: error}


async def test_ollama_without_models(
    hass: HomeAssistant, fake_ollama: FakeOllama
) -> None:
    fake_ollama.models.clear()
    result = await _start(hass, BACKEND_OLLAMA)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_OLLAMA_URL: fake_ollama.url}
    )
    assert result["errors"] == {CONF_OLLAMA_URL: "no_models"}


async def test_mlx_without_model_list_takes_a_typed_name(
    hass: HomeAssistant, fake_openai: FakeOpenAI
) -> None:
    """mlx_lm.server without a Hugging Face cache folder cannot list its models."""
    fake_openai.list_fails = True
    served = fake_openai.models[0]
    result = await _start(hass, BACKEND_OPENAI)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_OPENAI_URL: fake_openai.url}
    )
    assert result["step_id"] == "model"
    assert result["errors"] == {}
    # A name the server does not serve: its 404 is shown, the typed name kept.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MODEL: "smollm2"}
    )
    assert result["step_id"] == "model"
    assert result["errors"] == {CONF_MODEL: "model_not_served"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MODEL: served}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    (subentry,) = result["result"].subentries.values()
    assert subentry.data == {CONF_MODEL: served}
    assert result["result"].state is ConfigEntryState.LOADED


async def test_typed_model_on_a_server_gone_is_cannot_connect(
    hass: HomeAssistant, fake_openai: FakeOpenAI
) -> None:
    fake_openai.list_fails = True
    result = await _start(hass, BACKEND_OPENAI)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_OPENAI_URL: fake_openai.url}
    )
    await fake_openai.stop()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MODEL: "anything"}
    )
    assert result["errors"] == {CONF_MODEL: "cannot_connect"}


async def test_garbage_answer_is_cannot_connect(
    hass: HomeAssistant, fake_ollama: FakeOllama
) -> None:
    # An OpenAI-compatible URL pointed at Ollama: /v1/models is a 404 there.
    result = await _start(hass, BACKEND_OPENAI)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_OPENAI_URL: fake_ollama.url}
    )
    assert result["errors"] == {CONF_OPENAI_URL: "cannot_connect"}


async def test_same_server_twice_is_aborted(
    hass: HomeAssistant, fake_ollama: FakeOllama
) -> None:
    await setup_entry(hass, make_entry(BACKEND_OLLAMA, ollama=fake_ollama))
    result = await _start(hass, BACKEND_OLLAMA)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_OLLAMA_URL: fake_ollama.url}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_options_flow_sets_lanes_and_reloads(
    hass: HomeAssistant, fake_ollama: FakeOllama
) -> None:
    entry = make_entry(BACKEND_OLLAMA, ollama=fake_ollama)
    await setup_entry(hass, entry)
    before = entry.runtime_data
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_LANES: 3}
    )
    await hass.async_block_till_done()
    assert entry.options == {CONF_LANES: 3}
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is not before
    assert entry.runtime_data.backends[0].lanes._value == 3


async def test_options_flow_household_options(
    hass: HomeAssistant, fake_ollama: FakeOllama
) -> None:
    entry = make_entry(BACKEND_OLLAMA, ollama=fake_ollama)
    await setup_entry(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    answers = {
        CONF_LANES: 1,
        CONF_WEATHER_ENTITY: "weather.home",
        CONF_FAVOURITE_TEAMS: " NFL Giants \n\nravens\n",  # one per line
        CONF_HOME_AIRPORT: "xqz",
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], answers
    )
    assert result["errors"] == {CONF_HOME_AIRPORT: "unknown_airport"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**answers, CONF_HOME_AIRPORT: " bwi"}
    )
    await hass.async_block_till_done()
    assert entry.options == {
        CONF_LANES: 1,
        CONF_WEATHER_ENTITY: "weather.home",
        CONF_FAVOURITE_TEAMS: ["nfl giants", "ravens"],
        CONF_HOME_AIRPORT: "BWI",
    }


async def test_add_and_reconfigure_agent(
    hass: HomeAssistant, fake_ollama: FakeOllama
) -> None:
    entry = make_entry(BACKEND_OLLAMA, ollama=fake_ollama)
    await setup_entry(hass, entry)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CONVERSATION),
        context={"source": config_entries.SOURCE_USER},
    )
    assert result["step_id"] == "set_options"
    form = {
        key.schema: key.default()
        for key in result["data_schema"].schema
        if callable(getattr(key, "default", None))
    }
    form.update({"name": "Kitchen", CONF_MODEL: "deepseek-r1:latest"})
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], form
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert len(entry.subentries) == 2
    assert hass.states.get("conversation.kitchen") is not None

    subentry = next(s for s in entry.subentries.values() if s.title == "Kitchen")
    result = await entry.start_subentry_reconfigure_flow(hass, subentry.subentry_id)
    form = {
        key.schema: key.default()
        for key in result["data_schema"].schema
        if callable(getattr(key, "default", None))
    }
    form[CONF_TEMPERATURE] = 0.9
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], form
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.subentries[subentry.subentry_id].data[CONF_TEMPERATURE] == 0.9
    assert entry.state is ConfigEntryState.LOADED


async def test_unload_and_reload(hass: HomeAssistant, fake_ollama: FakeOllama) -> None:
    entry = make_entry(BACKEND_OLLAMA, ollama=fake_ollama)
    await setup_entry(hass, entry)
    assert await hass.config_entries.async_reload(entry.entry_id)
    assert entry.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED


async def test_api_key_for_the_openai_compatible_server(
    hass: HomeAssistant, fake_openai: FakeOpenAI, fake_ollama: FakeOllama
) -> None:
    result = await _start(hass, BACKEND_OLLAMA)
    assert CONF_API_KEY not in {key.schema for key in result["data_schema"].schema}

    result = await _start(hass, BACKEND_AUTO)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_OPENAI_URL: fake_openai.url,
            CONF_OLLAMA_URL: fake_ollama.url,
            CONF_API_KEY: " sk-local-1 ",
        },
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_MODEL: fake_openai.models[0], CONF_FALLBACK_MODEL: "llama3.2:latest"},
    )
    await hass.async_block_till_done()
    assert result["result"].data[CONF_API_KEY] == "sk-local-1"
    # Sent to the OpenAI-compatible server only, from the flow's first listing on.
    assert set(fake_openai.authorization) == {"Bearer sk-local-1"}
    assert set(fake_ollama.authorization) == {None}
