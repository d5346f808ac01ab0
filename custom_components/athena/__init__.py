"""Athena: a local-first conversation agent for Home Assistant."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_KEY, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.typing import ConfigType

from . import health
from .backends import Backend, create_backend, server
from .const import (
    BACKEND_OPENAI,
    BACKENDS_OF_TYPE,
    CONF_BACKEND,
    CONF_LANES,
    CONF_OPENAI_URL,
    DEFAULT_LANES,
    DOMAIN,
    URL_KEYS,
)
from .redact import redact_url
from .services import async_setup_services
from .sources import Sources, airports
from .stats_entity import async_rename_server_device

if TYPE_CHECKING:
    from .entity import AthenaEntity

_LOGGER = logging.getLogger(__name__)

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
PLATFORMS = (Platform.BINARY_SENSOR, Platform.CONVERSATION, Platform.SENSOR)


@dataclass(frozen=True, slots=True)
class AthenaRuntime:
    """What a loaded config entry holds.

    Its backends (the preferred one first), the settings it was set up with
    (`settings_of`) and the weather, sports and airport sources with their cache.
    """

    backends: tuple[Backend, ...]
    settings: Settings
    sources: Sources = field(default_factory=Sources)
    agents: dict[str, AthenaEntity] = field(default_factory=dict)  # by entity id


type AthenaConfigEntry = ConfigEntry[AthenaRuntime]
# An entry's data, options and subentries (id -> title, data): what a reload applies.
type Settings = tuple[
    dict[str, Any], dict[str, Any], dict[str, tuple[str, dict[str, Any]]]
]


def settings_of(entry: ConfigEntry) -> Settings:
    """Return what setting up `entry` reads (a new title alone changes none of it)."""
    subentries = {i: (sub.title, dict(sub.data)) for i, sub in entry.subentries.items()}
    return dict(entry.data), dict(entry.options), subentries


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Set up the integration (config entries only) and its services."""
    async_setup_services(hass)
    return True


def create_backends(hass: HomeAssistant, entry: ConfigEntry) -> tuple[Backend, ...]:
    """Build the entry's backends in the order they are tried (Auto: OpenAI, Ollama)."""
    lanes = int(entry.options.get(CONF_LANES, DEFAULT_LANES))
    return tuple(
        create_backend(
            hass, kind, entry.data[URL_KEYS[kind]], lanes, entry.data.get(CONF_API_KEY)
        )
        for kind in BACKENDS_OF_TYPE[entry.data[CONF_BACKEND]]
    )


_V1_OPENAI = "mlx"  # VERSION 1's name for the OpenAI-compatible backend


