"""The fact sources (weather, sports, airports) and what they share.

One module per source (`weather`, `sports` with its team table `teams`, `airport`
with its airport index `airports`), each with an `async_facts` of the `FactSource`
shape; `registry.SOURCES` says which route category each one answers. Shared here:
where they are, how they are fetched (HA's aiohttp session, a 5 s timeout, a
User-Agent), a TTL cache, the error that becomes a spoken sentence, and `Facts`,
what each one answers with.

A fetch that fails in any way is that error, never an exception escaping the turn:
the source's sentence is spoken instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
import json
import logging
import time
from typing import Any

import aiohttp

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

_LOGGER = logging.getLogger(__name__)

FETCH_TIMEOUT = 5.0  # seconds per request
USER_AGENT = (
    "Athena/0.1 (Home Assistant voice assistant;"
    " +https://github.com/athena-assistant/athena)"
)


class SourceError(Exception):
    """A source could not answer (timeout, HTTP error, garbage, nothing found).

    `key` names the sentence spoken instead (`exceptions.<key>` in strings.json),
    `placeholders` fill it.
    """

    def __init__(self, key: str, detail: str, **placeholders: str) -> None:
        super().__init__(f"{key}: {detail}")
        self.key = key
        self.placeholders = placeholders


@dataclass(frozen=True, slots=True)
class Facts:
    """A source's answer.

    `text` is the facts block for the model (short plain lines); `sentence` is a
    plain spoken sentence built from the same facts (the "template answer"), said
    when the backend is down or its reply states a number or time that is not in
    `text`.
    """

    text: str
    sentence: str


@dataclass(frozen=True, slots=True)
class SourceURLs:
    """Base URLs of the public APIs (tests point them at loopback servers)."""

    open_meteo: str = "https://api.open-meteo.com"
    geocoding: str = "https://geocoding-api.open-meteo.com"
    espn: str = "https://site.api.espn.com"
    faa: str = "https://nasstatus.faa.gov"
    aviationweather: str = "https://aviationweather.gov"


@dataclass
class Sources:
    """The sources' URLs and their response cache (one per config entry).

    `session` is the aiohttp session to fetch with; None (the default) is HA's
    shared one (`async_get_clientsession`). Tests give one whose resolver fails.
    """

    urls: SourceURLs = field(default_factory=SourceURLs)
    timeout: float = FETCH_TIMEOUT
    session: aiohttp.ClientSession | None = None
    _cache: dict[str, tuple[float, Any]] = field(default_factory=dict)

    async def async_fetch(
        self,
        hass: HomeAssistant,
        url: str,
        params: dict[str, str] | None,
        ttl: float | Callable[[Any], float],
        error_key: str,
        *,
        as_json: bool = True,
    ) -> Any:
        """GET `url` with `params`; the parsed JSON (or the text), cached `ttl` s.

        `ttl` may be a function of the parsed value (poll faster while it is live).

        Raises `SourceError(error_key)` on a timeout (`self.timeout` s), on any
        other failure of the request (a connection, resolver, SSL, protocol or
        payload error; whatever aiohttp, its resolver or decoding the body as text
        raise), an HTTP status >= 400, an empty body (HTTP 204) or a body that is
        not JSON.
        """
        key = f"{url}?{sorted((params or {}).items())}"
        if (hit := self._cache.get(key)) and hit[0] > time.monotonic():
            return hit[1]
        session = self.session
        if session is None:
            session = async_get_clientsession(hass)
        try:
            async with (
                asyncio.timeout(self.timeout),
                session.get(
                    url, params=params, headers={"User-Agent": USER_AGENT}
                ) as response,
            ):
                body = await response.text()
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as err:
            raise SourceError(error_key, f"{url}: {type(err).__name__} {err}") from err
        except Exception as err:
            # aiohttp wraps only OSErrors of the connection: a resolver's own errors
            # (aiodns' DNSError, a RuntimeError from a resolver bound to another
            # event loop) come through as they are, and decoding the body raises
            # UnicodeDecodeError. The source is unavailable all the same: its
            # sentence is spoken and the turn goes on. The traceback is logged
            # because this is not the usual kind of failure.
            _LOGGER.warning("Unexpected error fetching %s", url, exc_info=True)
            raise SourceError(error_key, f"{url}: {type(err).__name__} {err}") from err
        if status >= 400 or status == 204 or not body.strip():
            raise SourceError(error_key, f"{url}: HTTP {status}, {body[:120]!r}")
        value: Any = body
        if as_json:
            try:
                value = json.loads(body)
            except ValueError as err:
                raise SourceError(error_key, f"{url}: not JSON {body[:80]!r}") from err
        seconds = ttl(value) if callable(ttl) else ttl
        self._cache[key] = (time.monotonic() + seconds, value)
        return value


type FactSource = Callable[
    [HomeAssistant, Sources, Mapping[str, str], Mapping[str, Any]], Awaitable[Facts]
]
"""`async_facts(hass, sources, slots, entry options) -> Facts`; raises `SourceError`."""
