"""Base of the per-backend diagnostic entities (sensor and binary_sensor)."""

from __future__ import annotations

from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.util import slugify

from .backends import Backend, server
from .const import DOMAIN


def server_device_id(entry_id: str, backend: Backend) -> tuple[str, str]:
    """Return the device registry identifier of `backend`'s server device."""
    return (DOMAIN, f"{entry_id}_{backend.kind}")


def server_device_fields(backend: Backend) -> tuple[str, str, str | None]:
    """Return the server device's name, model and software version.

    From what the server said it is (`Backend.server`): ("llama.cpp on 127.0.0.1",
    "llama-cpp-python", "0.3.36").
    """
    info = backend.server
    return server.describe(info, backend.url), info.model, info.version


@callback
def async_rename_server_device(
    hass: HomeAssistant, entry_id: str, backend: Backend
) -> None:
    """Bring the server device up to date with `Backend.server`, once it is known.

    A server that did not answer at setup leaves its device named "OpenAI-compatible
    server on <host>"; the entities keep their `DeviceInfo` until the next reload, so
    the registry entry is updated here. A name the user gave (`name_by_user`) stays.
    """
    registry = dr.async_get(hass)
    device = registry.async_get_device(
        identifiers={server_device_id(entry_id, backend)}
    )
    if device is not None:
        name, model, version = server_device_fields(backend)
        registry.async_update_device(
            device.id, name=name, model=model, sw_version=version
        )


class BackendStatsEntity(Entity):
    """An entity that shows one figure of a backend's `BackendStats`.

    Its device is the backend's server, named and modelled by what the server says
    it is ("llama.cpp on 127.0.0.1", model "llama-cpp-python", version "0.3.36").
    """

    _attr_has_entity_name = True
    _attr_should_poll = False
    _attr_entity_category = EntityCategory.DIAGNOSTIC
    platform_domain: str  # "sensor" or "binary_sensor"

    def __init__(
        self, entry_id: str, backend: Backend, description: EntityDescription
    ) -> None:
        self.backend = backend
        self.entity_description = description
        self._attr_unique_id = f"{entry_id}_{backend.kind}_{description.key}"
        # The entity id is suggested from the backend type and the key, not from the
        # device and entity names: those follow the server and the language, while
        # automations and scripts/ask read these ids (as they were before 0.2).
        self.entity_id = (
            f"{self.platform_domain}.athena_backend_{slugify(backend.label)}"
            f"_{description.key}"
        )
        name, model, version = server_device_fields(backend)
        self._attr_device_info = dr.DeviceInfo(
            identifiers={server_device_id(entry_id, backend)},
            name=name,
            manufacturer=None,  # clears "Athena", which devices had before 0.2
            model=model,
            sw_version=version,
            entry_type=dr.DeviceEntryType.SERVICE,
        )

    async def async_added_to_hass(self) -> None:
        """Update whenever the backend's statistics change."""
        self.async_on_remove(self.backend.stats.add_listener(self.async_write_ha_state))
