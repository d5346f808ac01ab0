"""OpenAI-compatible backend: `mlx_lm.server`, llama.cpp's server, vLLM, LM Studio.

API: https://platform.openai.com/docs/api-reference/chat/streaming (SSE
`data: {...}` chunks, `data: [DONE]`; `stream_options.include_usage` puts the usage in
a final chunk with empty `choices`; `usage.prompt_tokens_details.cached_tokens`).
Shapes seen on real servers are in tests/fixtures/openai-compat/: `mlx_lm.server`
sends `: keepalive` SSE comments before the first `data:`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
import json
from typing import Any

import aiohttp

from ..const import BACKEND_OPENAI
from .base import (
    BackendError,
    BackendHTTPError,
    BackendMalformed,
    BackendStats,
    BackendUnreachable,
    ChatDelta,
    ChatRequest,
    StreamItem,
    ToolCall,
    Usage,
)


def api_base(url: str) -> str:
    """Return the `/v1` base for a server URL given with or without `/v1`."""
    url = url.rstrip("/")
    return url if url.endswith("/v1") else f"{url}/v1"


def parse_sse_line(line: str) -> dict[str, Any] | None:
    """Parse one SSE line; None for blank lines, comments, non-data fields, [DONE].

    Raises `BackendMalformed` for a `data:` line that is not a JSON object.
    """
    if not line.startswith("data:"):
        return None
    data = line[5:].strip()
    if data == "[DONE]":
        return None
    try:
        chunk = json.loads(data)
    except json.JSONDecodeError as err:
        raise BackendMalformed(f"bad SSE data: {data[:80]!r}") from err
    if not isinstance(chunk, dict):
        raise BackendMalformed(f"SSE data is not an object: {data[:80]!r}")
    return chunk


def parse_usage(usage: dict[str, Any]) -> Usage:
    """Convert an OpenAI `usage` object (with optional cached tokens) to `Usage`."""
    prompt = usage.get("prompt_tokens")
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
    return Usage(
        prompt_tokens=prompt,
        cached_tokens=cached,
        evaluated_tokens=(
            prompt - cached if prompt is not None and cached is not None else prompt
        ),
        completion_tokens=usage.get("completion_tokens"),
    )


def _parse_arguments(raw: str) -> dict[str, Any]:
    """Parse streamed tool-call arguments; malformed JSON is a `BackendMalformed`."""
    try:
        arguments = json.loads(raw or "{}")
    except json.JSONDecodeError as err:
        raise BackendMalformed(f"tool arguments are not JSON: {raw[:80]!r}") from err
    if not isinstance(arguments, dict):
        raise BackendMalformed(f"tool arguments are not an object: {raw[:80]!r}")
    return arguments


def _openai_message(message: dict[str, Any]) -> dict[str, Any]:
    """Return `message` with tool-call arguments as the JSON string OpenAI expects."""
    if not message.get("tool_calls"):
        return message
    return {
        **message,
        "tool_calls": [
            {
                **call,
                "function": {
                    **call["function"],
                    "arguments": json.dumps(call["function"]["arguments"]),
                },
            }
            for call in message["tool_calls"]
        ],
    }


class OpenAIBackend:
    """An OpenAI-compatible server at `url`, over HA's aiohttp session."""

    kind = BACKEND_OPENAI
    label = "OpenAI-compatible"
    models_must_be_listed = False

    def __init__(self, url: str, lanes: int, session: aiohttp.ClientSession) -> None:
        self.url = url
        self.stats = BackendStats()
        self.lanes = asyncio.Semaphore(lanes)
        self._base = api_base(url)
        self._session = session

    async def async_list_models(self) -> list[str]:
        """Return the ids from `/v1/models`."""
        try:
            async with self._session.get(f"{self._base}/models") as response:
                if response.status >= 400:
                    raise BackendHTTPError(response.status, await response.text())
                body = await response.json(content_type=None)
            return [m["id"] for m in body["data"]]
        except aiohttp.ClientConnectionError as err:
            raise BackendUnreachable(str(err)) from err
        except (aiohttp.ClientError, ValueError, KeyError, TypeError) as err:
            raise BackendMalformed(f"{type(err).__name__}: {err}") from err

    def up_without_models(self, err: BackendError) -> bool:
        """Tell whether a failed `/v1/models` still proves the server is up.

        mlx_lm.server 0.32.2 without a Hugging Face cache folder answers 200 with an
        empty body (its handler raises `CacheNotFound` after the headers); other
        servers may answer 5xx. A 4xx (e.g. 404 from a server that is not
        OpenAI-compatible) or a connection error is not such a proof.
        """
        if isinstance(err, BackendHTTPError):
            return err.status >= 500
        return isinstance(err, BackendMalformed)

    async def async_gpu_shares(self) -> dict[str, float]:
        """Return {}: the OpenAI API does not say where a model runs."""
        return {}

    def _payload(self, request: ChatRequest, max_tokens: int) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": request.model,
            "messages": [_openai_message(m) for m in request.messages],
            "max_tokens": max_tokens,
            "temperature": request.temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.tools:
            payload["tools"] = request.tools
        return payload

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[StreamItem]:
        """Stream `/v1/chat/completions`; tool-call fragments are joined by index."""
        calls: dict[int, dict[str, str]] = {}
        try:
            async with self._session.post(
                f"{self._base}/chat/completions",
                json=self._payload(request, request.max_tokens),
            ) as response:
                if response.status >= 400:
                    raise BackendHTTPError(
                        response.status, (await response.text())[:200]
                    )
                async for raw in response.content:
                    chunk = parse_sse_line(raw.decode("utf-8", "replace").strip())
                    if chunk is None:
                        continue
                    if "error" in chunk:
                        raise BackendError(f"server error in stream: {chunk['error']}")
                    if usage := chunk.get("usage"):
                        yield parse_usage(usage)
                    for choice in chunk.get("choices") or ():
                        delta = choice.get("delta") or {}
                        for fragment in delta.get("tool_calls") or ():
                            call = calls.setdefault(
                                fragment.get("index", 0), {"name": "", "arguments": ""}
                            )
                            function = fragment.get("function") or {}
                            call["name"] += function.get("name") or ""
                            call["arguments"] += function.get("arguments") or ""
                        if content := delta.get("content"):
                            yield ChatDelta(content=content)
        except aiohttp.ClientPayloadError as err:
            raise BackendUnreachable(f"connection dropped: {err}") from err
        except aiohttp.ClientConnectionError as err:
            raise BackendUnreachable(str(err)) from err
        except aiohttp.ClientError as err:
            raise BackendMalformed(f"{type(err).__name__}: {err}") from err
        except (AttributeError, TypeError) as err:
            raise BackendMalformed(f"unexpected chunk shape: {err}") from err
        if calls:
            yield ChatDelta(
                tool_calls=tuple(
                    ToolCall(name=c["name"], arguments=_parse_arguments(c["arguments"]))
                    for _, c in sorted(calls.items())
                )
            )

    async def async_warm_up(self, request: ChatRequest) -> None:
        """Evaluate the system prompt with a one-token completion."""
        async for _ in self.stream_chat(replace(request, max_tokens=1)):
            pass

    async def async_close(self) -> None:
        """Nothing to release: the session is Home Assistant's."""
