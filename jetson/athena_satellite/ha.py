"""Home Assistant's WebSocket API: auth, `conversation/process`, the announce event.

Message shapes: https://developers.home-assistant.io/docs/api/websocket (auth_required →
auth → auth_ok | auth_invalid; commands carry an `id` answered by a `result` of that id;
`subscribe_events` delivers `event` messages with the subscription's id).
`Connection.run()` keeps the connection up: a dropped connection or an unreachable HA is
logged and retried with exponential backoff; a rejected token stops it (retrying cannot
fix it) with AuthError.

Nothing HA sends is trusted: every message is checked against the schema of its type
before it is used. A message that fails (not JSON, not an object, an unknown type, a
field of the wrong type) is logged and dropped, and the connection goes on; if it was
the answer to a waiting request, that request fails with RequestError at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
import itertools
import json
import logging
from typing import Any

import aiohttp
import voluptuous as vol

from .backoff import Backoff

EVENT_ANNOUNCE = "athena_announce"
BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)
# How much of a dropped message (or of the reason) goes into the log.
LOG_EXCERPT = 200

_LOGGER = logging.getLogger(__name__)


class AuthError(Exception):
    """Home Assistant rejected the access token (auth_invalid)."""


class NotConnectedError(Exception):
    """Home Assistant cannot be reached now, or the connection dropped mid-request."""


class RequestError(Exception):
    """Home Assistant answered a command with `success: false`, or malformed."""


class InvalidMessage(Exception):
    """A message from Home Assistant that is not what its API sends."""


def _message_id(value: Any) -> int:
    # bool is an int in Python, and True == 1 would match request 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise vol.Invalid("expected an integer id")
    return value


def _message(kind: str, fields: dict[Any, Any]) -> vol.Schema:
    # Keys HA adds in later versions are allowed (and ignored): only what is used is
    # checked.
    return vol.Schema({vol.Required("type"): kind, **fields}, extra=vol.ALLOW_EXTRA)


_ERROR = {vol.Required("code"): str, vol.Required("message"): str}
_RESULT = _message(
    "result", {vol.Required("id"): _message_id, vol.Required("success"): bool}
)
_SUCCESS = _message("result", {vol.Optional("result", default=None): object})
_FAILURE = _message("result", {vol.Required("error"): _ERROR})


def _result(data: Any) -> dict[str, Any]:
    """Check a `result` message: a `result` if `success`, else an `error`."""
    message: dict[str, Any] = _RESULT(data)
    return (_SUCCESS if message["success"] else _FAILURE)(message)


# One schema per message type HA sends to a client.
MESSAGES: dict[str, Callable[[Any], dict[str, Any]]] = {
    "auth_required": _message("auth_required", {vol.Optional("ha_version"): str}),
    "auth_ok": _message("auth_ok", {vol.Optional("ha_version"): str}),
    "auth_invalid": _message("auth_invalid", {vol.Optional("message"): str}),
    "result": _result,
    "event": _message(
        "event", {vol.Required("id"): _message_id, vol.Required("event"): dict}
    ),
    "pong": _message("pong", {vol.Required("id"): _message_id}),
}
# An `athena_announce` event (the `event` of an `event` message).
ANNOUNCE = vol.Schema(
    {
        vol.Optional("event_type", default=EVENT_ANNOUNCE): EVENT_ANNOUNCE,
        vol.Required("data"): {
            vol.Required("message"): str,
            vol.Optional("satellite", default=None): vol.Any(None, str),
        },
    },
    extra=vol.ALLOW_EXTRA,
)
# A `conversation/process` result: HA's ConversationResult.as_dict(). `speech` is {}
# when the agent said nothing; it may hold other kinds than `plain` (ssml).
CONVERSATION_RESULT = vol.Schema(
    {
        vol.Required("response"): {
            vol.Required("speech"): {
                vol.Optional("plain"): {vol.Required("speech"): str}
            },
            vol.Optional("response_type", default=""): str,
        },
        vol.Optional("conversation_id", default=None): vol.Any(None, str),
        vol.Optional("continue_conversation", default=False): bool,
    },
    extra=vol.ALLOW_EXTRA,
)


def validate_message(data: Any) -> dict[str, Any]:
    """Check one decoded message from HA against the schema of its `type`.

    Returns the message (defaults filled in). Raises InvalidMessage saying what is wrong
    (uncut: callers cut it, see `_excerpt`).
    """
    if not isinstance(data, dict):
        raise InvalidMessage(f"not an object but {type(data).__name__}")
    kind = data.get("type")
    schema = MESSAGES.get(kind) if isinstance(kind, str) else None
    if schema is None:
        raise InvalidMessage(f"unknown type {kind!r}")
    try:
        return schema(data)
    except vol.Invalid as err:
        raise InvalidMessage(f"invalid {kind} message: {err}") from err


@dataclass(frozen=True)
class Reply:
    """What `conversation/process` answered."""

    speech: str
    conversation_id: str | None
    continue_conversation: bool
    response_type: str


def parse_reply(result: Any) -> Reply:
    """Read a `conversation/process` result (HA's ConversationResult.as_dict()).

    Shape: {"response": {"response_type", "speech": {"plain": {"speech"}}, ...},
    "conversation_id", "continue_conversation"}. A reply without plain speech is "".
    Raises RequestError for a result of another shape.
    """
    try:
        valid = CONVERSATION_RESULT(result)
    except vol.Invalid as err:
        raise RequestError(
            f"malformed conversation/process result: {_excerpt(str(err))}"
        ) from err
    response = valid["response"]
    return Reply(
        speech=response["speech"].get("plain", {}).get("speech", "").strip(),
        conversation_id=valid["conversation_id"],
        continue_conversation=valid["continue_conversation"],
        response_type=response["response_type"],
    )


def _excerpt(text: str, limit: int = LOG_EXCERPT) -> str:
    """`text` cut to `limit` characters for a log line or an error message."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters)"


class Connection:
    """One WebSocket connection to HA, re-established until `close()`.

    `on_announce(data)` is called with each valid `athena_announce` event's data
    ({"message": str, "satellite": str | None}).
    """

    def __init__(
        self,
        url: str,
        token: str,
        on_announce: Callable[[dict[str, Any]], None] | None = None,
        request_timeout_s: float = 30.0,
        backoff_s: tuple[float, ...] = BACKOFF_S,
    ) -> None:
        self.url = url
        self.token = token
        self.on_announce = on_announce
        self.request_timeout_s = request_timeout_s
        self.backoff_s = backoff_s
        self.connected = asyncio.Event()
        self.connects = 0  # successful authentications so far
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        # Waiting requests by id: the message type that answers them, and their future.
        self._pending: dict[int, tuple[str, asyncio.Future[Any]]] = {}
        self._announce_id: int | None = None
        self._closing = False
        self.auth_error: AuthError | None = None

    async def run(self) -> None:
        """Connect, authenticate, subscribe and read until closed; reconnect on loss.

        Raises AuthError if the token is rejected.
        """
        backoff = Backoff(self.backoff_s)
        async with aiohttp.ClientSession() as session:
            while not self._closing:
                reason: object = "connection closed"
                try:
                    async with session.ws_connect(self.url, heartbeat=30) as ws:
                        await self._authenticate(ws)
                        backoff.reset()
                        await self._serve(ws)
                except AuthError as err:
                    self.auth_error = err
                    self.connected.set()  # wake waiting requests: they raise it
                    raise
                except (
                    aiohttp.ClientError,
                    OSError,
                    asyncio.TimeoutError,
                    InvalidMessage,
                    ValueError,
                ) as err:
                    reason = str(err) or type(err).__name__
                finally:
                    # Before any backoff: waiting requests fail now, new ones wait.
                    self._drop()
                if self._closing:
                    break
                delay = backoff.next_delay()
                _LOGGER.warning(
                    "Home Assistant at %s unreachable (%s); retrying in %.0f s",
                    self.url,
                    reason,
                    delay,
                )
                await asyncio.sleep(delay)

    async def _expect(
        self, ws: aiohttp.ClientWebSocketResponse, *kinds: str
    ) -> dict[str, Any]:
        """Return the next handshake message; raise InvalidMessage unless of `kinds`."""
        frame = await asyncio.wait_for(ws.receive(), self.request_timeout_s)
        if frame.type is not aiohttp.WSMsgType.TEXT:
            raise InvalidMessage(f"expected {kinds[0]}, got a {frame.type.name} frame")
        try:
            message = validate_message(json.loads(frame.data))
        except (ValueError, RecursionError, InvalidMessage) as err:
            # JSONDecodeError is a ValueError.
            reason = self._redact_excerpt(str(err))
            raise InvalidMessage(f"expected {kinds[0]}: {reason}") from err
        if message["type"] not in kinds:
            raise InvalidMessage(f"expected {kinds[0]}, got {message['type']}")
        return message

    async def _authenticate(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        hello = await self._expect(ws, "auth_required")
        await ws.send_json({"type": "auth", "access_token": self.token})
        answer = await self._expect(ws, "auth_ok", "auth_invalid")
        if answer["type"] == "auth_invalid":
            raise AuthError(
                "Home Assistant rejected the token: "
                + self._redact_excerpt(answer.get("message", ""))
            )
        self._ws = ws
        self._announce_id = next(self._ids)
        await ws.send_json(
            {
                "id": self._announce_id,
                "type": "subscribe_events",
                "event_type": EVENT_ANNOUNCE,
            }
        )
        self.connects += 1
        self.connected.set()
        _LOGGER.info(
            "connected to Home Assistant %s at %s",
            _excerpt(hello.get("ha_version", "?"), 40),
            self.url,
        )

    async def _serve(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in ws:
            if frame.type is aiohttp.WSMsgType.TEXT:
                self._receive_frame(frame.data)
            elif frame.type is aiohttp.WSMsgType.BINARY:
                self._ignore("a binary frame", f"{len(frame.data)} bytes")
            else:  # an error: the connection is unusable
                break
        raise aiohttp.ClientConnectionError(f"connection closed ({ws.close_code})")

    def _receive_frame(self, text: str) -> None:
        """Act on one text frame: a message, or a list of them (HA batches them)."""
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as err:  # JSONDecodeError is a ValueError
            self._ignore(f"not JSON ({err})", text)
            return
        for item in data if isinstance(data, list) else [data]:
            self._receive(item, text)

    def _receive(self, data: Any, frame: str) -> None:
        """Act on one decoded message; `frame` is its text, for the log."""
        request = self._take_request(data)
        try:
            message = validate_message(data)
        except InvalidMessage as err:
            reason = self._redact_excerpt(str(err))
            self._ignore(reason, frame)
            if request is not None and not request.done():
                request.set_exception(
                    RequestError(f"malformed answer from Home Assistant: {reason}")
                )
            return
        if request is not None:
            self._answer(request, message)
        elif message["type"] == "event" and message["id"] == self._announce_id:
            self._announce(message["event"], frame)
        elif message["type"] == "result" and message["id"] == self._announce_id:
            if not message["success"]:
                _LOGGER.warning(
                    "Home Assistant refused the %s subscription: %s",
                    EVENT_ANNOUNCE,
                    self._redact_excerpt(str(message["error"])),
                )
        else:
            self._ignore(f"unexpected {message['type']} message", frame)

    def _take_request(self, data: Any) -> asyncio.Future[Any] | None:
        """Remove and return the waiting request that `data` answers, if any.

        An answer has the request's id and the type that answers it (`result`): an
        event or a stray message that merely reuses the id is not its answer.
        """
        request_id = data.get("id") if isinstance(data, dict) else None
        if isinstance(request_id, bool) or not isinstance(request_id, int):
            return None
        waiting = self._pending.get(request_id)
        if waiting is None or data.get("type") != waiting[0]:
            return None
        del self._pending[request_id]
        return waiting[1]

    def _answer(self, future: asyncio.Future[Any], message: dict[str, Any]) -> None:
        """Resolve a waiting request with its valid answer."""
        if future.done():  # cancelled (timed out) meanwhile
            return
        if message["type"] != "result" or message["success"]:
            future.set_result(message.get("result"))
        else:
            error = message["error"]
            future.set_exception(
                RequestError(
                    self._redact_excerpt(f"{error['code']}: {error['message']}")
                )
            )

    def _announce(self, event: dict[str, Any], frame: str) -> None:
        try:
            data = ANNOUNCE(event)["data"]
        except vol.Invalid as err:
            self._ignore(f"invalid {EVENT_ANNOUNCE} event: {err}", frame)
            return
        if self.on_announce is not None:
            self.on_announce(data)

    def _ignore(self, reason: str, frame: str) -> None:
        _LOGGER.warning(
            "dropped a message from Home Assistant: %s: %s",
            self._redact_excerpt(reason),
            self._redact_excerpt(frame),
        )

    def _redact_excerpt(self, text: str) -> str:
        """`text` without the access token (a hostile HA could echo it), cut short."""
        return _excerpt(text.replace(self.token, "<token>") if self.token else text)

    def _drop(self) -> None:
        self.connected.clear()
        self._ws = None
        for _kind, future in self._pending.values():
            if not future.done():
                future.set_exception(
                    NotConnectedError("connection to Home Assistant lost")
                )
        self._pending.clear()

    async def call(self, command: dict[str, Any]) -> Any:
        """Send `command` (without id) and return its result.

        Waits up to `request_timeout_s` for a connection and the answer. Raises
        NotConnectedError (no connection, or lost meanwhile), RequestError (success
        false, or a malformed answer), asyncio.TimeoutError, or AuthError once HA has
        rejected the token.
        """
        return await asyncio.wait_for(self._call(command), self.request_timeout_s)

    async def _call(self, command: dict[str, Any]) -> Any:
        if self.auth_error is None:
            await self.connected.wait()
        if self.auth_error is not None:
            raise self.auth_error
        ws = self._ws
        if ws is None:
            raise NotConnectedError("not connected to Home Assistant")
        command_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        answered_by = "pong" if command.get("type") == "ping" else "result"
        self._pending[command_id] = (answered_by, future)
        try:
            await ws.send_json({"id": command_id, **command})
        except (aiohttp.ClientError, ConnectionError) as err:
            self._pending.pop(command_id, None)
            raise NotConnectedError(f"sending to Home Assistant failed: {err}") from err
        try:
            return await future
        finally:
            self._pending.pop(command_id, None)

    async def process(
        self,
        text: str,
        agent_id: str | None,
        conversation_id: str | None,
        language: str,
        device_id: str | None = None,
    ) -> Reply:
        """Ask a conversation agent (`conversation/process`); errors as for `call`.

        `device_id` is the HA device the command was said on: HA's intents then
        prefer its area ("turn on the lights" lights that room), as for its own
        voice satellites.
        """
        command: dict[str, Any] = {"type": "conversation/process", "text": text}
        command["language"] = language
        if device_id:
            command["device_id"] = device_id
        if agent_id:
            command["agent_id"] = agent_id
        if conversation_id:
            command["conversation_id"] = conversation_id
        return parse_reply(await self.call(command))

    async def close(self) -> None:
        """Stop reconnecting and close the socket."""
        self._closing = True
        if self._ws is not None:
            await self._ws.close()
