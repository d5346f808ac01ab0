"""The Athena agent: the turn loop over HA's ChatLog.

A turn goes, in order, to HA's sentence triggers, a local answer (greeting, time,
date), a source (weather, sports, airport: its facts worded by the backend, checked,
or its template sentence), the parts of a compound request, HA's intents (device
control and state, exposed entities only), and only then to the backend with the
adaptive prompt of `prompt.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
import logging
import re
from typing import Any

import probatio

from homeassistant.components import conversation
from homeassistant.components.homeassistant.exposed_entities import async_should_expose
from homeassistant.config_entries import ConfigSubentry
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    intent,
    llm,
)
from homeassistant.helpers.entity import Entity
from homeassistant.util import dt as dt_util

from . import AthenaConfigEntry
from .airport_status import async_airport_facts
from .backend import (
    Backend,
    BackendError,
    ChatRequest,
    Timeouts,
    async_chat_with_fallback,
    model_for,
)
from .classifier import Classifier
from .const import (
    CONF_CLASSIFY_MODEL,
    CONF_CONTROL_TOOLS,
    CONF_FAVOURITE_TEAMS,
    CONF_FIRST_TOKEN_TIMEOUT,
    CONF_HOME_AIRPORT,
    CONF_KEEP_ALIVE,
    CONF_LLM_GREETINGS,
    CONF_MAX_HISTORY,
    CONF_MAX_TOKENS,
    CONF_MODEL,
    CONF_NUM_CTX,
    CONF_PROMPT,
    CONF_TEMPERATURE,
    CONF_TOTAL_TIMEOUT,
    CONF_WEATHER_ENTITY,
    DEFAULT_CONTROL_TOOLS,
    DEFAULT_FIRST_TOKEN_TIMEOUT,
    DEFAULT_KEEP_ALIVE,
    DEFAULT_LLM_GREETINGS,
    DEFAULT_MAX_HISTORY,
    DEFAULT_MAX_TOKENS,
    DEFAULT_NUM_CTX,
    DEFAULT_PROMPT,
    DEFAULT_TEMPERATURE,
    DEFAULT_TOTAL_TIMEOUT,
    DOMAIN,
    MAX_INPUT_CHARS,
    MAX_TOOL_ITERATIONS,
)
from .grounding import ungrounded
from .prompt import TurnNote, build_messages, clean_text
from .replies import async_sentence, clock_placeholders
from .router import Category, Route, route
from .sources import Facts, SourceError
from .sports import async_sports_facts
from .weather import async_weather_facts

_LOGGER = logging.getLogger(__name__)

_FACT_CATEGORIES = (Category.WEATHER, Category.SPORTS, Category.AIRPORT)
_TEMPORAL = re.compile(
    r"\b(?:today|tonight|tomorrow|yesterday|now|this (?:year|month|week)|next|last|"
    r"date|day|time|year|month|week|weekend|christmas|birthday|holiday|ago|until|"
    r"since|how long|old|age|season)\b",
    re.IGNORECASE,
)


def agent_settings(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return an agent subentry's `data` over the option defaults."""
    return {
        CONF_PROMPT: DEFAULT_PROMPT,
        CONF_TEMPERATURE: DEFAULT_TEMPERATURE,
        CONF_MAX_TOKENS: DEFAULT_MAX_TOKENS,
        CONF_FIRST_TOKEN_TIMEOUT: DEFAULT_FIRST_TOKEN_TIMEOUT,
        CONF_TOTAL_TIMEOUT: DEFAULT_TOTAL_TIMEOUT,
        CONF_KEEP_ALIVE: DEFAULT_KEEP_ALIVE,
        CONF_NUM_CTX: DEFAULT_NUM_CTX,
        CONF_MAX_HISTORY: DEFAULT_MAX_HISTORY,
        CONF_CONTROL_TOOLS: DEFAULT_CONTROL_TOOLS,
        CONF_LLM_GREETINGS: DEFAULT_LLM_GREETINGS,
        **data,
    }


