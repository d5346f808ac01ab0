"""Base of the per-backend diagnostic entities (sensor and binary_sensor)."""

from __future__ import annotations

from homeassistant.const import EntityCategory
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity import Entity, EntityDescription

from .backends import Backend
from .const import DOMAIN


class BackendStatsEntity(Entity):
    """An entity that shows one figure of a backend's `BackendStats`."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(
        self, entry_id: str, backend: Backend, description: EntityDescription
    ) -> None:
        self.backend = backend
        self.entity_description = description
        self._attr_unique_id = f"{entry_id}_{backend.kind}_{description.key}"
        self._attr_device_info = dr.DeviceInfo(
            identifiers={(DOMAIN, f"{entry_id}_{backend.kind}")},
            name=f"Athena backend {backend.label}",
            manufacturer="Athena",
            model=backend.label,
            entry_type=dr.DeviceEntryType.SERVICE,
        )

    async def async_added_to_hass(self) -> None:
        """Update whenever the backend's statistics change."""
        self.async_on_remove(self.backend.stats.add_listener(self.async_write_ha_state))
