"""The Athena agent: one turn as a short pipeline over HA's ChatLog.

`async_handle_turn` checks the input and HA's sentence triggers, routes the text
(`router.py`, then the optional classification model) and `_async_answer` dispatches
on the route, once:

- time, and greetings unless the model greets: a local sentence;
- then Home Assistant's own agent (its intents, strict and fuzzy, exposed entities
  only, in the speaker's area): what it answers is the answer (`_async_home_assistant`
  says when an answer counts for a route);
- weather, sports, airport (`sources.registry.SOURCES`): the fact path, the source's
  facts worded by the backend and checked (`grounding.py`), else its template sentence;
- compound requests: each part on its own path, the answers joined;
- a device request HA could not carry out: HA's own reply, or the backend with HA's
  Assist tools when the agent may control devices (never a model without tools);
- everything else goes to the backend with the prompt of `prompt.py`.

Every reply reaches the ChatLog with its `TurnNote` through `_record`, except the
model's streamed reply on the open path, whose first delta carries the note.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
import logging
from typing import Any

from homeassistant.components import conversation
from homeassistant.components.conversation.agent_manager import get_agent_manager
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    floor_registry as fr,
    intent,
    llm,
)
from homeassistant.helpers.entity import Entity
from homeassistant.util import dt as dt_util

from . import AthenaConfigEntry
from .backends import (
    Backend,
    BackendError,
    ChatRequest,
    Timeouts,
    async_chat_with_fallback,
)
from .classifier import Classifier
from .completeness import REPLY_TOKENS, check
from .const import (
    DOMAIN,
    MAX_COMPOUND_PARTS,
    MAX_INPUT_CHARS,
    MAX_TOOL_ITERATIONS,
)
from .followup import resolve
from .prompt import (
    TurnNote,
    build_messages,
    clean_text,
    fact_example,
    format_tool,
    turn_context,
)
from .replies import async_sentence, clock_placeholders
from .router import Category, Route, route
from .settings import AgentSettings
from .sources import Facts, SourceError
from .sources.registry import SOURCES

_LOGGER = logging.getLogger(__name__)

ERROR = intent.IntentResponseType.ERROR

_DEVICE_CATEGORIES = (Category.CONTROL, Category.STATE)
# Free-text slots of HA's templates that must name a place of the home.
_PLACE_SLOTS = frozenset(("zone", "state"))


@dataclass(frozen=True, slots=True)
class Turn:
    """One turn: the user's input (text cleaned), its ChatLog and the agent id."""

    user_input: conversation.ConversationInput
    chat_log: conversation.ChatLog
    agent_id: str

    @property
    def language(self) -> str:
        """The conversation's language."""
        return self.user_input.language


