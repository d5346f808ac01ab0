"""Loopback fakes of the LLM servers Athena talks to, speaking their real protocols.

`FakeOllama` serves `/api/tags`, `/api/ps`, `/api/show`, `/api/version` and a
streaming `/api/chat` (NDJSON; final chunk with `prompt_eval_count`, `eval_count`,
durations in ns, `done_reason`), shapes from tests/fixtures/ollama/ (Ollama's docs).
`FakeOpenAI` serves `/v1/models` and a streaming `/v1/chat/completions` (SSE with
`: keepalive` comments and a final usage chunk with `cached_tokens`), shapes from
tests/fixtures/openai-compat/ (captures of mlx_lm.server 0.32.2 and llama-cpp-python).

Both simulate one KV slot per model: the tokens evaluated for a request are those of
its rendered prompt beyond the longest common prefix with that model's previous prompt.

`FakeWeb` replays the captured responses of the public APIs (Open-Meteo, ESPN, FAA,
aviationweather.gov) from tests/fixtures/. `FailingResolver` and `RawServer` fail
the way a network does: a name that does not resolve, a server answering bytes
aiohttp must reject.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import copy
from dataclasses import dataclass, field
import json
from pathlib import Path
import re
import socket
import time
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

FIXTURES = Path(__file__).parent / "fixtures"
_TOKEN = re.compile(r"\w+|[^\w\s]")


def render_prompt(messages: list[dict[str, Any]], tools: Any) -> str:
    """Render a chat request as one text, roughly like a ChatML template."""
    parts = []
    if tools:
        parts.append("<|tools|>" + json.dumps(tools, sort_keys=True))
    for message in messages:
        content = message.get("content") or ""
        if calls := message.get("tool_calls"):
            content += json.dumps(calls, sort_keys=True)
        parts.append(f"<|im_start|>{message['role']}\n{content}<|im_end|>")
    return "\n".join(parts)


def tokens(text: str) -> list[str]:
    """A crude tokenizer: words and single punctuation marks."""
    return _TOKEN.findall(text)


def common_prefix(a: list[str], b: list[str]) -> int:
    """Length of the longest common prefix of two token lists."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


