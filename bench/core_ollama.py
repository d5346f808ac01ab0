"""HA core's own `ollama` conversation agent, for comparisons with Athena."""

from __future__ import annotations

from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

CORE_AGENT = "conversation.ollama_conversation"


async def setup_core_ollama(hass: HomeAssistant, url: str) -> str:
    """Add core's ollama integration (Assist API on) for `url`; return its agent id."""
    entry = MockConfigEntry(
        domain="ollama",
        data={"url": url},
        version=3,
        minor_version=3,
        subentries_data=[
            ConfigSubentryData(
                data={"model": "llama3.2:latest", "llm_hass_api": ["assist"]},
                subentry_type="conversation",
                title="Ollama Conversation",
                unique_id=None,
            )
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return CORE_AGENT
