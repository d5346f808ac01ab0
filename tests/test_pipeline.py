"""The turn pipeline's records: history trimming, the TurnNote of each path, athena.ask
reporting the path taken, typed settings, and the entry migration from VERSION 1."""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest

from homeassistant.components import conversation
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    chat_session,
    device_registry as dr,
    entity_registry as er,
)
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.athena.classifier import INSTRUCTION
from custom_components.athena.const import (
    BACKEND_OLLAMA,
    BACKEND_OPENAI,
    CONF_BACKEND,
    CONF_CLASSIFY_MODEL,
    CONF_LLM_GREETINGS,
    CONF_MAX_HISTORY,
    CONF_MODEL,
    CONF_OPENAI_URL,
    DOMAIN,
    SUBENTRY_CONVERSATION,
)
from custom_components.athena.prompt import TurnNote, build_messages
from custom_components.athena.settings import AgentSettings

from .conftest import (
    agent_id,
    ask,
    forecast_rows,
    make_entry,
    setup_athena_with_web,
    setup_entry,
    speech,
    weather_entity,
)
from .fakes import FakeOllama, FakeOpenAI, FakeWeb

DAILY = "get_forecasts-response-open_meteo-daily.json"  # Nov 24-30, 2021


def _content(turns: int) -> list[conversation.Content]:
    """A ChatLog's content: system, `turns` answered turns, then a new question."""
    content: list[conversation.Content] = [conversation.SystemContent(content="sys")]
    for n in range(turns):
        content.append(conversation.UserContent(content=f"q{n}"))
        content.append(conversation.AssistantContent(agent_id="a", content=f"a{n}"))
    content.append(conversation.UserContent(content="now"))
    return content


