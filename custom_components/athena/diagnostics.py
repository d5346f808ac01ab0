"""Config entry diagnostics: options, backend health, last 20 turns.

URLs (they may carry `user:pass@`) and the API key are redacted.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant

from . import AthenaConfigEntry
from .const import CONF_OLLAMA_URL, CONF_OPENAI_URL

TO_REDACT = {CONF_OLLAMA_URL, CONF_OPENAI_URL, "url", CONF_API_KEY, "token"}


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
                    "server": asdict(backend.server),
                    "reachable": backend.stats.reachable,
                    "cooling_down_until": (
                        None
                        if backend.stats.retry_at is None
                        else backend.stats.retry_at.isoformat()
                    ),
                    "requests": backend.stats.requests,
                    "errors": backend.stats.errors,
                    "average_latency_ms": backend.stats.average_latency_ms,
                    "average_ttft_ms": backend.stats.average_ttft_ms,
                    "average_tokens_per_s": backend.stats.average_tokens_per_s,
                    # Why a sensor is unavailable: figures the server left out.
                    "unreported": dict(backend.stats.unreported),
                    "last_turns": [asdict(turn) for turn in backend.stats.history],
                }
                for backend in entry.runtime_data.backends
            ],
        },
        TO_REDACT,
    )
