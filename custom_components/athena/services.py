"""Services: `athena.ask`, `athena.announce`, `athena.warm_up` (see services.yaml).

Registered once in `async_setup`, as HA's quality scale asks; they act on the agents
of the loaded config entries. Bad service data raises a translated
`ServiceValidationError`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import probatio as vol

from homeassistant.components import conversation
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import chat_session, config_validation as cv

from .const import DOMAIN, EVENT_ANNOUNCE, MAX_INPUT_CHARS
from .prompt import TurnNote

if TYPE_CHECKING:
    from .entity import AthenaEntity

ATTR_TEXT = "text"
ATTR_AGENT_ID = "agent_id"
ATTR_CONVERSATION_ID = "conversation_id"
ATTR_MESSAGE = "message"
ATTR_SATELLITE = "satellite"
ATTR_MEDIA_PLAYERS = "media_player_entity_id"
ATTR_TTS_ENTITY = "tts_entity_id"

ASK_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_TEXT): cv.string,
        vol.Optional(ATTR_AGENT_ID): cv.entity_id,
        vol.Optional(ATTR_CONVERSATION_ID): cv.string,
    }
)
ANNOUNCE_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_MESSAGE): cv.string,
        vol.Optional(ATTR_SATELLITE): cv.string,
        vol.Optional(ATTR_MEDIA_PLAYERS): cv.entity_ids,
        vol.Optional(ATTR_TTS_ENTITY): cv.entity_id,
    }
)
WARM_UP_SCHEMA = vol.Schema({vol.Optional(ATTR_AGENT_ID): cv.entity_id})


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


def _agents(hass: HomeAssistant) -> dict[str, AthenaEntity]:
    """Return the Athena agents of all loaded config entries, by entity id."""
    agents: dict[str, AthenaEntity] = {}
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            agents.update(entry.runtime_data.agents)
    return agents


def _agent(hass: HomeAssistant, entity_id: str | None) -> AthenaEntity:
    """Return agent `entity_id` or the first; raises `ServiceValidationError`."""
    agents = _agents(hass)
    if not agents:
        raise _invalid("no_agent")
    if entity_id is None:
        return next(iter(agents.values()))
    if entity_id not in agents:
        raise _invalid("unknown_agent", agent_id=entity_id)
    return agents[entity_id]


async def _async_ask(call: ServiceCall) -> ServiceResponse:
    """Run one turn; return `{reply, category, facts, timings, conversation_id}`.

    `timings` are in ms: `total_ms` (the whole turn) and, when a backend wrote the
    reply, its `latency_ms` and `ttft_ms`.
    """
    hass = call.hass
    text = call.data[ATTR_TEXT].strip()
    if not text or len(text) > MAX_INPUT_CHARS:
        raise _invalid("bad_text", limit=str(MAX_INPUT_CHARS))
    agent = _agent(hass, call.data.get(ATTR_AGENT_ID))
    start = time.perf_counter()
    result = await conversation.async_converse(
        hass,
        text,
        call.data.get(ATTR_CONVERSATION_ID),
        call.context,
        agent_id=agent.entity_id,
    )
    timings: dict[str, Any] = {
        "total_ms": round((time.perf_counter() - start) * 1000, 1)
    }
    note = _last_note(hass, result.conversation_id)
    for backend in agent.entry.runtime_data.backends:
        if note.answered_by == backend.kind and backend.stats.last is not None:
            timings["latency_ms"] = backend.stats.last.latency_ms
            timings["ttft_ms"] = backend.stats.last.ttft_ms
    return {
        "reply": result.response.speech.get("plain", {}).get("speech", ""),
        "category": note.category,
        "facts": note.context,
        "answered_by": note.answered_by,
        "timings": timings,
        "conversation_id": result.conversation_id,
    }


def _last_note(hass: HomeAssistant, conversation_id: str | None) -> TurnNote:
    """Return the conversation's last `TurnNote` (empty when it has none)."""
    with (
        chat_session.async_get_chat_session(hass, conversation_id) as session,
        conversation.async_get_chat_log(hass, session) as chat_log,
    ):
        for content in reversed(chat_log.content):
            if isinstance(content, conversation.AssistantContent):
                return (
                    content.native
                    if isinstance(content.native, TurnNote)
                    else TurnNote()
                )
    return TurnNote()


async def _async_announce(call: ServiceCall) -> None:
    """Fire `athena_announce` for the satellites; speak through `tts.speak` too."""
    hass = call.hass
    message = call.data[ATTR_MESSAGE].strip()
    if not message:
        raise _invalid("empty_message")
    players = call.data.get(ATTR_MEDIA_PLAYERS) or []
    tts_entity = call.data.get(ATTR_TTS_ENTITY)
    if players and not tts_entity:
        raise _invalid("tts_entity_needed")
    hass.bus.async_fire(
        EVENT_ANNOUNCE,
        {"message": message, "satellite": call.data.get(ATTR_SATELLITE)},
        context=call.context,
    )
    if players:
        await hass.services.async_call(
            "tts",
            "speak",
            {
                ATTR_ENTITY_ID: tts_entity,
                "media_player_entity_id": players,
                "message": message,
            },
            blocking=True,
            context=call.context,
        )


async def _async_warm_up(call: ServiceCall) -> None:
    """Re-prime the backend cache of one agent, or of every agent."""
    entity_id = call.data.get(ATTR_AGENT_ID)
    agents = (
        [_agent(call.hass, entity_id)] if entity_id else _agents(call.hass).values()
    )
    for agent in agents:
        await agent.async_warm_up()


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register Athena's services."""
    hass.services.async_register(
        DOMAIN,
        "ask",
        _async_ask,
        schema=ASK_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN, "announce", _async_announce, schema=ANNOUNCE_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, "warm_up", _async_warm_up, schema=WARM_UP_SCHEMA
    )
