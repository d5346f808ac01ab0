"""A loopback Home Assistant WebSocket API with HA's message shapes.

auth_required → auth → auth_ok | auth_invalid; `subscribe_events` answered with a
`result` and later `event` messages carrying the subscription id; `conversation/process`
answered with a ConversationResult dict. Shapes from HA's websocket_api (auth.py,
messages.py) and conversation's `websocket_process`.

`assist_pipeline/pipeline/list` lists `pipelines` (none by default, so the satellite
uses `conversation/process`), and `assist_pipeline/run` from intent to intent answers
with a `result`, then the events of HA's assist_pipeline (`run-start`, `intent-start`,
`intent-progress` with the ChatLog deltas of `stream(command)` — `stream_delay_s`
apart —, `intent-end` with the ConversationResult of `answer`, `run-end`; or an
`error` event when `answer` raises), shaped as `PipelineEvent` in a websocket event.

A hostile HA: `raw_run(run_id)` gives the frames sent after a pipeline run's `result`
instead of its events, `raw_answer` answers `conversation/process` with any frames
(`Frame`: a str is sent as a text frame as it is, bytes as a binary frame, anything
else as JSON), and `handshake` replaces the greeting of the next connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
import json
import time
from typing import Any

from aiohttp import WSMsgType, web

TOKEN = "test-token"
HA_VERSION = "2026.10.4"
Frame = Any  # str: a text frame as is; bytes: a binary frame; else sent as JSON


def conversation_result(
    speech: str, conversation_id: str, continue_conversation: bool = False
) -> dict[str, Any]:
    """A `conversation/process` result as HA's ConversationResult.as_dict() gives it."""
    return {
        "response": {
            "speech": {"plain": {"speech": speech, "extra_data": None}},
            "card": {},
            "language": "en",
            "response_type": "action_done",
            "data": {"targets": [], "success": [], "failed": []},
        },
        "conversation_id": conversation_id,
        "continue_conversation": continue_conversation,
    }


def pipeline(agent_id: str, pipeline_id: str = "01JATHENA") -> dict[str, Any]:
    """One `assist_pipeline/pipeline/list` entry (HA's Pipeline.to_json())."""
    return {
        "conversation_engine": agent_id,
        "conversation_language": "en",
        "id": pipeline_id,
        "language": "en",
        "name": "Athena",
        "stt_engine": None,
        "stt_language": None,
        "tts_engine": None,
        "tts_language": None,
        "tts_voice": None,
        "wake_word_entity": None,
        "wake_word_id": None,
        "prefer_local_intents": False,
    }


def pipeline_event(command_id: int, kind: str, data: Any) -> dict[str, Any]:
    """One event of an `assist_pipeline/run` (HA's PipelineEvent, as sent)."""
    return {
        "id": command_id,
        "type": "event",
        "event": {"type": kind, "data": data, "timestamp": "2026-11-21T08:00:00"},
    }


def result(command_id: int, value: Any) -> dict[str, Any]:
    """A successful `result` message."""
    return {"id": command_id, "type": "result", "success": True, "result": value}


def error(command_id: int, code: str, message: str) -> dict[str, Any]:
    """A failed `result` message (HA's error shape)."""
    error_body = {"code": code, "message": message}
    return {"id": command_id, "type": "result", "success": False, "error": error_body}


async def send(ws: web.WebSocketResponse, frame: Frame) -> None:
    """Send one raw frame (see `Frame`)."""
    if isinstance(frame, str):
        await ws.send_str(frame)
    elif isinstance(frame, bytes):
        await ws.send_bytes(frame)
    else:
        await ws.send_str(json.dumps(frame))


