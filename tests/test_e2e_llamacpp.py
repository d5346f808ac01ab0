"""End to end against a real LLM: llama.cpp's server with SmolLM2-135M on 127.0.0.1,
configured through the config flow as the MLX / OpenAI-compatible backend type.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import intent
from homeassistant.setup import async_setup_component

from custom_components.athena.const import (
    BACKEND_OPENAI,
    CONF_BACKEND,
    CONF_MAX_TOKENS,
    CONF_MODEL,
    CONF_OPENAI_URL,
    DOMAIN,
)

from .conftest import agent_id, ask, speech
from .real_llm import MODEL_ALIAS, llama_server

pytestmark = pytest.mark.e2e


@pytest.fixture
def llama_url(socket_enabled: None) -> Iterator[str]:
    """The real server (starts in a few seconds)."""
    with llama_server() as url:
        yield url


async def test_real_llamacpp_two_turns(hass: HomeAssistant, llama_url: str) -> None:
    assert await async_setup_component(hass, "homeassistant", {})
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BACKEND: BACKEND_OPENAI}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_OPENAI_URL: llama_url}
    )
    assert result["step_id"] == "model"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MODEL: MODEL_ALIAS}
    )
    # The warm-up ends before the reload below: llama.cpp's server answers one
    # request at a time, and a reload lists the models within 5 s.
    await hass.async_block_till_done(wait_background_tasks=True)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    subentry = next(iter(entry.subentries.values()))
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, CONF_MAX_TOKENS: 12}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    agent = agent_id(hass)

    first = await ask(hass, "who wrote hamlet", agent)
    # A real answer from the model, not the spoken error of a dead server.
    assert first.response.response_type is intent.IntentResponseType.ACTION_DONE
    reply = speech(first)
    assert reply.strip()
    # max_tokens is honoured: 12 tokens are at most 12 words.
    assert len(reply.split()) <= 12
    second = await ask(hass, "and who wrote macbeth", agent, first.conversation_id)
    assert speech(second).strip()
    requests = hass.states.get("sensor.athena_backend_openai_compatible_requests")
    assert requests is not None
    assert int(requests.state) == 2
    # Named by what the server says it is; its speed from the streamed tokens, and
    # the prompt counts it never streams unavailable (not a permanent Unknown).
    assert entry.title == "llama.cpp on 127.0.0.1"
    sensor = "sensor.athena_backend_openai_compatible"
    speed = hass.states.get(f"{sensor}_average_tokens_per_second").state
    assert float(speed) > 0
    for key in ("last_prompt_tokens_evaluated", "last_cached_prompt_tokens"):
        assert hass.states.get(f"{sensor}_{key}").state == "unavailable"
