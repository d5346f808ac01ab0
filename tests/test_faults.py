"""Faults and bad input: a clear, translated message, nothing raised, nothing lost."""

from __future__ import annotations

from typing import Any

import pytest

from homeassistant.components import conversation
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent

from custom_components.athena.const import (
    BACKEND_OLLAMA,
    BACKEND_OPENAI,
    CONF_FIRST_TOKEN_TIMEOUT,
    CONF_TOTAL_TIMEOUT,
)

from .conftest import agent_id, ask, make_entry, setup_entry, speech
from .fakes import FakeOllama, FakeOpenAI, FakeServer

FAULT_MESSAGES = {
    "http_500": "Sorry, the language model server returned an error.",
    "hang": "Sorry, the language model took too long to answer.",
    "stall": "Sorry, the language model took too long to answer.",
    "drop": "Sorry, I can't reach the language model server right now.",
    "malformed": "Sorry, the language model sent a reply I couldn't read.",
    "empty": "Sorry, the language model gave an empty answer.",
}
FAST_TIMEOUTS = {CONF_FIRST_TOKEN_TIMEOUT: 0.5, CONF_TOTAL_TIMEOUT: 1.0}


async def _agent(
    hass: HomeAssistant, backend: str, ollama: FakeOllama, openai: FakeOpenAI
) -> tuple[str, FakeServer, str]:
    server: FakeServer = ollama if backend == BACKEND_OLLAMA else openai
    entry = make_entry(
        backend,
        ollama=ollama if backend == BACKEND_OLLAMA else None,
        openai=openai if backend == BACKEND_OPENAI else None,
        agent=FAST_TIMEOUTS,
    )
    await setup_entry(hass, entry)
    device = "ollama" if backend == BACKEND_OLLAMA else "openai_compatible"
    return agent_id(hass), server, device


@pytest.mark.parametrize("backend", [BACKEND_OLLAMA, BACKEND_OPENAI])
@pytest.mark.parametrize("fault", list(FAULT_MESSAGES))
async def test_backend_fault_gives_clear_message_and_keeps_turn(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    fake_openai: FakeOpenAI,
    backend: str,
    fault: str,
) -> None:
    agent, server, kind = await _agent(hass, backend, fake_ollama, fake_openai)
    server.fault = fault
    result = await ask(hass, "who wrote hamlet", agent)
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert speech(result) == FAULT_MESSAGES[fault]
    assert hass.states.get(f"sensor.athena_backend_{kind}_errors").state == "1"

    # The failed turn stays in the ChatLog: the next turn sends it again.
    server.fault = None
    again = await ask(hass, "are you there", agent, result.conversation_id)
    assert speech(again) == "William Shakespeare wrote it."
    users = [
        m["content"]
        for m in server.chat_requests()[-1].body["messages"]
        if m["role"] == "user"
    ]
    assert users == ["who wrote hamlet", "are you there"]


async def test_unreachable_backend_after_setup(
    hass: HomeAssistant, ollama_agent: str, fake_ollama: FakeOllama
) -> None:
    await fake_ollama.stop()
    result = await ask(hass, "who wrote hamlet", ollama_agent)
    assert speech(result) == "Sorry, I can't reach the language model server right now."
    assert hass.states.get("binary_sensor.athena_backend_ollama_reachable").state == (
        "off"
    )


async def test_setup_with_unreachable_server_is_not_ready(
    hass: HomeAssistant, fake_ollama: FakeOllama
) -> None:
    entry = make_entry(BACKEND_OLLAMA, ollama=fake_ollama)
    await fake_ollama.stop()
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_RETRY


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "I didn't catch that. Could you say it again?"),
        ("   \n\t ", "I didn't catch that. Could you say it again?"),
        ("\x00\x07\x1b", "I didn't catch that. Could you say it again?"),
        (
            "a" * 20_000,
            "That's too long for me. Please keep it under 2000 characters.",
        ),
    ],
)
async def test_bad_input_answered_without_backend(
    hass: HomeAssistant,
    ollama_agent: str,
    fake_ollama: FakeOllama,
    text: str,
    expected: str,
) -> None:
    result = await ask(hass, text, ollama_agent)
    assert speech(result) == expected
    assert fake_ollama.chat_requests() == []


async def test_control_characters_are_removed_before_the_backend(
    hass: HomeAssistant, ollama_agent: str, fake_ollama: FakeOllama
) -> None:
    result = await ask(hass, "who\x00 wrote\x07 hamlet\x1b", ollama_agent)
    assert speech(result) == "William Shakespeare wrote it."
    assert fake_ollama.chat_requests()[0].body["messages"][-1]["content"] == (
        "who wrote hamlet"
    )


