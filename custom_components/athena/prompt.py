"""Adaptive, byte-stable prompts built from HA's ChatLog.

The system prompt is the persona and nothing that changes (no clock, no entity
dump), so every turn's prompt starts with the same bytes and the backend reuses its
KV cache. Per-turn context (the date, the devices for a tool turn) is appended to the
newest user message and stored with the turn (`TurnNote` in the reply's `native`), so
later turns re-send exactly the bytes that were sent before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import re
from typing import Any

from homeassistant.components import conversation
from homeassistant.helpers.json import json_dumps

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Return `text` without control characters and with single spaces."""
    return " ".join(_CONTROL_CHARS.sub(" ", text).split())


@dataclass(frozen=True, slots=True)
class TurnNote:
    """What Athena stores in an assistant reply's `native`.

    `context` is what was appended to the user message before the reply; `error`
    marks an error message (left out of later prompts); `answered_by` names the path.
    """

    context: str = ""
    error: bool = False
    answered_by: str = ""


def user_message(text: str, context: str) -> str:
    """Return the user message as sent: the text, then the context block if any."""
    return f"{text}\n\n[{context}]" if context else text


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
    """Return the index of the first user message to keep.

    History is cut in blocks: when more than `max_turns` earlier turns exist, only the
    newest `max_turns // 2` are kept, so the prompt prefix stays the same for the next
    `max_turns // 2` turns instead of shifting every turn.
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
) -> list[dict[str, Any]]:
    """Convert the ChatLog `content` to `/api/chat` / OpenAI messages.

    `content[0]` (the ChatLog's system content) is replaced by `system_prompt`; the
    last item must be the newest `UserContent`, which gets `newest_context`. Error
    replies are left out; tool results are sent as `tool` messages (JSON).
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
            context = (
                newest_context
                if index == newest
                else _note_after(content, index).context
            )
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
