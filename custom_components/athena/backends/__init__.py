"""Backends: the protocol (`base`), Ollama (`ollama`), OpenAI-compatible (`openai`).

`create_backend` is the one factory: the config flow builds a backend with it to
check a URL, setup builds the entry's backends with it.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from ..const import BACKEND_OLLAMA, BACKEND_OPENAI
from .base import (
    Backend,
    BackendBusy,
    BackendError,
    BackendHTTPError,
    BackendMalformed,
    BackendStats,
    BackendTimeout,
    BackendUnreachable,
    ChatDelta,
    ChatRequest,
    EmptyReply,
    RequestRecord,
    Timeouts,
    ToolCall,
    Usage,
    async_chat,
    async_chat_with_fallback,
    async_list_models_within,
)
from .ollama import OllamaBackend
from .openai import OpenAIBackend
from .server import ServerInfo

__all__ = [
    "Backend",
    "BackendBusy",
    "BackendError",
    "BackendHTTPError",
    "BackendMalformed",
    "BackendStats",
    "BackendTimeout",
    "BackendUnreachable",
    "ChatDelta",
    "ChatRequest",
    "EmptyReply",
    "RequestRecord",
    "ServerInfo",
    "Timeouts",
    "ToolCall",
    "Usage",
    "async_chat",
    "async_chat_with_fallback",
    "async_list_models_within",
    "create_backend",
]


def create_backend(
    hass: HomeAssistant, kind: str, url: str, lanes: int, api_key: str | None = None
) -> Backend:
    """Return the backend of `kind` (`BACKEND_OLLAMA` / `BACKEND_OPENAI`) at `url`.

    `lanes` is how many requests it runs at once. Credentials in `url`
    (`user:pass@`) are sent as HTTP Basic auth; `api_key` (OpenAI-compatible only)
    as a Bearer token instead. Raises `ValueError` for an unknown kind.
    """
    if kind == BACKEND_OLLAMA:
        return OllamaBackend(url, lanes)
    if kind == BACKEND_OPENAI:
        return OpenAIBackend(url, lanes, async_get_clientsession(hass), api_key)
    raise ValueError(f"unknown backend kind {kind!r}")
