"""Home Assistant's WebSocket API: auth, `conversation/process`, the announce event.

Message shapes: https://developers.home-assistant.io/docs/api/websocket (auth_required →
auth → auth_ok | auth_invalid; commands carry an `id` answered by a `result` of that id;
`subscribe_events` delivers `event` messages with the subscription's id).
`Connection.run()` keeps the connection up: a dropped connection or an unreachable HA is
logged and retried with exponential backoff; a rejected token stops it (retrying cannot
fix it) with AuthError.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
import itertools
import logging
from typing import Any

import aiohttp

from .backoff import Backoff

EVENT_ANNOUNCE = "athena_announce"
BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)

_LOGGER = logging.getLogger(__name__)


class AuthError(Exception):
    """Home Assistant rejected the access token (auth_invalid)."""


class NotConnectedError(Exception):
    """Home Assistant cannot be reached now, or the connection dropped mid-request."""


class RequestError(Exception):
    """Home Assistant answered a command with `success: false`."""


@dataclass(frozen=True)
class Reply:
    """What `conversation/process` answered."""

    speech: str
    conversation_id: str | None
    continue_conversation: bool
    response_type: str


def parse_reply(result: dict[str, Any]) -> Reply:
    """Read a `conversation/process` result (HA's ConversationResult.as_dict()).

    Shape: {"response": {"response_type", "speech": {"plain": {"speech"}}, ...},
    "conversation_id", "continue_conversation"}. A reply without speech is "".
    """
    response = result.get("response") or {}
    speech = ((response.get("speech") or {}).get("plain") or {}).get("speech") or ""
    return Reply(
        speech=str(speech).strip(),
        conversation_id=result.get("conversation_id"),
        continue_conversation=bool(result.get("continue_conversation")),
        response_type=str(response.get("response_type", "")),
    )


class Connection:
    """One WebSocket connection to HA, re-established until `close()`.

    `on_announce(data)` is called with each `athena_announce` event's data
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
        self._pending: dict[int, asyncio.Future[Any]] = {}
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
                    ValueError,
                ) as err:
                    reason = err or type(err).__name__
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

    async def _authenticate(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        timeout = self.request_timeout_s
        hello = await asyncio.wait_for(ws.receive_json(), timeout)
        if hello.get("type") != "auth_required":
            raise ValueError(f"expected auth_required, got {hello.get('type')!r}")
        await ws.send_json({"type": "auth", "access_token": self.token})
        answer = await asyncio.wait_for(ws.receive_json(), timeout)
        if answer.get("type") == "auth_invalid":
            raise AuthError(
                f"Home Assistant rejected the token: {answer.get('message', '')}"
            )
        if answer.get("type") != "auth_ok":
            raise ValueError(f"expected auth_ok, got {answer.get('type')!r}")
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
            "connected to Home Assistant %s at %s", hello.get("ha_version"), self.url
        )

    async def _serve(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            data = message.json()
            for item in data if isinstance(data, list) else [data]:
                self._dispatch(item)
        raise aiohttp.ClientConnectionError(f"connection closed ({ws.close_code})")

    def _dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") == "event" and message.get("id") == self._announce_id:
            if self.on_announce is not None:
                self.on_announce(dict(message.get("event", {}).get("data") or {}))
            return
        future = self._pending.pop(message.get("id", -1), None)
        if future is None or future.done() or message.get("type") != "result":
            return
        if message.get("success"):
            future.set_result(message.get("result"))
        else:
            error = message.get("error") or {}
            future.set_exception(
                RequestError(
                    f"{error.get('code', 'error')}: {error.get('message', '')}"
                )
            )

    def _drop(self) -> None:
        self.connected.clear()
        self._ws = None
        for future in self._pending.values():
            if not future.done():
                future.set_exception(
                    NotConnectedError("connection to Home Assistant lost")
                )
        self._pending.clear()

    async def call(self, command: dict[str, Any]) -> Any:
        """Send `command` (without id) and return its result.

        Waits up to `request_timeout_s` for a connection and the answer. Raises
        NotConnectedError (no connection, or lost meanwhile), RequestError (success
        false), asyncio.TimeoutError, or AuthError once HA has rejected the token.
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
        self._pending[command_id] = future
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
    ) -> Reply:
        """Ask a conversation agent (`conversation/process`); errors as for `call`."""
        command: dict[str, Any] = {"type": "conversation/process", "text": text}
        command["language"] = language
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