async def test_non_english_text_reaches_the_model(
    hass: HomeAssistant, ollama_agent: str, fake_ollama: FakeOllama
) -> None:
    fake_ollama.reply = lambda body: "Lo escribió William Shakespeare."
    result = await conversation.async_converse(
        hass,
        "¿Quién escribió Hamlet?",
        None,
        None,
        language="es",
        agent_id=ollama_agent,
    )
    assert speech(result) == "Lo escribió William Shakespeare."
    assert "Hamlet" in fake_ollama.chat_requests()[0].body["messages"][-1]["content"]


async def test_auto_falls_back_to_ollama_before_first_token(
    hass: HomeAssistant,
    auto_agent: str,
    fake_openai: FakeOpenAI,
    fake_ollama: FakeOllama,
) -> None:
    first = await ask(hass, "who wrote hamlet", auto_agent)
    assert len(fake_openai.chat_requests()) == 1
    await fake_openai.stop()
    second = await ask(hass, "when was he born", auto_agent, first.conversation_id)
    assert speech(second) == "William Shakespeare wrote it."
    (request,) = fake_ollama.chat_requests()
    # Same ChatLog history on the fallback, with its own model.
    assert [m["content"] for m in request.body["messages"][1:]] == [
        "who wrote hamlet",
        "William Shakespeare wrote it.",
        "when was he born",
    ]
    assert request.body["model"] == fake_ollama.models[0]
    assert (
        hass.states.get("sensor.athena_backend_openai_compatible_errors").state == "1"
    )
    assert hass.states.get("sensor.athena_backend_ollama_requests").state == "1"


async def test_auto_does_not_fall_back_mid_stream(
    hass: HomeAssistant,
    auto_agent: str,
    fake_openai: FakeOpenAI,
    fake_ollama: FakeOllama,
) -> None:
    fake_openai.fault = "malformed"
    result = await ask(hass, "who wrote hamlet", auto_agent)
    assert speech(result) == FAULT_MESSAGES["malformed"]
    assert fake_ollama.chat_requests() == []


_CONTENT = {"role": "assistant", "content": ""}
BAD_CHUNKS = {
    BACKEND_OPENAI: {
        "content_number": {"choices": [{"delta": {"content": 42}}]},
        "content_list": {"choices": [{"delta": {"content": ["Will", "iam"]}}]},
        "content_object": {"choices": [{"delta": {"content": {"text": "Hi"}}}]},
        "choices_object": {"choices": {"0": {"delta": {"content": "Hi"}}}},
        "choice_string": {"choices": ["Hi"]},
        "delta_string": {"choices": [{"delta": "Hi"}]},
        "tool_calls_object": {"choices": [{"delta": {"tool_calls": {"index": 0}}}]},
        "tool_call_string": {"choices": [{"delta": {"tool_calls": ["HassTurnOn"]}}]},
        "tool_index_string": {
            "choices": [
                {"delta": {"tool_calls": [{"index": "0", "function": {"name": "f"}}]}}
            ]
        },
        "tool_function_string": {
            "choices": [{"delta": {"tool_calls": [{"index": 0, "function": "f"}]}}]
        },
        "tool_name_number": {
            "choices": [{"delta": {"tool_calls": [{"function": {"name": 7}}]}}]
        },
        "tool_arguments_object": {
            "choices": [
                {
                    "delta": {
                        "tool_calls": [
                            {"function": {"name": "f", "arguments": {"a": 1}}}
                        ]
                    }
                }
            ]
        },
        "usage_string": {"choices": [], "usage": {"prompt_tokens": "12"}},
        "not_an_object": [1, 2],
    },
    BACKEND_OLLAMA: {
        "list": [1, 2],
        "number": 42,
        "string": "William",
        "null": None,
        "message_string": {"model": "m", "message": "William"},
        "content_number": {"model": "m", "message": {**_CONTENT, "content": 42}},
        "content_list": {"model": "m", "message": {**_CONTENT, "content": ["a"]}},
        "tool_calls_string": {"model": "m", "message": {**_CONTENT, "tool_calls": "f"}},
        "tool_arguments_list": {
            "model": "m",
            "message": {
                **_CONTENT,
                "tool_calls": [{"function": {"name": "f", "arguments": [1]}}],
            },
        },
        "tool_name_missing": {
            "model": "m",
            "message": {**_CONTENT, "tool_calls": [{"function": {"arguments": {}}}]},
        },
    },
}


@pytest.mark.parametrize(
    ("backend", "chunk"),
    [
        pytest.param(backend, chunk, id=f"{backend}-{name}")
        for backend, shapes in BAD_CHUNKS.items()
        for name, chunk in shapes.items()
    ],
)
async def test_reply_of_the_wrong_shape_is_malformed(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    fake_openai: FakeOpenAI,
    backend: str,
    chunk: Any,
) -> None:
    agent, server, kind = await _agent(hass, backend, fake_ollama, fake_openai)
    server.fault = "bad_chunk"
    server.bad_chunk = chunk
    result = await ask(hass, "who wrote hamlet", agent)
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert speech(result) == FAULT_MESSAGES["malformed"]
    assert hass.states.get(f"sensor.athena_backend_{kind}_errors").state == "1"