def format_tool(tool: llm.Tool, serializer: Any) -> dict[str, Any]:
    """Return an HA LLM tool as an OpenAI/Ollama function schema."""
    spec: dict[str, Any] = {
        "name": tool.name,
        "parameters": probatio.to_openapi(
            tool.parameters, custom_serializer=serializer, openapi_version="3.1.0"
        ),
    }
    if tool.description:
        spec["description"] = tool.description
    return {"type": "function", "function": spec}


class AthenaEntity(Entity):
    """Runs a conversation turn for one agent (config subentry)."""

    _attr_has_entity_name = True
    _attr_name = None

    def __init__(self, entry: AthenaConfigEntry, subentry: ConfigSubentry) -> None:
        self.entry = entry
        self.subentry = subentry
        self.settings = agent_settings(subentry.data)
        self._attr_unique_id = subentry.subentry_id
        self._attr_device_info = dr.DeviceInfo(
            identifiers={(DOMAIN, subentry.subentry_id)},
            name=subentry.title,
            manufacturer="Athena",
            model=self.settings[CONF_MODEL],
            entry_type=dr.DeviceEntryType.SERVICE,
        )
        self.classifier = (
            Classifier(
                entry.runtime_data.backends[0],
                str(model),
                int(self.settings[CONF_KEEP_ALIVE]),
            )
            if (model := self.settings.get(CONF_CLASSIFY_MODEL))
            else None
        )

    @property
    def system_prompt(self) -> str:
        """The persona: the same bytes every turn."""
        return str(self.settings[CONF_PROMPT]).strip()

    def request_for(
        self,
        backend: Backend,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None,
    ) -> ChatRequest:
        """Build the request for `backend` (Auto's Ollama side has its own model)."""
        return ChatRequest(
            model=model_for(backend.kind, self.settings),
            messages=messages,
            max_tokens=int(self.settings[CONF_MAX_TOKENS]),
            temperature=float(self.settings[CONF_TEMPERATURE]),
            num_ctx=int(self.settings[CONF_NUM_CTX]),
            keep_alive=int(self.settings[CONF_KEEP_ALIVE]),
            tools=tools,
        )

    @property
    def timeouts(self) -> Timeouts:
        """The configured first-token and total timeouts."""
        return Timeouts(
            first_token=float(self.settings[CONF_FIRST_TOKEN_TIMEOUT]),
            total=float(self.settings[CONF_TOTAL_TIMEOUT]),
        )

    async def async_warm_up(self) -> None:
        """Prime every backend with the system prompt so turn one finds it cached."""
        messages = [{"role": "system", "content": self.system_prompt}]
        for backend in self.entry.runtime_data.backends:
            try:
                await backend.async_warm_up(self.request_for(backend, messages, None))
            except BackendError as err:
                _LOGGER.info("Warm-up of %s failed: %s", backend.url, err)

    async def _async_say(
        self,
        user_input: conversation.ConversationInput,
        chat_log: conversation.ChatLog,
        speech: str,
        note: TurnNote,
    ) -> conversation.ConversationResult:
        """Record `speech` as the reply in the ChatLog and return it as the result."""
        chat_log.async_add_assistant_content_without_tools(
            conversation.AssistantContent(
                agent_id=user_input.agent_id or self.entity_id,
                content=speech,
                native=note,
            )
        )
        response = intent.IntentResponse(language=user_input.language)
        if note.error:
            response.async_set_error(intent.IntentResponseErrorCode.UNKNOWN, speech)
        else:
            response.async_set_speech(speech)
        return _result(chat_log, response)

    async def _async_template(
        self,
        user_input: conversation.ConversationInput,
        chat_log: conversation.ChatLog,
        facts: Facts,
        note: TurnNote,
    ) -> conversation.ConversationResult:
        """Say the facts' template sentence instead of a model's reply."""
        return await self._async_say(
            user_input, chat_log, facts.template, replace(note, answered_by="template")
        )

    async def _async_local_answer(
        self,
        user_input: conversation.ConversationInput,
        chat_log: conversation.ChatLog,
        decision: Route,
    ) -> conversation.ConversationResult:
        """Answer a greeting, the time or the date without a model."""
        speech = await self._async_local_sentence(user_input.language, decision.kind)
        return await self._async_say(
            user_input, chat_log, speech, TurnNote(answered_by="local")
        )

    async def _async_local_sentence(self, language: str | None, kind: str) -> str:
        """Return the translated local reply `kind` (hello, time, date, ...)."""
        return await async_sentence(
            self.hass,
            language,
            "replies",
            kind,
            **clock_placeholders(dt_util.now(), language),
        )

    async def async_handle_turn(
        self,
        user_input: conversation.ConversationInput,
        chat_log: conversation.ChatLog,
    ) -> conversation.ConversationResult:
        """Answer one turn; never raises for backend or input problems."""
        text = clean_text(user_input.text)
        if not text or len(text) > MAX_INPUT_CHARS:
            key = "empty_input" if not text else "input_too_long"
            speech = await async_sentence(
                self.hass,
                user_input.language,
                "exceptions",
                key,
                limit=str(MAX_INPUT_CHARS),
            )
            return await self._async_say(
                user_input, chat_log, speech, TurnNote(error=True)
            )
        if text != user_input.text:
            user_input = replace(user_input, text=text)

        if (
            trigger_speech := await conversation.async_handle_sentence_triggers(
                self.hass, user_input, chat_log
            )
        ) is not None:
            return await self._async_say(
                user_input, chat_log, trigger_speech, TurnNote(answered_by="trigger")
            )

        decision = route(text)
        if decision.category is Category.GENERAL and self.classifier is not None:
            decision = await self.classifier.async_route(decision)
        if decision.category is Category.TIME or (
            decision.category is Category.GREETING
            and not self.settings[CONF_LLM_GREETINGS]
        ):
            return await self._async_local_answer(user_input, chat_log, decision)

        if decision.category in _FACT_CATEGORIES:
            try:
                facts = await self._async_facts(decision)
            except SourceError as err:
                return await self._async_say(
                    user_input,
                    chat_log,
                    await self._async_source_error(user_input, err),
                    TurnNote(error=True, answered_by="source"),
                )
            return await self._async_llm_turn(user_input, chat_log, decision, facts)
        if decision.category is Category.MULTI:
            return await self._async_multi_turn(user_input, chat_log, decision)

        if decision.category is not Category.GREETING and (
            response := await conversation.async_handle_intents(
                self.hass, user_input, chat_log
            )
        ):
            chat_log.async_add_assistant_content_without_tools(
                conversation.AssistantContent(
                    agent_id=user_input.agent_id or self.entity_id,
                    content=response.speech.get("plain", {}).get("speech", ""),
                    native=TurnNote(answered_by="intent"),
                )
            )
            return _result(chat_log, response)

        if (
            decision.category in (Category.CONTROL, Category.STATE)
            and not self.settings[CONF_CONTROL_TOOLS]
        ):
            return await self._async_default_agent(user_input, chat_log)
        return await self._async_llm_turn(user_input, chat_log, decision)

    async def _async_facts(self, decision: Route) -> Facts:
        """Ask the source of a weather, sports or airport question for its facts.

        Raises `SourceError` (the source failed, or no airport was named and no
        home airport is set).
        """
        sources = self.entry.runtime_data.sources
        options = self.entry.options
        if decision.category is Category.WEATHER:
            return await async_weather_facts(
                self.hass, sources, decision.slots, options.get(CONF_WEATHER_ENTITY)
            )
        if decision.category is Category.SPORTS:
            return await async_sports_facts(
                self.hass,
                sources,
                decision.slots,
                list(options.get(CONF_FAVOURITE_TEAMS, [])),
            )
        code = decision.slots.get("airport") or options.get(CONF_HOME_AIRPORT)
        if not code:
            raise SourceError("airport_unknown", "no airport named, none set")
        return await async_airport_facts(self.hass, sources, str(code))

    async def _async_source_error(
        self, user_input: conversation.ConversationInput, err: SourceError
    ) -> str:
        """Return the spoken sentence for a failed source (logged with its detail)."""
        _LOGGER.info("Source failed: %s", err)
        return await async_sentence(
            self.hass, user_input.language, "exceptions", err.key, **err.placeholders
        )

    async def _async_multi_turn(
        self,
        user_input: conversation.ConversationInput,
        chat_log: conversation.ChatLog,
        decision: Route,
    ) -> conversation.ConversationResult:
        """Answer each part of a compound request in order; join the answers.

        Device parts go to HA's intents (then its default agent), fact parts are
        answered with their template sentence, so one failing source costs only
        its own part.
        """
        answers: list[str] = []
        facts: list[str] = []
        for part in decision.parts:
            if part.category in _FACT_CATEGORIES:
                try:
                    found = await self._async_facts(part)
                except SourceError as err:
                    answers.append(await self._async_source_error(user_input, err))
                    continue
                facts.append(found.text)
                answers.append(found.template)
            elif part.category is Category.TIME:
                answers.append(
                    await self._async_local_sentence(user_input.language, part.kind)
                )
            else:
                response = await conversation.async_handle_intents(
                    self.hass, replace(user_input, text=part.text), chat_log
                ) or await self._async_default_agent_response(
                    user_input, part.text, None
                )
                answers.append(response.speech.get("plain", {}).get("speech", ""))
        return await self._async_say(
            user_input,
            chat_log,
            " ".join(a.strip() for a in answers if a.strip()),
            TurnNote(context="\n".join(facts), answered_by="multi"),
        )

    async def _async_default_agent(
        self,
        user_input: conversation.ConversationInput,
        chat_log: conversation.ChatLog,
    ) -> conversation.ConversationResult:
        """Hand a device command the strict match missed to HA's default agent.

        Its fuzzy matching (the gazetteer) catches wordings the strict pass does not,
        and its error ("not aware of any device called ...") is the right answer
        when the model has no tools: without them it could only pretend. It runs in
        this turn's ChatLog, so its reply is recorded there.
        """
        text = (
            last.content
            if isinstance(last := chat_log.content[-1], conversation.UserContent)
            else user_input.text
        )
        response = await self._async_default_agent_response(
            user_input, text, chat_log.conversation_id
        )
        return _result(chat_log, response)

    async def _async_default_agent_response(
        self,
        user_input: conversation.ConversationInput,
        text: str,
        conversation_id: str | None,
    ) -> intent.IntentResponse:
        """Return HA's default agent's response to `text` (None: its own chat)."""
        result = await conversation.async_converse(
            self.hass,
            text,
            conversation_id,
            user_input.context,
            user_input.language,
            agent_id=conversation.HOME_ASSISTANT_AGENT,
            device_id=user_input.device_id,
            satellite_id=user_input.satellite_id,
        )
        return result.response

    def _turn_context(self, text: str, with_devices: bool) -> str:
        """Context for the newest user message: only what this question needs."""
        parts = []
        if _TEMPORAL.search(text):
            clock = clock_placeholders(dt_util.now(), "en")
            parts.append(f"Now: {clock['weekday']}, {clock['date']}, {clock['time']}")
        if with_devices:
            parts.append(f"Devices: {self._exposed_devices()}")
        return "; ".join(parts)

    def _exposed_devices(self) -> str:
        """Names (and areas) of the entities exposed to Assist, for tool turns."""
        entities = er.async_get(self.hass)
        areas = ar.async_get(self.hass)
        names = []
        for state in self.hass.states.async_all():
            if not async_should_expose(self.hass, conversation.DOMAIN, state.entity_id):
                continue
            entry = entities.async_get(state.entity_id)
            area = (
                areas.async_get_area(entry.area_id) if entry and entry.area_id else None
            )
            names.append(
                f"{state.name} ({state.domain}{', ' + area.name if area else ''})"
            )
        return ", ".join(sorted(names))

    async def _async_llm_turn(
        self,
        user_input: conversation.ConversationInput,
        chat_log: conversation.ChatLog,
        decision: Route,
        facts: Facts | None = None,
    ) -> conversation.ConversationResult:
        """Send the turn to the backend and stream the reply into the ChatLog.

        With `facts` (a weather, sports or airport answer) they are the context
        block, and the reply is held back until the grounding check passes: one
        with a number or time not in the facts, or no reply at all (backend down),
        becomes the facts' template sentence.
        """
        use_tools = bool(self.settings[CONF_CONTROL_TOOLS]) and decision.category in (
            Category.CONTROL,
            Category.STATE,
        )
        try:
            await chat_log.async_provide_llm_data(
                user_input.as_llm_context(DOMAIN),
                llm.LLM_API_ASSIST if use_tools else None,
                self.system_prompt,
                user_input.extra_system_prompt,
            )
        except conversation.ConverseError as err:
            return err.as_conversation_result()
        # HA's prompt adds the clock and the API prompt; Athena keeps its stable one.
        chat_log.content[0] = conversation.SystemContent(content=self.system_prompt)
        tools = (
            [
                format_tool(t, chat_log.llm_api.custom_serializer)
                for t in chat_log.llm_api.tools
            ]
            if chat_log.llm_api
            else None
        )
        note = TurnNote(
            context=facts.text
            if facts
            else self._turn_context(user_input.text, tools is not None)
        )
        backends = self.entry.runtime_data.backends
        try:
            for _ in range(MAX_TOOL_ITERATIONS):
                messages = build_messages(
                    self.system_prompt,
                    chat_log.content,
                    note.context,
                    int(self.settings[CONF_MAX_HISTORY]),
                )
                chat_log.async_trace({"athena_messages": messages, "tools": tools})
                candidates = [
                    (b, self.request_for(b, messages, tools)) for b in backends
                ]
                stream = _deltas(candidates, self.timeouts, note)
                if facts is not None:
                    chunks = [chunk async for chunk in stream]
                    reply = "".join(c.get("content") or "" for c in chunks)
                    if missing := ungrounded(reply, facts.text):
                        _LOGGER.info("Reply not grounded %s: %r", missing, reply)
                        return await self._async_template(
                            user_input, chat_log, facts, note
                        )
                    stream = _replay(chunks)
                async for _ in chat_log.async_add_delta_content_stream(
                    user_input.agent_id or self.entity_id, stream
                ):
                    pass
                if not chat_log.unresponded_tool_results:
                    break
        except BackendError as err:
            if facts is not None:
                _LOGGER.info("Backend failed, template answer: %s", err)
                return await self._async_template(user_input, chat_log, facts, note)
            speech = await async_sentence(
                self.hass, user_input.language, "exceptions", err.key
            )
            return await self._async_say(
                user_input, chat_log, speech, replace(note, error=True)
            )
        return conversation.async_get_result_from_chat_log(user_input, chat_log)