@dataclass
class FakeHA:
    """The fake's state: what it was asked and how it answers."""

    answer: Callable[[dict[str, Any]], dict[str, Any]] = lambda command: (
        conversation_result(f"You said: {command['text']}", "conv-1")
    )
    # If set: the frames an `assist_pipeline/run` gets after its result, for its id.
    raw_run: Callable[[int], list[Frame]] | None = None
    # If set: `conversation/process` is answered with these frames instead.
    raw_answer: Callable[[dict[str, Any]], list[Frame]] | None = None
    # If not empty: sent instead of auth_required on the next connection, then closed.
    handshake: list[Frame] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    subscriptions: dict[int, web.WebSocketResponse] = field(default_factory=dict)
    auth_attempts: int = 0
    delay_s: float = 0.0
    pipelines: list[dict[str, Any]] = field(default_factory=list)
    # The reply's pieces as the agent streams them (none: the reply comes whole).
    stream: Callable[[dict[str, Any]], list[str]] = lambda command: []
    stream_delay_s: float = 0.0
    # Monotonic time each pipeline run's intent-end was sent.
    run_ends: list[float] = field(default_factory=list)
    url: str = ""

    async def handler(self, request: web.Request) -> web.WebSocketResponse:
        """One client connection, served as HA's /api/websocket does."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        if self.handshake:
            for frame in self.handshake:
                await send(ws, frame)
            self.handshake = []
            await ws.close()
            return ws
        await ws.send_json({"type": "auth_required", "ha_version": HA_VERSION})
        auth = await ws.receive_json()
        self.auth_attempts += 1
        if auth.get("type") != "auth" or auth.get("access_token") != TOKEN:
            await ws.send_json(
                {"type": "auth_invalid", "message": "Invalid access token or password"}
            )
            await ws.close()
            return ws
        await ws.send_json({"type": "auth_ok", "ha_version": HA_VERSION})
        self.sockets.append(ws)
        async for message in ws:
            if message.type is not WSMsgType.TEXT:
                break
            command = message.json()
            if command["type"] == "subscribe_events":
                self.subscriptions[command["id"]] = ws
                await ws.send_json(result(command["id"], None))
            elif command["type"] == "conversation/process":
                self.commands.append(command)
                await asyncio.sleep(self.delay_s)
                if self.raw_answer is not None:
                    for frame in self.raw_answer(command):
                        await send(ws, frame)
                    continue
                try:
                    reply = result(command["id"], self.answer(command))
                except Exception as err:  # answered as HA answers a failing command
                    reply = error(command["id"], "home_assistant_error", repr(err))
                await ws.send_json(reply)
            elif command["type"] == "assist_pipeline/pipeline/list":
                preferred = self.pipelines[0]["id"] if self.pipelines else None
                value = {"pipelines": self.pipelines, "preferred_pipeline": preferred}
                await ws.send_json(result(command["id"], value))
            elif command["type"] == "assist_pipeline/run":
                self.commands.append(command)
                await self._run(ws, command)
            else:
                await ws.send_json(
                    error(command["id"], "unknown_command", "Unknown command.")
                )
        self.sockets.remove(ws)
        return ws

    async def _run(self, ws: web.WebSocketResponse, command: dict[str, Any]) -> None:
        """Answer an `assist_pipeline/run` from intent to intent (module docstring)."""
        run_id = command["id"]
        text = command["input"]["text"]
        await ws.send_json(result(run_id, None))
        if self.raw_run is not None:
            for frame in self.raw_run(run_id):
                await send(ws, frame)
            return
        start = {"pipeline": command["pipeline"], "language": "en"}
        start["conversation_id"] = command.get("conversation_id") or "conv-1"
        start["runner_data"] = {"stt_binary_handler_id": None, "timeout": 300}
        await ws.send_json(pipeline_event(run_id, "run-start", start))
        intent_start = {"engine": "conversation.athena", "intent_input": text}
        await ws.send_json(pipeline_event(run_id, "intent-start", intent_start))
        await asyncio.sleep(self.delay_s)
        deltas = [{"role": "assistant"}] + [
            {"content": p} for p in self.stream(command)
        ]
        for delta in deltas:
            progress = {"chat_log_delta": delta}
            await ws.send_json(pipeline_event(run_id, "intent-progress", progress))
            await asyncio.sleep(self.stream_delay_s)
        try:
            output = self.answer(command)
        except Exception as err:  # HA's pipeline reports a failing agent so
            failed = {"code": "intent-failed", "message": repr(err)}
            await ws.send_json(pipeline_event(run_id, "error", failed))
        else:
            end = {"processed_locally": False, "intent_output": output}
            self.run_ends.append(time.monotonic())
            await ws.send_json(pipeline_event(run_id, "intent-end", end))
        await ws.send_json(pipeline_event(run_id, "run-end", None))

    async def fire(self, event_type: str, data: dict[str, Any]) -> None:
        """Send an event to every subscriber (HA's `event` message)."""
        for sub_id, ws in list(self.subscriptions.items()):
            if not ws.closed:
                await ws.send_json(
                    {
                        "id": sub_id,
                        "type": "event",
                        "event": {
                            "event_type": event_type,
                            "data": data,
                            "origin": "LOCAL",
                            "time_fired": "2026-11-21T08:00:00+00:00",
                            "context": {
                                "id": "01J",
                                "parent_id": None,
                                "user_id": None,
                            },
                        },
                    }
                )

    async def drop(self) -> None:
        """Close every client connection (HA restarting)."""
        for ws in list(self.sockets):
            await ws.close()
        self.subscriptions.clear()


async def serve(fake: FakeHA, port: int = 0) -> web.AppRunner:
    """Serve `fake` on 127.0.0.1 (`port` 0: a free one); sets `fake.url`."""
    app = web.Application()
    app.router.add_get("/api/websocket", fake.handler)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = runner.addresses[0][1]
    fake.url = f"ws://127.0.0.1:{bound}/api/websocket"
    return runner
