"""OpenAI-compatible backend: `mlx_lm.server`, llama.cpp's server, vLLM, LM Studio.

API: https://platform.openai.com/docs/api-reference/chat/streaming (SSE
`data: {...}` chunks, `data: [DONE]`; `stream_options.include_usage` puts the usage in
a final chunk with empty `choices`; `usage.prompt_tokens_details.cached_tokens`).
Shapes seen on real servers are in tests/fixtures/openai-compat/: `mlx_lm.server`
sends `: keepalive` SSE comments before the first `data:`; llama-cpp-python's
server ignores `include_usage` and streams no counts at all (one token per chunk);
llama.cpp's `llama-server` adds `timings` (`prompt_n`, `cache_n`, `predicted_n`,
`predicted_per_second`) to its last chunk (ggml-org/llama.cpp tools/server/README.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import replace
import json
import logging
from typing import Any

import aiohttp
from aiohttp import hdrs

from ..const import BACKEND_OPENAI, VALIDATE_TIMEOUT
from ..redact import redact_url, split_credentials
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
from .server import (
    LLAMA_CPP,
    OLLAMA,
    OPENAI_COMPATIBLE,
    VLLM,
    ServerInfo,
    kind_of_openai_server,
    llama_cpp_build,
    llama_cpp_python_version,
    version_field,
)

_LOGGER = logging.getLogger(__name__)


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


def _object(value: Any, what: str) -> dict[str, Any]:
    """Return `value` as a JSON object ({} for null); else `BackendMalformed`."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BackendMalformed(f"{what} is not an object: {value!r:.80}")
    return value


def _array(value: Any, what: str) -> list[Any]:
    """Return `value` as a JSON array ([] for null); else `BackendMalformed`."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise BackendMalformed(f"{what} is not a list: {value!r:.80}")
    return value


def _string(value: Any, what: str) -> str:
    """Return `value` as a string ("" for null); else `BackendMalformed`."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BackendMalformed(f"{what} is not a string: {value!r:.80}")
    return value


