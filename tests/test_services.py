"""Services: athena.ask, athena.announce, athena.warm_up, and their validation."""

from __future__ import annotations

import pytest

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_mock_service,
)

from custom_components.athena.const import BACKEND_OLLAMA, DOMAIN, EVENT_ANNOUNCE

from .conftest import make_entry, setup_entry
from .fakes import FakeOllama


async def test_ask_returns_reply_category_facts_and_timings(
    hass: HomeAssistant, ollama_agent: str, fake_ollama: FakeOllama
) -> None:
    response = await hass.services.async_call(
        DOMAIN,
        "ask",
        {"text": "who wrote hamlet", "agent_id": ollama_agent},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    assert response["reply"] == "William Shakespeare wrote it."
    assert response["category"] == "general"
    assert response["answered_by"] == "ollama"
    assert response["facts"] == ""
    assert set(response["timings"]) == {"total_ms", "latency_ms", "ttft_ms"}
    # The conversation goes on with its history.
    follow_up = await hass.services.async_call(
        DOMAIN,
        "ask",
        {"text": "when was he born", "conversation_id": response["conversation_id"]},
        blocking=True,
        return_response=True,
    )
    assert follow_up["conversation_id"] == response["conversation_id"]
    last = fake_ollama.chat_requests()[-1].body["messages"]
    assert [m["content"] for m in last[1:]] == [
        "who wrote hamlet",
        "William Shakespeare wrote it.",
        "when was he born",
    ]


async def test_ask_answers_locally_without_timings_of_a_backend(
    hass: HomeAssistant, ollama_agent: str
) -> None:
    response = await hass.services.async_call(
        DOMAIN, "ask", {"text": "hello"}, blocking=True, return_response=True
    )
    assert response["category"] == "greeting"
    assert response["answered_by"] == "local"
    assert set(response["timings"]) == {"total_ms"}


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"text": "   "}, "bad_text"),
        ({"text": "x" * 5000}, "bad_text"),
        ({"text": "hi", "agent_id": "conversation.not_athena"}, "unknown_agent"),
    ],
)
async def test_ask_bad_data(
    hass: HomeAssistant, ollama_agent: str, data: dict, key: str
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "ask", data, blocking=True, return_response=True
        )
    assert err.value.translation_key == key
    assert str(err.value)  # translated message


async def test_ask_without_a_loaded_agent(
    hass: HomeAssistant, fake_ollama: FakeOllama
) -> None:
    entry = make_entry(BACKEND_OLLAMA, ollama=fake_ollama)
    await setup_entry(hass, entry)
    await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "ask", {"text": "hi"}, blocking=True, return_response=True
        )
    assert err.value.translation_key == "no_agent"


async def test_announce_fires_the_event_and_speaks(
    hass: HomeAssistant, ollama_agent: str
) -> None:
    events = async_capture_events(hass, EVENT_ANNOUNCE)
    speak = async_mock_service(hass, "tts", "speak")
    await hass.services.async_call(
        DOMAIN,
        "announce",
        {
            "message": "The front door is open.",
            "satellite": "kitchen",
            "media_player_entity_id": ["media_player.kitchen"],
            "tts_entity_id": "tts.piper",
        },
        blocking=True,
    )
    assert [e.data for e in events] == [
        {"message": "The front door is open.", "satellite": "kitchen"}
    ]
    (call,) = speak
    assert call.data["entity_id"] == "tts.piper"
    assert call.data["media_player_entity_id"] == ["media_player.kitchen"]
    assert call.data["message"] == "The front door is open."


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"message": "  "}, "empty_message"),
        (
            {"message": "hi", "media_player_entity_id": ["media_player.kitchen"]},
            "tts_entity_needed",
        ),
    ],
)
async def test_announce_bad_data(
    hass: HomeAssistant, ollama_agent: str, data: dict, key: str
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "announce", data, blocking=True)
    assert err.value.translation_key == key


async def test_warm_up_primes_the_backend_again(
    hass: HomeAssistant, ollama_agent: str, fake_ollama: FakeOllama
) -> None:
    await hass.async_block_till_done()
    before = len(fake_ollama.requests)
    await hass.services.async_call(DOMAIN, "warm_up", {}, blocking=True)
    (warm_up,) = fake_ollama.requests[before:]
    assert [m["role"] for m in warm_up.body["messages"]] == ["system"]
