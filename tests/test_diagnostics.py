"""Diagnostics through HA's diagnostics endpoint: a snapshot with the URLs redacted."""

from __future__ import annotations

from typing import Any

from syrupy.assertion import SnapshotAssertion

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.athena.const import (
    BACKEND_OLLAMA,
    CONF_FAVOURITE_TEAMS,
    CONF_HOME_AIRPORT,
)

from .conftest import agent_id, ask, make_entry, setup_entry
from .fakes import FakeOllama

# Wall-clock figures change from run to run (and may be None on a fast run).
_TIMINGS = {
    "latency_ms",
    "ttft_ms",
    "tokens_per_s",
    "average_latency_ms",
    "average_ttft_ms",
    "average_tokens_per_s",
}


def timings(data: Any, path: tuple[Any, ...]) -> Any:
    """Syrupy matcher: a placeholder for the wall-clock figures."""
    key = path[-1][0] if path else None
    return "<timing>" if key in _TIMINGS else data


async def test_diagnostics_snapshot(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    fake_ollama: FakeOllama,
    snapshot: SnapshotAssertion,
) -> None:
    assert await async_setup_component(hass, "diagnostics", {})
    entry = make_entry(
        BACKEND_OLLAMA,
        ollama=fake_ollama,
        options={CONF_HOME_AIRPORT: "BWI", CONF_FAVOURITE_TEAMS: ["ravens"]},
    )
    await setup_entry(hass, entry)
    await hass.async_block_till_done(wait_background_tasks=True)
    await ask(hass, "who wrote hamlet", agent_id(hass))
    dump = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert fake_ollama.url not in str(dump)
    assert dump == snapshot(matcher=timings)
