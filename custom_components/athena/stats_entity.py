"""Base of the per-backend diagnostic entities (sensor and binary_sensor)."""

from __future__ import annotations

from homeassistant.const import EntityCategory
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.util import slugify

from .backends import Backend, server
from .const import DOMAIN


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
        info = backend.server
        self._attr_device_info = dr.DeviceInfo(
            identifiers={(DOMAIN, f"{entry_id}_{backend.kind}")},
            name=server.describe(info, backend.url),
            manufacturer=None,  # clears "Athena", which devices had before 0.2
            model=info.model,
            sw_version=info.version,
            entry_type=dr.DeviceEntryType.SERVICE,
        )

    async def async_added_to_hass(self) -> None:
        """Update whenever the backend's statistics change."""
        self.async_on_remove(self.backend.stats.add_listener(self.async_write_ha_state))