class AthenaEntity(Entity):
    """Runs a conversation turn for one agent (config subentry)."""

    _attr_has_entity_name = True
    _attr_name = None

    def __init__(self, entry: AthenaConfigEntry, subentry: ConfigSubentry) -> None:
        self.entry = entry
        self.subentry = subentry
        self.settings = AgentSettings.from_data(subentry.data)
        self._attr_unique_id = subentry.subentry_id
        self._attr_device_info = dr.DeviceInfo(
            identifiers={(DOMAIN, subentry.subentry_id)},
            name=subentry.title,
            manufacturer="Athena",
            model=self.settings.model,
            entry_type=dr.DeviceEntryType.SERVICE,
        )
        self.classifier = (
            Classifier(
                entry.runtime_data.backends[0],
                self.settings.classify_model,
                self.settings.keep_alive,
            )
            if self.settings.classify_model
            else None
        )

    def request_for(
        self,
        backend: Backend,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None,
    ) -> ChatRequest:
        """Build the request for `backend` (Auto's Ollama side has its own model)."""
        return ChatRequest(
            model=self.settings.model_for(backend.kind),
            messages=messages,
            max_tokens=self.settings.max_tokens,
            temperature=self.settings.temperature,
            num_ctx=self.settings.num_ctx,
            keep_alive=self.settings.keep_alive,
            tools=tools,
        )

    @property
    def timeouts(self) -> Timeouts:
        """The configured first-token and total timeouts."""
        return Timeouts(
            first_token=self.settings.first_token_timeout,
            total=self.settings.total_timeout,
        )

    async def async_warm_up(self) -> None:
        """Prime every backend with the system prompt so turn one finds it cached.

        Each backend gets the first-token timeout (a cold model load counts there);
        a hanging server is left alone after it, never waited on until unload.
        """
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": self.settings.prompt}
        ]
        for backend in self.entry.runtime_data.backends:
            try:
                async with asyncio.timeout(self.settings.first_token_timeout):
                    await backend.async_warm_up(
                        self.request_for(backend, messages, None)
                    )
            except (BackendError, TimeoutError) as err:
                _LOGGER.info("Warm-up of %s failed: %r", backend.label, err)

    async def async_handle_turn(
        self,
        user_input: conversation.ConversationInput,
        chat_log: conversation.ChatLog,
    ) -> conversation.ConversationResult:
        """Answer one turn; never raises for backend or input problems."""
        text = clean_text(user_input.text)
        turn = Turn(
            replace(user_input, text=text),
            chat_log,
            user_input.agent_id or self.entity_id,
        )
        if not text or len(text) > MAX_INPUT_CHARS:
            key = "empty_input" if not text else "input_too_long"
            return await self._async_say_error(
                turn, TurnNote(), key, limit=str(MAX_INPUT_CHARS)
            )
        if (
            speech := await conversation.async_handle_sentence_triggers(
                self.hass, turn.user_input, chat_log
            )
        ) is not None:
            return self._record(turn, TurnNote(answered_by="trigger"), speech)
        decision = resolve(text, route(text), _previous_route(chat_log))
        if decision.category is Category.GENERAL and self.classifier is not None:
            decision = await self.classifier.async_route(decision)
        return await self._async_answer(turn, decision)

    async def _async_answer(
        self, turn: Turn, decision: Route
    ) -> conversation.ConversationResult:
        """Dispatch on the route, once (see the module docstring)."""
        note = TurnNote(category=decision.category.value, slots=dict(decision.slots))
        category = decision.category
        if category is Category.TIME or (
            category is Category.GREETING and not self.settings.llm_greetings
        ):
            speech = await self._async_local_sentence(turn.language, decision.reply)
            return self._record(turn, replace(note, answered_by="local"), speech)
        response = (
            None  # a greeting the model answers (the agent's option) is the model's
            if category is Category.GREETING
            else await self._async_home_assistant(turn, decision)
        )
        if response is not None and response.response_type is not ERROR:
            return self._record(
                turn,
                replace(note, answered_by="home_assistant"),
                _speech(response),
                response,
            )
        if category in SOURCES:
            return await self._async_fact_turn(turn, decision, note)
        if category is Category.MULTI:
            return await self._async_compound_turn(turn, decision, note)
        device = category in _DEVICE_CATEGORIES
        if device and not self.settings.control_tools and response is not None:
            # HA's own "not understood" / "not aware of": a model without tools
            # could only pretend.
            return self._record(
                turn,
                replace(note, answered_by="home_assistant", error=True),
                _speech(response),
                response,
            )
        return await self._async_model_turn(turn, note, use_tools=device)

    async def _async_home_assistant(
        self, turn: Turn, decision: Route
    ) -> intent.IntentResponse | None:
        """Let HA's default agent try the turn, in this turn's ChatLog.

        A device request gets HA's whole agent (its intents, strict and fuzzy) and
        its answer or error. Any other request goes to HA only when one of HA's
        sentence templates matches it (no fuzzy matching: a general question pays
        only for the template match) with every name known and any place it names
        a place of this home ("who is at home", not "who is the president"); then
        HA's answer counts, its error does not. Returns None when HA's reply does
        not count, with HA's entries taken back out of the ChatLog (a failed
        intent's call and result never reach a model). Not asked: a forecast for
        another day (HA's weather intent only knows the present), and a compound
        request with a part HA does not do or too many parts.
        """
        if decision.slots.get("when", "now") != "now":
            return None
        if decision.category is Category.MULTI and (
            len(decision.parts) > MAX_COMPOUND_PARTS
            or any(p.category not in _DEVICE_CATEGORIES for p in decision.parts)
        ):
            return None  # the compound path: each part on its own path, capped
        device = decision.category in _DEVICE_CATEGORIES
        if not device and not await self._async_ha_template_matches(turn.user_input):
            return None
        chat_log = turn.chat_log
        mark = len(chat_log.content)
        response = await self._async_default_agent_response(
            turn.user_input, chat_log.conversation_id
        )
        answered = response.response_type is not ERROR
        if not answered:
            del chat_log.content[mark:]
        elif len(chat_log.content) > mark and isinstance(
            chat_log.content[-1], conversation.AssistantContent
        ):
            # HA's own reply entry: `_record` writes the reply with the turn's note.
            del chat_log.content[-1]
        return response if device or answered else None

    async def _async_ha_template_matches(
        self, user_input: conversation.ConversationInput
    ) -> bool:
        """Tell whether one of HA's sentence templates matches `user_input.text`.

        Every name must be known, and a free-text place or state ("who is in
        {zone}") must be a zone, area, floor or person state of this home; list
        items, timer names, messages and media searches are free text by design.
        """
        agent = get_agent_manager(self.hass).default_agent
        if agent is None:
            return False
        recognized = await agent.async_recognize_intent(user_input)
        if recognized is None or recognized.unmatched_entities:
            return False
        places = _home_places(self.hass)
        return all(
            not entity.is_wildcard
            or entity.name not in _PLACE_SLOTS
            or str(entity.value).strip().lower() in places
            for entity in recognized.entities_list
        )

    def _record(
        self,
        turn: Turn,
        note: TurnNote,
        speech: str,
        response: intent.IntentResponse | None = None,
    ) -> conversation.ConversationResult:
        """Record `speech` as this turn's reply, with `note`, and return the result.

        `response` is HA's own (intents, default agent) when it answered; otherwise
        a speech response (an error response when `note.error`) is built.
        """
        turn.chat_log.async_add_assistant_content_without_tools(
            conversation.AssistantContent(
                agent_id=turn.agent_id, content=speech, native=note
            )
        )
        if response is None:
            response = intent.IntentResponse(language=turn.language)
            if note.error:
                response.async_set_error(intent.IntentResponseErrorCode.UNKNOWN, speech)
            else:
                response.async_set_speech(speech)
        return conversation.ConversationResult(
            response=response,
            conversation_id=turn.chat_log.conversation_id,
            continue_conversation=turn.chat_log.continue_conversation,
        )

    async def _async_say_error(
        self, turn: Turn, note: TurnNote, key: str, **placeholders: str
    ) -> conversation.ConversationResult:
        """Record the translated error sentence `exceptions.<key>` as the reply."""
        speech = await async_sentence(
            self.hass, turn.language, "exceptions", key, **placeholders
        )
        return self._record(turn, replace(note, error=True), speech)

    async def _async_local_sentence(self, language: str | None, reply: str) -> str:
        """Return the translated local reply `reply` (hello, time, date, ...)."""
        return await async_sentence(
            self.hass,
            language,
            "replies",
            reply,
            **clock_placeholders(dt_util.now(), language),
        )

    async def _async_facts(self, decision: Route) -> Facts:
        """Ask the source of the route's category for its facts (`SourceError`)."""
        return await SOURCES[decision.category](
            self.hass,
            self.entry.runtime_data.sources,
            decision.slots,
            self.entry.options,
        )

    async def _async_fact_turn(
        self, turn: Turn, decision: Route, note: TurnNote
    ) -> conversation.ConversationResult:
        """Word a source's facts with the backend (`_async_word`).

        A failing source says its own sentence.
        """
        try:
            facts = await self._async_facts(decision)
        except SourceError as err:
            _LOGGER.info("Source failed: %s", err)
            return await self._async_say_error(
                turn,
                replace(note, answered_by="source"),
                err.key,
                **err.placeholders,
            )
        return await self._async_word(turn, note, facts)

    async def _async_word(
        self, turn: Turn, note: TurnNote, facts: Facts
    ) -> conversation.ConversationResult:
        """Have the backend word `facts`; say their template sentence when it cannot.

        The facts are the context block of the newest user message, just after a
        worked example of their kind (`prompt.fact_example`; not kept in the
        ChatLog, so the next turn's prompt still starts with this one's up to the
        example and the backend's KV cache holds); the reply is capped
        at `completeness.REPLY_TOKENS` of its kind. It is held back until it
        passes the grounding and completeness checks (`completeness.check`): its
        whole sentences from the start that carry the facts are spoken; a reply
        with none, or no reply at all (backend down), becomes `facts.sentence`,
        and the checks it failed are logged.
        """
        note = replace(note, context=facts.text)
        template = replace(note, answered_by="template")
        try:
            await self._async_prepare_chat_log(turn, use_tools=False)
        except conversation.ConverseError as err:
            return err.as_conversation_result()
        messages = build_messages(
            self.settings.prompt,
            turn.chat_log.content,
            note.context,
            self.settings.max_history,
        )
        messages[-1:-1] = fact_example(note.category, note.context)
        turn.chat_log.async_trace({"athena_messages": messages, "tools": None})
        max_tokens = min(
            self.settings.max_tokens,
            REPLY_TOKENS.get(note.category, self.settings.max_tokens),
        )
        candidates = [
            (b, replace(self.request_for(b, messages, None), max_tokens=max_tokens))
            for b in self._backends
        ]
        parts: list[str] = []
        answered_by = ""
        try:
            async for backend, delta in async_chat_with_fallback(
                candidates, self.timeouts
            ):
                answered_by = backend.kind
                parts.append(delta.content)
        except BackendError as err:
            _LOGGER.info("Backend failed, template answer: %s", err)
            return self._record(turn, template, facts.sentence)
        reply = "".join(parts).strip()
        checked = check(note.category, turn.user_input.text, reply, facts.text)
        if not checked.answer:
            _LOGGER.info("Reply fails %s, template answer: %r", checked.failed, reply)
            return self._record(turn, template, facts.sentence)
        return self._record(
            turn, replace(note, answered_by=answered_by), checked.answer
        )

    async def _async_compound_turn(
        self, turn: Turn, decision: Route, note: TurnNote
    ) -> conversation.ConversationResult:
        """Answer the parts of a compound request in one reply.

        Device parts run first, in order, through HA's default agent, and are
        reported as HA reports them; the sources of the fact parts are asked at
        the same time; local parts (the time) are answered locally. With any
        facts, the backend words one reply from all of it (`_async_word`: checked
        against everything, the parts' own sentences joined when it cannot); a
        failing source costs only its own part. Parts past `MAX_COMPOUND_PARTS`
        are said to be skipped.
        """
        parts = decision.parts[:MAX_COMPOUND_PARTS]
        fetched = await asyncio.gather(
            *(self._async_facts(p) for p in parts if p.category in SOURCES),
            return_exceptions=True,
        )
        found = iter(fetched)
        lines: list[str] = []  # the facts block: what the model may say
        answers: list[str] = []  # the same, as sentences: the template answer
        for part in parts:
            if part.category in SOURCES:
                result = next(found)
                if isinstance(result, Facts):
                    lines.append(result.text)
                    answers.append(result.sentence)
                    continue
                if not isinstance(result, SourceError):
                    raise result
                _LOGGER.info("Source failed: %s", result)
                said = await async_sentence(
                    self.hass,
                    turn.language,
                    "exceptions",
                    result.key,
                    **result.placeholders,
                )
                label = "Also tell the user"
            elif part.category is Category.TIME:
                said = await self._async_local_sentence(turn.language, part.reply)
                label = "Also tell the user"
            else:
                response = await self._async_default_agent_response(
                    replace(turn.user_input, text=part.text)
                )
                said = _speech(response)
                label = "Home Assistant did this"
            if said.strip():
                lines.append(f"{label}: {said.strip()}")
                answers.append(said.strip())
        if (skipped := len(decision.parts) - MAX_COMPOUND_PARTS) > 0:
            said = await async_sentence(
                self.hass,
                turn.language,
                "exceptions",
                "compound_parts_skipped",
                limit=str(MAX_COMPOUND_PARTS),
                skipped=str(skipped),
            )
            lines.append(f"Also tell the user: {said}")
            answers.append(said)
        note = replace(note, answered_by="multi")
        facts = Facts(text="\n".join(lines), sentence=" ".join(answers))
        if len(fetched) == sum(isinstance(r, BaseException) for r in fetched):
            return self._record(turn, replace(note, context=facts.text), facts.sentence)
        return await self._async_word(turn, note, facts)

    async def _async_default_agent_response(
        self,
        user_input: conversation.ConversationInput,
        conversation_id: str | None = None,
    ) -> intent.IntentResponse:
        """Return HA's default agent's response to `user_input.text`.

        Its fuzzy matching (the gazetteer) catches wordings the strict pass does
        not, and its error ("not aware of any device called ...") is the right
        answer when the model has no tools. It runs in `conversation_id`'s ChatLog
        (None: a chat of its own; a follow-up such as "turn it off" needs the same
        conversation); the caller records the reply.
        """
        result = await conversation.async_converse(
            self.hass,
            user_input.text,
            conversation_id,
            user_input.context,
            user_input.language,
            agent_id=conversation.HOME_ASSISTANT_AGENT,
            device_id=user_input.device_id,
            satellite_id=user_input.satellite_id,
        )
        return result.response

    @property
    def _backends(self) -> tuple[Backend, ...]:
        return self.entry.runtime_data.backends

    async def _async_prepare_chat_log(self, turn: Turn, use_tools: bool) -> None:
        """Give the ChatLog Athena's stable system prompt (and HA's Assist API).

        Raises `conversation.ConverseError` when HA cannot provide the LLM API.
        """
        await turn.chat_log.async_provide_llm_data(
            turn.user_input.as_llm_context(DOMAIN),
            llm.LLM_API_ASSIST if use_tools else None,
            self.settings.prompt,
            turn.user_input.extra_system_prompt,
        )
        # HA's prompt adds the clock and the API prompt; Athena keeps its stable one.
        turn.chat_log.content[0] = conversation.SystemContent(
            content=self.settings.prompt
        )

    async def _async_model_turn(
        self, turn: Turn, note: TurnNote, use_tools: bool
    ) -> conversation.ConversationResult:
        """Stream the backend's reply into the ChatLog, running tool calls.

        Tools (HA's Assist API) only when `use_tools` and the agent's option allow.
        """
        try:
            await self._async_prepare_chat_log(
                turn, use_tools and self.settings.control_tools
            )
        except conversation.ConverseError as err:
            return err.as_conversation_result()
        chat_log = turn.chat_log
        tools = (
            [
                format_tool(t, chat_log.llm_api.custom_serializer)
                for t in chat_log.llm_api.tools
            ]
            if chat_log.llm_api
            else None
        )
        note = replace(
            note,
            context=turn_context(self.hass, turn.user_input.text, tools is not None),
        )
        try:
            for _ in range(MAX_TOOL_ITERATIONS):
                messages = build_messages(
                    self.settings.prompt,
                    chat_log.content,
                    note.context,
                    self.settings.max_history,
                    with_tools=tools is not None,
                )
                chat_log.async_trace({"athena_messages": messages, "tools": tools})
                candidates = [
                    (b, self.request_for(b, messages, tools)) for b in self._backends
                ]
                async for _ in chat_log.async_add_delta_content_stream(
                    turn.agent_id, _deltas(candidates, self.timeouts, note)
                ):
                    pass
                if not chat_log.unresponded_tool_results:
                    break
            else:
                return await self._async_say_error(
                    turn, note, "too_many_tool_rounds", limit=str(MAX_TOOL_ITERATIONS)
                )
        except BackendError as err:
            return await self._async_say_error(turn, note, err.key)
        return conversation.async_get_result_from_chat_log(turn.user_input, chat_log)


def _previous_route(chat_log: conversation.ChatLog) -> Route | None:
    """Return the route of the conversation's previous turn, or None.

    Read from the `TurnNote` of the last reply before the newest user message (the
    ChatLog is the conversation: no second store).
    """
    for content in reversed(chat_log.content[:-1]):
        if isinstance(content, conversation.AssistantContent) and isinstance(
            content.native, TurnNote
        ):
            note = content.native
            if note.category not in Category.__members__.values():
                return None
            return Route(Category(note.category), slots=dict(note.slots))
    return None


def _home_places(hass: HomeAssistant) -> set[str]:
    """Lower-case names of the home's zones, areas and floors, and person states."""
    names = {zone.name for zone in hass.states.async_all("zone")}
    names |= {area.name for area in ar.async_get(hass).async_list_areas()}
    names |= {floor.name for floor in fr.async_get(hass).async_list_floors()}
    names |= {person.state for person in hass.states.async_all("person")}
    return {name.strip().lower() for name in names} | {"home", "away"}


def _speech(response: intent.IntentResponse) -> str:
    """Return the plain speech of HA's `response` ("" when it has none)."""
    return str(response.speech.get("plain", {}).get("speech", ""))


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
