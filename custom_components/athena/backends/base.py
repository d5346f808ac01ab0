"""The backend interface shared by Ollama and OpenAI-compatible servers, and Auto.

A backend turns a `ChatRequest` into an async stream of `ChatDelta` (text or tool
calls) that ends with one `Usage`. `async_chat` wraps any backend with the lane
semaphore and its wait limit, the first-token and total timeouts, the cleaning and
cap of the reply text, and the statistics the sensors show;
`async_chat_with_fallback` adds Auto's fallback and cool-down;
`async_list_models_within` is the one reachability check (config flow, setup, the
periodic health check).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import logging
import re
from typing import Any, Protocol

from homeassistant.util import dt as dt_util

from ..const import (
    BACKEND_COOLDOWN,
    LANE_WAIT_TIMEOUT,
    MAX_REPLY_CHARS,
    VALIDATE_TIMEOUT,
)
from .server import ServerInfo

_LOGGER = logging.getLogger(__name__)


class BackendError(Exception):
    """A backend failed; `key` names the translated message (strings.json exceptions).

    `before_first_token` tells whether any reply text had arrived: only errors before
    the first token may fall back to another backend (nothing was said yet).
    """

    key = "backend_error"

    def __init__(self, detail: str, *, before_first_token: bool = True) -> None:
        super().__init__(detail)
        self.before_first_token = before_first_token


class BackendUnreachable(BackendError):
    """Connection refused, DNS failure, or the connection dropped."""

    key = "backend_unreachable"


class BackendTimeout(BackendError):
    """No first token, or no complete reply, within the configured time."""

    key = "backend_timeout"


class BackendBusy(BackendTimeout):
    """Every lane stayed busy for `Timeouts.lane_wait`: the request was never sent."""

    key = "backend_busy"


class BackendHTTPError(BackendError):
    """The server answered with an HTTP error status."""

    key = "backend_http_error"

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status


class BackendMalformed(BackendError):
    """A chunk of the reply stream could not be parsed."""

    key = "backend_malformed"


class EmptyReply(BackendError):
    """The stream ended without any text or tool call."""

    key = "empty_reply"


def falls_back(err: BackendError) -> bool:
    """Return whether Auto may retry `err` on the next backend.

    Only failures before the first token (nothing was said yet): connection
    errors, timeouts (a busy lane included) and HTTP errors, 4xx too (a 404 is a
    model the server does not serve).
    """
    if not err.before_first_token:
        return False
    return isinstance(err, BackendUnreachable | BackendTimeout | BackendHTTPError)


def cools_down(err: BackendError) -> bool:
    """Return whether `err` puts its backend in the cool-down (see `BackendStats`).

    The failures that fall back, except a busy lane: that server is alive.
    """
    return falls_back(err) and not isinstance(err, BackendBusy)


# C0 and C1 control characters except tab and newline, DEL, the bidirectional
# controls (LRE..RLO, LRI..PDI, LRM, RLM, ALM) and lone surrogates.
_UNSPEAKABLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
    "\u2066-\u2069\ud800-\udfff]"
)


def clean_reply_text(text: str) -> str:
    """Return model output `text` without control, bidi-control or surrogate chars.

    Tab and newline stay. Such characters are unspeakable, can reorder what a
    screen shows (U+202E) or break JSON/UTF-8 encoding (lone surrogates).
    """
    return _UNSPEAKABLE.sub("", text)


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A function call the model asked for: name and parsed JSON arguments."""

    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ChatDelta:
    """A piece of the reply: text and/or complete tool calls."""

    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one request, as the server reported them.

    `prompt_tokens` is the whole prompt; `cached_tokens` the part reused from the KV
    cache (OpenAI `usage.prompt_tokens_details.cached_tokens`, llama.cpp
    `timings.cache_n`); `evaluated_tokens` the part the server had to evaluate
    (Ollama `prompt_eval_count`, llama.cpp `timings.prompt_n`). `tokens_per_s` is
    the generation speed the server measured itself (llama.cpp
    `timings.predicted_per_second`, Ollama `eval_count / eval_duration`); without
    it `async_chat` measures completion tokens over the time since the first token.
    None: the server did not say.
    """

    prompt_tokens: int | None = None
    cached_tokens: int | None = None
    evaluated_tokens: int | None = None
    completion_tokens: int | None = None
    tokens_per_s: float | None = None


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One chat call. `messages` are `{"role", "content", ...}` dicts (OpenAI/Ollama).

    `keep_alive` is in seconds (-1 = forever); `tools` are OpenAI-style function
    schemas or None.
    """

    model: str
    messages: list[dict[str, Any]]
    max_tokens: int
    temperature: float
    num_ctx: int
    keep_alive: int
    tools: list[dict[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds until the first token, until the whole reply, and for a free lane.

    The first-token and total timeouts count from when the request is sent;
    `lane_wait` bounds the wait for a free lane before that.
    """

    first_token: float
    total: float
    lane_wait: float = LANE_WAIT_TIMEOUT


type StreamItem = ChatDelta | Usage


class Backend(Protocol):
    """What every backend offers. Methods raise `BackendError` subclasses only.

    `kind` is the stored backend type (`const.BACKEND_OLLAMA` / `BACKEND_OPENAI`),
    `label` its name for people; `url` the server's address with any credentials
    redacted (`redact.redact_url`), safe to log and show; `models_must_be_listed` is
    False where a server may be up without a model list (the user then types a
    model name). `server` is what the server said it is (`async_identify`),
    `unidentified` what it is until then (what names a config entry whose server was
    too busy to say more during the flow); `identified` is False until the server
    has answered that question (a server that timed out or dropped the connection
    is asked again later).
    """

    kind: str
    label: str
    url: str
    server: ServerInfo
    unidentified: ServerInfo
    identified: bool
    stats: BackendStats
    lanes: asyncio.Semaphore
    models_must_be_listed: bool

    async def async_list_models(self) -> list[str]:
        """Return the model names the server offers."""

    def up_without_models(self, err: BackendError) -> bool:
        """Tell whether `err` from `async_list_models` still proves the server is up."""

    async def async_gpu_shares(self) -> dict[str, float]:
        """Return loaded model -> share of it in GPU memory (0..1); {} when unknown."""

    async def async_identify(self) -> ServerInfo:
        """Ask the server its kind and version; set and return `server`. No errors.

        Sets `identified` when the server answered (even saying nothing of itself).
        """

    def stream_chat(self, request: ChatRequest) -> AsyncGenerator[StreamItem]:
        """Stream the reply to `request`: deltas, then one `Usage`."""

    async def async_warm_up(self, request: ChatRequest) -> None:
        """Load the model and evaluate the system prompt so it is in the KV cache."""

    async def async_close(self) -> None:
        """Release connections."""


@dataclass(slots=True)
class RequestRecord:
    """Timings (ms) and token counts of one finished backend request (diagnostics)."""

    model: str
    ok: bool
    latency_ms: float
    ttft_ms: float | None
    prompt_tokens: int | None
    evaluated_tokens: int | None
    cached_tokens: int | None
    completion_tokens: int | None
    tokens_per_s: float | None
    error: str | None = None


# The per-request figures a server may leave out, and why a sensor showing one is
# then unavailable (shown in diagnostics).
REPORTED_FIGURES: dict[str, str] = {
    "evaluated_tokens": (
        "the server reports no evaluated prompt tokens (OpenAI usage.prompt_tokens, "
        "llama.cpp timings.prompt_n, Ollama prompt_eval_count) in a streamed reply"
    ),
    "cached_tokens": (
        "the server reports no cached prompt tokens (OpenAI "
        "usage.prompt_tokens_details.cached_tokens, llama.cpp timings.cache_n)"
    ),
    "completion_tokens": "the server reports no completion tokens",
}


@dataclass(slots=True)
class BackendStats:
    """Running statistics of one backend; listeners are called on every change.

    `retry_at` (UTC) is the end of the cool-down after a failure before the first
    token: until then `async_chat_with_fallback` skips this backend. Any sign of
    life (a request that succeeds, a probe that answers) ends it. `unreported`
    names the figures (`RequestRecord` fields in `REPORTED_FIGURES`) that the last
    successful request came back without, each with the reason: their sensors are
    unavailable rather than Unknown forever (Ollama never reports cached tokens;
    llama-cpp-python's server streams no token counts at all).
    """

    requests: int = 0
    errors: int = 0
    reachable: bool | None = None
    unreachable_since: datetime | None = None  # UTC, while not reachable
    retry_at: datetime | None = None  # UTC, while cooling down
    last: RequestRecord | None = None
    history: deque[RequestRecord] = field(default_factory=lambda: deque(maxlen=20))
    unreported: dict[str, str] = field(default_factory=dict)
    _listeners: list[Callable[[], None]] = field(default_factory=list)

    def add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` after each change; returns the function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def record(self, turn: RequestRecord) -> None:
        """Count one finished request (successful or not).

        A success makes the backend reachable, a connection failure unreachable;
        other errors leave a known reachability as it is (the fallback path
        decides about timeouts and HTTP errors, see `cool_down`).
        """
        self.requests += 1
        if not turn.ok:
            self.errors += 1
        else:
            for name, reason in REPORTED_FIGURES.items():
                if getattr(turn, name) is None:
                    self.unreported[name] = reason
                else:
                    self.unreported.pop(name, None)
        if turn.ok or turn.error == BackendUnreachable.key or self.reachable is None:
            self._set(turn.ok or turn.error != BackendUnreachable.key)
        self.last = turn
        self.history.append(turn)
        for listener in list(self._listeners):
            listener()

    def _set(self, reachable: bool) -> None:
        if not reachable and self.unreachable_since is None:
            self.unreachable_since = dt_util.utcnow()
        elif reachable:
            self.unreachable_since = None
            self.retry_at = None
        self.reachable = reachable

    def set_reachable(self, reachable: bool) -> None:
        """Record the result of a health check (model listing or warm-up)."""
        self._set(reachable)
        for listener in list(self._listeners):
            listener()

    def cool_down(self, seconds: float = BACKEND_COOLDOWN) -> None:
        """Mark the backend unreachable and skip it for `seconds` from now."""
        self.retry_at = dt_util.utcnow() + timedelta(seconds=seconds)
        self.set_reachable(False)

    def cooling_down(self, now: datetime) -> bool:
        """Tell whether the backend is in its cool-down at `now` (UTC)."""
        return self.retry_at is not None and now < self.retry_at

    def _mean(self, values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return round(sum(known) / len(known), 1) if known else None

    @property
    def average_latency_ms(self) -> float | None:
        """Mean latency of the successful requests in the history, ms."""
        return self._mean([t.latency_ms for t in self.history if t.ok])

    @property
    def average_ttft_ms(self) -> float | None:
        """Mean time to first token of the successful requests in the history, ms."""
        return self._mean([t.ttft_ms for t in self.history if t.ok])

    @property
    def average_tokens_per_s(self) -> float | None:
        """Mean generation speed (completion tokens / generation time), tokens/s."""
        return self._mean([t.tokens_per_s for t in self.history if t.ok])


async def async_chat(
    backend: Backend, request: ChatRequest, timeouts: Timeouts
) -> AsyncIterator[ChatDelta]:
    """Stream `request` through `backend` under its lanes, timeouts and statistics.

    Yields `ChatDelta`s whose text is cleaned (`clean_reply_text`) and, over the
    whole reply, capped at `MAX_REPLY_CHARS` characters: the stream stops there and
    the reply keeps what came. Tool calls on a request without tools are dropped
    (logged): nothing could run them. The final `Usage` is recorded in
    `backend.stats`.

    Raises `BackendBusy` when no lane frees up within `timeouts.lane_wait` (the
    request is not sent), `BackendTimeout` when the first token or the whole reply
    takes longer than `timeouts` from the moment the request is sent, `EmptyReply`
    when nothing came back, and the backend's own `BackendError`s.
    """
    try:
        async with asyncio.timeout(timeouts.lane_wait):
            await backend.lanes.acquire()
    except TimeoutError as err:
        busy = BackendBusy(f"no free lane within {timeouts.lane_wait:g} s")
        _LOGGER.warning("%s backend %s: %s", backend.kind, backend.url, busy)
        raise busy from err
    loop = asyncio.get_running_loop()
    start = loop.time()
    first_deadline = start + timeouts.first_token
    total_deadline = start + timeouts.total
    first_token_at: float | None = None
    usage = Usage()
    chars = 0

    def finish(error: BackendError | None) -> None:
        end = loop.time()
        tokens_per_s = usage.tokens_per_s
        if (
            tokens_per_s is None
            and first_token_at is not None
            and usage.completion_tokens
            and end > first_token_at
        ):
            tokens_per_s = usage.completion_tokens / (end - first_token_at)
        if tokens_per_s is not None:
            tokens_per_s = round(tokens_per_s, 1)
        backend.stats.record(
            RequestRecord(
                model=request.model,
                ok=error is None,
                latency_ms=round((end - start) * 1000, 1),
                ttft_ms=(
                    None
                    if first_token_at is None
                    else round((first_token_at - start) * 1000, 1)
                ),
                prompt_tokens=usage.prompt_tokens,
                evaluated_tokens=usage.evaluated_tokens,
                cached_tokens=usage.cached_tokens,
                completion_tokens=usage.completion_tokens,
                tokens_per_s=tokens_per_s,
                error=None if error is None else error.key,
            )
        )

    def deadline() -> float:
        return total_deadline if first_token_at is not None else first_deadline

    try:
        try:
            async with aclosing(backend.stream_chat(request)) as stream:
                while True:
                    async with asyncio.timeout_at(min(deadline(), total_deadline)):
                        item = await anext(stream, None)
                    if item is None:
                        break
                    if isinstance(item, Usage):
                        usage = item
                        continue
                    calls = item.tool_calls
                    if calls and not request.tools:
                        _LOGGER.warning(
                            "%s backend %s: dropped tool calls %s on a request "
                            "that offered no tools",
                            backend.kind,
                            backend.url,
                            [call.name for call in calls],
                        )
                        calls = ()
                    text = clean_reply_text(item.content)
                    capped = len(text) > MAX_REPLY_CHARS - chars
                    text = text[: MAX_REPLY_CHARS - chars]
                    chars += len(text)
                    if text or calls:
                        if first_token_at is None:
                            first_token_at = loop.time()
                        yield ChatDelta(content=text, tool_calls=calls)
                    if capped:
                        _LOGGER.info(
                            "%s backend %s: reply capped at %d characters",
                            backend.kind,
                            backend.url,
                            MAX_REPLY_CHARS,
                        )
                        break
        finally:
            backend.lanes.release()
        if first_token_at is None:
            raise EmptyReply("the stream ended without text")
    except TimeoutError as err:
        timed_out = BackendTimeout(
            f"no first token within {timeouts.first_token:g} s of sending"
            if first_token_at is None
            else f"reply not finished within {timeouts.total} s",
            before_first_token=first_token_at is None,
        )
        _LOGGER.warning("%s backend %s: %s", backend.kind, backend.url, timed_out)
        finish(timed_out)
        raise timed_out from err
    except BackendError as err:
        err.before_first_token = err.before_first_token and first_token_at is None
        _LOGGER.warning("%s backend %s: %s", backend.kind, backend.url, err)
        finish(err)
        raise
    finish(None)


async def async_chat_with_fallback(
    candidates: list[tuple[Backend, ChatRequest]], timeouts: Timeouts
) -> AsyncIterator[tuple[Backend, ChatDelta]]:
    """Stream from the first candidate, falling back to the next one.

    A failure before the first token that `falls_back` moves on to the next
    candidate (Auto: the OpenAI-compatible server first, Ollama second). A backend
    that failed so (`cools_down`) is marked unreachable and skipped for
    `BACKEND_COOLDOWN` seconds, so a dead server costs its timeout once, not every
    turn; the health check probes it meanwhile (`health.async_check`) and any
    answer ends the cool-down. When every candidate is cooling down they are all
    tried, in order: a turn is never refused without trying.

    Yields `(backend that answered, delta)`. Raises the last `BackendError`.
    """
    now = dt_util.utcnow()
    ready = [c for c in candidates if not c[0].stats.cooling_down(now)] or candidates
    if len(ready) < len(candidates):
        _LOGGER.debug(
            "Skipping %s in their cool-down",
            [b.url for b, _ in candidates if b.stats.cooling_down(now)],
        )
    for index, (backend, request) in enumerate(ready):
        try:
            async for delta in async_chat(backend, request, timeouts):
                yield backend, delta
        except BackendError as err:
            if cools_down(err):
                backend.stats.cool_down()
            if index + 1 < len(ready) and falls_back(err):
                _LOGGER.info("Falling back from %s: %s", backend.url, err)
                continue
            raise
        return


async def async_list_models_within(
    backend: Backend, seconds: float = VALIDATE_TIMEOUT
) -> list[str]:
    """List `backend`'s models within `seconds`; [] when it is up but lists none.

    The one reachability check: the config flow, setup and the health check use it.
    Raises `BackendTimeout` (no answer in time) or the backend's `BackendError`.
    """
    try:
        async with asyncio.timeout(seconds):
            return await backend.async_list_models()
    except TimeoutError as err:
        raise BackendTimeout(f"no answer within {seconds:g} s") from err
    except BackendError as err:
        if backend.up_without_models(err):
            _LOGGER.debug("%s is up without a model list: %s", backend.label, err)
            return []
        raise
