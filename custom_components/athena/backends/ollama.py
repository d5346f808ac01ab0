"""Ollama backend: `/api/chat` streaming through the `ollama` client library.

API: https://github.com/ollama/ollama/blob/main/docs/api.md (chat, tags, keep_alive,
options num_ctx / num_predict / temperature; final chunk `prompt_eval_count`,
`eval_count`, durations in ns, `done_reason`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import json
import logging
from typing import Any

import httpx
import ollama
from pydantic import ValidationError

from homeassistant.util.ssl import get_default_context

from ..const import BACKEND_OLLAMA, VALIDATE_TIMEOUT
from ..redact import redact_url, split_credentials
from .base import (
    BackendError,
    BackendHTTPError,
    BackendMalformed,
    BackendStats,
    BackendTimeout,
    BackendUnreachable,
    ChatDelta,
    ChatRequest,
    StreamItem,
    ToolCall,
    Usage,
)
from .server import OLLAMA, ServerInfo, version_field

_LOGGER = logging.getLogger(__name__)


def keep_alive_param(seconds: int) -> int | str:
    """Return Ollama's keep_alive: -1 (forever) as the integer, else "<n>s"."""
    return -1 if seconds < 0 else f"{seconds}s"


def _translate(err: Exception) -> BackendError:
    """Map an ollama/httpx/pydantic exception to a `BackendError`."""
    if isinstance(err, ollama.ResponseError):
        if err.status_code > 0:
            return BackendHTTPError(err.status_code, err.error)
        return BackendError(f"server error in stream: {err.error}")
    if isinstance(err, httpx.TimeoutException):
        return BackendTimeout(str(err) or type(err).__name__)
    if isinstance(err, ConnectionError | httpx.TransportError):
        return BackendUnreachable(str(err) or type(err).__name__)
    return BackendMalformed(f"{type(err).__name__}: {err}"[:200])


# What the client raises for a reply of the wrong shape: a line that is not JSON
# (JSONDecodeError), not an object (`.get` on a list or number: AttributeError), or
# not a chat chunk (pydantic's ValidationError, a ValueError, or TypeError).
_ERRORS = (
    ollama.ResponseError,
    ollama.RequestError,
    httpx.HTTPError,
    ConnectionError,
    json.JSONDecodeError,
    ValidationError,
    AttributeError,
    KeyError,
    TypeError,
    ValueError,
)


class OllamaBackend:
    """An Ollama server at `url`; `lanes` concurrent requests at most.

    Credentials in `url` (`http://user:pass@host:11434`, e.g. behind a reverse
    proxy) are sent as HTTP Basic auth: the client library would drop them.
    """

    kind = BACKEND_OLLAMA
    label = "Ollama"
    unidentified = ServerInfo(OLLAMA)
    models_must_be_listed = True

    def __init__(self, url: str, lanes: int) -> None:
        self.url = redact_url(url)
        self.stats = BackendStats()
        self.lanes = asyncio.Semaphore(lanes)
        self.server = self.unidentified
        self.identified = False
        address, credentials = split_credentials(url)
        self._client = ollama.AsyncClient(
            host=address,
            verify=get_default_context(),
            auth=httpx.BasicAuth(*credentials) if credentials else None,
        )

    async def async_list_models(self) -> list[str]:
        """Return the names from `/api/tags`."""
        try:
            response = await self._client.list()
        except _ERRORS as err:
            raise _translate(err) from err
        return [m.model for m in response.models if m.model]

    def up_without_models(self, err: BackendError) -> bool:
        """Ollama always lists its models: a failed listing means it is not up."""
        return False

    async def async_identify(self) -> ServerInfo:
        """Read Ollama's version (`/api/version`) into `self.server`; never raises.

        The client library has no call for it: its raw request (same host, TLS and
        credentials as every other call) is used.
        """
        try:
            async with asyncio.timeout(VALIDATE_TIMEOUT):
                raw = self._client._request_raw  # the library has no version call
                response = await raw("GET", "/api/version")  # type: ignore[no-untyped-call]
                version = version_field(response.json())
        except (TimeoutError, httpx.TransportError, ConnectionError) as err:
            _LOGGER.debug("%s did not answer for its version: %r", self.url, err)
            return self.server
        except _ERRORS as err:  # it answered, but not with a version
            _LOGGER.debug("%s did not say its version: %r", self.url, err)
        else:
            self.server = ServerInfo(OLLAMA, version=version)
        self.identified = True
        return self.server

    async def async_gpu_shares(self) -> dict[str, float]:
        """Return `/api/ps` as loaded model -> `size_vram / size` (1.0 for size 0)."""
        try:
            response = await self._client.ps()
        except _ERRORS as err:
            raise _translate(err) from err
        return {
            m.model: (int(m.size_vram or 0) / int(m.size)) if m.size else 1.0
            for m in response.models
            if m.model
        }

    def _options(self, request: ChatRequest, num_predict: int) -> dict[str, Any]:
        return {
            "num_ctx": request.num_ctx,
            "num_predict": num_predict,
            "temperature": request.temperature,
        }

    async def stream_chat(self, request: ChatRequest) -> AsyncGenerator[StreamItem]:
        """Stream `/api/chat`; the final chunk's counts become a `Usage`."""
        try:
            stream = await self._client.chat(
                model=request.model,
                messages=request.messages,
                tools=request.tools,
                stream=True,
                keep_alive=keep_alive_param(request.keep_alive),
                options=self._options(request, request.max_tokens),
            )
            async for chunk in stream:
                message = chunk.message
                calls = tuple(
                    ToolCall(
                        name=call.function.name, arguments=dict(call.function.arguments)
                    )
                    for call in message.tool_calls or ()
                )
                if message.content or calls:
                    yield ChatDelta(content=message.content or "", tool_calls=calls)
                if chunk.done:
                    yield Usage(
                        evaluated_tokens=chunk.prompt_eval_count,
                        completion_tokens=chunk.eval_count,
                        tokens_per_s=(
                            chunk.eval_count / (chunk.eval_duration / 1e9)
                            if chunk.eval_count and chunk.eval_duration
                            else None
                        ),
                    )
        except _ERRORS as err:
            raise _translate(err) from err

    async def async_warm_up(self, request: ChatRequest) -> None:
        """Load the model and evaluate the system prompt (`num_predict` 1)."""
        try:
            await self._client.chat(
                model=request.model,
                messages=request.messages,
                stream=False,
                keep_alive=keep_alive_param(request.keep_alive),
                options=self._options(request, 1),
            )
        except _ERRORS as err:
            raise _translate(err) from err

    async def async_close(self) -> None:
        """Close the HTTP client."""
        await self._client.close()  # type: ignore[no-untyped-call]
