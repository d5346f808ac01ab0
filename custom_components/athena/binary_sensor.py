"""Diagnostic binary sensor per backend: reachable (last request or health check)."""

from __future__ import annotations

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import AthenaConfigEntry
from .stats_entity import BackendStatsEntity

REACHABLE = BinarySensorEntityDescription(
    key="reachable",
    translation_key="reachable",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AthenaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one reachability sensor per backend."""
    async_add_entities(
        ReachableSensor(entry.entry_id, backend, REACHABLE)
        for backend in entry.runtime_data.backends
    )


class ReachableSensor(BackendStatsEntity, BinarySensorEntity):
    """Whether the backend answered its last request."""

    platform_domain = "binary_sensor"

    @property
    def is_on(self) -> bool | None:
        """True when reachable, None before the first contact."""
        return self.backend.stats.reachable