async def async_migrate_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Migrate VERSION 1 (the OpenAI-compatible backend stored as "mlx") to 2.2.

    1 -> 2: entry data backend "mlx" -> "openai", key "mlx_url" -> "openai_url".
    The backend's device and entities keep their entity ids (so their history) and
    get the new unique ids. -> 2.2: the title (the server URLs) loses any
    `user:pass@`. A version newer than this code is refused.
    """
    if entry.version > 2:
        return False
    if (entry.version, entry.minor_version) < (2, 2):
        # First, so that no log line below shows the password.
        hass.config_entries.async_update_entry(entry, title=redact_url(entry.title))
    if entry.version == 1:
        data = dict(entry.data)
        if data.get(CONF_BACKEND) == _V1_OPENAI:
            data[CONF_BACKEND] = BACKEND_OPENAI
        if (url := data.pop(f"{_V1_OPENAI}_url", None)) is not None:
            data[CONF_OPENAI_URL] = url
        old, new = (
            f"{entry.entry_id}_{_V1_OPENAI}",
            f"{entry.entry_id}_{BACKEND_OPENAI}",
        )

        @callback
        def unique_id(entity: er.RegistryEntry) -> dict[str, str] | None:
            if not entity.unique_id.startswith(f"{old}_"):
                return None
            return {"new_unique_id": new + entity.unique_id.removeprefix(old)}

        await er.async_migrate_entries(hass, entry.entry_id, unique_id)
        devices = dr.async_get(hass)
        if device := devices.async_get_device_by_identifier(
            (DOMAIN, old), entry.entry_id
        ):
            devices.async_update_device(device.id, new_identifiers={(DOMAIN, new)})
        hass.config_entries.async_update_entry(entry, data=data, version=2)
        _LOGGER.info("Migrated %s to version 2", entry.title)
    if entry.minor_version < 2:
        hass.config_entries.async_update_entry(entry, minor_version=2)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: AthenaConfigEntry) -> bool:
    """Connect to the backends; not ready while none of them answers."""
    # The router's airport index reads a CSV: once, off the event loop.
    await hass.async_add_executor_job(airports.load)
    backends = create_backends(hass, entry)
    errors = await asyncio.gather(*(health.async_check_reachable(b) for b in backends))
    if all(errors):
        for backend in backends:
            await backend.async_close()
        # Shown in the UI and logged by HA: no credentials (`Backend.url` has none).
        details = redact_url(
            "; ".join(f"{b.url}: {e}" for b, e in zip(backends, errors, strict=True))
        )
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="setup_unreachable",
            translation_placeholders={"details": details},
        )
    # What the servers are names the backends' devices and the entry's title.
    await asyncio.gather(
        *(b.async_identify() for b, e in zip(backends, errors, strict=True) if not e)
    )
    _async_retitle(hass, entry, backends)
    entry.runtime_data = AthenaRuntime(backends=backends, settings=settings_of(entry))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(entry.add_update_listener(_async_reload))
    _async_watch_health(hass, entry)
    return True


@callback
def _async_retitle(
    hass: HomeAssistant,
    entry: ConfigEntry,
    backends: tuple[Backend, ...],
) -> None:
    """Title an entry still named as Athena named it by what its servers are.

    At the first setup or health check where every server has said what it is:
    "http://127.0.0.1:8080" (the URLs, before 0.2) or "OpenAI-compatible server on
    127.0.0.1" (a server too busy during the flow to say more) becomes "llama.cpp on
    127.0.0.1"; a title the user chose stays.
    """
    if not all(b.identified for b in backends):
        return
    urls = [entry.data[URL_KEYS[b.kind]] for b in backends]
    given = {
        server.url_title(urls),
        server.title(
            [(b.unidentified, url) for b, url in zip(backends, urls, strict=True)]
        ),
    }
    if entry.title in given:
        title = server.title([(b.server, b.url) for b in backends])
        hass.config_entries.async_update_entry(entry, title=title)


@callback
def _async_watch_health(hass: HomeAssistant, entry: AthenaConfigEntry) -> None:
    """Keep the repair issues of `health.py` true: now, every minute, every turn."""
    health.check_keep_alive(hass, entry)

    async def async_check(_now: datetime | None = None) -> None:
        await health.async_check(hass, entry)
        await _async_identify_late(hass, entry)

    entry.async_create_background_task(hass, async_check(), "athena health check")
    entry.async_on_unload(
        async_track_time_interval(hass, async_check, health.CHECK_INTERVAL)
    )
    for backend in entry.runtime_data.backends:
        entry.async_on_unload(
            backend.stats.add_listener(lambda: health.check_prompt_fit(hass, entry))
        )


async def _async_identify_late(hass: HomeAssistant, entry: AthenaConfigEntry) -> None:
    """Ask the servers that answer but did not say what they are at setup.

    A server busy at setup (e.g. still loading its model, or HA's own start keeping
    the loop busy past `VALIDATE_TIMEOUT`) would otherwise leave its device named
    "OpenAI-compatible server on <host>" until the next reload.
    """
    backends = entry.runtime_data.backends
    for backend in backends:
        if backend.identified or not backend.stats.reachable:
            continue
        await backend.async_identify()
        if backend.identified:
            async_rename_server_device(hass, entry.entry_id, backend)
            _async_retitle(hass, entry, backends)


async def async_unload_entry(hass: HomeAssistant, entry: AthenaConfigEntry) -> bool:
    """Unload the platforms and close the backends."""
    if not await hass.config_entries.async_unload_platforms(entry, PLATFORMS):
        return False
    for backend in entry.runtime_data.backends:
        await backend.async_close()
    return True


async def _async_reload(hass: HomeAssistant, entry: AthenaConfigEntry) -> None:
    """Reload after a change of data, options or subentries; not for a new title.

    HA calls update listeners for any change, a title too (the user renaming the
    entry, `_async_retitle`); a reload for one would drop the backends' connections
    and figures mid-turn for nothing.
    """
    if settings_of(entry) != entry.runtime_data.settings:
        await hass.config_entries.async_reload(entry.entry_id)
