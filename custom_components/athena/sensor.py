"""Diagnostic sensors per backend: requests, errors, latency, tokens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.sensor import (
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import AthenaConfigEntry
from .backends import BackendStats
from .stats_entity import BackendStatsEntity


@dataclass(frozen=True, kw_only=True)
class StatsSensorDescription(SensorEntityDescription):
    """A sensor reading `value_fn(stats)`.

    `figure` names the `RequestRecord` field the value needs from the server
    (`backends.base.REPORTED_FIGURES`): while the server leaves it out, the sensor
    is unavailable rather than Unknown.
    """

    value_fn: Callable[[BackendStats], float | int | None]
    figure: str | None = None


def _last(field: str) -> Callable[[BackendStats], float | int | None]:
    return lambda stats: getattr(stats.last, field) if stats.last else None


# Names (strings.json) stay within 20 characters: a device card shows no more.
SENSORS: tuple[StatsSensorDescription, ...] = (
    StatsSensorDescription(
        key="requests",
        translation_key="requests",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda s: s.requests,
    ),
    StatsSensorDescription(
        key="errors",
        translation_key="errors",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda s: s.errors,
    ),
    StatsSensorDescription(
        key="last_latency",
        translation_key="last_latency",
        native_unit_of_measurement=UnitOfTime.MILLISECONDS,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_last("latency_ms"),
    ),
    StatsSensorDescription(
        key="average_latency",
        translation_key="average_latency",
        native_unit_of_measurement=UnitOfTime.MILLISECONDS,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: s.average_latency_ms,
    ),
    StatsSensorDescription(
        key="average_ttft",
        translation_key="average_ttft",
        native_unit_of_measurement=UnitOfTime.MILLISECONDS,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: s.average_ttft_ms,
    ),
    StatsSensorDescription(
        key="average_tokens_per_second",
        translation_key="average_tokens_per_second",
        native_unit_of_measurement="tokens/s",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: s.average_tokens_per_s,
        figure="completion_tokens",
    ),
    StatsSensorDescription(
        key="last_prompt_tokens_evaluated",
        translation_key="last_prompt_tokens_evaluated",
        native_unit_of_measurement="tokens",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_last("evaluated_tokens"),
        figure="evaluated_tokens",
    ),
    StatsSensorDescription(
        key="last_cached_prompt_tokens",
        translation_key="last_cached_prompt_tokens",
        native_unit_of_measurement="tokens",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_last("cached_tokens"),
        figure="cached_tokens",
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AthenaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of every backend of the entry."""
    async_add_entities(
        StatsSensor(entry.entry_id, backend, description)
        for backend in entry.runtime_data.backends
        for description in SENSORS
    )


class StatsSensor(BackendStatsEntity, SensorEntity):
    """One figure of a backend's statistics."""

    entity_description: StatsSensorDescription
    platform_domain = "sensor"

    @property
    def available(self) -> bool:
        """Unavailable while the server leaves this sensor's figure out."""
        return self.entity_description.figure not in self.backend.stats.unreported

    @property
    def native_value(self) -> float | int | None:
        """The figure now."""
        return self.entity_description.value_fn(self.backend.stats)
