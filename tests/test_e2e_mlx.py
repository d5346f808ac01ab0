"""End to end against a real mlx_lm.server (mlx-lm 0.32.2 on CPU, SmolLM2-135M in MLX
format), configured through the config flow as the MLX backend type.

What the real server taught us is exercised here: it sends `: keepalive` SSE comments
before the first `data:`, the usage in a final chunk with empty `choices`, and its
`/v1/models` fails without a Hugging Face cache folder, so the flow takes a typed
model name (the path the server was started with).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component

from custom_components.athena.const import (
    BACKEND_AUTO,
    BACKEND_OPENAI,
    CONF_BACKEND,
    CONF_MAX_TOKENS,
    CONF_MODEL,
    CONF_OLLAMA_URL,
    CONF_OPENAI_URL,
    DOMAIN,
)

from .conftest import agent_id, ask, speech
from .fakes import FakeOllama
from .real_llm import MLX_MODEL, mlx_server

pytestmark = pytest.mark.e2e

MAX_TOKENS = 12


async def _configure(hass: HomeAssistant, backend: str, urls: dict[str, str]) -> Any:
    """Run the config flow for `backend` with the typed MLX model; return the entry."""
    assert await async_setup_component(hass, "homeassistant", {})
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BACKEND: backend}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], urls)
    assert result["step_id"] == "model"
    assert result["errors"] == {}
    fields = {str(key): key for key in result["data_schema"].schema}
    answers = {CONF_MODEL: MLX_MODEL}
    if "fallback_model" in fields:
        answers["fallback_model"] = "llama3.2:latest"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], answers)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    subentry = next(iter(entry.subentries.values()))
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, CONF_MAX_TOKENS: MAX_TOKENS}
    )
    await hass.async_block_till_done()
    return entry


@pytest.fixture
def mlx_url(socket_enabled: None) -> Iterator[str]:
    """The real server (starts in a few seconds; the model is on disk)."""
    with mlx_server() as url:
        yield url


async def test_real_mlx_two_turns_reuse_the_prompt_cache(
    hass: HomeAssistant, mlx_url: str
) -> None:
    entry = await _configure(hass, BACKEND_OPENAI, {CONF_OPENAI_URL: mlx_url})
    agent = agent_id(hass)
    (backend,) = entry.runtime_data.backends

    first = await ask(hass, "who wrote hamlet", agent)
    assert speech(first).strip()
    assert backend.stats.last.completion_tokens <= MAX_TOKENS
    second = await ask(hass, "and who wrote macbeth", agent, first.conversation_id)
    assert speech(second).strip()
    assert backend.stats.last.completion_tokens <= MAX_TOKENS
    # The second turn starts with the first turn's bytes: the server reuses them.
    cached = hass.states.get(
        "sensor.athena_backend_openai_compatible_last_cached_prompt_tokens"
    )
    assert cached is not None
    assert int(cached.state) > 0
    assert backend.stats.last.cached_tokens == int(cached.state)


async def test_auto_falls_back_to_ollama_when_real_mlx_stops(
    hass: HomeAssistant, socket_enabled: None, fake_ollama: FakeOllama
) -> None:
    with mlx_server() as url:
        await _configure(
            hass, BACKEND_AUTO, {CONF_OPENAI_URL: url, CONF_OLLAMA_URL: fake_ollama.url}
        )
        agent = agent_id(hass)
        first = await ask(hass, "who wrote hamlet", agent)
        assert speech(first).strip()
        assert fake_ollama.chat_requests() == []
    second = await ask(hass, "when was he born", agent, first.conversation_id)
    assert speech(second) == "William Shakespeare wrote it."
    (request,) = fake_ollama.chat_requests()
    # The fallback gets the same ChatLog history: turn 1 as the real server answered.
    assert [m["content"] for m in request.body["messages"][1:]] == [
        "who wrote hamlet",
        speech(first),
        "when was he born",
    ]
    assert (
        hass.states.get("sensor.athena_backend_openai_compatible_errors").state == "1"
    )
    assert (
        hass.states.get(
            "binary_sensor.athena_backend_openai_compatible_reachable"
        ).state
        == "off"
    )
    assert hass.states.get("sensor.athena_backend_ollama_requests").state == "1"