@pytest.mark.parametrize("max_turns", [1, 4, 5, 10])
def test_history_is_trimmed_in_blocks_and_keeps_its_prefix(max_turns: int) -> None:
    keep = max(max_turns // 2, 1)
    previous: list[dict[str, Any]] | None = None
    previous_earlier = 0
    for turns in range(3 * max_turns + 3):
        messages = build_messages("sys", _content(turns), "", max_turns)
        earlier = (len(messages) - 2) // 2
        assert messages[0] == {"role": "system", "content": "sys"}
        assert messages[-1] == {"role": "user", "content": "now"}
        if turns <= max_turns:
            assert earlier == turns
        else:
            assert max_turns - keep + 1 <= earlier <= max_turns
        # The newest earlier turn is always the one just before the question.
        if turns:
            assert messages[-3]["content"] == f"q{turns - 1}"
        if previous is not None and earlier == previous_earlier + 1:
            # Between cuts the new prompt starts with the old one (KV cache reuse).
            assert messages[: len(previous) - 1] == previous[:-1]
        previous, previous_earlier = messages, earlier


def test_history_without_limit_keeps_everything() -> None:
    messages = build_messages("sys", _content(30), "", 0)
    assert len(messages) == 2 + 2 * 30


def test_settings_are_typed_over_the_defaults() -> None:
    settings = AgentSettings.from_data({CONF_MODEL: "m", CONF_MAX_HISTORY: 4.0})
    assert settings.max_history == 4
    assert isinstance(settings.max_history, int)
    assert settings.model_for(BACKEND_OLLAMA) == "m"
    assert AgentSettings().prompt == settings.prompt


def _notes(hass: HomeAssistant, conversation_id: str) -> list[TurnNote]:
    with (
        chat_session.async_get_chat_session(hass, conversation_id) as session,
        conversation.async_get_chat_log(hass, session) as chat_log,
    ):
        return [
            c.native
            for c in chat_log.content
            if isinstance(c, conversation.AssistantContent)
            and isinstance(c.native, TurnNote)
        ]


async def test_every_path_records_its_turn_note(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    fake_web: FakeWeb,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to("2021-11-24T18:00:00+00:00")
    await weather_entity(hass, forecast_rows(DAILY))
    agent = await setup_athena_with_web(hass, fake_ollama, fake_web)
    # A fact reply must carry the facts (completeness): the model copies the day.
    fake_ollama.reply = lambda body: next(
        (
            line
            for line in body["messages"][-1]["content"].splitlines()
            if line.startswith("Tomorrow (")
        ),
        "It will be rainy.",
    )
    first = await ask(hass, "hello", agent)
    conversation_id = first.conversation_id
    for text in ("who wrote hamlet", "what's the weather tomorrow", "what time is it"):
        await ask(hass, text, agent, conversation_id)
    await ask(hass, "", agent, conversation_id)
    notes = _notes(hass, conversation_id)
    assert [(n.category, n.answered_by, n.error) for n in notes] == [
        ("greeting", "local", False),
        ("general", "ollama", False),
        ("weather", "ollama", False),
        ("time", "local", False),
        ("", "", True),
    ]
    assert notes[2].slots == {"when": "tomorrow"}
    assert notes[2].context  # the facts the reply was checked against


async def test_ask_reports_the_path_the_turn_took(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    fake_web: FakeWeb,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The classification model moves "good picnic day?" to weather: ask says so."""
    freezer.move_to("2021-11-24T18:00:00+00:00")
    await weather_entity(hass, forecast_rows(DAILY))
    await setup_athena_with_web(
        hass, fake_ollama, fake_web, agent={CONF_CLASSIFY_MODEL: "qwen3:0.6b"}
    )

    def reply(body: dict[str, Any]) -> str:
        if body["messages"][0]["content"] == INSTRUCTION:
            return "weather"
        return "Rain, with a high of 8."

    fake_ollama.reply = reply
    response = await hass.services.async_call(
        DOMAIN, "ask", {"text": "good picnic day?"}, blocking=True, return_response=True
    )
    assert response is not None
    assert response["category"] == "weather"
    assert response["reply"] == "Rain, with a high of 8."


async def test_version_1_entry_migrates_and_keeps_entity_ids(
    hass: HomeAssistant, fake_openai: FakeOpenAI
) -> None:
    """VERSION 1 stored the OpenAI-compatible backend as "mlx" and "mlx_url"."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        version=1,
        title="Athena old",
        data={CONF_BACKEND: "mlx", "mlx_url": fake_openai.url},
        subentries_data=[
            ConfigSubentryData(
                data={CONF_MODEL: fake_openai.models[0]},
                subentry_type=SUBENTRY_CONVERSATION,
                title="Athena",
                unique_id=None,
            )
        ],
    )
    entry.add_to_hass(hass)
    entities = er.async_get(hass)
    old_sensor = entities.async_get_or_create(
        "sensor",
        DOMAIN,
        f"{entry.entry_id}_mlx_requests",
        config_entry=entry,
        suggested_object_id="athena_backend_mlx_requests",
    )
    devices = dr.async_get(hass)
    devices.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, f"{entry.entry_id}_mlx")}
    )
    await setup_entry(hass, entry, added=True)

    assert entry.version == 2
    assert entry.data == {
        CONF_BACKEND: BACKEND_OPENAI,
        CONF_OPENAI_URL: fake_openai.url,
    }
    migrated = entities.async_get(old_sensor.entity_id)
    assert migrated is not None
    assert migrated.unique_id == f"{entry.entry_id}_openai_requests"
    assert hass.states.get("sensor.athena_backend_mlx_requests") is not None
    assert devices.async_get_device_by_identifier(
        (DOMAIN, f"{entry.entry_id}_openai"), entry.entry_id
    )
    result = await ask(hass, "who wrote hamlet", agent_id(hass))
    assert speech(result)
    assert hass.states.get("sensor.athena_backend_mlx_requests").state == "1"


async def test_greeting_goes_to_the_model_when_it_greets(
    hass: HomeAssistant, fake_ollama: FakeOllama
) -> None:
    """With the agent's LLM-greetings option, "hello" is the model's, not HA's."""
    await setup_entry(
        hass,
        make_entry(
            BACKEND_OLLAMA, ollama=fake_ollama, agent={CONF_LLM_GREETINGS: True}
        ),
    )
    fake_ollama.reply = lambda body: "Hi! How can I help?"
    result = await ask(hass, "hello", agent_id(hass))
    assert speech(result) == "Hi! How can I help?"
    assert len(fake_ollama.chat_requests()) == 1
