"""The offline guard (tests/offline.py): loopback only, anything else fails loudly.

Each test here makes one attempt to leave loopback, checks it was blocked with an
error naming the host, then clears the guard's record (otherwise the guard fails the
test at teardown, which is what it does to any other test). The last test runs a
bench through bench/harness.py on a bench module that swallows the error: the bench
run must still fail, naming the host.
"""

from __future__ import annotations

from pathlib import Path
import socket

import aiohttp
import pytest

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from bench.harness import run
from custom_components.athena.const import BACKEND_OLLAMA

from .conftest import agent_id, ask, make_entry, setup_entry, speech
from .fakes import FakeOllama, FakeWeb
from .offline import Guard, OfflineError


async def test_a_source_on_the_real_host_is_blocked_and_named(
    hass: HomeAssistant, fake_ollama: FakeOllama, offline_guard: Guard
) -> None:
    """The bench.prompt_size failure: a weather turn with the default sources."""
    await setup_entry(hass, make_entry(BACKEND_OLLAMA, ollama=fake_ollama))
    result = await ask(hass, "will it rain tomorrow", agent_id(hass))
    assert speech(result) == "Sorry, I couldn't get the weather forecast right now."
    assert offline_guard.attempts == ["api.open-meteo.com:443 (resolving)"]
    offline_guard.attempts.clear()


async def test_has_session_names_the_host(
    hass: HomeAssistant, socket_enabled: None, offline_guard: Guard
) -> None:
    session = async_get_clientsession(hass)
    with pytest.raises(
        aiohttp.ClientConnectorDNSError, match=r"resolving example\.com:80 blocked"
    ):
        await session.get("http://example.com/")
    assert offline_guard.attempts == ["example.com:80 (resolving)"]
    offline_guard.attempts.clear()


def test_getaddrinfo_names_the_host(socket_enabled: None, offline_guard: Guard) -> None:
    with pytest.raises(OfflineError, match=r"resolving example\.org:443 blocked"):
        socket.getaddrinfo("example.org", 443)
    assert socket.getaddrinfo("127.0.0.1", 80)
    assert offline_guard.attempts == ["example.org:443 (resolving)"]
    offline_guard.attempts.clear()


@pytest.mark.filterwarnings("ignore:A test tried to use socket.socket.connect")
def test_connect_to_an_address_is_blocked(
    socket_enabled: None, offline_guard: Guard
) -> None:
    with socket.socket() as sock, pytest.raises(RuntimeError, match=r"192\.0\.2\.1"):
        sock.settimeout(1)
        sock.connect(("192.0.2.1", 80))  # TEST-NET-1: never routed
    assert offline_guard.attempts == ["192.0.2.1 (socket connect)"]
    offline_guard.attempts.clear()


async def test_loopback_is_allowed(
    hass: HomeAssistant, fake_web: FakeWeb, offline_guard: Guard
) -> None:
    session = async_get_clientsession(hass)
    async with session.get(f"{fake_web.url}/geocoding/v1/search") as response:
        assert response.status == 200
    assert socket.getaddrinfo("localhost", 80)
    assert offline_guard.attempts == []


BENCH = """
import socket

from bench.harness import record


def test_swallows_the_error(socket_enabled):
    try:
        socket.getaddrinfo("api.open-meteo.com", 443)
    except Exception:
        pass
    record(done=True)
"""


def test_bench_harness_fails_loudly(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    bench = tmp_path / "bench_leaves_loopback.py"
    bench.write_text(BENCH)
    with pytest.raises(SystemExit) as exited:
        run(str(bench))
    assert exited.value.code != 0
    out, err = capfd.readouterr()
    assert "Tried to leave loopback" in out + err
    assert "api.open-meteo.com:443 (resolving)" in out + err
