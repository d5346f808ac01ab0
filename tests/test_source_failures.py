"""Every way a source's HTTP call can fail becomes the source's spoken sentence.

A real turn ("will it rain tomorrow", no weather entity, so Open-Meteo is asked for
the home coordinates) through `conversation.async_converse`. Each failure is made
for real: a resolver that raises what broken DNS raises (aiodns' `DNSError`,
`socket.gaierror`, an OSError, a `RuntimeError` from a resolver bound to another
event loop), a closed loopback port, TLS spoken to a plain HTTP server, and loopback
servers answering bytes aiohttp rejects (a truncated body, a body that is not UTF-8,
not HTTP at all, nothing, a redirect loop).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, replace
import logging
import socket

import aiodns.error
import aiohttp
import pytest

from homeassistant.core import HomeAssistant

from custom_components.athena.const import BACKEND_OLLAMA
from custom_components.athena.sources import Sources, SourceURLs

from .conftest import agent_id, ask, make_entry, setup_entry, speech
from .fakes import WEB_APIS, FailingResolver, FakeOllama, FakeWeb, RawServer
from .real_llm import free_port

SAID = "Sorry, I couldn't get the weather forecast right now."


@dataclass
class Failing:
    """Where the sources go, the session to use (None: HA's) and whether the
    failure was met (the resolver asked, the server connected to).
    """

    urls: SourceURLs
    session: aiohttp.ClientSession | None = None
    used: Callable[[], bool] = lambda: True


def at(base: str) -> SourceURLs:
    """Every API under `base` (as `FakeWeb` serves them)."""
    return SourceURLs(**{name: f"{base}/{name}" for name in WEB_APIS})


type Setup = Callable[[], AbstractAsyncContextManager[Failing]]


def resolver_raising(error: BaseException) -> Setup:
    """Sources at the real host names, on a session whose resolver raises `error`
    (nothing leaves the machine: the resolver fails before any socket is opened).
    """

    @asynccontextmanager
    async def setup() -> AsyncIterator[Failing]:
        resolver = FailingResolver(error)
        connector = aiohttp.TCPConnector(resolver=resolver)
        async with aiohttp.ClientSession(connector=connector) as session:
            yield Failing(SourceURLs(), session, lambda: resolver.calls > 0)

    return setup


def raw_server(reply: bytes) -> Setup:
    """Sources on a loopback server that answers `reply` to every request."""

    @asynccontextmanager
    async def setup() -> AsyncIterator[Failing]:
        server = RawServer(reply)
        await server.async_start()
        try:
            yield Failing(at(server.url), used=lambda: server.connections > 0)
        finally:
            await server.stop()

    return setup


@asynccontextmanager
async def closed_port() -> AsyncIterator[Failing]:
    """Sources on a loopback port nobody listens on (connection refused)."""
    yield Failing(at(f"http://127.0.0.1:{free_port()}"))


@asynccontextmanager
async def tls_to_plain_http() -> AsyncIterator[Failing]:
    """Sources at https:// on a plain HTTP loopback server (the TLS handshake fails)."""
    web = FakeWeb()
    await web.async_start()
    try:
        yield Failing(at(web.url.replace("http://", "https://")))
    finally:
        await web.stop()


def _http(head: str, body: bytes = b"") -> bytes:
    return head.replace("\n", "\r\n").encode() + b"\r\n" + body


FAILURES: dict[str, tuple[Setup, str]] = {
    # kind: (how to fail, the error type the turn's log names)
    "dns_error": (
        resolver_raising(aiodns.error.DNSError(4, "Domain name not found")),
        "DNSError",
    ),
    "gaierror": (
        resolver_raising(socket.gaierror(-3, "Temporary failure in name resolution")),
        "ClientConnectorDNSError",
    ),
    "os_error": (
        resolver_raising(OSError(101, "Network is unreachable")),
        "ClientConnectorDNSError",
    ),
    "resolver_runtime_error": (
        resolver_raising(
            RuntimeError(
                "Task got Future <Future pending> attached to a different loop"
            )
        ),
        "RuntimeError",
    ),
    "connection_refused": (closed_port, "ClientConnectorError"),
    "ssl": (tls_to_plain_http, "ClientConnectorSSLError"),
    "truncated_body": (
        raw_server(
            _http("HTTP/1.1 200 OK\nContent-Length: 500\n", b'{"latitude": 38.9')
        ),
        "ClientPayloadError",
    ),
    "body_not_utf8": (
        raw_server(
            _http(
                "HTTP/1.1 200 OK\nContent-Type: application/json; charset=utf-8\n"
                "Content-Length: 6\n",
                b'{"\xff\xfe"}',
            )
        ),
        "UnicodeDecodeError",
    ),
    "not_http": (raw_server(b"SSH-2.0-OpenSSH_9.6\r\n\r\n"), "ClientResponseError"),
    "closed_without_reply": (raw_server(b""), "ServerDisconnectedError"),
    "redirect_loop": (
        raw_server(
            _http(
                "HTTP/1.1 302 Found\nLocation: /open_meteo/v1/forecast\n"
                "Connection: close\n"
                "Content-Length: 0\n"
            )
        ),
        "TooManyRedirects",
    ),
}


@pytest.mark.parametrize("kind", FAILURES)
async def test_fetch_failure_is_the_sources_sentence(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    caplog: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    setup, error_type = FAILURES[kind]
    entry = make_entry(BACKEND_OLLAMA, ollama=fake_ollama)
    await setup_entry(hass, entry)
    agent = agent_id(hass)
    caplog.set_level(logging.INFO, "custom_components.athena")
    async with setup() as failing:
        entry.runtime_data = replace(
            entry.runtime_data,
            sources=Sources(urls=failing.urls, timeout=2, session=failing.session),
        )
        result = await ask(hass, "will it rain tomorrow", agent)
        assert failing.used()
    assert speech(result) == SAID
    assert fake_ollama.chat_requests() == []
    failed = [
        r.getMessage() for r in caplog.records if "Source failed" in r.getMessage()
    ]
    assert len(failed) == 1
    assert error_type in failed[0]
