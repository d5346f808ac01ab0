"""Adaptive, byte-stable prompts built from HA's ChatLog.

The system prompt is the persona and nothing that changes (no clock, no entity
dump), so every turn's prompt starts with the same bytes and the backend reuses its
KV cache. Per-turn context (the date, the devices for a tool turn, a source's facts)
is appended to the newest user message and stored with the turn (`TurnNote` in the
reply's `native`), so later turns re-send exactly the bytes that were sent before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
import re
from typing import Any

import probatio

from homeassistant.components import conversation
from homeassistant.components.homeassistant.exposed_entities import async_should_expose
from homeassistant.core import HomeAssistant
from homeassistant.helpers import area_registry as ar, entity_registry as er, llm
from homeassistant.helpers.json import json_dumps
from homeassistant.util import dt as dt_util

from .completeness import fact_kinds
from .replies import clock_placeholders
from .router import Category
from .sources.registry import SOURCES

_CONTROL_CHARS = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def clean_text(text: str) -> str:
    """Return `text` with single spaces and without control characters.

    C0/C1 controls, bidi controls (which can reorder what is shown or spoken) and
    lone surrogates (which cannot be encoded to send) become spaces.
    """
    return " ".join(_CONTROL_CHARS.sub(" ", text).split())


# TurnNote categories whose context holds a source's facts.
FACT_CATEGORIES = frozenset(
    {category.value for category in SOURCES} | {Category.MULTI.value}
)
_TEMPORAL = re.compile(
    r"\b(?:today|tonight|tomorrow|yesterday|now|this (?:year|month|week)|next|last|"
    r"date|day|time|year|month|week|weekend|christmas|birthday|holiday|ago|until|"
    r"since|how long|old|age|season)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class TurnNote:
    """What Athena stores in each of its replies' `native` (one per turn).

    `category` and `slots` are the route the turn took (`router.Route`); `context`
    is what was appended to the user message before the reply; `error` marks an
    error message (left out of later prompts); `answered_by` names who wrote the
    reply: local, trigger, intent, default_agent, source, template, multi, or
    the backend kind (ollama / openai).
    """

    category: str = ""
    slots: Mapping[str, str] = field(default_factory=dict)
    context: str = ""
    error: bool = False
    answered_by: str = ""


def turn_context(hass: HomeAssistant, text: str, with_devices: bool) -> str:
    """Return the context for the newest user message: only what `text` needs.

    The clock when the question is temporal; the exposed entities (name, domain,
    area) on a turn that offers device tools. "" when nothing is needed.
    """
    parts = []
    if _TEMPORAL.search(text):
        clock = clock_placeholders(dt_util.now(), "en")
        parts.append(f"Now: {clock['weekday']}, {clock['date']}, {clock['time']}")
    if with_devices:
        parts.append(f"Devices: {_exposed_devices(hass)}")
    return "; ".join(parts)


def _exposed_devices(hass: HomeAssistant) -> str:
    """Names (and areas) of the entities exposed to Assist, sorted, comma-joined."""
    entities = er.async_get(hass)
    areas = ar.async_get(hass)
    names = []
    for state in hass.states.async_all():
        if not async_should_expose(hass, conversation.DOMAIN, state.entity_id):
            continue
        entry = entities.async_get(state.entity_id)
        area = areas.async_get_area(entry.area_id) if entry and entry.area_id else None
        names.append(f"{state.name} ({state.domain}{', ' + area.name if area else ''})")
    return ", ".join(sorted(names))


def format_tool(tool: llm.Tool, serializer: Any) -> dict[str, Any]:
    """Return an HA LLM tool as an OpenAI/Ollama function schema.

    `{"type": "function", "function": {"name", "parameters", "description"?}}`,
    parameters as OpenAPI 3.1 (HA's own conversion, as core's ollama integration).
    """
    spec: dict[str, Any] = {
        "name": tool.name,
        "parameters": probatio.to_openapi(
            tool.parameters, custom_serializer=serializer, openapi_version="3.1.0"
        ),
    }
    if tool.description:
        spec["description"] = tool.description
    return {"type": "function", "function": spec}


def user_message(text: str, context: str) -> str:
    """Return the user message as sent: the text, then the context block if any."""
    return f"{text}\n\n[{context}]" if context else text


def _weather_example(now: bool, chance: bool, fahrenheit: bool) -> tuple[str, str]:
    """Return a weather question, its facts as `weather.py` writes them, an answer.

    The answer copies what the question asks for. Positive figures only: a small
    model copies a minus sign into the wrong place.
    """
    scale, wind = ("Fahrenheit", "miles") if fahrenheit else ("Celsius", "kilometers")
    high, low, temperature = (91, 67, 88) if fahrenheit else (33, 19, 31)
    title = f"Weather for Home, in degrees {scale}:"
    if now:
        return (
            f"what's the weather like\n\n[{title}\nNow: sunny, temperature "
            f"{temperature} degrees.\nNow also: humidity 20 percent, wind 5 {wind} "
            f"per hour.\nToday (Monday, March 2): sunny, high {high} degrees, low "
            f"{low} degrees.\nToday also: wind up to 12 {wind} per hour.]",
            f"Now: sunny, temperature {temperature} degrees.",
        )
    rain = ", 10 percent chance of precipitation" if chance else ""
    return (
        f"will it rain tomorrow\n\n[{title}\nTomorrow (Monday, March 2): sunny, "
        f"high {high} degrees, low {low} degrees{rain}.\nTomorrow also: wind up to "
        f"20 {wind} per hour.]",
        f"Tomorrow: sunny, with a high of {high} degrees and a low of {low} degrees"
        f"{', and a 10 percent chance of precipitation' if chance else ''}.",
    )


def _weather_key(now: bool, chance: bool, fahrenheit: bool) -> str:
    return (
        f"weather_{'now' if now else 'day'}{'_chance' if chance and not now else ''}"
        f"{'_f' if fahrenheit else ''}"
    )


# One worked example per kind of facts, sent just before the newest user message
# on a fact turn: a 135M model copies the shape of an answer it has seen far better
# than it follows an instruction (bench.answer_quality: 0.60 of the replies worded
# by SmolLM2-135M with it, 0.19 without). The history before it is the previous
# turn's prompt, byte for byte, so the backend's KV cache still serves it. Their
# conditions, numbers, dates and teams are ones the completeness check rejects
# when they are not in the real facts, so a copied example is never spoken.
_EXAMPLES: dict[str, tuple[str, str]] = {
    **{
        _weather_key(now, chance, f): _weather_example(now, chance, f)
        for now in (True, False)
        for chance in (True, False)
        for f in (True, False)
    },
    "sports": (
        "how did the hawks do\n\n[Atlanta Hawks (NBA):\nLive: Atlanta Hawks 97, "
        "San Antonio Spurs 113 (4th Quarter).]",
        "Live: Atlanta Hawks 97, San Antonio Spurs 113 (4th Quarter).",
    ),
    "airport": (
        "any delays at springfield\n\n[Springfield Airport (SPI):\nDeparture delays "
        "of 15 minutes to 30 minutes, increasing (reason: weather).\nWeather at KSPI "
        "now: IFR (low clouds or poor visibility), wind N at 12 knots, visibility 2 "
        "miles.]",
        "Departure delays of 15 minutes to 30 minutes, increasing (reason: weather).",
    ),
}


def fact_example(category: str, facts: str) -> list[dict[str, Any]]:
    """Return the worked example for a fact turn: a user message and its answer.

    `category` is the route (weather, sports, airport; multi takes the kind of
    its first fact block), `facts` the facts block, which picks the weather
    example (now or a day, °F or °C). [] for anything else.
    """
    kind = category
    if kind == Category.MULTI.value:
        kind = next(iter(fact_kinds(facts)), "")
    if kind == Category.WEATHER.value:
        kind = _weather_key(
            "\nNow: " in f"\n{facts}",
            "chance of precipitation" in facts,
            "Fahrenheit" in facts,
        )
    if kind not in _EXAMPLES:
        return []
    question, answer = _EXAMPLES[kind]
    return [
        {"role": "user", "content": question},
        {"role": "assistant", "content": answer},
    ]


def _note_after(content: Sequence[conversation.Content], index: int) -> TurnNote:
    """Return the TurnNote of the first assistant reply after `content[index]`."""
    for later in content[index + 1 :]:
        if isinstance(later, conversation.UserContent):
            break
        if isinstance(later, conversation.AssistantContent) and isinstance(
            later.native, TurnNote
        ):
            return later.native
    return TurnNote()


def _assistant_message(item: conversation.AssistantContent) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": item.content or ""}
    if item.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.tool_name, "arguments": call.tool_args},
            }
            for call in item.tool_calls
        ]
    return message


def _trim(turn_starts: list[int], max_turns: int) -> int:
    """Return the index in the content of the first user message to keep.

    `turn_starts` are the indexes of the user messages (the last is the newest
    question); earlier turns are cut in blocks of `keep = max(max_turns // 2, 1)`:
    once more than `max_turns` earlier turns exist, the oldest whole blocks go, so
    between `max_turns - keep + 1` and `max_turns` earlier turns are sent and the
    prompt prefix stays the same for `keep` turns instead of shifting every turn.
    `max_turns <= 0` keeps everything.
    """
    earlier = len(turn_starts) - 1
    if max_turns <= 0 or earlier <= max_turns:
        return turn_starts[0] if turn_starts else 0
    keep = max(max_turns // 2, 1)
    block = (earlier - max_turns - 1) // keep + 1
    return turn_starts[block * keep]


def build_messages(
    system_prompt: str,
    content: Sequence[conversation.Content],
    newest_context: str,
    max_turns: int,
    *,
    with_tools: bool = False,
) -> list[dict[str, Any]]:
    """Convert the ChatLog `content` to `/api/chat` / OpenAI messages.

    `content[0]` (the ChatLog's system content) is replaced by `system_prompt`; the
    last item must be the newest `UserContent`, which gets `newest_context`. Error
    replies are left out; tool results are sent as `tool` messages (JSON). On a turn
    that offers tools (`with_tools`), earlier turns' source facts are left out: text
    from the outside world never sits beside device tools.
    Returns `[{"role", "content", ...}, ...]`.
    """
    turn_starts = [
        i for i, c in enumerate(content) if isinstance(c, conversation.UserContent)
    ]
    first = _trim(turn_starts, max_turns)
    messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt}]
    newest = turn_starts[-1] if turn_starts else -1
    for index in range(first, len(content)):
        item = content[index]
        if isinstance(item, conversation.UserContent):
            note = TurnNote(context=newest_context)
            if index != newest:
                note = _note_after(content, index)
            context = note.context
            if with_tools and index != newest and note.category in FACT_CATEGORIES:
                context = ""
            messages.append(
                {
                    "role": "user",
                    "content": user_message(clean_text(item.content), context),
                }
            )
        elif isinstance(item, conversation.AssistantContent):
            if isinstance(item.native, TurnNote) and item.native.error:
                continue
            if item.content or item.tool_calls:
                messages.append(_assistant_message(item))
        elif isinstance(item, conversation.ToolResultContent):
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": item.tool_call_id,
                    "name": item.tool_name,
                    "content": json_dumps(item.result.data),
                }
            )
    return messages