def _count(value: Any, what: str) -> int | None:
    """Return `value` as a token count (None for null); else `BackendMalformed`."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise BackendMalformed(f"{what} is not an integer: {value!r:.80}")
    return value


def parse_usage(usage: dict[str, Any]) -> Usage:
    """Convert an OpenAI `usage` object (with optional cached tokens) to `Usage`.

    Raises `BackendMalformed` for counts that are not integers.
    """
    prompt = _count(usage.get("prompt_tokens"), "prompt_tokens")
    details = _object(usage.get("prompt_tokens_details"), "prompt_tokens_details")
    cached = _count(details.get("cached_tokens"), "cached_tokens")
    return Usage(
        prompt_tokens=prompt,
        cached_tokens=cached,
        evaluated_tokens=(
            prompt - cached if prompt is not None and cached is not None else prompt
        ),
        completion_tokens=_count(usage.get("completion_tokens"), "completion_tokens"),
    )


def _speed(value: Any) -> float | None:
    """Return `value` as tokens per second (None for null); else `BackendMalformed`."""
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise BackendMalformed(f"predicted_per_second is not a number: {value!r:.80}")
    return float(value)


def parse_timings(timings: dict[str, Any], usage: Usage | None) -> Usage:
    """Add llama.cpp's `timings` of a reply to its OpenAI `usage` (None: none sent).

    `prompt_n` is what the server evaluated, `cache_n` what it took from its KV
    cache, `predicted_n` the completion tokens, `predicted_per_second` its own
    generation speed. Raises `BackendMalformed` for values of the wrong type.
    """
    usage = usage or Usage()
    evaluated = _count(timings.get("prompt_n"), "prompt_n")
    cached = _count(timings.get("cache_n"), "cache_n")
    prompt = usage.prompt_tokens
    if prompt is None and evaluated is not None:
        prompt = evaluated + (cached or 0)
    return Usage(
        prompt_tokens=prompt,
        cached_tokens=cached if cached is not None else usage.cached_tokens,
        evaluated_tokens=evaluated if evaluated is not None else usage.evaluated_tokens,
        completion_tokens=(
            usage.completion_tokens
            if usage.completion_tokens is not None
            else _count(timings.get("predicted_n"), "predicted_n")
        ),
        tokens_per_s=_speed(timings.get("predicted_per_second")),
    )


def parse_chunk(
    chunk: dict[str, Any], calls: dict[int, dict[str, str]]
) -> tuple[Usage | None, str]:
    """Read one chat-completion chunk: its usage (or None) and its text.

    The usage is the OpenAI `usage` object, with llama.cpp's `timings` when the
    chunk has them (`parse_timings`).

    Tool-call fragments are joined into `calls` by index (name and argument
    pieces). Raises `BackendError` for an `error` chunk and `BackendMalformed` for
    any part of the wrong type: `choices` not a list, a choice or `delta` not an
    object, `content` not a string, a tool-call fragment, its index, function,
    name or arguments of the wrong type.
    """
    if "error" in chunk:
        raise BackendError(f"server error in stream: {chunk['error']!r:.200}")
    usage = _object(chunk.get("usage"), "usage")
    text = ""
    for choice in _array(chunk.get("choices"), "choices"):
        delta = _object(_object(choice, "choice").get("delta"), "delta")
        for item in _array(delta.get("tool_calls"), "tool_calls"):
            fragment = _object(item, "tool call")
            index = fragment.get("index")
            if index is None:
                index = 0
            if not isinstance(index, int) or isinstance(index, bool):
                raise BackendMalformed(f"tool call index is not an integer: {index!r}")
            function = _object(fragment.get("function"), "tool call function")
            call = calls.setdefault(index, {"name": "", "arguments": ""})
            call["name"] += _string(function.get("name"), "tool name")
            call["arguments"] += _string(function.get("arguments"), "tool arguments")
        text += _string(delta.get("content"), "content")
    parsed = parse_usage(usage) if usage else None
    if timings := _object(chunk.get("timings"), "timings"):
        parsed = parse_timings(timings, parsed)
    return parsed, text


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
    """An OpenAI-compatible server at `url`, over HA's aiohttp session.

    `api_key` is sent as `Authorization: Bearer <key>`; without one, credentials in
    `url` (`user:pass@`) are sent as HTTP Basic auth. Either way the URL the
    requests go to carries no credentials.
    """

    kind = BACKEND_OPENAI
    label = "OpenAI-compatible"
    unidentified = ServerInfo(OPENAI_COMPATIBLE)
    models_must_be_listed = False

    def __init__(
        self,
        url: str,
        lanes: int,
        session: aiohttp.ClientSession,
        api_key: str | None = None,
    ) -> None:
        self.url = redact_url(url)
        self.stats = BackendStats()
        self.lanes = asyncio.Semaphore(lanes)
        self.server = self.unidentified
        self.identified = False
        address, credentials = split_credentials(url)
        self._base = api_base(address)
        self._root = self._base.removesuffix("/v1")
        self._session = session
        self._headers: dict[str, str] = {}
        if api_key:
            self._headers[hdrs.AUTHORIZATION] = f"Bearer {api_key}"
        elif credentials:
            self._headers[hdrs.AUTHORIZATION] = aiohttp.encode_basic_auth(*credentials)

    async def async_list_models(self) -> list[str]:
        """Return the ids from `/v1/models`."""
        try:
            async with self._session.get(
                f"{self._base}/models", headers=self._headers
            ) as response:
                if response.status >= 400:
                    raise BackendHTTPError(
                        response.status, (await response.text())[:200]
                    )
                body = await response.json(content_type=None)
            return [str(m["id"]) for m in body["data"]]
        except aiohttp.ClientConnectionError as err:
            raise BackendUnreachable(str(err)) from err
        except (
            aiohttp.ClientError,
            ValueError,
            AttributeError,
            KeyError,
            TypeError,
        ) as err:
            raise BackendMalformed(f"{type(err).__name__}: {err}"[:200]) from err

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

    async def _get(self, path: str) -> tuple[Any, str | None]:
        """GET `path` from the server's root: its JSON body and `Server` header.

        The body is None when it is not JSON or the status is an error.
        """
        async with self._session.get(
            f"{self._root}{path}", headers=self._headers
        ) as response:
            header = response.headers.get(hdrs.SERVER)
            if response.status >= 400:
                return None, header
            try:
                return await response.json(content_type=None), header
            except ValueError:
                return None, header

    async def async_identify(self) -> ServerInfo:
        """Ask the server what it is (see `server`); the result is also `self.server`.

        Never raises: a server that does not answer within `VALIDATE_TIMEOUT`, or
        says nothing, stays an "OpenAI-compatible server".
        """
        try:
            async with asyncio.timeout(VALIDATE_TIMEOUT):
                self.server = await self._identify()
        except (TimeoutError, aiohttp.ClientError) as err:
            _LOGGER.debug("%s did not say what it is: %r", self.url, err)
        else:
            self.identified = True
        return self.server

    async def _identify(self) -> ServerInfo:
        models, header = await self._get("/v1/models")
        kind = kind_of_openai_server(models, header)
        if kind == LLAMA_CPP:
            props, _ = await self._get("/props")
            return ServerInfo(LLAMA_CPP, "llama-server", llama_cpp_build(props))
        if kind == VLLM:
            return ServerInfo(
                VLLM, version=version_field((await self._get("/version"))[0])
            )
        if kind == OLLAMA:
            body, _ = await self._get("/api/version")
            return ServerInfo(OLLAMA, version=version_field(body))
        if kind is not None:
            return ServerInfo(kind)
        if (header or "").lower().startswith("uvicorn"):
            openapi, _ = await self._get("/openapi.json")
            if version := llama_cpp_python_version(openapi):
                return ServerInfo(LLAMA_CPP, "llama-cpp-python", version)
        return ServerInfo(OPENAI_COMPATIBLE)

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

    async def stream_chat(self, request: ChatRequest) -> AsyncGenerator[StreamItem]:
        """Stream `/v1/chat/completions`; tool-call fragments are joined by index.

        Every chunk is checked by `parse_chunk`: a reply of the wrong shape is a
        `BackendMalformed`, never another exception. The `Usage` comes last; when
        the server sent no completion count, it is the number of chunks with
        text (llama-cpp-python and mlx_lm.server stream one token per chunk).
        """
        calls: dict[int, dict[str, str]] = {}
        usage: Usage | None = None
        text_chunks = 0
        try:
            async with self._session.post(
                f"{self._base}/chat/completions",
                json=self._payload(request, request.max_tokens),
                headers=self._headers,
            ) as response:
                if response.status >= 400:
                    raise BackendHTTPError(
                        response.status, (await response.text())[:200]
                    )
                async for raw in response.content:
                    chunk = parse_sse_line(raw.decode("utf-8", "replace").strip())
                    if chunk is None:
                        continue
                    reported, content = parse_chunk(chunk, calls)
                    if reported is not None:
                        usage = reported
                    if content:
                        text_chunks += 1
                        yield ChatDelta(content=content)
        except aiohttp.ClientPayloadError as err:
            raise BackendUnreachable(f"connection dropped: {err}") from err
        except aiohttp.ClientConnectionError as err:
            raise BackendUnreachable(str(err)) from err
        except aiohttp.ClientError as err:
            raise BackendMalformed(f"{type(err).__name__}: {err}"[:200]) from err
        if calls:
            yield ChatDelta(
                tool_calls=tuple(
                    ToolCall(name=c["name"], arguments=_parse_arguments(c["arguments"]))
                    for _, c in sorted(calls.items())
                )
            )
        usage = usage or Usage()
        if usage.completion_tokens is None:
            usage = replace(usage, completion_tokens=text_chunks)
        yield usage

    async def async_warm_up(self, request: ChatRequest) -> None:
        """Evaluate the system prompt with a one-token completion."""
        async for _ in self.stream_chat(replace(request, max_tokens=1)):
            pass

    async def async_close(self) -> None:
        """Nothing to release: the session is Home Assistant's."""
