"""Config entry diagnostics: options, backend health, last 20 turns; URLs redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from . import AthenaConfigEntry
from .const import CONF_OLLAMA_URL, CONF_OPENAI_URL

TO_REDACT = {CONF_OLLAMA_URL, CONF_OPENAI_URL, "url", "api_key", "token"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: AthenaConfigEntry
) -> dict[str, Any]:
    """Return the entry's settings and each backend's statistics."""
    return async_redact_data(
        {
            "data": dict(entry.data),
            "options": dict(entry.options),
            "agents": [
                {"title": sub.title, "options": dict(sub.data)}
                for sub in entry.subentries.values()
            ],
            "backends": [
                {
                    "kind": backend.kind,
                    "url": backend.url,
                    "reachable": backend.stats.reachable,
                    "requests": backend.stats.requests,
                    "errors": backend.stats.errors,
                    "average_latency_ms": backend.stats.average_latency_ms,
                    "average_ttft_ms": backend.stats.average_ttft_ms,
                    "average_tokens_per_s": backend.stats.average_tokens_per_s,
                    "last_turns": [asdict(turn) for turn in backend.stats.history],
                }
                for backend in entry.runtime_data.backends
            ],
        },
        TO_REDACT,
    )
