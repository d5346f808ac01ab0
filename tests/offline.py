"""Tests and benches run offline: a guard that fails any test reaching past loopback.

pytest-homeassistant-custom-component blocks sockets (`pytest_socket`) unless a test
asks for `socket_enabled`, and then lets `connect()` reach 127.0.0.1 only; it also
refuses `socket.getaddrinfo` for host names. Two gaps remain, and `offline_guard`
closes them:

- HA's aiohttp session resolves names with aiodns (c-ares opens its own sockets,
  which Python's socket guards never see): on a machine with DNS a test would query
  it, on one without it fails with aiodns errors that do not name the cause. The
  guard wraps the `resolve` of aiohttp's resolvers (and HA's mDNS ones): a name that
  is not loopback raises `OfflineError` (an OSError, so aiohttp reports it as a
  `ClientConnectorDNSError`) naming the host.
- The code under test may catch the error: a source that cannot be reached says its
  sentence, so the test or bench would pass on the spoken error. The guard records
  every blocked attempt (resolver, `socket.getaddrinfo`, pytest_socket's blocked
  `connect()`) and fails the test at teardown, naming the hosts.

Loaded by tests/conftest.py (the autouse fixture is imported there, so the benches'
`from tests.conftest import *` gets it too) and by bench/harness.py (`-p
tests.offline`). A test that checks the guard itself clears `offline_guard.attempts`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
import errno
import ipaddress
import socket
from typing import Any
from unittest.mock import patch

import aiohttp.resolver
import pytest
import pytest_socket

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str | bytes | None) -> bool:
    """Whether `host` (a name or an address; None or "" for a local bind) is local."""
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if not host or host.lower().rstrip(".") in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0]).is_loopback
    except ValueError:
        return False


class OfflineError(OSError):
    """A test or bench tried to reach a host that is not loopback."""

    def __init__(self, host: object, port: object, how: str) -> None:
        # (errno, strerror): aiohttp quotes the strerror in its ClientConnectorError.
        super().__init__(
            errno.ENETUNREACH,
            f"{how} {host}:{port} blocked: tests and benches run offline, only "
            "loopback (127.0.0.1, ::1, localhost) may be reached; serve it from a "
            "loopback fake (tests/fakes.py, e.g. FakeWeb for the sources)",
        )


@dataclass
class Guard:
    """The blocked attempts of the running test, as `host:port (how)`."""

    attempts: list[str] = field(default_factory=list)

    def block(self, host: object, port: object, how: str) -> OfflineError:
        """Record an attempt; the error to raise for it."""
        self.attempts.append(f"{host}:{port} ({how})")
        return OfflineError(host, port, how)


def _resolver_classes() -> list[type[Any]]:
    """aiohttp's resolvers and HA's mDNS ones: each class with its own `resolve`."""
    classes: list[type[Any]] = [
        aiohttp.resolver.ThreadedResolver,
        aiohttp.resolver.AsyncResolver,
    ]
    try:
        from aiohttp_asyncmdnsresolver import api as mdns
    except ImportError:
        return classes
    return [*classes, mdns.AsyncMDNSResolver, mdns.AsyncDualMDNSResolver]


def _guard_resolve(guard: Guard, resolve: Callable[..., Any]) -> Callable[..., Any]:
    async def guarded(
        self: Any, host: str, port: int = 0, *args: Any, **kwargs: Any
    ) -> Any:
        if not is_loopback(host):
            raise guard.block(host, port, "resolving")
        return await resolve(self, host, port, *args, **kwargs)

    return guarded


def _guard_getaddrinfo(guard: Guard, real: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode(errors="replace") if isinstance(host, bytes) else host
        if not is_loopback(name):
            try:
                ipaddress.ip_address(name)  # an address: connect() is guarded
            except ValueError:
                raise guard.block(name, port, "resolving") from None
        return real(host, port, *args, **kwargs)

    return guarded


@pytest.fixture(autouse=True)
def offline_guard() -> Iterator[Guard]:
    """Block and record every attempt to leave loopback; fail the test if any."""
    guard = Guard()

    class RecordedConnectBlocked(pytest_socket.SocketConnectBlockedError):
        def __init__(self, allowed: list[str], host: str | None, *args: Any) -> None:
            super().__init__(allowed, host, *args)
            guard.attempts.append(f"{host} (socket connect)")

    with ExitStack() as stack:
        for cls in _resolver_classes():
            stack.enter_context(
                patch.object(cls, "resolve", _guard_resolve(guard, cls.resolve))
            )
        stack.enter_context(
            patch.object(
                socket, "getaddrinfo", _guard_getaddrinfo(guard, socket.getaddrinfo)
            )
        )
        # pytest_socket's connect() guard raises the class it finds in its module.
        stack.enter_context(
            patch.object(
                pytest_socket, "SocketConnectBlockedError", RecordedConnectBlocked
            )
        )
        yield guard
    if guard.attempts:
        pytest.fail(
            "Tried to leave loopback (tests and benches run offline; serve it from a "
            f"fake in tests/fakes.py): {', '.join(guard.attempts)}",
            pytrace=False,
        )