async def serve(app: web.Application, port: int = 0) -> tuple[web.AppRunner, str]:
    """Serve `app` on 127.0.0.1 and `port` (0: ephemeral); the runner and base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    return runner, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"


@dataclass
class Recorded:
    """One chat request as received."""

    body: dict[str, Any]
    prompt: str
    prompt_tokens: int
    evaluated_tokens: int


@dataclass
class FakeServer:
    """State shared by both fakes: behaviour knobs and what was received.

    `fault` is one of None, "http_500", "hang" (no first token), "stall" (stops
    after the first token), "drop" (closes the connection mid-stream), "malformed"
    (garbage chunk), "empty" (a reply without text); `reply` maps a request body
    to the reply text or to `("tool", name, arguments)`. `list_fails` makes the
    model listing answer 200 with an empty body, as mlx_lm.server 0.32.2 does when
    its Hugging Face cache folder is missing. `vram_share` is the share of each model
    that Ollama's `/api/ps` reports in GPU memory. Like Ollama, the evaluated tokens
    never exceed the request's `num_ctx` (a longer prompt is cut).

    The fault "bad_chunk" streams `bad_chunk` (any JSON value) as the first chunk,
    in the server's framing, and ends the reply. `delay` is seconds of thinking
    before the first token, `piece_delay` seconds between streamed pieces (a
    model's pace); `finished` gets the monotonic time each streamed reply ended.
    `authorization` holds the Authorization header of every request received (None
    without one).
    """

    models: list[str] = field(default_factory=list)
    fault: str | None = None
    list_fails: bool = False
    vram_share: float = 1.0
    reply: Callable[[dict[str, Any]], Any] = lambda body: (
        "William Shakespeare wrote it."
    )
    requests: list[Recorded] = field(default_factory=list)
    slots: dict[str, list[str]] = field(default_factory=dict)
    bad_chunk: Any = None
    delay: float = 0.0
    piece_delay: float = 0.0
    finished: list[float] = field(default_factory=list)
    authorization: list[str | None] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None
    _app: web.Application | None = None
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    async def stall(self) -> None:
        """Wait like a server that stopped answering, until `stop()`."""
        await self._released.wait()

    def chat_requests(self) -> list[Recorded]:
        """Requests that asked for a reply (warm-ups excluded)."""
        return [r for r in self.requests if not r.body.get("_warm_up")]

    def evaluate(self, body: dict[str, Any]) -> Recorded:
        """Record a chat request and simulate the model's KV slot."""
        prompt = render_prompt(body.get("messages") or [], body.get("tools"))
        toks = tokens(prompt)
        previous = self.slots.get(body.get("model", ""), [])
        cached = common_prefix(previous, toks)
        self.slots[body.get("model", "")] = toks
        evaluated = len(toks) - cached
        if num_ctx := body.get("options", {}).get("num_ctx"):
            evaluated = min(evaluated, num_ctx)
        record = Recorded(body, prompt, len(toks), evaluated)
        self.requests.append(record)
        return record

    @web.middleware
    async def _record_authorization(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        self.authorization.append(request.headers.get("Authorization"))
        return await handler(request)

    def frame(self, chunk: Any) -> bytes:
        """One stream chunk in the server's framing (NDJSON line, SSE event)."""
        return json.dumps(chunk).encode() + b"\n"

    async def _bad_chunk(self, response: web.StreamResponse) -> web.StreamResponse:
        """Send `bad_chunk` as the reply's only chunk (the "bad_chunk" fault)."""
        await response.write(self.frame(self.bad_chunk))
        await response.write_eof()
        return response

    async def start(self, app: web.Application) -> str:
        """Serve `app` on 127.0.0.1 and an ephemeral port; return the base URL."""
        app.middlewares.append(self._record_authorization)
        self._app = app
        self._runner, self.url = await serve(app)
        return self.url

    async def restart(self) -> None:
        """Serve again on the same address after `stop()` (the server came back)."""
        self._released = asyncio.Event()
        app = web.Application(middlewares=[self._record_authorization])
        for route in self._app.router.routes():
            app.router.add_route(route.method, route.resource.canonical, route.handler)
        self._runner, _ = await serve(app, int(self.url.rsplit(":", 1)[1]))

    async def stop(self) -> None:
        """Stop serving (connections are then refused)."""
        self._released.set()
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    def pieces(self, body: dict[str, Any]) -> Any:
        """The reply split into streamed pieces, or a tool call tuple."""
        reply = self.reply(body)
        if isinstance(reply, tuple):
            return reply
        if self.fault == "empty":
            return []
        return re.findall(r"\S+\s*", reply)

    malformed_chunk = b""

    async def _fault_after_first(
        self, request: web.Request, response: web.StreamResponse
    ) -> bool:
        """Apply the faults that happen after the first token; True ends the reply."""
        if self.fault == "stall":
            await self.stall()
        if self.fault == "malformed":
            await response.write(self.malformed_chunk)
            return True
        if self.fault == "drop":
            request.transport.close()
            return True
        return False

    async def misbehave_before_first_token(self) -> web.Response | None:
        """Apply the faults that happen before any text."""
        if self.fault == "http_500":
            return web.json_response({"error": "model crashed"}, status=500)
        if self.fault == "hang":
            await self.stall()
        if self.delay:
            await asyncio.sleep(self.delay)
        return None


class FakeOllama(FakeServer):
    """A fake Ollama server."""

    malformed_chunk = b'{"model": "x", "message": {"content": tru\n'

    async def async_start(self) -> str:
        """Start serving; returns the base URL."""
        if not self.models:
            self.models = [
                m["model"] for m in _fixture("ollama/api-tags.json")["models"]
            ]
        app = web.Application()
        app.router.add_get("/api/tags", self._tags)
        app.router.add_get("/api/ps", self._ps)
        app.router.add_get("/api/version", self._version)
        app.router.add_post("/api/show", self._show)
        app.router.add_post("/api/chat", self._chat)
        return await self.start(app)

    async def _tags(self, request: web.Request) -> web.Response:
        template = _fixture("ollama/api-tags.json")["models"][0]
        return web.json_response(
            {"models": [{**template, "name": m, "model": m} for m in self.models]}
        )

    async def _ps(self, request: web.Request) -> web.Response:
        template = _fixture("ollama/api-ps.json")["models"][0]
        size = template["size"]
        loaded = [
            {
                **template,
                "name": m,
                "model": m,
                "size_vram": int(size * self.vram_share),
            }
            for m in self.models
        ]
        return web.json_response({"models": loaded})

    async def _version(self, request: web.Request) -> web.Response:
        return web.json_response(_fixture("ollama/api-version.json"))

    async def _show(self, request: web.Request) -> web.Response:
        return web.json_response({"modelfile": "", "parameters": "", "template": ""})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if body.get("options", {}).get("num_predict") == 1 and not any(
            m["role"] == "user" for m in body.get("messages", [])
        ):
            body["_warm_up"] = True
        record = self.evaluate(body)
        if (early := await self.misbehave_before_first_token()) is not None:
            return early
        if body.get("stream") is False:
            final = _fixture("ollama/api-chat-stream-final-chunk.json")
            final.update(
                model=body["model"],
                message={"role": "assistant", "content": "Hi"},
                prompt_eval_count=record.evaluated_tokens,
                eval_count=1,
                done_reason="length",
            )
            return web.json_response(final)
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        if self.fault == "bad_chunk":
            return await self._bad_chunk(response)
        first = _fixture("ollama/api-chat-stream-first-chunk.json")
        pieces = self.pieces(body)
        if isinstance(pieces, tuple):
            _, name, arguments = pieces
            chunk = copy.deepcopy(first)
            chunk["model"] = body["model"]
            chunk["message"] = {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"function": {"name": name, "arguments": arguments}}],
            }
            await response.write(json.dumps(chunk).encode() + b"\n")
            pieces = []
        for index, piece in enumerate(pieces):
            if index:
                await asyncio.sleep(self.piece_delay)
            chunk = copy.deepcopy(first)
            chunk["model"] = body["model"]
            chunk["message"]["content"] = piece
            await response.write(json.dumps(chunk).encode() + b"\n")
            if index == 0 and await self._fault_after_first(request, response):
                return response
        final = _fixture("ollama/api-chat-stream-final-chunk.json")
        final.update(
            model=body["model"],
            prompt_eval_count=record.evaluated_tokens,
            eval_count=len(pieces),
            done_reason="stop",
        )
        await response.write(json.dumps(final).encode() + b"\n")
        self.finished.append(time.monotonic())
        await response.write_eof()
        return response


