"""Conversation platform: one Athena agent per conversation subentry."""

from __future__ import annotations

from typing import Literal

from homeassistant.components import conversation
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import MATCH_ALL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import AthenaConfigEntry
from .const import SUBENTRY_CONVERSATION
from .entity import AthenaEntity


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AthenaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a conversation entity for each agent subentry."""
    for subentry in entry.subentries.values():
        if subentry.subentry_type == SUBENTRY_CONVERSATION:
            async_add_entities(
                [AthenaConversationEntity(entry, subentry)],
                config_subentry_id=subentry.subentry_id,
            )


class AthenaConversationEntity(
    conversation.ConversationEntity,
    conversation.AbstractConversationAgent,
    AthenaEntity,
):
    """Athena as an Assist conversation agent, streaming its replies."""

    _attr_supports_streaming = True
    # Always: every agent controls devices through Home Assistant's own intents
    # (entity.py hands device requests to HA's agent first); `control_tools` only
    # adds the model's Assist tools for what the intents cannot carry out. Without
    # it, Assist shows "This assistant cannot control your home."
    _attr_supported_features = conversation.ConversationEntityFeature.CONTROL

    def __init__(self, entry: AthenaConfigEntry, subentry: ConfigSubentry) -> None:
        super().__init__(entry, subentry)

    @property
    def supported_languages(self) -> list[str] | Literal["*"]:
        """Every language: HA's intents and the model decide what they understand."""
        return MATCH_ALL

    async def async_added_to_hass(self) -> None:
        """Register as an agent and warm the backend up in the background."""
        await super().async_added_to_hass()
        conversation.async_set_agent(self.hass, self.entry, self)
        self.entry.runtime_data.agents[self.entity_id] = self
        self.entry.async_create_background_task(
            self.hass, self.async_warm_up(), f"athena warm-up {self.entity_id}"
        )

    async def async_will_remove_from_hass(self) -> None:
        """Unregister the agent."""
        conversation.async_unset_agent(self.hass, self.entry)
        self.entry.runtime_data.agents.pop(self.entity_id, None)
        await super().async_will_remove_from_hass()

    async def _async_handle_message(
        self,
        user_input: conversation.ConversationInput,
        chat_log: conversation.ChatLog,
    ) -> conversation.ConversationResult:
        """Handle one turn (see `AthenaEntity.async_handle_turn`)."""
        return await self.async_handle_turn(user_input, chat_log)