def _result(
    chat_log: conversation.ChatLog, response: intent.IntentResponse
) -> conversation.ConversationResult:
    """Return `response` as the turn's result in `chat_log`'s conversation."""
    return conversation.ConversationResult(
        response=response,
        conversation_id=chat_log.conversation_id,
        continue_conversation=chat_log.continue_conversation,
    )


async def _replay(
    chunks: list[conversation.AssistantContentDeltaDict],
) -> AsyncIterator[conversation.AssistantContentDeltaDict]:
    """Yield already received deltas (a reply held back for the grounding check)."""
    for chunk in chunks:
        yield chunk


async def _deltas(
    candidates: list[tuple[Backend, ChatRequest]], timeouts: Timeouts, note: TurnNote
) -> AsyncIterator[conversation.AssistantContentDeltaDict]:
    """Convert backend deltas to ChatLog deltas; the first carries role and TurnNote."""
    first = True
    async for backend, delta in async_chat_with_fallback(candidates, timeouts):
        chunk: conversation.AssistantContentDeltaDict = {}
        if first:
            chunk["role"] = "assistant"
            chunk["native"] = replace(note, answered_by=backend.kind)
            first = False
        if delta.content:
            chunk["content"] = delta.content
        if delta.tool_calls:
            chunk["tool_calls"] = [
                llm.ToolInput(tool_name=call.name, tool_args=call.arguments)
                for call in delta.tool_calls
            ]
        yield chunk