class FakeOpenAI(FakeServer):
    """A fake OpenAI-compatible server shaped like mlx_lm.server 0.32.2."""

    malformed_chunk = b"data: {not json\n\n"

    def frame(self, chunk: Any) -> bytes:
        """One SSE event."""
        return f"data: {json.dumps(chunk)}\n\n".encode()

    async def async_start(self) -> str:
        """Start serving; returns the base URL."""
        if not self.models:
            self.models = [
                m["id"]
                for m in _fixture("openai-compat/mlx_lm-server-0.32.2-models.json")[
                    "data"
                ]
            ]
        app = web.Application()
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/chat/completions", self._chat)
        return await self.start(app)

    async def _models(self, request: web.Request) -> web.Response:
        if self.list_fails:
            return web.Response(content_type="application/json")
        return web.json_response(
            {
                "object": "list",
                "data": [
                    {"id": m, "object": "model", "created": 1795240218}
                    for m in self.models
                ],
            }
        )

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if body.get("max_tokens") == 1 and not any(
            m["role"] == "user" for m in body.get("messages", [])
        ):
            body["_warm_up"] = True
        if body.get("model") not in self.models:
            # mlx_lm.server 0.32.2 offline, for a name that is not its --model path.
            return web.json_response(
                {"error": "Cannot find an appropriate cached snapshot folder"},
                status=404,
            )
        record = self.evaluate(body)
        if (early := await self.misbehave_before_first_token()) is not None:
            return early
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b": keepalive 1/2\n\n: keepalive 2/2\n\n")
        if self.fault == "bad_chunk":
            return await self._bad_chunk(response)
        base = {
            "id": "chatcmpl-10d51f83-6dc2-4431-9ffb-e016e9d17ea9",
            "object": "chat.completion.chunk",
            "model": body["model"],
            "created": 1795240227,
        }
        pieces = self.pieces(body)
        if isinstance(pieces, tuple):
            _, name, arguments = pieces
            call = {
                "index": 0,
                "id": "call_1",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
            await _sse(
                response,
                {
                    **base,
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": None,
                            "delta": {"role": "assistant", "tool_calls": [call]},
                        }
                    ],
                },
            )
            pieces = []
        for index, piece in enumerate(pieces):
            if index:
                await asyncio.sleep(self.piece_delay)
            delta = {"role": "assistant", "content": piece}
            await _sse(
                response,
                {
                    **base,
                    "choices": [{"index": 0, "finish_reason": None, "delta": delta}],
                },
            )
            if index == 0 and await self._fault_after_first(request, response):
                return response
        await _sse(
            response,
            {
                **base,
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "delta": {"role": "assistant"},
                    }
                ],
            },
        )
        usage = {
            "prompt_tokens": record.prompt_tokens,
            "completion_tokens": len(pieces),
            "total_tokens": record.prompt_tokens + len(pieces),
            "prompt_tokens_details": {
                "cached_tokens": record.prompt_tokens - record.evaluated_tokens
            },
        }
        await _sse(
            response,
            {**base, "object": "chat.completion", "choices": [], "usage": usage},
        )
        await response.write(b"data: [DONE]\n\n")
        self.finished.append(time.monotonic())
        await response.write_eof()
        return response


