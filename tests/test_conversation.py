"""Turn handling in a real Home Assistant: fast path, local answers, LLM path."""

from __future__ import annotations

import itertools

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from .conftest import ask, speech
from .fakes import FakeOllama, FakeOpenAI


async def test_greeting_and_time_are_local(
    hass: HomeAssistant, ollama_agent: str, fake_ollama: FakeOllama
) -> None:
    assert speech(await ask(hass, "hello", ollama_agent)) == "Hello! How can I help?"
    assert speech(await ask(hass, "Thanks, that's all", ollama_agent)) == (
        "You're welcome."
    )
    assert speech(await ask(hass, "what time is it", ollama_agent)).startswith("It's ")
    assert speech(await ask(hass, "what's today's date", ollama_agent)).startswith(
        "Today is "
    )
    assert fake_ollama.chat_requests() == []


async def test_general_question_goes_to_ollama(
    hass: HomeAssistant, ollama_agent: str, fake_ollama: FakeOllama
) -> None:
    result = await ask(hass, "who wrote hamlet", ollama_agent)
    assert speech(result) == "William Shakespeare wrote it."
    (request,) = fake_ollama.chat_requests()
    body = request.body
    assert body["stream"] is True
    assert body["keep_alive"] == "1800s"
    assert body["options"]["num_predict"] == 256
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["messages"][1]["content"] == "who wrote hamlet"
    assert "tools" not in body or not body["tools"]


async def test_prompt_is_byte_stable_across_turns(
    hass: HomeAssistant, ollama_agent: str, fake_ollama: FakeOllama
) -> None:
    first = await ask(hass, "who wrote hamlet", ollama_agent)
    await ask(hass, "and what year was it written", ollama_agent, first.conversation_id)
    await ask(hass, "tell me a joke", ollama_agent, first.conversation_id)
    prompts = [r.prompt for r in fake_ollama.chat_requests()]
    assert len(prompts) == 3
    for earlier, later in itertools.pairwise(prompts):
        assert later.startswith(earlier)
    # The simulated KV slot evaluates only the new part.
    last = fake_ollama.chat_requests()[-1]
    assert last.evaluated_tokens < last.prompt_tokens / 2


async def test_openai_backend_streams_and_records_cached_tokens(
    hass: HomeAssistant, openai_agent: str, fake_openai: FakeOpenAI
) -> None:
    first = await ask(hass, "who wrote hamlet", openai_agent)
    assert speech(first) == "William Shakespeare wrote it."
    await ask(hass, "when was he born", openai_agent, first.conversation_id)
    body = fake_openai.chat_requests()[-1].body
    assert body["max_tokens"] == 256
    assert body["stream_options"] == {"include_usage": True}
    cached = hass.states.get(
        "sensor.athena_backend_openai_compatible_last_cached_prompt_tokens"
    )
    assert cached is not None
    assert int(cached.state) > 0


async def test_history_is_the_chat_log(
    hass: HomeAssistant, ollama_agent: str, fake_ollama: FakeOllama
) -> None:
    first = await ask(hass, "hi", ollama_agent)
    await ask(hass, "who wrote hamlet", ollama_agent, first.conversation_id)
    messages = fake_ollama.chat_requests()[-1].body["messages"]
    assert [m["content"] for m in messages[1:]] == [
        "hi",
        "Hello! How can I help?",
        "who wrote hamlet",
    ]


async def test_warm_up_primes_the_system_prompt(
    hass: HomeAssistant, ollama_agent: str, fake_ollama: FakeOllama
) -> None:
    (warm_up,) = [r for r in fake_ollama.requests if r.body.get("_warm_up")]
    assert [m["role"] for m in warm_up.body["messages"]] == ["system"]
    assert warm_up.body["keep_alive"] == "1800s"
    await ask(hass, "who wrote hamlet", ollama_agent)
    first_turn = fake_ollama.chat_requests()[0]
    # The system prompt was already in the slot: only the question is evaluated.
    assert first_turn.evaluated_tokens < first_turn.prompt_tokens / 3


async def test_sentence_trigger_answers_without_backend(
    hass: HomeAssistant, ollama_agent: str, fake_ollama: FakeOllama
) -> None:
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "triggers": [{"trigger": "conversation", "command": "goodnight house"}],
                "actions": [{"set_conversation_response": "Sleep well."}],
            }
        },
    )
    result = await ask(hass, "Goodnight house", ollama_agent)
    assert speech(result) == "Sleep well."
    assert fake_ollama.chat_requests() == []
