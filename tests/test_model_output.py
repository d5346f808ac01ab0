"""Model output at the backend boundary: cleaned, capped, no tools it was not offered.

Every case runs on both backends through `conversation.async_converse` with a
question that goes to the model ("who wrote hamlet").
"""

from __future__ import annotations

import logging

import pytest

from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent

from custom_components.athena.const import (
    BACKEND_OLLAMA,
    BACKEND_OPENAI,
    MAX_REPLY_CHARS,
)

from .conftest import agent_id, ask, make_entry, setup_entry, speech
from .fakes import FakeOllama, FakeOpenAI, FakeServer

BACKENDS = [BACKEND_OLLAMA, BACKEND_OPENAI]


async def _agent(
    hass: HomeAssistant, backend: str, ollama: FakeOllama, openai: FakeOpenAI
) -> tuple[str, FakeServer]:
    on_ollama = backend == BACKEND_OLLAMA
    await setup_entry(
        hass,
        make_entry(
            backend,
            ollama=ollama if on_ollama else None,
            openai=None if on_ollama else openai,
        ),
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    return agent_id(hass), ollama if on_ollama else openai


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_huge_reply_is_capped(
    hass: HomeAssistant, fake_ollama: FakeOllama, fake_openai: FakeOpenAI, backend: str
) -> None:
    agent, server = await _agent(hass, backend, fake_ollama, fake_openai)
    piece = "x" * 999 + " "
    server.reply = lambda body: piece * 100  # 100,000 characters in 100 pieces
    result = await ask(hass, "who wrote hamlet", agent)
    reply = speech(result)
    assert reply.strip() == (piece * 2).strip()
    assert len(reply) <= MAX_REPLY_CHARS


@pytest.mark.parametrize("backend", BACKENDS)
async def test_control_and_bidi_characters_are_removed(
    hass: HomeAssistant, fake_ollama: FakeOllama, fake_openai: FakeOpenAI, backend: str
) -> None:
    agent, server = await _agent(hass, backend, fake_ollama, fake_openai)
    server.reply = lambda body: (
        "Wil\x00liam \x1bShake\u202espeare\x9b \u2066wrote\u2069\u200f it.\ud800"
        "\x07\x7f Act\tone,\nscene one."
    )
    result = await ask(hass, "who wrote hamlet", agent)
    assert speech(result) == ("William Shakespeare wrote it. Act\tone,\nscene one.")


@pytest.mark.parametrize("backend", BACKENDS)
async def test_tool_call_on_a_turn_without_tools_is_dropped(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    fake_openai: FakeOpenAI,
    backend: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    agent, server = await _agent(hass, backend, fake_ollama, fake_openai)
    server.reply = lambda body: ("tool", "HassTurnOn", {"name": "kitchen light"})
    with caplog.at_level(logging.WARNING):
        result = await ask(hass, "who wrote hamlet", agent)
    assert not server.chat_requests()[0].body.get("tools")  # none offered
    assert "dropped tool calls ['HassTurnOn']" in caplog.text
    # Nothing else came: the usual empty-answer message, no exception.
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert speech(result) == "Sorry, the language model gave an empty answer."