async def _sse(response: web.StreamResponse, chunk: dict[str, Any]) -> None:
    await response.write(f"data: {json.dumps(chunk)}\n\n".encode())


def _fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


# Paths of the public APIs under FakeWeb, as SourceURLs' fields name them.
WEB_APIS = ("open_meteo", "geocoding", "espn", "faa", "aviationweather")


@dataclass
class FakeWeb:
    """A loopback stand-in for the public APIs behind the weather, sports and airport
    answers; each API lives under `/<name>` (see `WEB_APIS`) and replays captures.

    `routes` maps a path (without the API prefix's base URL) to `(status, body,
    content type)`; unknown paths are 404. `hang` holds path prefixes that never
    answer (until `stop()`); `requests` records `(path, query)` of every request.
    """

    routes: dict[str, tuple[int, str, str]] = field(default_factory=dict)
    hang: set[str] = field(default_factory=set)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    def serve(
        self, path: str, fixture: str | None = None, status: int = 200, body: str = ""
    ) -> None:
        """Answer `path` with the file tests/fixtures/`fixture` (or `body`)."""
        if fixture is not None:
            body = (FIXTURES / fixture).read_text()
        kind = (
            "application/xml" if body.lstrip().startswith("<") else "application/json"
        )
        self.routes[path] = (status, body, kind)

    def hits(self, prefix: str) -> list[tuple[str, dict[str, str]]]:
        """The requests whose path starts with `prefix`."""
        return [r for r in self.requests if r[0].startswith(prefix)]

    async def async_start(self) -> str:
        """Serve on 127.0.0.1 and an ephemeral port; returns the base URL."""
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        self._runner, self.url = await serve(app)
        return self.url

    async def stop(self) -> None:
        """Stop serving."""
        self._released.set()
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.query)))
        if any(request.path.startswith(prefix) for prefix in self.hang):
            await self._released.wait()
        if request.path not in self.routes:
            return web.Response(status=404, text="Not Found")
        status, body, kind = self.routes[request.path]
        return web.Response(status=status, text=body, content_type=kind)


class FailingResolver(AbstractResolver):
    """An aiohttp resolver that raises `error` for every name, as a broken or absent
    DNS does (aiodns' `DNSError`, `socket.gaierror`, a `RuntimeError` from a resolver
    bound to another event loop). `calls` counts the names asked for.
    """

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.calls = 0

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Raise `error`."""
        self.calls += 1
        raise self.error

    async def close(self) -> None:
        """Nothing to close."""


@dataclass
class RawServer:
    """A loopback TCP server that reads a request's head, answers `reply` (raw bytes:
    HTTP that aiohttp must reject, or not HTTP at all) and closes the connection.
    `connections` counts the requests.
    """

    reply: bytes
    connections: int = 0
    url: str = ""
    _server: asyncio.Server | None = None

    async def async_start(self) -> str:
        """Serve on 127.0.0.1 and an ephemeral port; returns the base URL."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self.url

    async def stop(self) -> None:
        """Stop serving."""
        if self._server:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            self.connections += 1
            writer.write(self.reply)
            await writer.drain()
        except asyncio.IncompleteReadError, ConnectionError:
            pass
        finally:
            writer.close()
